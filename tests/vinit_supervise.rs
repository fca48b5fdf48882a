//! vinit supervising PROGRAM: signals forwarded (to PROGRAM, or its process group with `-g`),
//! zombies reaped (orphans included, however their exits coincide with PROGRAM's), the `-t`
//! grace period, what PROGRAM inherits (signal mask and ignored signals, directory, open files)
//! and what vinit keeps (nothing: no fd above 2, `/` as its directory).
//!
//! Each scenario is a function of the [`Mode`] vinit runs in: a plain child of the test, a child
//! subreaper (`-s`), or PID 1 of a new PID namespace (`unshare`); the `#[test]`s run it in each
//! mode that means something for it. PROGRAM is `sh` (dash here, busybox in the VM): it runs
//! natively even when vinit is emulated, and reports what it sees on stdout. Every run has a
//! deadline; timings are only checked loosely.

#[macro_use]
mod common;

#[path = "vinit/runner.rs"]
mod runner;

use std::collections::BTreeSet;
use std::time::Duration;

use runner::{Mode, children_of, emulated, processes_running, start, wait_for};
use vspawn::fd::OFlags;

/// Unwraps a runner result, or skips the test with the reason.
macro_rules! or_skip {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(reason) => skip!("{reason}"),
        }
    };
}

/// Long enough for anything that should happen at once, even emulated.
const SOON: Duration = Duration::from_secs(20);

// --- Signals ------------------------------------------------------------------------------------

/// The classic signals a trapping `sh` can receive from vinit: every one but SIGKILL and SIGSTOP
/// (which cannot be caught), SIGCHLD and the synchronous ones (SIGILL, SIGTRAP, SIGABRT, SIGBUS,
/// SIGFPE, SIGSEGV, SIGSYS: vinit does not forward them). Job control (SIGTSTP, SIGTTIN, SIGTTOU,
/// SIGCONT) is in.
fn forwarded_signals() -> Vec<i32> {
    let excluded = [9, 19, 17, 4, 5, 6, 7, 8, 11, 31];
    (1..32).filter(|s| !excluded.contains(s)).collect()
}

/// The real-time signals a trapping `sh` can receive: all but 32 and 33, which glibc keeps for
/// itself (the shell cannot trap them).
fn forwarded_real_time_signals() -> Vec<i32> {
    (34..=64).collect()
}

/// A shell that traps `signals`, printing each one's number as it comes, prints `ready`, and
/// exits 0 once it has received them all.
fn trapping_script(signals: &[i32]) -> String {
    // The last trap ends the sleeper itself: a signal taken between the loop's test and its
    // `wait` would otherwise leave the shell waiting for the sleeper's whole 1000 s. With
    // SIGKILL: a SIGTERM from the trap of a shell that traps SIGTERM itself was lost now and
    // then (dash 0.5.12; see `marker_script` in vinit_tini.rs).
    let total = signals.len();
    let mut script = String::from("n=0\n");
    for sig in signals {
        script += &format!(
            "trap 'echo {sig}; n=$((n+1)); [ $n -lt {total} ] || kill -9 $sleeper 2>/dev/null' {sig}\n"
        );
    }
    script += "sleep 1000 </dev/null >/dev/null 2>&1 & sleeper=$!\necho ready\n";
    script += &format!(
        "while [ $n -lt {total} ]; do wait $sleeper; done\nkill -9 $sleeper 2>/dev/null\n\
         wait $sleeper\nexit 0\n"
    );
    script
}

fn every_signal_reaches_the_child(mode: Mode, signals: &[i32]) {
    let script = trapping_script(signals);
    let mut run = or_skip!(start(mode, &[], &["sh", "-c", &script], |_| {}));
    assert_eq!(run.line(SOON), "ready");
    for &sig in signals {
        run.signal(sig);
        assert_eq!(run.line(SOON), sig.to_string(), "signal {sig}");
    }
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(0), "{finished:?}");
    assert_eq!(finished.stdout, Vec::<String>::new());
}

