//! Settles fork vs vfork vs posix_spawn (issue 7): spawn + wait of a tiny static `true`, by six
//! methods, with the parent holding 16 MiB, 1 GiB and 4 GiB of touched memory; and thread
//! create + join: vspawn's (`thread::spawn`, and `thread::spawn_on` with a stack kept across
//! threads, which shows what a stack cache would give) against std's; and the launch overhead
//! of vinit: spawn + wait of `vinit -s -- true` against that of `true`.
//!
//! Run it with `cargo bench --bench spawn` (or `scripts/bench`, which also regenerates
//! `docs/bench.json` and the plot). It prints a table of medians with each method's ratio to
//! glibc's `posix_spawn`, the targets (met or missed), the system calls of one spawn
//! (when `strace` is installed), and writes everything to `<target dir>/bench/spawn.json`.
//!
//! A harness of our own (`harness = false`) rather than criterion: one fork at 4 GiB takes
//! hundreds of milliseconds and a spawn a hundred microseconds, so a fixed warm-up and
//! measurement time per benchmark would either take many minutes or starve the slow cells.
//! Here the methods run in rounds, each round every method once in a random order, so that
//! drift in the machine's load (other builds on a 2-core machine) hits all of them alike and no
//! method always follows the same one. At each size the methods that share the parent's address
//! space (vfork, posix_spawn) run together for up to [`MAX_ROUNDS`] rounds or [`SIZE_BUDGET`];
//! fork, whose copying of gigabytes of page tables would spoil the caches for the next sample,
//! runs in a phase of its own ([`COPY_BUDGET`]). At least [`MIN_ROUNDS`] each. We report
//! medians (and quartiles, minimum and sample count in the JSON).
//!
//! Options, after `--`: `--only ID,ID…` (method ids as in the JSON, and `vinit_launch`),
//! `--sizes 16M,1G,4G`,
//! `--no-strace`. A run with any of them left out writes `spawn-partial.json` instead.
//!
//! The program spawned is `examples/true.rs`, built statically without libc, so that the numbers
//! are about the spawn and not about a dynamic loader. The bench builds it itself (`cargo build
//! --release --example true` into `<target dir>/bench/build`); `VSPAWN_BENCH_TRUE=PATH`
//! picks another program.
//!
//! vinit's launch overhead: both programs spawned by vspawn's `Spawn::spawn` with default
//! attributes from the parent as it starts (no ballast), in rounds of the two in a random order,
//! every one of them required to exit 0. vinit runs the same static `true` by its path (no PATH
//! search), with `-s`: not being PID 1, it would otherwise warn on stderr at every start; with it
//! vinit writes nothing, so its stderr stays the bench's. The difference of the medians is what
//! vinit adds (its exec, its setup, its own spawn of `true`, the reaping). The bench builds vinit
//! as it ships (`cargo build --release --bin vinit`, default features, into the same directory);
//! `VSPAWN_BENCH_VINIT=PATH` picks another.
//!
//! The parent's memory is private anonymous memory with every byte written, advised
//! `MADV_NOHUGEPAGE`: 4 KiB pages, as a heap of mixed allocations has, and what a fork must copy
//! page table entries for (with 2 MiB pages fork would copy 512 times fewer). The machine needs
//! a little over 4 GiB free.
//!
//! Without `--bench` (`cargo test --benches`) it only checks that every method spawns and reaps
//! a child once, without extra memory (and vinit once, if one was built: no build there).

use std::ffi::{CStr, CString, OsStr, c_char};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use vspawn::spawn::{CStrArray, Program, Spawn};
use vspawn::wait::WaitOptions;

/// Parent memory sizes: label and bytes.
const SIZES: [(&str, usize); 3] = [("16 MiB", 16 << 20), ("1 GiB", 1 << 30), ("4 GiB", 4 << 30)];
/// Rounds thrown away before measuring (first-spawn effects, caches).
const WARMUP_ROUNDS: usize = 5;
/// Rounds measured at each size, at least and at most.
const MIN_ROUNDS: usize = 15;
const MAX_ROUNDS: usize = 1000;
/// Time after which the methods that share the address space stop taking rounds at a size
/// (once they have [`MIN_ROUNDS`]).
const SIZE_BUDGET: Duration = Duration::from_secs(10);
/// The same for the methods that copy it (fork: tens of milliseconds per spawn per GiB).
const COPY_BUDGET: Duration = Duration::from_secs(6);
/// Thread create + join rounds (each: one thread of each method).
const THREAD_ROUNDS: usize = 3000;

/// The program to spawn, in every form the methods take, prepared once.
struct Target {
    path: CString,
    /// `[path, args…, NULL]`.
    argv: Vec<*const c_char>,
    /// This process's environment, `NULL`-terminated (std's `Command` inherits it too).
    envp: Vec<*const c_char>,
    /// Owns the strings `argv` (after the path) and `envp` point to.
    _args: Vec<CString>,
    _env: Vec<CString>,
}

impl Target {
    fn new(path: &Path) -> Target {
        Target::with_args(path, &[])
    }

    /// `path` run with the arguments `args` (`argv[0]` is `path`).
    fn with_args(path: &Path, args: &[&OsStr]) -> Target {
        let c = |s: &OsStr| CString::new(s.as_bytes()).expect("NUL in the program's arguments");
        let path = c(path.as_os_str());
        let args: Vec<CString> = args.iter().map(|a| c(a)).collect();
        let env: Vec<CString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).expect("NUL in the environment")
            })
            .collect();
        let envp = env
            .iter()
            .map(|s| s.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        let argv = [path.as_ptr()]
            .into_iter()
            .chain(args.iter().map(|a| a.as_ptr()))
            .chain([std::ptr::null()])
            .collect();
        Target {
            path,
            argv,
            envp,
            _args: args,
            _env: env,
        }
    }

    fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(self.path.to_bytes()))
    }
}

/// One way to spawn the program and wait for it.
struct Method {
    id: &'static str,
    label: &'static str,
    run: fn(&Target),
    /// Copies the parent's address space (fork): measured in a phase of its own, so that the
    /// cache and TLB damage of copying gigabytes of page tables does not land on the sample
    /// of whichever method runs next.
    copies: bool,
}

const VSPAWN: &str = "vspawn";
const VSPAWN_VFORK: &str = "vspawn_vfork";
const POSIX_SPAWN: &str = "glibc_posix_spawn";
const STD: &str = "std_command";

