//! vinit's PID-1 scenarios: what only a real PID 1 can show, run as vinit's child while vinit
//! is PID 1.
//!
//! ```text
//! vinit -- vinit_scenarios [FILTER]... [--exact] [--skip FILTER]...
//! ```
//!
//! In the test VM, `examples/vm_init.rs` `execve`s `/sbin/vinit -- /pid1/vinit_scenarios`, so
//! vinit is the guest's init itself. Anywhere else it needs a PID namespace whose PID 1 is vinit
//! and whose `/proc` is its own: `unshare --pid --fork --mount-proc vinit -- vinit_scenarios`.
//!
//! - `child_of_pid1`: vinit is PID 1 and our parent;
//! - `the_child_runs_in_its_own_process_group`;
//! - `the_child_starts_with_no_signal_blocked_or_ignored`: vinit gives us the signal state the
//!   kernel gave it, whatever it does with its own;
//! - `every_catchable_signal_sent_to_pid1_reaches_the_child`: each signal but the faults
//!   (`SIGILL`, `SIGTRAP`, `SIGABRT`, `SIGBUS`, `SIGFPE`, `SIGSEGV`, `SIGSYS`), `SIGCHLD`, `SIGKILL`
//!   and `SIGSTOP`, real-time ones included, sent to PID 1 reaches us, sent by pid 1 (the kernel
//!   drops a signal sent to an init that neither handles nor blocks it, so this also shows that
//!   vinit takes them);
//! - `faults_sigchld_and_uncatchable_signals_sent_to_pid1_stay_there`: those sent to PID 1 do
//!   not reach us, and vinit survives them (a later `SIGUSR1` still comes through);
//! - `orphans_are_reaped_by_pid1`: 100 orphans, made by double forks in three ways (exiting as
//!   soon as PID 1 is their parent, 20 ms after that, or dying first and becoming a zombie that
//!   is then handed to PID 1): each running orphan sees PID 1 as its parent, and within 5 s none
//!   of the 100 pids is left in `/proc` (a zombie keeps its entry) and no zombie of PID 1
//!   remains anywhere.
//!
//! The output has libtest's shape (`test NAME ... ok`, `test result: ...`) so that the harnesses
//! count the scenarios like tests; FILTER, `--exact` and `--skip` select them as libtest does.
//!
//! Exit status: when every selected scenario passed, the value of `VSPAWN_VM_PID1_EXIT`
//! (default 3); 101 otherwise (libtest's). vinit must exit with the same status, which the VM
//! host reads from the kernel's panic when PID 1 exits (`Attempted to kill init!
//! exitcode=0x00000300`): that last check is the host's (scripts/vm/console.awk).

#![no_std]
#![no_main]

use core::ffi::CStr;
use core::fmt::{self, Write};

use vspawn::clone::{self, Fork};
use vspawn::entry::Start;
use vspawn::fd::{self, AT_FDCWD, RawFd, oflags};
use vspawn::process::{self, Pid, Timespec, clock};
use vspawn::signal::{self, SigHandler, SigHow, SigSet, Signal};
use vspawn::wait;
use vspawn::{Errno, Result};

vspawn::entry!(main);
vspawn::panic_handler!();

/// A scenario's result; the message of a failure is left in the scenario's `&mut Failure`.
type Outcome = core::result::Result<(), Failed>;
type Scenario = fn(&mut Failure) -> Outcome;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("child_of_pid1", child_of_pid1),
    (
        "the_child_runs_in_its_own_process_group",
        the_child_runs_in_its_own_process_group,
    ),
    (
        "the_child_starts_with_no_signal_blocked_or_ignored",
        the_child_starts_with_no_signal_blocked_or_ignored,
    ),
    (
        "every_catchable_signal_sent_to_pid1_reaches_the_child",
        every_catchable_signal_sent_to_pid1_reaches_the_child,
    ),
    (
        "faults_sigchld_and_uncatchable_signals_sent_to_pid1_stay_there",
        faults_sigchld_and_uncatchable_signals_sent_to_pid1_stay_there,
    ),
    ("orphans_are_reaped_by_pid1", orphans_are_reaped_by_pid1),
];