#[test]
fn every_catchable_signal_reaches_the_child() {
    every_signal_reaches_the_child(Mode::Plain, &forwarded_signals());
}

#[test]
fn every_catchable_signal_reaches_the_child_as_subreaper() {
    every_signal_reaches_the_child(Mode::Subreaper, &forwarded_signals());
}

#[test]
fn every_catchable_signal_reaches_the_child_as_pid1() {
    every_signal_reaches_the_child(Mode::Pid1, &forwarded_signals());
}

/// Real-time signals cannot be checked through qemu-user: it renumbers them between the guest
/// and the host (measured with 7.2: the host's 34, sent to vinit, reaches the shell as 36).
macro_rules! skip_real_time_under_emulation {
    () => {
        if let Some(emulator) = common::emulator() {
            skip!(
                "{emulator} renumbers real-time signals between guest and host: checked \
                 natively and in the VM"
            );
        }
    };
}

#[test]
fn every_real_time_signal_reaches_the_child() {
    skip_real_time_under_emulation!();
    every_signal_reaches_the_child(Mode::Plain, &forwarded_real_time_signals());
}

#[test]
fn every_real_time_signal_reaches_the_child_as_pid1() {
    skip_real_time_under_emulation!();
    every_signal_reaches_the_child(Mode::Pid1, &forwarded_real_time_signals());
}

#[test]
fn synchronous_signals_and_sigchld_are_not_forwarded() {
    // PROGRAM traps them all; vinit takes them and drops them (visible at -vvv), then a SIGUSR1
    // that is forwarded proves the others would have arrived first.
    if let Some(emulator) = common::emulator() {
        // Measured with 7.2: SIGILL, SIGTRAP, SIGABRT, SIGBUS and SIGFPE sent in a row kill it.
        skip!(
            "{emulator} dies of SIGSEGV when several fault signals are sent to it with kill: \
             checked natively and in the VM"
        );
    }
    let dropped = [4, 5, 6, 7, 8, 11, 17, 31];
    let mut traps: Vec<i32> = dropped.to_vec();
    traps.push(10);
    let mut script = String::new();
    for sig in &traps {
        script += &format!("trap 'echo {sig}' {sig}\n");
    }
    script += "echo ready\nread line || :\n";
    let mut run = or_skip!(start(
        Mode::Plain,
        &["-vvv"],
        &["sh", "-c", &script],
        |_| {}
    ));
    assert_eq!(run.line(SOON), "ready");
    for sig in dropped {
        run.signal(sig);
    }
    run.signal(10);
    assert_eq!(run.line(SOON), "10");
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(0), "{finished:?}");
    // SIGCHLD only makes vinit look for zombies.
    for sig in dropped.into_iter().filter(|&s| s != libc::SIGCHLD) {
        let name = vspawn::signal::Signal::new(sig).unwrap().to_string();
        let line = format!("vinit: dropped {name} (not forwarded)");
        assert!(
            finished.stderr_lines().contains(&line.as_str()),
            "{line}: {finished:?}"
        );
    }
}

/// Four `sleep TAG` in two pipelines, one of them in the background, under one `sh`.
fn pipelines_script(tag: &str) -> String {
    format!(
        "sleep {tag} 2>/dev/null | sleep {tag} >/dev/null 2>&1 & sleep {tag} 2>/dev/null | sleep {tag} >/dev/null 2>&1 & echo ready; wait",
        tag = tag
    )
}

/// A `sleep` argument no other test uses.
fn unique_sleep(salt: u32) -> String {
    format!("{}", 100_000 + std::process::id() % 50_000 * 16 + salt)
}

fn g_takes_down_the_whole_group(mode: Mode) {
    g_takes_down_the_whole_group_with(mode, &["-g"], None, 1 + mode as u32);
}