const METHODS: [Method; 6] = [
    Method {
        id: VSPAWN,
        label: "vspawn Spawn::spawn",
        run: vspawn_spawn,
        copies: false,
    },
    Method {
        id: VSPAWN_VFORK,
        label: "vspawn vfork+execve",
        run: vspawn_vfork,
        copies: false,
    },
    Method {
        id: POSIX_SPAWN,
        label: "glibc posix_spawn",
        run: glibc_posix_spawn,
        copies: false,
    },
    Method {
        id: "glibc_fork",
        label: "glibc fork+execve",
        run: glibc_fork,
        copies: true,
    },
    Method {
        id: "glibc_vfork",
        label: "glibc vfork+execve",
        run: glibc_vfork,
        copies: false,
    },
    Method {
        id: STD,
        label: "std Command::status",
        run: std_status,
        copies: false,
    },
];

/// vspawn's spawner with its full safety: default attributes (signals blocked around the
/// clone, handlers reset in the child), the exec-error channel, then `Child::wait`.
fn vspawn_spawn(t: &Target) {
    spawn_wait(t, "vspawn");
}

/// [`vspawn_spawn`], with `what` in the messages of its failures.
fn spawn_wait(t: &Target, what: &str) {
    // SAFETY: both arrays are NULL-terminated arrays of C strings that `t` owns and keeps
    // unchanged while the request lives.
    let (argv, envp) = unsafe {
        (
            CStrArray::from_raw(t.argv.as_ptr()),
            CStrArray::from_raw(t.envp.as_ptr()),
        )
    };
    let mut child = match Spawn::new(Program::Path(&t.path), argv, envp).spawn() {
        Ok(child) => child,
        Err(e) => panic!("{what}: spawn: {e}"),
    };
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => panic!("{what}: wait: {e}"),
    };
    assert_eq!(status.code(), Some(0), "{what}: exit status ({status})");
}

/// vspawn's raw vfork, whose child only calls `execve`; `wait4` through vspawn.
fn vspawn_vfork(t: &Target) {
    let (path, argv, envp) = (t.path.as_c_str(), t.argv.as_ptr(), t.envp.as_ptr());
    let mut child = || {
        // SAFETY: NULL-terminated arrays of C strings owned by `t`, alive while we are
        // suspended.
        unsafe { vspawn::exec::execve(path, argv, envp) };
        127
    };
    // SAFETY: the child only makes the execve syscall on data prepared here, then returns.
    let pid = unsafe { vspawn::clone::vfork(&mut child) }.expect("vspawn vfork");
    let (_, status) =
        vspawn::wait::wait4(pid, WaitOptions::empty(), None).expect("vspawn vfork: wait4");
    assert_eq!(status.code(), Some(0), "vspawn vfork: exit status");
}

/// glibc's `posix_spawn` with no file actions and no attributes, then `waitpid`.
fn glibc_posix_spawn(t: &Target) {
    let mut pid = 0;
    // SAFETY: valid NUL-terminated path and NULL-terminated arrays; null actions and
    // attributes mean none.
    let err = unsafe {
        libc::posix_spawn(
            &mut pid,
            t.path.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            t.argv.as_ptr().cast(),
            t.envp.as_ptr().cast(),
        )
    };
    assert_eq!(err, 0, "posix_spawn");
    wait_libc(pid, "posix_spawn");
}

/// glibc's `fork`; the child only calls `execve` and `_exit`.
fn glibc_fork(t: &Target) {
    let (path, argv, envp) = (t.path.as_ptr(), t.argv.as_ptr(), t.envp.as_ptr());
    // SAFETY: the child of a fork of this (possibly multi-threaded) process only makes
    // async-signal-safe calls on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            libc::execve(path, argv, envp);
            libc::_exit(127)
        }
    }
    assert!(pid > 0, "fork");
    wait_libc(pid, "fork");
}

/// glibc's `vfork`; the child only calls `execve` and `_exit`.
fn glibc_vfork(t: &Target) {
    let pid = vfork_exec(t.path.as_ptr(), t.argv.as_ptr(), t.envp.as_ptr());
    assert!(pid > 0, "vfork");
    wait_libc(pid, "vfork");
}

// `libc::vfork` called from Rust returns twice behind the compiler's back (Rust has no
// `returns_twice`), so the child could clobber stack slots the parent still uses (libc marks it
// deprecated for that). Here the call and the child's whole life (execve, _exit) are one `asm!`
// block: the compiler sees one call that returns once. The child's arguments wait in
// callee-saved registers, which vfork's child gets back unchanged.

/// Calls glibc's `vfork`; its child calls `execve(path, argv, envp)` and `_exit(127)`.
#[allow(deprecated)] // libc's reason (a Rust call of vfork) does not apply, see above.
#[cfg(target_arch = "x86_64")]
fn vfork_exec(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    let pid: i64;
    // SAFETY: the block calls C functions with the C ABI (clobber_abi) on an aligned stack
    // (no `nostack`); the child runs only inside the block, below our stack pointer, and never
    // returns from it; the parent is suspended until the child execs or exits.
    unsafe {
        std::arch::asm!(
            "call {vfork}",      // Returns twice: 0 in the child, the pid (or -1) in the parent.
            "test eax, eax",
            "jnz 2f",            // The parent (or a failed vfork) leaves the block.
            "mov rdi, r12",      // The child: execve(path, argv, envp) ...
            "mov rsi, r13",
            "mov rdx, r14",
            "call {execve}",
            "mov edi, 127",      // ... and only if it failed, _exit(127).
            "call {exit}",
            "2:",
            vfork = sym libc::vfork,
            execve = sym libc::execve,
            exit = sym libc::_exit,
            in("r12") path,
            in("r13") argv,
            in("r14") envp,
            out("rax") pid,
            clobber_abi("C"),
        );
    }
    pid as i32
}

/// Calls glibc's `vfork`; its child calls `execve(path, argv, envp)` and `_exit(127)`.
#[allow(deprecated)] // libc's reason (a Rust call of vfork) does not apply, see above.
#[cfg(target_arch = "aarch64")]
fn vfork_exec(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    let pid: i64;
    // SAFETY: as for x86_64: C calls with the C ABI's clobbers; the child never leaves the block.
    unsafe {
        std::arch::asm!(
            "bl {vfork}",        // Returns twice: 0 in the child, the pid (or -1) in the parent.
            "cbnz w0, 2f",       // The parent (or a failed vfork) leaves the block.
            "mov x0, x20",       // The child: execve(path, argv, envp) ...
            "mov x1, x21",
            "mov x2, x22",
            "bl {execve}",
            "mov w0, #127",      // ... and only if it failed, _exit(127).
            "bl {exit}",
            "2:",
            vfork = sym libc::vfork,
            execve = sym libc::execve,
            exit = sym libc::_exit,
            in("x20") path,
            in("x21") argv,
            in("x22") envp,
            out("x0") pid,
            clobber_abi("C"),
        );
    }
    pid as i32
}