/// The exit status when every scenario passed, unless `VSPAWN_VM_PID1_EXIT` says otherwise.
const DEFAULT_PASS_EXIT: i32 = 3;
/// The exit status when a scenario failed (libtest's).
const FAIL_EXIT: i32 = 101;

fn main(start: Start) -> i32 {
    let began = now();
    let selection = Selection::from_args(&start);
    let selected = SCENARIOS
        .iter()
        .filter(|(name, _)| selection.wants(name))
        .count();
    say(format_args!("\nrunning {selected} tests\n"));
    let (mut passed, mut failed) = (0, 0);
    let mut failures: [Option<(&str, Failure)>; SCENARIOS.len()] =
        [const { None }; SCENARIOS.len()];
    for &(name, scenario) in SCENARIOS {
        if !selection.wants(name) {
            continue;
        }
        let mut failure = Failure(Buf::new());
        match scenario(&mut failure) {
            Ok(()) => {
                passed += 1;
                say(format_args!("test {name} ... ok\n"));
            }
            Err(Failed) => {
                say(format_args!("test {name} ... FAILED\n"));
                failures[failed] = Some((name, failure));
                failed += 1;
            }
        }
    }
    if failed > 0 {
        say(format_args!("\nfailures:\n"));
        for (name, failure) in failures.iter().flatten() {
            say(format_args!("\n---- {name} ----\n{}\n", failure.as_str()));
        }
        say(format_args!("\nfailures:\n"));
        for (name, _) in failures.iter().flatten() {
            say(format_args!("    {name}\n"));
        }
    }
    let took = now().saturating_sub(began);
    say(format_args!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; {} filtered \
         out; finished in {}.{:02}s\n\n",
        if failed == 0 { "ok" } else { "FAILED" },
        SCENARIOS.len() - selected,
        took / 1_000_000_000,
        took / 10_000_000 % 100,
    ));
    let status = if failed == 0 {
        start
            .getenv("VSPAWN_VM_PID1_EXIT")
            .and_then(|value| value.to_str().ok()?.parse::<u8>().ok())
            .map_or(DEFAULT_PASS_EXIT, i32::from)
    } else {
        FAIL_EXIT
    };
    say(format_args!(
        "vinit_scenarios: exiting with status {status}; vinit must exit with it too\n"
    ));
    drain_stdout();
    status
}

/// Waits until the terminal has sent everything we wrote (`tcdrain`): vinit exits right after
/// us, and the kernel's panic for PID 1's exit would cut off console output still queued.
fn drain_stdout() {
    const TCSBRK: usize = 0x5409;
    // SAFETY: TCSBRK with a non-zero argument only waits for output to drain; no pointer. An
    // error (stdout is no terminal) leaves nothing to wait for.
    let _ = unsafe { vspawn::sys::syscall3(vspawn::sys::nr::IOCTL, 1, TCSBRK, 1) };
}

fn child_of_pid1(t: &mut Failure) -> Outcome {
    let (pid, parent) = (process::getpid(), process::getppid());
    ensure!(t, pid != 1, "we are PID 1 ourselves: run us under vinit");
    ensure!(
        t,
        parent == 1,
        "our parent is pid {parent}, not 1: vinit is not PID 1 here"
    );
    Ok(())
}

fn the_child_runs_in_its_own_process_group(t: &mut Failure) -> Outcome {
    let (pid, group) = (process::getpid(), check(t, process::getpgid(0), "getpgid")?);
    ensure!(
        t,
        group == pid,
        "our process group is {group}, not our own ({pid})"
    );
    Ok(())
}