/// The -g scenario, with `args`, and `variable` set (empty) in vinit's environment.
fn g_takes_down_the_whole_group_with(mode: Mode, args: &[&str], variable: Option<&str>, salt: u32) {
    let tag = unique_sleep(salt);
    let script = pipelines_script(&tag);
    let mut run = or_skip!(start(mode, args, &["sh", "-c", &script], |command| {
        if let Some(variable) = variable {
            command.env(variable, "");
        }
    }));
    assert_eq!(run.line(SOON), "ready");
    let found = wait_for(SOON, || {
        let sleeps = processes_running(&["sleep", &tag]);
        (sleeps.len() == 4).then_some(sleeps)
    });
    assert!(found.is_some(), "the four sleeps did not start");
    run.signal(libc::SIGTERM);
    let finished = run.finish(SOON);
    // The shell died of the same SIGTERM.
    assert_eq!(finished.code, Some(128 + libc::SIGTERM), "{finished:?}");
    let gone = wait_for(SOON, || {
        processes_running(&["sleep", &tag]).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "sleeps left: {:?}",
        processes_running(&["sleep", &tag])
    );
}

#[test]
fn g_forwards_to_the_whole_process_group() {
    g_takes_down_the_whole_group(Mode::Plain);
}

#[test]
fn g_forwards_to_the_whole_process_group_as_pid1() {
    g_takes_down_the_whole_group(Mode::Pid1);
}

#[test]
fn tini_kill_process_group_means_g() {
    g_takes_down_the_whole_group_with(Mode::Plain, &[], Some("TINI_KILL_PROCESS_GROUP"), 13);
}

#[test]
fn vinit_kill_process_group_means_g() {
    g_takes_down_the_whole_group_with(Mode::Plain, &[], Some("VINIT_KILL_PROCESS_GROUP"), 14);
}

#[test]
fn without_g_only_the_child_gets_the_signal() {
    // The counterpart of the -g tests: the same SIGTERM leaves the pipelines running.
    let tag = unique_sleep(9);
    let script = pipelines_script(&tag);
    let mut run = or_skip!(start(Mode::Plain, &[], &["sh", "-c", &script], |_| {}));
    assert_eq!(run.line(SOON), "ready");
    let sleeps = wait_for(SOON, || {
        let sleeps = processes_running(&["sleep", &tag]);
        (sleeps.len() == 4).then_some(sleeps)
    })
    .expect("the four sleeps did not start");
    run.signal(libc::SIGTERM);
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(128 + libc::SIGTERM), "{finished:?}");
    assert_eq!(processes_running(&["sleep", &tag]), sleeps);
    for pid in sleeps {
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

// --- Reaping ------------------------------------------------------------------------------------

/// A shell that makes 100 orphans (each `sleep` is left behind by a subshell that exits at
/// once), says `spawned`, waits for a line on stdin, and exits 7.
const ORPHANS_SCRIPT: &str = "i=0\nwhile [ $i -lt 100 ]; do (sleep 0.05 </dev/null >/dev/null \
                              2>&1 &); i=$((i+1)); done\necho spawned\nread line\nexit 7";

/// The pids in vinit's `-w` warnings (`reaped zombie process N (...)`).
fn reaped_pids(stderr: &str) -> Vec<i32> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("vinit: warning: reaped zombie process "))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

fn hundred_orphans_reaped(mode: Mode) {
    hundred_orphans_reaped_with(mode, None);
}

/// The orphans scenario, with `variable` set (empty) in vinit's environment.
fn hundred_orphans_reaped_with(mode: Mode, variable: Option<&str>) {
    if variable.is_some() {
        // The variable makes vinit a subreaper: the kernel must let it be one.
        or_skip!(Mode::Subreaper.check());
    }
    let mut run = or_skip!(start(
        mode,
        &["-w"],
        &["sh", "-c", ORPHANS_SCRIPT],
        |command| {
            if let Some(variable) = variable {
                command.env(variable, "");
            }
        }
    ));
    assert_eq!(run.line(SOON), "spawned");
    // All orphans end within 50 ms and are reaped: vinit's only child left is the shell.
    let settled = wait_for(SOON, || {
        let children = children_of(run.pid());
        (children.len() == 1 && children[0].state != 'Z').then_some(())
    });
    assert!(
        settled.is_some(),
        "vinit still has these children: {:?}",
        children_of(run.pid())
    );
    run.write_stdin(b"done\n");
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(7), "{finished:?}");
    let reaped = reaped_pids(&finished.stderr);
    assert_eq!(reaped.len(), 100, "{finished:?}");
    assert_eq!(
        reaped.iter().collect::<BTreeSet<_>>().len(),
        100,
        "{reaped:?}"
    );
    for line in finished.stderr_lines() {
        assert!(
            line.starts_with("vinit: warning: reaped zombie process ")
                && line.ends_with(" (exited with status 0)"),
            "{line}"
        );
    }
}