/// Calls glibc's `vfork`; its child calls `execve(path, argv, envp)` and `_exit(127)`.
#[allow(deprecated)] // libc's reason (a Rust call of vfork) does not apply, see above.
#[cfg(target_arch = "riscv64")]
fn vfork_exec(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    let pid: i64;
    // SAFETY: as for x86_64: C calls with the C ABI's clobbers; the child never leaves the block.
    unsafe {
        std::arch::asm!(
            "call {vfork}",      // Returns twice: 0 in the child, the pid (or -1) in the parent.
            "bnez a0, 2f",       // The parent (or a failed vfork) leaves the block.
            "mv a0, s2",         // The child: execve(path, argv, envp) ...
            "mv a1, s3",
            "mv a2, s4",
            "call {execve}",
            "li a0, 127",        // ... and only if it failed, _exit(127).
            "call {exit}",
            "2:",
            vfork = sym libc::vfork,
            execve = sym libc::execve,
            exit = sym libc::_exit,
            in("s2") path,
            in("s3") argv,
            in("s4") envp,
            out("a0") pid,
            clobber_abi("C"),
        );
    }
    pid as i32
}

/// std's `Command::status` (std spawns with `posix_spawn` here).
fn std_status(t: &Target) {
    let status = Command::new(t.path())
        .status()
        .expect("std Command::status");
    assert_eq!(status.code(), Some(0), "std: exit status");
}

fn wait_libc(pid: libc::pid_t, what: &str) {
    let mut status = 0;
    // SAFETY: `status` is a valid int to write to.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(got, pid, "{what}: waitpid");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{what}: exit status {status:#x}"
    );
}

/// The parent's extra memory: private anonymous mappings, every byte written.
struct Ballast {
    regions: Vec<(*mut u8, usize)>,
    bytes: usize,
}

impl Ballast {
    fn new() -> Ballast {
        Ballast {
            regions: Vec::new(),
            bytes: 0,
        }
    }

    /// Maps and writes memory until the ballast holds `bytes` (it never shrinks).
    fn grow_to(&mut self, bytes: usize) {
        let Some(add) = bytes.checked_sub(self.bytes).filter(|&n| n > 0) else {
            return;
        };
        // SAFETY: a fresh private anonymous mapping at an address of the kernel's choosing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                add,
                libc::PROT_READ | libc::PROT_WRITE,
                // Populating at map time is much faster than a page fault per page.
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED, "mmap of {add} bytes");
        // SAFETY: advice on our own mapping; failure (no THP support) is harmless.
        unsafe { libc::madvise(ptr, add, libc::MADV_NOHUGEPAGE) };
        // SAFETY: the mapping is `add` writable bytes, ours alone.
        unsafe { std::ptr::write_bytes(ptr.cast::<u8>(), 0x5a, add) };
        self.regions.push((ptr.cast(), add));
        self.bytes = bytes;
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        for &(ptr, len) in &self.regions {
            // SAFETY: our own mapping, no longer referenced.
            unsafe { libc::munmap(ptr.cast(), len) };
        }
    }
}

/// This process's resident memory in bytes.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Samples of one cell, in microseconds.
#[derive(Clone, Default)]
struct Stats {
    median: f64,
    p25: f64,
    p75: f64,
    min: f64,
    n: usize,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Stats {
        samples.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let at = |q: f64| us(samples[((samples.len() - 1) as f64 * q).round() as usize]);
        let n = samples.len();
        let median = if n % 2 == 1 {
            us(samples[n / 2])
        } else {
            (us(samples[n / 2 - 1]) + us(samples[n / 2])) / 2.0
        };
        Stats {
            median,
            p25: at(0.25),
            p75: at(0.75),
            min: us(samples[0]),
            n,
        }
    }

    fn json(&self) -> String {
        format!(
            "{{\"median_us\": {:.2}, \"p25_us\": {:.2}, \"p75_us\": {:.2}, \"min_us\": {:.2}, \
             \"n\": {}}}",
            self.median, self.p25, self.p75, self.min, self.n
        )
    }
}

/// A small deterministic generator for the order of each round (xorshift64).
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Puts `items` in a fresh random order (Fisher–Yates).
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Runs rounds of `runs` (each round: every run once, in a random order) until `max` rounds or
/// `budget` (after `min`) and returns each run's samples, warm-up rounds left out.
fn rounds<F: FnMut(usize)>(
    runs: usize,
    (min, max, budget): (usize, usize, Duration),
    rng: &mut Shuffle,
    mut run: F,
) -> Vec<Vec<Duration>> {
    let mut samples = vec![Vec::new(); runs];
    let mut order: Vec<usize> = (0..runs).collect();
    let start = Instant::now();
    for round in 0usize.. {
        let measured = round.saturating_sub(WARMUP_ROUNDS);
        if measured >= max || (measured >= min && start.elapsed() > budget) {
            break;
        }
        rng.shuffle(&mut order);
        for &i in &order {
            let began = Instant::now();
            run(i);
            let took = began.elapsed();
            if round >= WARMUP_ROUNDS {
                samples[i].push(took);
            }
        }
    }
    samples
}

/// Measures the chosen methods at the ballast's current size: first those that share the
/// address space, together, then those that copy it. Returns stats in `METHODS` order.
fn measure_size(t: &Target, chosen: &[usize], rng: &mut Shuffle) -> Vec<Option<Stats>> {
    let mut stats = vec![None; METHODS.len()];
    for (copies, limits) in [
        (false, (MIN_ROUNDS, MAX_ROUNDS, SIZE_BUDGET)),
        (true, (MIN_ROUNDS, MAX_ROUNDS, COPY_BUDGET)),
    ] {
        let phase: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|&i| METHODS[i].copies == copies)
            .collect();
        if phase.is_empty() {
            continue;
        }
        let samples = rounds(phase.len(), limits, rng, |k| (METHODS[phase[k]].run)(t));
        for (k, mut s) in samples.into_iter().enumerate() {
            stats[phase[k]] = Some(Stats::of(&mut s));
        }
    }
    stats
}