fn the_child_starts_with_no_signal_blocked_or_ignored(t: &mut Failure) -> Outcome {
    // vinit's own state as the kernel started it: an empty mask, every action the default.
    let mask = check(
        t,
        signal::rt_sigprocmask(SigHow::Block, None),
        "sigprocmask",
    )?;
    ensure!(t, mask.is_empty(), "signals blocked: {:#x}", mask.bits());
    for sig in Signal::all() {
        let action = check(t, signal::get_sigaction(sig), "sigaction")?;
        ensure!(
            t,
            action.handler == SigHandler::Default,
            "{sig} is not at its default action"
        );
    }
    Ok(())
}

/// Signals that vinit takes but does not pass on: those reporting a fault of the process they
/// are sent to, and `SIGCHLD`; and those the kernel never lets a process catch or block.
const NOT_FORWARDED: [Signal; 10] = [
    Signal::SIGILL,
    Signal::SIGTRAP,
    Signal::SIGABRT,
    Signal::SIGBUS,
    Signal::SIGFPE,
    Signal::SIGSEGV,
    Signal::SIGSYS,
    Signal::SIGCHLD,
    Signal::SIGKILL,
    Signal::SIGSTOP,
];

/// Every signal vinit forwards: all the others, job control and real-time ones included.
fn forwarded() -> impl Iterator<Item = Signal> {
    Signal::all().filter(|sig| !NOT_FORWARDED.contains(sig))
}

fn every_catchable_signal_sent_to_pid1_reaches_the_child(t: &mut Failure) -> Outcome {
    ensure!(
        t,
        process::getpid() != 1,
        "we are PID 1 ourselves: run us under vinit"
    );
    // Blocked, each forwarded signal waits for rt_sigtimedwait instead of acting on us.
    with_every_signal_blocked(t, |t| {
        for sig in forwarded() {
            check(t, process::kill(1, Some(sig)), "kill(1)")?;
            let timeout = Timespec { sec: 5, nsec: 0 };
            let (got, info) =
                match signal::rt_sigtimedwait(&SigSet::EMPTY.with(sig), Some(&timeout)) {
                    Ok(got) => got,
                    Err(Errno::EAGAIN) => {
                        fail!(t, "{sig} sent to PID 1 did not reach us within 5 s")
                    }
                    Err(e) => fail!(t, "waiting for {sig}: {e}"),
                };
            ensure!(t, got == sig, "waited for {sig}, got {got}");
            ensure!(
                t,
                info.pid() == 1,
                "{sig} came from pid {}, not from vinit (1)",
                info.pid()
            );
        }
        Ok(())
    })
}

fn faults_sigchld_and_uncatchable_signals_sent_to_pid1_stay_there(t: &mut Failure) -> Outcome {
    ensure!(
        t,
        process::getpid() != 1,
        "we are PID 1 ourselves: run us under vinit"
    );
    with_every_signal_blocked(t, |t| {
        for sig in NOT_FORWARDED {
            check(t, process::kill(1, Some(sig)), "kill(1)")?;
        }
        // vinit takes its signals in order: once a later SIGUSR1 is here, any of the others it
        // had forwarded would be pending here too. And it proves vinit survived them all.
        check(t, process::kill(1, Some(Signal::SIGUSR1)), "kill(1)")?;
        let timeout = Timespec { sec: 5, nsec: 0 };
        let usr1 = SigSet::EMPTY.with(Signal::SIGUSR1);
        if let Err(e) = signal::rt_sigtimedwait(&usr1, Some(&timeout)) {
            fail!(
                t,
                "SIGUSR1 sent to PID 1 after the others did not reach us: {e}"
            );
        }
        let mut dropped = SigSet::EMPTY;
        NOT_FORWARDED.iter().for_each(|&sig| dropped.insert(sig));
        let now = Timespec { sec: 0, nsec: 0 };
        match signal::rt_sigtimedwait(&dropped, Some(&now)) {
            Err(Errno::EAGAIN) => Ok(()),
            Ok((sig, info)) => fail!(t, "{sig} reached us, from pid {}", info.pid()),
            Err(e) => fail!(t, "checking pending signals: {e}"),
        }
    })
}