#[test]
fn hundred_orphans_reaped_as_subreaper() {
    hundred_orphans_reaped(Mode::Subreaper);
}

#[test]
fn tini_subreaper_means_s() {
    hundred_orphans_reaped_with(Mode::Plain, Some("TINI_SUBREAPER"));
}

#[test]
fn vinit_subreaper_means_s() {
    hundred_orphans_reaped_with(Mode::Plain, Some("VINIT_SUBREAPER"));
}

#[test]
fn hundred_orphans_reaped_as_pid1() {
    hundred_orphans_reaped(Mode::Pid1);
}

#[test]
fn without_subreaper_orphans_are_not_vinits() {
    // The counterpart: as a plain child vinit has only PROGRAM to reap, and says so.
    let finished = or_skip!(runner::run(
        Mode::Plain,
        &["-w"],
        &["sh", "-c", "(true &); sleep 0.1; exit 3"],
        SOON,
    ));
    assert_eq!(finished.code, Some(3));
    assert_eq!(
        finished.stderr,
        "vinit: warning: not running as PID 1 and not a child subreaper (-s): orphaned \
         processes will not be reaped by vinit\n"
    );
}

fn orphans_alive_at_exit_are_reaped_before_vinit_exits(mode: Mode) {
    // PROGRAM exits at once, leaving 100 orphans asleep: with -t vinit reaps them all (they die
    // of its SIGTERM) and exits as soon as it has no child left, long before the 30 s.
    let script = "i=0\nwhile [ $i -lt 100 ]; do (sleep 1000 </dev/null >/dev/null 2>&1 &); \
                  i=$((i+1)); done\nexit 5";
    let finished = or_skip!(runner::run(
        mode,
        &["-w", "-t", "30"],
        &["sh", "-c", script],
        SOON
    ));
    assert_eq!(finished.code, Some(5), "{finished:?}");
    let reaped = reaped_pids(&finished.stderr);
    assert_eq!(reaped.len(), 100, "{finished:?}");
    assert!(
        finished
            .stderr_lines()
            .iter()
            .all(|l| l.ends_with(" (was killed by SIGTERM)")),
        "{finished:?}"
    );
    assert!(finished.elapsed < Duration::from_secs(15), "{finished:?}");
}

#[test]
fn orphans_alive_at_exit_are_reaped_with_t_as_subreaper() {
    orphans_alive_at_exit_are_reaped_before_vinit_exits(Mode::Subreaper);
}

#[test]
fn orphans_alive_at_exit_are_reaped_with_t_as_pid1() {
    orphans_alive_at_exit_are_reaped_before_vinit_exits(Mode::Pid1);
}