static THREAD_RUNS: AtomicUsize = AtomicUsize::new(0);

/// One way to create a thread and join it. The stack argument is a buffer reused by the
/// methods that take a stack from the caller.
struct ThreadMethod {
    id: &'static str,
    label: &'static str,
    run: fn(&mut [u8]),
}

const VSPAWN_THREAD: &str = "vspawn_thread";
const STD_THREAD: &str = "std_thread";

const THREAD_METHODS: [ThreadMethod; 3] = [
    ThreadMethod {
        id: VSPAWN_THREAD,
        label: "vspawn thread::spawn",
        run: vspawn_thread,
    },
    ThreadMethod {
        id: "vspawn_thread_on_stack",
        label: "vspawn thread::spawn_on (reused stack)",
        run: vspawn_thread_on,
    },
    ThreadMethod {
        id: STD_THREAD,
        label: "std thread::spawn",
        run: std_thread,
    },
];

/// vspawn's thread on a fresh mapped stack (the default), then `join`.
fn vspawn_thread(_: &mut [u8]) {
    // SAFETY: the closure only touches an atomic: no thread-locals, no locks, no allocation.
    let handle = unsafe {
        vspawn::thread::spawn(|| {
            THREAD_RUNS.fetch_add(1, Ordering::Relaxed);
            0
        })
    }
    .expect("vspawn thread spawn");
    assert_eq!(handle.join(), 0, "vspawn thread result");
}

/// vspawn's thread on a stack the caller keeps (what a stack cache would give), then `join`.
fn vspawn_thread_on(stack: &mut [u8]) {
    // SAFETY: as above; the handle is joined before the stack is used again.
    let handle = unsafe {
        vspawn::thread::spawn_on(stack, || {
            THREAD_RUNS.fetch_add(1, Ordering::Relaxed);
            0
        })
    }
    .expect("vspawn thread spawn_on");
    assert_eq!(handle.join(), 0, "vspawn thread result");
}

fn std_thread(_: &mut [u8]) {
    std::thread::spawn(|| {
        THREAD_RUNS.fetch_add(1, Ordering::Relaxed);
    })
    .join()
    .expect("std thread join");
}

/// Thread create + join, stats in `THREAD_METHODS` order.
fn measure_threads(chosen: &[usize], rng: &mut Shuffle) -> Vec<Option<Stats>> {
    let mut stack = vec![0u8; vspawn::thread::DEFAULT_STACK_SIZE];
    let limits = (THREAD_ROUNDS, THREAD_ROUNDS, Duration::MAX);
    let samples = rounds(chosen.len(), limits, rng, |k| {
        (THREAD_METHODS[chosen[k]].run)(&mut stack)
    });
    let mut stats = vec![None; THREAD_METHODS.len()];
    for (k, mut s) in samples.into_iter().enumerate() {
        stats[chosen[k]] = Some(Stats::of(&mut s));
    }
    stats
}

/// vinit's options in the launch measurement: `-s` (child subreaper), without which vinit, not
/// being PID 1, warns on stderr at every start; then PROGRAM.
/// The id of the vinit launch measurement (for `--only` and the system call counts).
const VINIT_LAUNCH: &str = "vinit_launch";

const VINIT_ARGS: [&str; 2] = ["-s", "--"];
/// Launch rounds (each: `true` once and `vinit -s -- true` once), at least and at most, and the
/// time after which they stop (once there are [`MIN_ROUNDS`]).
const LAUNCH_LIMITS: (usize, usize, Duration) = (MIN_ROUNDS, 3000, Duration::from_secs(10));

/// `vinit -s -- PROGRAM`: `vinit` with [`VINIT_ARGS`] running `program` (by its path, so no
/// PATH search: the same file as the direct spawn).
fn vinit_target(vinit: &Path, program: &Path) -> Target {
    let args: Vec<&OsStr> = (VINIT_ARGS.iter().map(OsStr::new))
        .chain([program.as_os_str()])
        .collect();
    Target::with_args(vinit, &args)
}

/// The launch overhead of vinit: spawn + wait of `true`, and of `vinit -s -- true`.
struct Launch {
    vinit: PathBuf,
    direct: Stats,
    via_vinit: Stats,
    /// The median of the per-round differences (`vinit` minus `true` of the same round).
    paired_difference: f64,
}

/// Measures [`Launch`] in the parent as it is (no ballast): rounds of both spawns in a random
/// order, both with vspawn's `Spawn::spawn` and default attributes. Every sample must exit 0.
fn measure_launch(direct: &Target, vinit: &Target, rng: &mut Shuffle) -> Launch {
    let runs = [
        (direct, "spawn of true"),
        (vinit, "spawn of vinit -s -- true"),
    ];
    let mut samples = rounds(runs.len(), LAUNCH_LIMITS, rng, |k| {
        spawn_wait(runs[k].0, runs[k].1)
    });
    let mut diffs: Vec<f64> = (samples[1].iter().zip(&samples[0]))
        .map(|(v, d)| (v.as_secs_f64() - d.as_secs_f64()) * 1e6)
        .collect();
    diffs.sort_by(f64::total_cmp);
    let n = diffs.len();
    let paired_difference = (diffs[(n - 1) / 2] + diffs[n / 2]) / 2.0;
    Launch {
        vinit: vinit.path().to_path_buf(),
        direct: Stats::of(&mut samples[0]),
        via_vinit: Stats::of(&mut samples[1]),
        paired_difference,
    }
}

impl Launch {
    fn difference(&self) -> f64 {
        self.via_vinit.median - self.direct.median
    }

    fn ratio(&self) -> f64 {
        self.via_vinit.median / self.direct.median
    }
}

/// Where vinit comes from, for the smoke run (no build there): `VSPAWN_BENCH_VINIT`, the bench's
/// build of it, or the one cargo built for this bench's profile; `None` without any.
fn smoke_vinit() -> Option<PathBuf> {
    (built_program(&VINIT, false).ok())
        .filter(|p| p.exists())
        .or_else(|| option_env!("CARGO_BIN_EXE_vinit").map(PathBuf::from))
        .filter(|p| p.exists())
}

/// Whether this process's standard input is a terminal: vinit then also hands the terminal's
/// foreground to its child (one more thing it does per launch). `scripts/bench` gives the bench
/// `/dev/null`.
fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only reads the descriptor's state.
    unsafe { libc::isatty(0) == 1 }
}