/// Runs `f` with every signal blocked, then restores the mask.
fn with_every_signal_blocked(t: &mut Failure, f: impl FnOnce(&mut Failure) -> Outcome) -> Outcome {
    let old = check(
        t,
        signal::rt_sigprocmask(SigHow::Block, Some(&SigSet::FULL)),
        "block",
    )?;
    let outcome = f(t);
    let _ = signal::rt_sigprocmask(SigHow::SetMask, Some(&old));
    outcome
}

/// How many orphans `orphans_are_reaped_by_pid1` makes.
const ORPHANS: usize = 100;
/// What an orphan reports through the pipe: its pid, its parent when it reported, its kind.
const RECORD: usize = 12;

fn orphans_are_reaped_by_pid1(t: &mut Failure) -> Outcome {
    ensure!(
        t,
        process::getpid() != 1,
        "we are PID 1 ourselves: run us under vinit"
    );
    let (read_end, write_end) = check(t, fd::pipe2(vspawn::fd::OFlags::empty()), "pipe2")?;
    for i in 0..ORPHANS {
        // SAFETY: this program has one thread and no locks; the children only make syscalls.
        match unsafe { clone::fork() } {
            Ok(Fork::Child) => middle(i, write_end.as_raw_fd()),
            Ok(Fork::Parent(pid)) => {
                let (_, status) = check(
                    t,
                    wait::wait4(pid, vspawn::wait::WaitOptions::empty(), None),
                    "wait4",
                )?;
                ensure!(t, status.code() == Some(0), "middle process {i}: {status}");
            }
            Err(e) => fail!(t, "fork {i}: {e}"),
        }
    }
    drop(write_end);

    // Every orphan has a copy of the write end: EOF once all of them are gone.
    let mut records = [0u8; ORPHANS * RECORD];
    let mut filled = 0;
    while filled < records.len() {
        match fd::read(read_end.as_raw_fd(), &mut records[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::EINTR) => {}
            Err(e) => fail!(t, "reading the orphans' reports: {e}"),
        }
    }
    ensure!(
        t,
        filled == records.len(),
        "only {} of {ORPHANS} orphans reported",
        filled / RECORD
    );
    let field = |i: usize, k: usize| {
        let at = i * RECORD + k * 4;
        i32::from_ne_bytes([
            records[at],
            records[at + 1],
            records[at + 2],
            records[at + 3],
        ])
    };
    for i in 0..ORPHANS {
        let (pid, parent, kind) = (field(i, 0), field(i, 1), field(i, 2));
        ensure!(
            t,
            kind == 2 || parent == 1,
            "orphan {pid} (kind {kind}) had parent {parent}, not PID 1, after its parent exited"
        );
    }

    // A zombie keeps its /proc entry: every orphan must be gone from /proc, reaped by PID 1.
    let deadline = now() + 5_000_000_000;
    loop {
        let mut left = 0;
        let mut example = None;
        for i in 0..ORPHANS {
            if let Some(stat) = proc_stat(field(i, 0)) {
                left += 1;
                example = Some((field(i, 0), stat));
            }
        }
        if left == 0 {
            break;
        }
        if now() > deadline {
            let (pid, (state, parent)) = example.unwrap_or((0, (b'?', 0)));
            fail!(
                t,
                "{left} of {ORPHANS} orphans still in /proc after 5 s, e.g. pid {pid} in state {} \
                 with parent {parent}",
                state as char
            );
        }
        sleep_ms(10);
    }
    let (zombies, example) = check(t, zombies_of_pid1(), "scanning /proc")?;
    ensure!(
        t,
        zombies == 0,
        "{zombies} zombie(s) of PID 1 left, e.g. pid {example}"
    );
    Ok(())
}