fn child_and_orphan_dying_together_never_hang(mode: Mode) {
    // The orphan (`true` left behind by a subshell) and PROGRAM end within a millisecond of
    // each other: their SIGCHLDs merge, and vinit must still see PROGRAM's exit.
    // 200 natively; 50 on the emulated CPUs of qemu-user and of the VMs, whose boot and tests
    // must fit in the test command's time (every round is a vinit, a shell and its orphan).
    let rounds = if emulated() || std::env::var_os("VSPAWN_VM").is_some() {
        50
    } else {
        200
    };
    for round in 0..rounds {
        let finished = or_skip!(runner::run(
            mode,
            &[],
            &["sh", "-c", "(true &); exit 9"],
            Duration::from_secs(10),
        ));
        assert_eq!(finished.code, Some(9), "round {round}: {finished:?}");
    }
}

#[test]
fn child_and_orphan_dying_together_never_hang_as_subreaper() {
    child_and_orphan_dying_together_never_hang(Mode::Subreaper);
}

#[test]
fn child_and_orphan_dying_together_never_hang_as_pid1() {
    child_and_orphan_dying_together_never_hang(Mode::Pid1);
}

// --- The -t grace period ------------------------------------------------------------------------

fn t_escalates_term_to_kill(mode: Mode) {
    // A descendant that ignores SIGTERM (its sleeps inherit the SIG_IGN) outlives PROGRAM: vinit
    // sends SIGTERM, waits the 2 s, then SIGKILL.
    let script = "sh -c 'trap \"\" TERM; echo stubborn; while :; do sleep 1; done' \
                  </dev/null 2>&1 & read line; exit 6";
    let mut run = or_skip!(start(
        mode,
        &["-w", "-vv", "-t", "2"],
        &["sh", "-c", script],
        |_| {}
    ));
    assert_eq!(run.line(SOON), "stubborn");
    let exited = std::time::Instant::now();
    run.write_stdin(b"go\n");
    let finished = run.finish(SOON);
    let grace = exited.elapsed();
    assert_eq!(finished.code, Some(6), "{finished:?}");
    let lines = finished.stderr_lines();
    let term = lines
        .iter()
        .position(|l| l.starts_with("vinit: sent SIGTERM to "));
    let kill = lines
        .iter()
        .position(|l| l.starts_with("vinit: sent SIGKILL to "));
    assert!(
        matches!((term, kill), (Some(t), Some(k)) if t < k),
        "{finished:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" (was killed by SIGKILL)")),
        "the stubborn shell was not killed: {finished:?}"
    );
    assert!(
        grace >= Duration::from_millis(1900) && grace < Duration::from_secs(12),
        "{grace:?}"
    );
}

#[test]
fn t_escalates_term_to_kill_as_subreaper() {
    t_escalates_term_to_kill(Mode::Subreaper);
}

#[test]
fn t_escalates_term_to_kill_as_pid1() {
    t_escalates_term_to_kill(Mode::Pid1);
}

#[test]
fn t_ends_early_when_everything_died_of_sigterm() {
    let script = "sleep 1000 </dev/null >/dev/null 2>&1 & exit 4";
    let finished = or_skip!(runner::run(
        Mode::Subreaper,
        &["-vv", "-t", "30"],
        &["sh", "-c", script],
        SOON,
    ));
    assert_eq!(finished.code, Some(4), "{finished:?}");
    assert!(finished.elapsed < Duration::from_secs(10), "{finished:?}");
    assert!(
        !finished.stderr.contains("SIGKILL"),
        "nothing needed SIGKILL: {finished:?}"
    );
}