/// The target directory this bench was built in (`<target>/<profile>/deps/spawn-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// A program of this package that the bench builds and runs.
struct Built {
    /// The environment variable that names another program to run instead.
    env: &'static str,
    /// What it is, for the messages.
    what: &'static str,
    /// Cargo's target selection.
    cargo_args: [&'static str; 2],
    /// Where it lands under the build's target directory.
    path: &'static str,
}

/// The program spawned: `examples/true.rs`, static and libc-free.
const TRUE: Built = Built {
    env: "VSPAWN_BENCH_TRUE",
    what: "the static `true` of examples/true.rs (feature `entry`)",
    cargo_args: ["--example", "true"],
    path: "release/examples/true",
};

/// vinit, for its launch overhead.
const VINIT: Built = Built {
    env: "VSPAWN_BENCH_VINIT",
    what: "vinit (src/bin/vinit.rs, default features)",
    cargo_args: ["--bin", "vinit"],
    path: "release/vinit",
};

/// `program`'s environment variable, else the program built here (`build`: build it first) with
/// `cargo build --release` and the default features, as it ships, in a target directory of the
/// bench's own (cargo holds the lock of ours while the bench runs).
fn built_program(program: &Built, build: bool) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(program.env) {
        return Ok(PathBuf::from(path));
    }
    let build_dir = target_dir().join("bench").join("build");
    let built = build_dir.join(program.path);
    if !build {
        return Ok(built);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let command = format!("cargo build --release {}", program.cargo_args.join(" "));
    eprintln!("building {}: {command}", program.what);
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--release"])
        .args(program.cargo_args)
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&build_dir)
        .status()
        .map_err(|e| format!("could not run {}: {e}", Path::new(&cargo).display()))?;
    if !status.success() {
        return Err(format!(
            "`{command}` failed ({status}); the bench needs {}, or {}=PATH",
            program.what, program.env
        ));
    }
    if !built.exists() {
        return Err(format!(
            "`{command}` left nothing at {}; {}=PATH names the program to use",
            built.display(),
            program.env
        ));
    }
    Ok(built)
}

/// The program to spawn: `VSPAWN_BENCH_TRUE`, else `examples/true.rs` built here.
fn true_program(build: bool) -> Result<PathBuf, String> {
    built_program(&TRUE, build)
}

/// Syscalls and their call counts.
type Counts = Vec<(String, i64)>;

/// What `strace -f -c` counts for one method: the calls of one spawn + wait, parent and child
/// together, in the steady state (a run with 2 spawns minus one with 1) and for the first spawn
/// of a process (1 minus 0).
struct SyscallCounts {
    method: &'static str,
    steady: Counts,
    first: Counts,
}

/// `ids`: methods of `METHODS` and `THREAD_METHODS`, and [`VINIT_LAUNCH`] (spawn + wait of
/// `vinit -s -- true`: vinit's calls and its child's with ours).
fn count_syscalls(
    true_path: &Path,
    vinit_path: Option<&Path>,
    ids: &[&'static str],
) -> Option<Vec<SyscallCounts>> {
    let exe = std::env::current_exe().ok()?;
    let out = target_dir().join("bench");
    let run = |method: &str, spawns: usize| -> Option<Counts> {
        let file = out.join(format!("strace-{method}-{spawns}.txt"));
        let mut strace = Command::new("strace");
        strace
            .args(["-f", "-c", "-o"])
            .arg(&file)
            .arg(&exe)
            .args(["--spawns", method, &spawns.to_string()])
            .env(TRUE.env, true_path);
        if let Some(vinit) = vinit_path {
            strace.env(VINIT.env, vinit);
        }
        let status = strace.status().ok()?;
        if !status.success() {
            return None;
        }
        parse_strace_summary(&std::fs::read_to_string(&file).ok()?)
    };
    let mut all = Vec::new();
    for &id in ids {
        let (c0, c1, c2) = (run(id, 0)?, run(id, 1)?, run(id, 2)?);
        all.push(SyscallCounts {
            method: id,
            steady: diff_counts(&c2, &c1),
            first: diff_counts(&c1, &c0),
        });
    }
    Some(all)
}

/// The rows of `strace -c`'s table: (syscall, calls).
fn parse_strace_summary(text: &str) -> Option<Counts> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 5 || fields[0].starts_with('%') || fields[0].starts_with('-') {
            continue;
        }
        let name = fields[fields.len() - 1];
        if name == "total" {
            continue;
        }
        rows.push((name.to_string(), fields[3].parse().ok()?));
    }
    Some(rows)
}

/// `a − b`, per syscall, leaving out zeros; sorted by name.
fn diff_counts(a: &[(String, i64)], b: &[(String, i64)]) -> Counts {
    let get = |v: &[(String, i64)], n: &str| v.iter().find(|(m, _)| m == n).map_or(0, |r| r.1);
    let mut names: Vec<&String> = a.iter().chain(b).map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| (n.clone(), get(a, n) - get(b, n)))
        .filter(|&(_, c)| c != 0)
        .collect()
}