/// The middle process of a double fork: forks the orphan-to-be and exits. Kind 2 waits 20 ms
/// first, so that its child dies before it and PID 1 inherits a zombie.
fn middle(i: usize, report: RawFd) -> ! {
    let kind = (i % 3) as i32;
    // SAFETY: one thread, no locks (this is a fork child of a single-threaded program).
    match unsafe { clone::fork() } {
        Ok(Fork::Child) => orphan(kind, report),
        Ok(Fork::Parent(_)) => {
            if kind == 2 {
                sleep_ms(20);
            }
            process::exit_group(0)
        }
        Err(_) => process::exit_group(1),
    }
}

/// The orphan: kinds 0 and 1 wait (5 s at most) until their parent has exited and PID 1 has
/// adopted them; kind 1 lives 20 ms more. Kind 2 exits at once. Each reports first.
fn orphan(kind: i32, report: RawFd) -> ! {
    let mut parent = process::getppid();
    if kind != 2 {
        for _ in 0..500 {
            if parent == 1 {
                break;
            }
            sleep_ms(10);
            parent = process::getppid();
        }
    }
    let mut record = [0u8; RECORD];
    record[0..4].copy_from_slice(&process::getpid().to_ne_bytes());
    record[4..8].copy_from_slice(&parent.to_ne_bytes());
    record[8..12].copy_from_slice(&kind.to_ne_bytes());
    // One write of less than PIPE_BUF bytes: never mixed with another orphan's.
    let _ = fd::write_all(report, &record);
    if kind == 1 {
        sleep_ms(20);
    }
    process::exit_group(0)
}

/// The state letter and parent of `pid` from `/proc/PID/stat`, or `None` if it has no entry.
fn proc_stat(pid: Pid) -> Option<(u8, Pid)> {
    let mut path = Buf::<32>::new();
    let _ = write!(path, "/proc/{pid}/stat\0");
    let path = CStr::from_bytes_with_nul(path.as_bytes()).ok()?;
    let file = fd::openat(
        AT_FDCWD,
        path,
        oflags::O_RDONLY | oflags::O_CLOEXEC,
        vspawn::fd::Mode::empty(),
    )
    .ok()?;
    let mut stat = [0u8; 512];
    let len = fd::read(file.as_raw_fd(), &mut stat).ok()?;
    // `PID (COMM) STATE PPID ...`; COMM may hold anything, so look after its last `)`.
    let stat = &stat[..len];
    let close = stat.iter().rposition(|&b| b == b')')?;
    let state = *stat.get(close + 2)?;
    let parent = stat
        .get(close + 4..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0, |n: Pid, &d| n * 10 + Pid::from(d - b'0'));
    Some((state, parent))
}

/// The zombies whose parent is PID 1: how many, and one of them.
fn zombies_of_pid1() -> Result<(usize, Pid)> {
    let flags = oflags::O_RDONLY | oflags::O_DIRECTORY | oflags::O_CLOEXEC;
    let dir = fd::openat(AT_FDCWD, c"/proc", flags, vspawn::fd::Mode::empty())?;
    let mut buf = [0u8; 4096];
    let (mut count, mut example) = (0, 0);
    loop {
        let filled = fd::getdents64(dir.as_raw_fd(), &mut buf)?;
        if filled == 0 {
            return Ok((count, example));
        }
        // Records: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-ended).
        let mut at = 0;
        while at + 19 < filled {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            let name = &buf[at + 19..(at + reclen).min(filled)];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            let pid = name.iter().try_fold(0, |n: Pid, &d| {
                d.is_ascii_digit().then(|| n * 10 + Pid::from(d - b'0'))
            });
            let pid = pid.filter(|_| !name.is_empty());
            if let Some((pid, Some((b'Z', 1)))) = pid.map(|pid| (pid, proc_stat(pid))) {
                count += 1;
                example = pid;
            }
            at += reclen.max(1);
        }
    }
}