#[test]
fn without_t_vinit_exits_with_the_child() {
    // Orphans still running do not keep vinit: it exits as soon as PROGRAM has.
    let tag = unique_sleep(12);
    let script = format!("sleep {tag} </dev/null >/dev/null 2>&1 & exit 2");
    let finished = or_skip!(runner::run(
        Mode::Subreaper,
        &[],
        &["sh", "-c", &script],
        SOON
    ));
    assert_eq!(finished.code, Some(2), "{finished:?}");
    let left = processes_running(&["sleep", &tag]);
    assert_eq!(left.len(), 1, "the orphan is still running");
    for pid in left {
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

// --- What PROGRAM inherits, what vinit keeps ----------------------------------------------------

/// [`runner::signal_state_seen_by_child`] with vinit.
fn signal_state_seen_by_child(
    mode: Mode,
    ignored: &'static [i32],
    blocked: &'static [i32],
) -> Result<([String; 3], [String; 3]), String> {
    runner::signal_state_seen_by_child(runner::Init::Vinit, mode, ignored, blocked)
}

fn bits(signals: &[i32]) -> u64 {
    signals.iter().fold(0u64, |m, s| m | 1 << (s - 1))
}

fn original_signal_mask_kept(mode: Mode) {
    // Nothing blocked: PROGRAM sees the same, although vinit blocks everything.
    let (seen, direct) = or_skip!(signal_state_seen_by_child(mode, &[], &[]));
    assert_eq!(seen[1..], direct[1..]);
    assert_eq!(seen[1], format!("{:016x}", 0), "SigBlk");
    assert_eq!(
        seen[2],
        format!("{:016x}", 0),
        "SigCgt: no handler of vinit's"
    );
    // SIGUSR2 and SIGWINCH blocked (and SIGRTMIN+2, on a real kernel: qemu-user renumbers
    // real-time signals): kept exactly.
    let blocked: &[i32] = if emulated() { &[12, 28] } else { &[12, 28, 34] };
    let (seen, direct) = or_skip!(signal_state_seen_by_child(mode, &[], blocked));
    assert_eq!(seen[1..], direct[1..]);
    assert_eq!(seen[1], format!("{:016x}", bits(blocked)), "SigBlk");
}

fn ignored_signals_kept(mode: Mode) {
    if let Some(emulator) = common::emulator() {
        // qemu emulates the guest's SIG_IGN with its own handler, which exec resets.
        skip!(
            "{emulator} does not pass ignored signals on to the programs its guest execs: \
             checked natively and in the VM"
        );
    }
    // What the test's own process ignores (the environment may ignore some signal), nothing
    // more; with SIGHUP and SIGUSR1 ignored besides, those too.
    let (seen, direct) = or_skip!(signal_state_seen_by_child(mode, &[], &[]));
    assert_eq!(seen, direct);
    let (seen, direct) = or_skip!(signal_state_seen_by_child(mode, &[1, 10], &[12]));
    assert_eq!(seen, direct);
    let ignored = u64::from_str_radix(&seen[0], 16).unwrap();
    assert_eq!(
        ignored & bits(&[1, 10, 12]),
        bits(&[1, 10]),
        "SigIgn {}",
        seen[0]
    );
}

#[test]
fn child_gets_the_original_signal_mask() {
    original_signal_mask_kept(Mode::Plain);
}

#[test]
fn child_gets_the_original_signal_mask_as_pid1() {
    original_signal_mask_kept(Mode::Pid1);
}

#[test]
fn child_keeps_the_signals_vinit_was_started_ignoring() {
    ignored_signals_kept(Mode::Plain);
}

#[test]
fn child_keeps_the_signals_vinit_was_started_ignoring_as_pid1() {
    ignored_signals_kept(Mode::Pid1);
}

/// Reads one line from `fd`, byte by byte.
fn read_line(fd: i32) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while vspawn::fd::read(fd, &mut byte).expect("read") == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    String::from_utf8(line).expect("UTF-8")
}

fn vinit_keeps_no_fd_and_no_directory(mode: Mode) {
    let dir = common::scratch_dir(&format!("vinit-fds-{mode:?}"));
    let (read, write) = vspawn::fd::pipe2(OFlags::empty()).expect("pipe2");
    let write_fd = write.as_raw_fd();
    let script = "echo ready; pwd; echo through-fd-5 >&5; read line";
    let mut run = or_skip!(start(mode, &[], &["sh", "-c", script], |command| {
        command.current_dir(&dir);
        runner::with_fd_5(command, write_fd);
    }));
    drop(write);
    assert_eq!(run.line(SOON), "ready");
    assert_eq!(run.line(SOON), dir.to_str().unwrap());
    // Only the line: unshare (as PID 1's parent) keeps its own copy of fd 5 open.
    assert_eq!(read_line(read.as_raw_fd()), "through-fd-5");
    if let Some(emulator) = common::emulator() {
        common::report_skip(&format!(
            "vinit's own fds and directory: {emulator} runs vinit inside qemu's process, with \
             qemu's own files; checked natively and in the VM"
        ));
    } else {
        // vinit closes its files once the spawn has returned, which PROGRAM's output may beat.
        runner::wait_until_in_signal_wait(run.pid());
        let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", run.pid()))
            .expect("read vinit's fds")
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        fds.sort();
        assert_eq!(fds, ["0", "1", "2"]);
        let cwd = std::fs::read_link(format!("/proc/{}/cwd", run.pid())).expect("vinit's cwd");
        assert_eq!(cwd, std::path::Path::new("/"));
    }
    run.write_stdin(b"go\n");
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(0), "{finished:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vinit_closes_its_fds_and_leaves_the_directory_the_child_keeps_both() {
    vinit_keeps_no_fd_and_no_directory(Mode::Plain);
}

#[test]
fn vinit_closes_its_fds_and_leaves_the_directory_as_pid1() {
    vinit_keeps_no_fd_and_no_directory(Mode::Pid1);
}

#[test]
fn the_child_runs_in_its_own_process_group() {
    // PROGRAM leads a new process group (what -g signals), vinit stays in the test's group.
    let script = "echo $$ $(cut -d' ' -f5 /proc/$$/stat); read line || :";
    let mut run = or_skip!(start(Mode::Plain, &[], &["sh", "-c", script], |_| {}));
    let line = run.line(SOON);
    let (pid, pgid) = line.split_once(' ').expect("pid and pgid");
    assert_eq!(pid, pgid, "PROGRAM leads its own group");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", run.pid())).unwrap();
    let vinit_pgid: i32 = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: getpgrp has no arguments.
    assert_eq!(vinit_pgid, unsafe { libc::getpgrp() });
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(0), "{finished:?}");
}