/// `--spawns METHOD N`: spawn N times (or create and join N threads) with METHOD and exit
/// (what `strace` watches).
fn spawns_mode(method: &str, n: usize) -> ExitCode {
    let path = true_program(false).expect("true program");
    let t = Target::new(&path);
    let mut stack = vec![0u8; vspawn::thread::DEFAULT_STACK_SIZE];
    if method == VINIT_LAUNCH {
        let vinit = built_program(&VINIT, false).expect("vinit");
        let v = vinit_target(&vinit, &path);
        (0..n).for_each(|_| spawn_wait(&v, "spawn of vinit -s -- true"));
    } else if let Some(m) = METHODS.iter().find(|m| m.id == method) {
        (0..n).for_each(|_| (m.run)(&t));
    } else if let Some(m) = THREAD_METHODS.iter().find(|m| m.id == method) {
        (0..n).for_each(|_| (m.run)(&mut stack));
    } else {
        eprintln!("unknown method {method}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Without `--bench` (`cargo test --benches`): every method once, no extra memory; the static
/// `true` if it was built, else `/bin/true`; and `vinit -s -- true` once when a vinit is there
/// (see [`smoke_vinit`]).
fn smoke() -> ExitCode {
    let built = true_program(false).ok().filter(|p| p.exists());
    let path = built.unwrap_or_else(|| PathBuf::from("/bin/true"));
    let t = Target::new(&path);
    for m in &METHODS {
        (m.run)(&t);
        println!("spawn bench smoke: {} ok", m.label);
    }
    let mut stack = vec![0u8; vspawn::thread::DEFAULT_STACK_SIZE];
    for m in &THREAD_METHODS {
        (m.run)(&mut stack);
        println!("spawn bench smoke: {} ok", m.label);
    }
    match smoke_vinit() {
        Some(vinit) => {
            spawn_wait(&vinit_target(&vinit, &path), "spawn of vinit -s -- true");
            println!(
                "spawn bench smoke: vinit -s -- true ok ({})",
                vinit.display()
            );
        }
        None => println!("spawn bench smoke: vinit launch skipped (no vinit built)"),
    }
    println!("(`cargo bench --bench spawn` measures)");
    ExitCode::SUCCESS
}

/// Command-line options (after `cargo bench --bench spawn --`).
struct Options {
    /// Indices into `METHODS` and `THREAD_METHODS` to run.
    methods: Vec<usize>,
    threads: Vec<usize>,
    /// Measure vinit's launch overhead ([`VINIT_LAUNCH`]).
    launch: bool,
    /// Indices into `SIZES`.
    sizes: Vec<usize>,
    strace: bool,
    /// Something was left out: the output goes to `spawn-partial.json`.
    partial: bool,
}

const USAGE: &str = "usage: cargo bench --bench spawn -- [--only ID,ID…] [--sizes 16M,1G,4G] \
                     [--no-strace]  (IDs: the methods' as in the JSON, and vinit_launch)";

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            methods: (0..METHODS.len()).collect(),
            threads: (0..THREAD_METHODS.len()).collect(),
            launch: true,
            sizes: (0..SIZES.len()).collect(),
            strace: true,
            partial: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => {}
                "--no-strace" => o.strace = false,
                "--only" => {
                    let ids: Vec<&str> = args.next().ok_or(USAGE)?.split(',').collect();
                    let all: Vec<&str> = (METHODS.iter().map(|m| m.id))
                        .chain(THREAD_METHODS.iter().map(|m| m.id))
                        .chain([VINIT_LAUNCH])
                        .collect();
                    if let Some(bad) = ids.iter().find(|id| !all.contains(id)) {
                        return Err(format!("unknown method {bad}; known: {}", all.join(", ")));
                    }
                    o.methods.retain(|&i| ids.contains(&METHODS[i].id));
                    o.threads.retain(|&i| ids.contains(&THREAD_METHODS[i].id));
                    o.launch = ids.contains(&VINIT_LAUNCH);
                    o.partial = true;
                }
                "--sizes" => {
                    let names = args.next().ok_or(USAGE)?;
                    o.sizes = names
                        .split(',')
                        .map(|n| match n {
                            "16M" => Ok(0),
                            "1G" => Ok(1),
                            "4G" => Ok(2),
                            _ => Err(format!("unknown size {n}: 16M, 1G or 4G")),
                        })
                        .collect::<Result<_, _>>()?;
                    o.partial |= o.sizes.len() < SIZES.len();
                }
                // cargo passes a name filter through; one that is not ours is refused.
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        Ok(o)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--spawns") {
        let method = args.get(i + 1).map_or("", String::as_str);
        let n = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(1);
        return spawns_mode(method, n);
    }
    if !args.iter().any(|a| a == "--bench") {
        return smoke();
    }
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let began = Instant::now();
    let true_path = match true_program(true) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let vinit_path = if options.launch {
        match built_program(&VINIT, true) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let load_before = load_average();
    let t = Target::new(&true_path);
    let mut rng = Shuffle(0x9e37_79b9_7f4a_7c15);

    let threads = if options.threads.is_empty() {
        vec![None; THREAD_METHODS.len()]
    } else {
        eprintln!("threads: {THREAD_ROUNDS} rounds");
        measure_threads(&options.threads, &mut rng)
    };

    let launch = vinit_path.as_deref().map(|vinit| {
        eprintln!("vinit launch: {} -s -- true, no ballast", vinit.display());
        measure_launch(&t, &vinit_target(vinit, &true_path), &mut rng)
    });

    let mut ballast = Ballast::new();
    let mut sizes = Vec::new();
    if !options.methods.is_empty() {
        for &s in &options.sizes {
            let (label, bytes) = SIZES[s];
            let grow = Instant::now();
            ballast.grow_to(bytes);
            let rss = resident_bytes();
            eprintln!(
                "{label}: resident {} MiB (written in {:.1} s); measuring",
                rss >> 20,
                grow.elapsed().as_secs_f64()
            );
            let stats = measure_size(&t, &options.methods, &mut rng);
            sizes.push(SizeResult {
                label,
                bytes,
                rss,
                stats,
            });
        }
    }
    drop(ballast);
    let load_after = load_average();

    let syscalls = if options.strace {
        eprintln!("system calls: strace -f -c");
        let ids: Vec<&str> = (options.methods.iter().map(|&i| METHODS[i].id))
            .chain(options.threads.iter().map(|&i| THREAD_METHODS[i].id))
            .chain(options.launch.then_some(VINIT_LAUNCH))
            .collect();
        let counted = count_syscalls(&true_path, vinit_path.as_deref(), &ids);
        if counted.is_none() {
            eprintln!("(strace is missing or failed: no system call counts)");
        }
        counted
    } else {
        None
    };

    let report = Report {
        true_path: &true_path,
        sizes: &sizes,
        threads: &threads,
        launch: launch.as_ref(),
        syscalls: syscalls.as_deref(),
        load_before,
        load_after,
        elapsed: began.elapsed(),
    };
    print!("{}", report.text());
    let name = if options.partial {
        "spawn-partial.json"
    } else {
        "spawn.json"
    };
    let file = out_dir.join(name);
    std::fs::write(&file, report.json()).expect("write the JSON report");
    println!("wrote {}", file.display());
    ExitCode::SUCCESS
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The measurements at one parent size.
struct SizeResult {
    label: &'static str,
    bytes: usize,
    rss: usize,
    /// In `METHODS` order; `None`: not measured.
    stats: Vec<Option<Stats>>,
}

impl SizeResult {
    fn median(&self, id: &str) -> Option<f64> {
        let i = METHODS.iter().position(|m| m.id == id)?;
        self.stats[i].as_ref().map(|s| s.median)
    }
}

struct Report<'a> {
    true_path: &'a Path,
    sizes: &'a [SizeResult],
    threads: &'a [Option<Stats>],
    launch: Option<&'a Launch>,
    syscalls: Option<&'a [SyscallCounts]>,
    load_before: String,
    load_after: String,
    elapsed: Duration,
}

/// One of the targets: `value ≤ limit`.
struct Check {
    what: String,
    value: f64,
    limit: f64,
}

impl Report<'_> {
    fn thread_median(&self, id: &str) -> Option<f64> {
        let i = THREAD_METHODS.iter().position(|m| m.id == id)?;
        self.threads[i].as_ref().map(|s| s.median)
    }

    /// The targets, those whose numbers were measured.
    fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        let mut push = |what: String, a: Option<f64>, b: Option<f64>, limit: f64| {
            if let (Some(a), Some(b)) = (a, b) {
                checks.push(Check {
                    what,
                    value: a / b,
                    limit,
                });
            }
        };
        for size in self.sizes {
            for (peer, limit) in [(POSIX_SPAWN, 0.75), (VSPAWN_VFORK, 1.10), (STD, 0.75)] {
                let name = METHODS
                    .iter()
                    .find(|m| m.id == peer)
                    .map_or(peer, |m| m.label);
                push(
                    format!("{}: vspawn / {name}", size.label),
                    size.median(VSPAWN),
                    size.median(peer),
                    limit,
                );
            }
        }
        if let (Some(first), Some(last)) = (self.sizes.first(), self.sizes.last())
            && self.sizes.len() > 1
        {
            push(
                format!("vspawn {} / {}", last.label, first.label),
                last.median(VSPAWN),
                first.median(VSPAWN),
                1.3,
            );
        }
        push(
            "threads: vspawn / std".into(),
            self.thread_median(VSPAWN_THREAD),
            self.thread_median(STD_THREAD),
            0.5,
        );
        checks
    }

    fn text(&self) -> String {
        let mut s = String::new();
        if !self.sizes.is_empty() {
            let _ = writeln!(
                s,
                "\nspawn + wait of {}\nmedian µs (ratio to glibc posix_spawn)",
                self.true_path.display()
            );
            let _ = write!(s, "{:<24}", "method");
            for size in self.sizes {
                let head = format!("{} (rss {} MiB)", size.label, size.rss >> 20);
                let _ = write!(s, "{head:>24}");
            }
            let _ = writeln!(s);
            for (i, m) in METHODS.iter().enumerate() {
                if self.sizes.iter().all(|size| size.stats[i].is_none()) {
                    continue;
                }
                let _ = write!(s, "{:<24}", m.label);
                for size in self.sizes {
                    let cell = match (&size.stats[i], size.median(POSIX_SPAWN)) {
                        (Some(st), Some(base)) => {
                            format!("{:.1} ({:.2})", st.median, st.median / base)
                        }
                        (Some(st), None) => format!("{:.1}", st.median),
                        (None, _) => "-".into(),
                    };
                    let _ = write!(s, "{cell:>24}");
                }
                let _ = writeln!(s);
            }
            let counts: Vec<String> = self
                .sizes
                .iter()
                .map(|size| {
                    let n = size
                        .stats
                        .iter()
                        .flatten()
                        .map(|st| st.n.to_string())
                        .collect();
                    format!("{}: {}", size.label, dedup_join(n))
                })
                .collect();
            let _ = writeln!(s, "samples per method: {}", counts.join("; "));
        }
        if self.threads.iter().any(Option::is_some) {
            let _ = writeln!(s, "\nthread create + join, median µs (ratio to std)");
            let std = self.thread_median(STD_THREAD);
            for (m, st) in THREAD_METHODS.iter().zip(self.threads) {
                if let Some(st) = st {
                    let ratio = std.map_or(String::new(), |b| format!(" ({:.2})", st.median / b));
                    let _ = writeln!(
                        s,
                        "{:<40}{:>10.1}{ratio}  [{} samples]",
                        m.label, st.median, st.n
                    );
                }
            }
        }
        if let Some(l) = self.launch {
            let _ = writeln!(
                s,
                "\nvinit launch overhead: spawn + wait (vspawn Spawn::spawn, parent without \
                 ballast), median µs"
            );
            for (what, st) in [("true", &l.direct), ("vinit -s -- true", &l.via_vinit)] {
                let _ = writeln!(s, "{what:<40}{:>10.1}  [{} samples]", st.median, st.n);
            }
            let _ = writeln!(
                s,
                "{:<40}{:>+10.1}  ratio {:.2} (median of the rounds' differences: {:.1})",
                "vinit's overhead",
                l.difference(),
                l.ratio(),
                l.paired_difference
            );
        }
        let checks = self.checks();
        if !checks.is_empty() {
            let _ = writeln!(s, "\ntargets (value ≤ limit):");
        }
        for c in checks {
            let verdict = if c.value <= c.limit { "met" } else { "MISSED" };
            let _ = writeln!(
                s,
                "  {:<48} {:>6.2} ≤ {:<5.2} {verdict}",
                c.what, c.value, c.limit
            );
        }
        if let Some(counts) = self.syscalls {
            let _ = writeln!(
                s,
                "\nsystem calls of one spawn + wait (or thread create + join), parent and child \
                 (strace -f -c,\nwhich leaves out exit_group): steady state [first one of a \
                 process]"
            );
            let total = |v: &[(String, i64)]| v.iter().map(|r| r.1).sum::<i64>();
            for c in counts {
                let list: Vec<String> = c.steady.iter().map(|(n, k)| format!("{n} {k}")).collect();
                let _ = writeln!(
                    s,
                    "  {:<24} {:>4} [{:>4}]  {}",
                    c.method,
                    total(&c.steady),
                    total(&c.first),
                    list.join(", ")
                );
            }
        }
        let _ = writeln!(
            s,
            "\nload average before: {}, after: {}; {} cpus; {:.0} s",
            self.load_before,
            self.load_after,
            cpus(),
            self.elapsed.as_secs_f64()
        );
        s
    }

    /// The `vinit_launch` object (`null` when not measured).
    fn launch_json(&self) -> String {
        let Some(l) = self.launch else {
            return "null".into();
        };
        let vinit = match std::env::var_os(VINIT.env) {
            Some(_) => l.vinit.display().to_string(),
            None => "src/bin/vinit.rs (cargo build --release, default features)".into(),
        };
        let bytes = std::fs::metadata(&l.vinit).map_or(0, |m| m.len());
        let members = [
            format!("\"vinit\": {}", json_str(&vinit)),
            format!("\"vinit_bytes\": {bytes}"),
            format!(
                "\"command\": {}",
                json_str(&format!("vinit {} true", VINIT_ARGS.join(" ")))
            ),
            "\"spawned_by\": \"vspawn Spawn::spawn, default attributes, parent without ballast\""
                .into(),
            "\"stderr\": \"inherited (vinit -s writes nothing)\"".into(),
            format!("\"stdin_terminal\": {}", stdin_is_terminal()),
            format!("\"direct\": {}", l.direct.json()),
            format!("\"via_vinit\": {}", l.via_vinit.json()),
            format!("\"difference_us\": {:.2}", l.difference()),
            format!("\"ratio\": {:.3}", l.ratio()),
            format!("\"paired_difference_us\": {:.2}", l.paired_difference),
        ];
        object(&members, 4)
    }

    fn json(&self) -> String {
        let mut j = String::from("{\n");
        let field = |j: &mut String, indent: usize, key: &str, value: String, last: bool| {
            let comma = if last { "" } else { "," };
            let _ = writeln!(j, "{:indent$}{}: {value}{comma}", "", json_str(key));
        };
        let program = match std::env::var_os("VSPAWN_BENCH_TRUE") {
            Some(_) => self.true_path.display().to_string(),
            None => "examples/true.rs (static, no libc)".into(),
        };
        field(&mut j, 2, "program", json_str(&program), false);
        let _ = writeln!(j, "  \"machine\": {{");
        field(&mut j, 4, "cpus", cpus().to_string(), false);
        field(
            &mut j,
            4,
            "kernel",
            json_str(&read_trim("/proc/sys/kernel/osrelease")),
            false,
        );
        field(&mut j, 4, "glibc", json_str(&glibc_version()), false);
        let thp = read_trim("/sys/kernel/mm/transparent_hugepage/enabled");
        field(&mut j, 4, "thp", json_str(&thp), false);
        field(&mut j, 4, "load_before", json_str(&self.load_before), false);
        field(&mut j, 4, "load_after", json_str(&self.load_after), true);
        let _ = writeln!(j, "  }},");
        field(
            &mut j,
            2,
            "elapsed_s",
            format!("{:.1}", self.elapsed.as_secs_f64()),
            false,
        );
        field(&mut j, 2, "baseline", json_str(POSIX_SPAWN), false);
        let methods: Vec<String> = METHODS
            .iter()
            .map(|m| {
                format!(
                    "{{\"id\": {}, \"label\": {}}}",
                    json_str(m.id),
                    json_str(m.label)
                )
            })
            .collect();
        field(&mut j, 2, "methods", list(&methods, 4), false);
        let sizes: Vec<String> = self
            .sizes
            .iter()
            .map(|size| {
                let results: Vec<String> = METHODS
                    .iter()
                    .zip(&size.stats)
                    .filter_map(|(m, st)| {
                        let st = st.as_ref()?;
                        let ratio = size
                            .median(POSIX_SPAWN)
                            .map_or("null".into(), |b| format!("{:.3}", st.median / b));
                        let mut obj = st.json();
                        obj.truncate(obj.len() - 1);
                        Some(format!(
                            "{}: {obj}, \"ratio_to_baseline\": {ratio}}}",
                            json_str(m.id)
                        ))
                    })
                    .collect();
                format!(
                    "{{\"label\": {}, \"bytes\": {}, \"rss_bytes\": {}, \"results\": {}}}",
                    json_str(size.label),
                    size.bytes,
                    size.rss,
                    object(&results, 6)
                )
            })
            .collect();
        field(&mut j, 2, "sizes", list(&sizes, 4), false);
        let threads: Vec<String> = THREAD_METHODS
            .iter()
            .zip(self.threads)
            .filter_map(|(m, st)| {
                let st = st.as_ref()?;
                let mut obj = st.json();
                obj.truncate(obj.len() - 1);
                Some(format!(
                    "{}: {obj}, \"label\": {}}}",
                    json_str(m.id),
                    json_str(m.label)
                ))
            })
            .collect();
        field(&mut j, 2, "threads", object(&threads, 4), false);
        field(&mut j, 2, "vinit_launch", self.launch_json(), false);
        let counts = |v: &[(String, i64)]| {
            let body: Vec<String> = v
                .iter()
                .map(|(n, k)| format!("{}: {k}", json_str(n)))
                .collect();
            format!("{{{}}}", body.join(", "))
        };
        let syscalls: Vec<String> = self
            .syscalls
            .unwrap_or(&[])
            .iter()
            .map(|c| {
                format!(
                    "{}: {{\"steady\": {}, \"first\": {}}}",
                    json_str(c.method),
                    counts(&c.steady),
                    counts(&c.first)
                )
            })
            .collect();
        field(&mut j, 2, "syscalls", object(&syscalls, 4), false);
        let checks: Vec<String> = self
            .checks()
            .iter()
            .map(|c| {
                format!(
                    "{{\"what\": {}, \"value\": {:.3}, \"limit\": {}, \"met\": {}}}",
                    json_str(&c.what),
                    c.value,
                    c.limit,
                    c.value <= c.limit
                )
            })
            .collect();
        field(&mut j, 2, "targets", list(&checks, 4), true);
        j.push_str("}\n");
        j
    }
}

/// `a, b, c` of the distinct items, in order.
fn dedup_join(items: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.join("/")
}

/// A JSON array of already-encoded items, one per line.
fn list(items: &[String], indent: usize) -> String {
    wrap('[', ']', items, indent)
}

/// A JSON object of already-encoded `"key": value` members, one per line.
fn object(members: &[String], indent: usize) -> String {
    wrap('{', '}', members, indent)
}

fn wrap(open: char, close: char, items: &[String], indent: usize) -> String {
    if items.is_empty() {
        return format!("{open}{close}");
    }
    let pad = " ".repeat(indent);
    let inner: Vec<String> = items.iter().map(|i| format!("{pad}{i}")).collect();
    format!(
        "{open}\n{}\n{}{close}",
        inner.join(",\n"),
        " ".repeat(indent - 2)
    )
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(target_env = "gnu")]
fn glibc_version() -> String {
    // SAFETY: glibc returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(target_env = "gnu"))]
fn glibc_version() -> String {
    String::new()
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