/// Which scenarios the command line selects, as libtest does: a name must contain one of the
/// filters (or equal it, with `--exact`; every name with no filter) and no `--skip` filter.
struct Selection {
    filters: [Option<&'static CStr>; 16],
    skips: [Option<&'static CStr>; 16],
    exact: bool,
}

impl Selection {
    fn from_args(start: &Start) -> Selection {
        let mut selection = Selection {
            filters: [None; 16],
            skips: [None; 16],
            exact: false,
        };
        let (mut filters, mut skips) = (0, 0);
        let mut args = start.args().skip(1);
        while let Some(arg) = args.next() {
            match arg.to_bytes() {
                b"--exact" => selection.exact = true,
                b"--skip" => {
                    if let (Some(skip), Some(slot)) = (args.next(), selection.skips.get_mut(skips))
                    {
                        *slot = Some(skip);
                        skips += 1;
                    }
                }
                // Other options (`--test-threads=2`, `--nocapture`...) mean nothing here.
                [b'-', ..] => {}
                _ => {
                    if let Some(slot) = selection.filters.get_mut(filters) {
                        *slot = Some(arg);
                        filters += 1;
                    }
                }
            }
        }
        selection
    }

    fn wants(&self, name: &str) -> bool {
        let matches = |filter: &CStr| {
            let filter = filter.to_bytes();
            if self.exact {
                name.as_bytes() == filter
            } else {
                name.as_bytes()
                    .windows(filter.len().max(1))
                    .any(|w| w == filter)
                    || filter.is_empty()
            }
        };
        let mut filters = self.filters.iter().flatten().peekable();
        let included = filters.peek().is_none() || filters.any(|f| matches(f));
        included && !self.skips.iter().flatten().any(|s| matches(s))
    }
}

/// A scenario failed (its message is in its [`Failure`]).
struct Failed;

/// A scenario's failure message.
struct Failure(Buf<256>);

impl Failure {
    /// Keeps `message` and returns the failure to return.
    fn set(&mut self, message: fmt::Arguments<'_>) -> Failed {
        self.0 = Buf::new();
        let _ = self.0.write_fmt(message);
        Failed
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(self.0.as_bytes()).unwrap_or("(message cut inside a character)")
    }
}

/// Ends the scenario with a failure message, kept in `failure`.
macro_rules! fail {
    ($failure:expr, $($message:tt)+) => {
        return Err($failure.set(format_args!($($message)+)))
    };
}
use fail;

/// Ends the scenario with a failure message unless `condition` holds.
macro_rules! ensure {
    ($failure:expr, $condition:expr, $($message:tt)+) => {
        if !$condition {
            fail!($failure, $($message)+);
        }
    };
}
use ensure;

/// A syscall's result, or a failure naming what failed.
fn check<T>(
    failure: &mut Failure,
    result: Result<T>,
    what: &str,
) -> core::result::Result<T, Failed> {
    result.map_err(|e| failure.set(format_args!("{what}: {e}")))
}

/// A fixed buffer that formatting fills (and cuts off when full).
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl<const N: usize> Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Writes one formatted message to standard output, in one `write` when it fits in 1 KiB.
fn say(message: fmt::Arguments<'_>) {
    let mut buf = Buf::<1024>::new();
    let _ = buf.write_fmt(message);
    let _ = fd::write_all(1, buf.as_bytes());
}

/// Nanoseconds on the monotonic clock.
fn now() -> u64 {
    process::clock_gettime(clock::CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos())
}

fn sleep_ms(ms: i64) {
    let time = Timespec {
        sec: ms / 1000,
        nsec: ms % 1000 * 1_000_000,
    };
    // SAFETY: clock_nanosleep reads one timespec; the remainder pointer is null. (Not nanosleep:
    // the 32-bit architectures have no form of it with a 64-bit timespec.)
    let _ = unsafe {
        vspawn::sys::syscall!(
            CLOCK_NANOSLEEP,
            clock::CLOCK_MONOTONIC.raw(),
            0,
            &time as *const Timespec,
            0
        )
    };
}