#[test]
fn the_child_gets_the_terminal_foreground_when_vinit_has_a_terminal() {
    // vinit in a new session whose controlling terminal is a pty, on its stdin: PROGRAM's group
    // becomes the terminal's foreground group.
    let gets_it = or_skip!(runner::program_gets_the_foreground(runner::Init::Vinit));
    assert!(
        gets_it,
        "PROGRAM's group is not the terminal's foreground group"
    );
}

#[test]
fn vinit_in_the_background_of_an_interactive_shell_leaves_it_the_terminal() {
    // `vinit -s -- sleep N &` typed at an interactive shell: PROGRAM must not take the terminal
    // from the shell, which would then fail to read its next line and exit.
    let tag = unique_sleep(15);
    // `-s` as a user would type it, where vinit can be a subreaper (not under qemu-user 7.2):
    // the foreground rule does not depend on it.
    let subreaper: &[&str] = if Mode::Subreaper.check().is_ok() {
        &["-s"]
    } else {
        &[]
    };
    let args = [subreaper, &["--", "sleep", &tag]].concat();
    let command = or_skip!(runner::raw_command(&args));
    let job = or_skip!(runner::background_job_of_interactive_shell(
        &command,
        &["sleep", &tag]
    ));
    assert_eq!(
        job,
        runner::BackgroundJob {
            shell_kept_foreground: true,
            shell_answered: true
        }
    );
}

// --- SIGCHLD inherited ignored ------------------------------------------------------------------

/// vinit's start with SIGCHLD ignored (a parent may exec it so).
fn ignoring_sigchld(command: &mut std::process::Command) {
    runner::with_signals(command, &[libc::SIGCHLD], &[]);
}

fn started_with_sigchld_ignored(mode: Mode) {
    // Without its own SIGCHLD vinit would never hear of PROGRAM's exit (the kernel reaps it and
    // sends nothing) and wait for ever, even after a SIGTERM.
    let run = or_skip!(start(mode, &[], &["sh", "-c", "exit 3"], ignoring_sigchld));
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(3), "{finished:?}");
    let script = "echo ready; exec sleep 1000";
    let mut run = or_skip!(start(mode, &[], &["sh", "-c", script], ignoring_sigchld));
    assert_eq!(run.line(SOON), "ready");
    run.signal(libc::SIGTERM);
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(128 + libc::SIGTERM), "{finished:?}");
    // PROGRAM still gets SIGCHLD ignored, as vinit did.
    if let Some(emulator) = common::emulator() {
        common::report_skip(&format!(
            "PROGRAM's ignored SIGCHLD: {emulator} does not pass ignored signals on to the \
             programs its guest execs; checked natively and in the VM"
        ));
        return;
    }
    let (seen, direct) = or_skip!(signal_state_seen_by_child(mode, &[libc::SIGCHLD], &[]));
    assert_eq!(seen, direct);
    let ignored = u64::from_str_radix(&seen[0], 16).unwrap();
    assert_ne!(ignored & bits(&[libc::SIGCHLD]), 0, "SigIgn {}", seen[0]);
}

#[test]
fn started_with_sigchld_ignored_vinit_sees_the_child_exit() {
    started_with_sigchld_ignored(Mode::Plain);
}

#[test]
fn started_with_sigchld_ignored_vinit_sees_the_child_exit_as_subreaper() {
    started_with_sigchld_ignored(Mode::Subreaper);
}

// --- -r -----------------------------------------------------------------------------------------

#[test]
fn r_forwards_a_signal_as_another_or_drops_it() {
    // nginx's graceful stop: SIGTERM reaches PROGRAM as SIGQUIT; SIGUSR1 is dropped (`:0`);
    // SIGHUP is untouched. SIGWINCH ends the script; vinit takes pending signals lowest number
    // first, so a forwarded SIGUSR1 would come before it.
    let script = "done=0\ntrap 'echo 3' QUIT\ntrap 'echo 15' TERM\ntrap 'echo 1' HUP\n\
                  trap 'echo 10' USR1\ntrap 'echo 28; done=1; kill -9 $sleeper' WINCH\n\
                  sleep 1000 </dev/null >/dev/null 2>&1 & sleeper=$!\necho ready\n\
                  while [ $done = 0 ]; do wait $sleeper; done\nwait $sleeper\nexit 0";
    let args = ["-vvv", "-r", "TERM:QUIT", "-r", "USR1:0"];
    let mut run = or_skip!(start(Mode::Plain, &args, &["sh", "-c", script], |_| {}));
    assert_eq!(run.line(SOON), "ready");
    run.signal(libc::SIGTERM);
    assert_eq!(run.line(SOON), "3");
    run.signal(libc::SIGHUP);
    assert_eq!(run.line(SOON), "1");
    run.signal(libc::SIGUSR1);
    run.signal(libc::SIGWINCH);
    assert_eq!(run.line(SOON), "28");
    let finished = run.finish(SOON);
    assert_eq!(finished.code, Some(0), "{finished:?}");
    assert_eq!(
        finished.stdout,
        Vec::<String>::new(),
        "SIGUSR1 came through"
    );
    let lines = finished.stderr_lines();
    let child = run_child_pid(&lines);
    for expected in [
        format!("vinit: forwarded SIGTERM as SIGQUIT to process {child}"),
        format!("vinit: forwarded SIGHUP to process {child}"),
        "vinit: dropped SIGUSR1 (-r)".to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "{expected}: {finished:?}"
        );
    }
}

/// PROGRAM's pid, from vinit's `started PROGRAM as process N` (`-vv` and up).
fn run_child_pid(lines: &[&str]) -> u32 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("vinit: started PROGRAM as process "))
        .expect("vinit names PROGRAM's pid")
        .parse()
        .expect("a pid")
}
