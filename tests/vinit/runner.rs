//! Runs the vinit binary in a given mode and watches it: shared by `tests/vinit.rs` and
//! `tests/vinit_supervise.rs` (included with `#[path]`).
//!
//! Which vinit: `$VSPAWN_VINIT` if set (the test VM ships the binary and names it there);
//! else the libc-free release build, made once per test binary by a nested `cargo build` into
//! its own target directory (the outer build may have the `std` feature on, which makes
//! `CARGO_BIN_EXE_vinit` an ordinary libc program); else, where cargo is missing, that
//! `CARGO_BIN_EXE_vinit` if it exists. Under qemu-user the binary is for the emulated
//! architecture, so it is run through `qemu-<arch>` (exec'ing it directly would fail with
//! ENOEXEC: qemu passes `execve` to the host); PROGRAM is always a host program (`sh`, `cat`).
//!
//! Modes ([`Mode`]): a plain child of the test, a child subreaper (`-s`), or PID 1 of a new PID
//! namespace (`unshare --pid --fork --mount-proc`, as root). A mode that cannot work here is a
//! visible skip with the reason ([`Mode::check`]). Everything has a deadline: a run that outlives
//! it is killed with its descendants and the test fails, saying what vinit wrote.
//!
//! The same runs work with real tini or dumb-init in vinit's place ([`Init::Tini`],
//! [`Init::DumbInit`], the `_of` functions), for the differential suite `tests/vinit_tini.rs`:
//! Debian's static tini (`/usr/bin/tini-static`, or `$VSPAWN_TINI`) and Debian's dumb-init
//! (`/usr/bin/dumb-init`, or `$VSPAWN_DUMB_INIT`), run natively only (there are none for the
//! emulated architectures here). dumb-init has no subreaper mode.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The environment PROGRAM gets: a `PATH` that finds the shell and the tools on the host
/// (Debian) and in the VM (busybox in /bin).
pub const PATH: &str = "/bin:/usr/bin";

/// The vinit binary under test, or why there is none (a reason to skip).
pub fn vinit_path() -> Result<&'static Path, String> {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(find_vinit)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn find_vinit() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("VSPAWN_VINIT").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    match build_libc_free() {
        Ok(path) => Ok(path),
        Err(reason) => match option_env!("CARGO_BIN_EXE_vinit").map(PathBuf::from) {
            Some(path) if cfg!(feature = "entry") && path.exists() => Ok(path),
            _ => Err(format!(
                "{reason}, and there is no other vinit binary here (VSPAWN_VINIT names one)"
            )),
        },
    }
}

/// Builds vinit as shipped: default features (libc-free), release profile.
fn build_libc_free() -> Result<PathBuf, String> {
    let args = ["--release", "--bin", "vinit"];
    let built = crate::common::nested_cargo_build("vinit-test", &args, "vinit")?;
    Ok(built.join("release").join("vinit"))
}

/// Which init runs PROGRAM.
// (`DumbInit` is the program's name, not the enum's repeated.)
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// vinit, the binary under test.
    Vinit,
    /// Real tini, the anchor of the differential suite.
    Tini,
    /// dumb-init, the other init of its kind, measured by the same suite.
    DumbInit,
}

impl Init {
    /// The binary, or why there is none here (a reason to skip).
    pub fn path(self) -> Result<&'static Path, String> {
        match self {
            Init::Vinit => vinit_path(),
            Init::Tini => tini_path(),
            Init::DumbInit => dumb_init_path(),
        }
    }

    /// `Ok` if this init can run in `mode` here, else why not (a reason to skip).
    pub fn check(self, mode: Mode) -> Result<(), String> {
        self.path()?;
        mode.check()
    }
}

/// The tini binary, or why there is none (a reason to skip).
pub fn tini_path() -> Result<&'static Path, String> {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(find_tini)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn find_tini() -> Result<PathBuf, String> {
    find_reference("tini", "VSPAWN_TINI", "/usr/bin/tini-static")
}

/// The dumb-init binary, or why there is none (a reason to skip).
pub fn dumb_init_path() -> Result<&'static Path, String> {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(|| find_reference("dumb-init", "VSPAWN_DUMB_INIT", "/usr/bin/dumb-init"))
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

/// Debian's `name` (a host program): `$variable` if set, else `default`; none under qemu-user
/// or in the test VM.
fn find_reference(name: &str, variable: &str, default: &str) -> Result<PathBuf, String> {
    if let Some(emulator) = crate::common::emulator() {
        return Err(format!(
            "no {name} for {} here (Debian's {name} is the host's): the {name} comparison runs \
             natively, vinit's own behaviour is checked under {emulator} by the vinit tests",
            std::env::consts::ARCH
        ));
    }
    if std::env::var_os("VSPAWN_VM").is_some() {
        return Err(format!(
            "no {name} in the test VM (it holds busybox and the test binaries): the {name} \
             comparison runs natively, vinit's own behaviour is checked here by the vinit tests"
        ));
    }
    let path = std::env::var_os(variable)
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "no {name} at {} (scripts/setup installs Debian's {name}; {variable} names another)",
            path.display()
        ))
    }
}

/// How vinit runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A plain child of the test: only PROGRAM is vinit's child.
    Plain,
    /// A child subreaper (`-s`): orphans below it are reparented to it.
    Subreaper,
    /// PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`).
    Pid1,
}

impl Mode {
    /// `Ok` if the mode works here, else why not (a reason to skip). Probed once per mode.
    pub fn check(self) -> Result<(), String> {
        static SUBREAPER: OnceLock<Result<(), String>> = OnceLock::new();
        static PID1: OnceLock<Result<(), String>> = OnceLock::new();
        match self {
            Mode::Plain => vinit_path().map(drop),
            Mode::Subreaper => SUBREAPER.get_or_init(probe_subreaper).clone(),
            Mode::Pid1 => PID1.get_or_init(probe_pid1).clone(),
        }
    }
}

fn probe_subreaper() -> Result<(), String> {
    let output = output(command(Mode::Plain, &["-s"], &["true"])?.stdin(Stdio::null()));
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let place = crate::common::emulator().unwrap_or_else(|| "this kernel".into());
    Err(format!(
        "vinit cannot be a child subreaper under {place} ({}): checked natively and in the VM",
        stderr.trim()
    ))
}

fn probe_pid1() -> Result<(), String> {
    vinit_path()?;
    let output = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdin(Stdio::null())
        .output();
    // (Not through `output`: unshare may be missing, which is an answer, not a failure.)
    match output {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(format!(
            "unshare --pid --fork --mount-proc is refused here ({}; needs root): checked as \
             root natively",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => Err(format!("unshare is not available here ({e})")),
    }
}

/// The command that runs vinit in `mode` with `args`, then `--` and `program`; its environment
/// is only [`PATH`].
pub fn command(mode: Mode, args: &[&str], program: &[&str]) -> Result<Command, String> {
    command_of(Init::Vinit, mode, args, program)
}

/// [`command`] for `init`.
pub fn command_of(
    init: Init,
    mode: Mode,
    args: &[&str],
    program: &[&str],
) -> Result<Command, String> {
    let mut line: Vec<&str> = Vec::new();
    if mode == Mode::Subreaper {
        assert_ne!(init, Init::DumbInit, "dumb-init has no subreaper mode");
        line.push("-s");
    }
    line.extend(args);
    line.push("--");
    line.extend(program);
    let mut command = raw_command_of(init, &line)?;
    if mode == Mode::Pid1 {
        let inner = std::mem::replace(&mut command, Command::new("unshare"));
        command
            .args(["--pid", "--fork", "--mount-proc"])
            .arg(inner.get_program())
            .args(inner.get_args());
    }
    command.env_clear().env("PATH", PATH);
    Ok(command)
}

/// The command that runs vinit with exactly `args` (directly, or through qemu-user).
pub fn raw_command(args: &[&str]) -> Result<Command, String> {
    raw_command_of(Init::Vinit, args)
}

/// [`raw_command`] for `init` (tini and dumb-init always run directly).
pub fn raw_command_of(init: Init, args: &[&str]) -> Result<Command, String> {
    if init != Init::Vinit {
        let mut command = Command::new(init.path()?);
        command.args(args).env_clear().env("PATH", PATH);
        return Ok(command);
    }
    let vinit = vinit_path()?;
    let mut command = crate::common::target_command(vinit);
    command.args(args).env_clear().env("PATH", PATH);
    Ok(command)
}

/// Spawns `command`. Under qemu-user one fork at a time: a guest that forks while another of its
/// threads forks too can leave the new child stuck on a lock of qemu's (seen with 7.2, riscv64).
pub fn spawn(command: &mut Command) -> Child {
    static FORKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = emulated().then(|| FORKING.lock().unwrap_or_else(|e| e.into_inner()));
    command.spawn().expect("spawn vinit")
}

/// Runs `command` to its end (one fork at a time under qemu-user, as [`spawn`]).
pub fn output(command: &mut Command) -> std::process::Output {
    let child = spawn(command.stdout(Stdio::piped()).stderr(Stdio::piped()));
    child.wait_with_output().expect("wait for the command")
}

/// A vinit run in progress, its stdin, stdout and stderr on pipes.
pub struct Running {
    pub mode: Mode,
    child: Option<Child>,
    /// The pid of what the test started: vinit, or unshare.
    launcher: i32,
    /// vinit's pid, once looked up.
    vinit: OnceLock<i32>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    pub started: Instant,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// vinit's exit code (`None` if a signal killed it).
    pub code: Option<i32>,
    /// The signal that killed vinit.
    pub signal: Option<i32>,
    /// The stdout lines not taken with [`Running::line`].
    pub stdout: Vec<String>,
    pub stderr: String,
    /// From the start to the exit.
    pub elapsed: Duration,
}

impl Finished {
    /// The lines vinit wrote on stderr.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// Starts vinit in `mode` with `args` and `program`; `setup` may change the command further
/// (directory, inherited fds, dispositions in `pre_exec`).
pub fn start(
    mode: Mode,
    args: &[&str],
    program: &[&str],
    setup: impl FnOnce(&mut Command),
) -> Result<Running, String> {
    start_of(Init::Vinit, mode, args, program, setup)
}

/// [`start`] for `init`.
pub fn start_of(
    init: Init,
    mode: Mode,
    args: &[&str],
    program: &[&str],
    setup: impl FnOnce(&mut Command),
) -> Result<Running, String> {
    init.check(mode)?;
    let mut command = command_of(init, mode, args, program)?;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    setup(&mut command);
    let started = Instant::now();
    let mut child = spawn(&mut command);
    let stdin = child.stdin.take();
    let mut out = BufReader::new(child.stdout.take().expect("stdout pipe"));
    let mut err = child.stderr.take().expect("stderr pipe");
    let (send, lines) = channel();
    let stdout = std::thread::spawn(move || {
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if send.send(line.trim_end_matches('\n').to_string()).is_err() {
                return;
            }
            line.clear();
        }
    });
    let stderr = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = err.read_to_end(&mut all);
        all
    });
    Ok(Running {
        mode,
        launcher: child.id() as i32,
        child: Some(child),
        vinit: OnceLock::new(),
        stdin,
        lines,
        stdout: Some(stdout),
        stderr: Some(stderr),
        started,
    })
}

impl Running {
    /// vinit's pid as seen from here (under `unshare`, the pid of unshare's child).
    pub fn pid(&self) -> i32 {
        *self.vinit.get_or_init(|| match self.mode {
            Mode::Pid1 => {
                let found = wait_for(Duration::from_secs(10), || {
                    children_of(self.launcher).first().map(|p| p.pid)
                });
                found.unwrap_or_else(|| panic!("unshare ({}) started no child", self.launcher))
            }
            _ => self.launcher,
        })
    }

    /// The next line PROGRAM (or anything below vinit) wrote on stdout, waiting up to
    /// `timeout`; panics (after ending the run) if none comes.
    pub fn line(&mut self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(e) => {
                let finished = self.kill();
                panic!("no line from PROGRAM within {timeout:?} ({e}); vinit: {finished:?}")
            }
        }
    }

    /// The next line on stdout as [`Running::line`], or `None` as soon as `stop` (asked every
    /// 2 ms) returns true.
    pub fn line_unless(
        &mut self,
        timeout: Duration,
        mut stop: impl FnMut() -> bool,
    ) -> Option<String> {
        self.line_until(timeout, "no line", |_| stop())
    }

    /// The next line on stdout, or `None` as soon as `stop` (given vinit's process, asked every
    /// 2 ms) returns true; panics (after ending the run) saying `none` once `timeout` passes.
    fn line_until(
        &mut self,
        timeout: Duration,
        none: &str,
        mut stop: impl FnMut(&mut Child) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(2)) {
                return Some(line);
            }
            if stop(self.child.as_mut().expect("child")) {
                return None;
            }
            if Instant::now() >= deadline {
                let finished = self.kill();
                panic!("{none} within {timeout:?}; vinit: {finished:?}")
            }
        }
    }

    /// The next line on stdout as [`Running::line`], or `None` as soon as vinit (or the
    /// launcher) has exited without one.
    pub fn line_or_exit(&mut self, timeout: Duration) -> Option<String> {
        self.line_or_exit_killing(timeout, &[])
    }

    /// [`Running::line_or_exit`], killing `orphans` (processes that hold stdout and outlive
    /// vinit) once vinit has exited, so that the last lines end with the pipe's EOF.
    pub fn line_or_exit_killing(&mut self, timeout: Duration, orphans: &[i32]) -> Option<String> {
        let exited = |child: &mut Child| child.try_wait().expect("try_wait vinit").is_some();
        if let Some(line) = self.line_until(timeout, "no line and no exit", exited) {
            return Some(line);
        }
        for &pid in orphans {
            // SAFETY: kill has no memory arguments.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // A line written just before the exit may still be on its way: the channel ends at the
        // pipe's EOF.
        self.lines.recv_timeout(Duration::from_secs(5)).ok()
    }

    /// Whether vinit exits within `timeout` (it is left running if not).
    pub fn exits_within(&mut self, timeout: Duration) -> bool {
        let child = self.child.as_mut().expect("child");
        wait_for(timeout, || child.try_wait().expect("try_wait vinit")).is_some()
    }

    /// Sends `sig` to vinit; false if there is no such process any more.
    pub fn try_signal(&self, sig: i32) -> bool {
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(self.pid(), sig) == 0 }
    }

    /// Sends `sig` to vinit.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory arguments.
        let ret = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(ret, 0, "kill({}, {sig})", self.pid());
    }

    /// Writes to vinit's stdin (which PROGRAM inherits).
    pub fn write_stdin(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to PROGRAM's stdin");
    }

    /// Closes vinit's stdin: a PROGRAM blocked in `read` goes on.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits up to `timeout` for vinit to exit; past it, kills vinit and everything below it
    /// and fails the test.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        self.close_stdin();
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut().expect("child");
            if let Some(status) = child.try_wait().expect("try_wait vinit") {
                return self.collect(status);
            }
            if Instant::now() >= deadline {
                let finished = self.kill();
                panic!("vinit did not exit within {timeout:?}; it wrote: {finished:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn collect(&mut self, status: std::process::ExitStatus) -> Finished {
        let elapsed = self.started.elapsed();
        // Descendants that outlive vinit may hold the pipes: their output is not waited for.
        let stderr = self
            .stderr
            .take()
            .map(|h| join_within(h, Duration::from_secs(5)));
        let stdout_done = self
            .stdout
            .take()
            .map(|h| join_within(h, Duration::from_secs(5)));
        let _ = stdout_done;
        let stdout = self.lines.try_iter().collect();
        Finished {
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr.unwrap_or_default()).into_owned(),
            elapsed,
        }
    }

    /// Kills vinit's descendants, then vinit (and unshare), and collects what it wrote.
    fn kill(&mut self) -> Finished {
        for pid in descendants_of(self.launcher) {
            // SAFETY: kill has no memory arguments.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // SAFETY: as above.
        unsafe { libc::kill(self.launcher, libc::SIGKILL) };
        let mut child = self.child.take().expect("child");
        let _ = child.kill();
        let status = child.wait().expect("wait for vinit");
        self.collect(status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.kill();
        }
    }
}

/// Joins a reader thread, giving up after `timeout` (the pipe may be held by a process that
/// outlives vinit).
fn join_within<T: Default + Send + 'static>(handle: JoinHandle<T>, timeout: Duration) -> T {
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return T::default();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    handle.join().unwrap_or_default()
}

/// Calls `probe` every 2 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A process as `/proc/<pid>/stat` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub parent: i32,
    /// The state letter (`S`, `R`, `Z`, ...).
    pub state: char,
}

/// Every process in `/proc`.
pub fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| proc_of(entry.ok()?.file_name().to_str()?.parse().ok()?))
        .collect()
}

/// The process `pid` as its `/proc/<pid>/stat` shows it, `None` if there is none.
pub fn proc_of(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some(Proc { pid, parent, state })
}

/// The children of `pid`, zombies included.
pub fn children_of(pid: i32) -> Vec<Proc> {
    processes()
        .into_iter()
        .filter(|p| p.parent == pid)
        .collect()
}

/// Every descendant of `pid`.
pub fn descendants_of(pid: i32) -> Vec<i32> {
    let all = processes();
    let mut found = BTreeSet::from([pid]);
    loop {
        let before = found.len();
        for p in &all {
            if found.contains(&p.parent) {
                found.insert(p.pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&pid);
    found.into_iter().collect()
}

/// The pids of the processes whose command line is exactly `argv`.
pub fn processes_running(argv: &[&str]) -> Vec<i32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    processes()
        .into_iter()
        .filter(|p| std::fs::read(format!("/proc/{}/cmdline", p.pid)).is_ok_and(|c| c == wanted))
        .map(|p| p.pid)
        .collect()
}

/// Sets `sigs` to be ignored and `blocked` to be blocked in the child of `command` before it
/// execs (vinit then starts with them).
pub fn with_signals(command: &mut Command, ignored: &'static [i32], blocked: &'static [i32]) {
    // SAFETY: the closure only makes async-signal-safe calls (sigaction, sigprocmask) on memory
    // it owns, as pre_exec requires.
    unsafe {
        command.pre_exec(move || {
            for &sig in ignored {
                if libc::signal(sig, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &sig in blocked {
                libc::sigaddset(&mut set, sig);
            }
            if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Runs vinit in `mode` to completion with no input, within `timeout`.
pub fn run(
    mode: Mode,
    args: &[&str],
    program: &[&str],
    timeout: Duration,
) -> Result<Finished, String> {
    run_of(Init::Vinit, mode, args, program, timeout)
}

/// [`run`] for `init`.
pub fn run_of(
    init: Init,
    mode: Mode,
    args: &[&str],
    program: &[&str],
    timeout: Duration,
) -> Result<Finished, String> {
    Ok(start_of(init, mode, args, program, |_| {})?.finish(timeout))
}

/// Whether we run under an emulator (qemu-user), where each vinit run costs tens of ms.
pub fn emulated() -> bool {
    crate::common::emulator().is_some()
}

/// What became of an interactive shell on a terminal (a pty) after it started a command as a
/// background job (`COMMAND &`), as a user at a prompt would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackgroundJob {
    /// The terminal's foreground group was still the shell's once the job ran.
    pub shell_kept_foreground: bool,
    /// The shell still ran the next command line typed.
    pub shell_answered: bool,
}

/// Starts an interactive shell (`bash`, else `sh`) in a new session on a pty, types
/// `command &` (`command` as [`raw_command_of`] makes it, without its environment), waits until a
/// process runs `running` (the job's program), and sees what became of the shell; then kills the
/// job's processes and the shell.
pub fn background_job_of_interactive_shell(
    command: &Command,
    running: &[&str],
) -> Result<BackgroundJob, String> {
    let mut line: Vec<String> = vec![command.get_program().to_string_lossy().into_owned()];
    line.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    if line
        .iter()
        .any(|w| w.is_empty() || w.contains([' ', '\'', '"', '\\', '$']))
    {
        return Err(format!("a word of {line:?} would need quoting"));
    }
    let (leader, follower) = open_pty();
    let bash = Path::new("/bin/bash").exists();
    let mut shell = Command::new(if bash { "bash" } else { "sh" });
    if bash {
        shell.args(["--norc", "--noprofile", "--noediting"]);
    }
    shell
        .arg("-i")
        .env_clear()
        .env("PATH", PATH)
        .env("PS1", "$ ")
        .env("TERM", "dumb");
    in_session_on(&mut shell, &follower, &[0, 1, 2]);
    let mut child = spawn(&mut shell);
    drop(follower);
    let shell_pid = child.id() as i32;
    let mut output = leader.try_clone().expect("dup the pty");
    let (send, screen) = channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        // Ends with EIO once the shell and its jobs have closed the terminal.
        while let Ok(n @ 1..) = output.read(&mut chunk) {
            if send.send(chunk[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for_text = |text: &str, timeout: Duration| -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if String::from_utf8_lossy(&seen).contains(text) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match screen.recv_timeout(left) {
                Ok(bytes) => seen.extend(bytes),
                Err(_) => return false,
            }
        }
    };
    // A shell that is gone leaves nobody to read: the answer then does not come.
    let type_line = |text: &str| {
        let _ = (&leader).write_all(format!("{text}\n").as_bytes());
    };
    // The answer holds a sum, so that the echo of the typed line does not count.
    type_line("echo started-$((40+2))");
    assert!(
        wait_for_text("started-42", Duration::from_secs(20)),
        "the shell did not start"
    );
    type_line(&format!("{} &", line.join(" ")));
    // Until the job runs, or the shell is gone (a shell that lost its terminal exits at once,
    // and hangs up its jobs as it goes).
    let job = wait_for(Duration::from_secs(20), || {
        let found = processes_running(running);
        if !found.is_empty() {
            return Some(Some(found));
        }
        let shell_gone = child.try_wait().expect("try_wait the shell").is_some();
        shell_gone.then_some(None)
    });
    let job = job.unwrap_or_else(|| panic!("{running:?} did not start and the shell runs on"));
    let foreground = {
        use std::os::fd::AsRawFd;
        // SAFETY: tcgetpgrp on an fd this process owns.
        unsafe { libc::tcgetpgrp(leader.as_raw_fd()) }
    };
    let job = job.unwrap_or_default();
    // Two lines: the shell may have been reading the first one already when the job took the
    // terminal; the read for the second begins after it in any case.
    type_line("echo alive-$((40+2))");
    let mut shell_answered = wait_for_text("alive-42", Duration::from_secs(10));
    if shell_answered {
        type_line("echo again-$((40+2))");
        shell_answered = wait_for_text("again-42", Duration::from_secs(10));
    }
    for pid in job.iter().copied().chain(descendants_of(shell_pid)) {
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(BackgroundJob {
        shell_kept_foreground: foreground == shell_pid && !job.is_empty(),
        shell_answered,
    })
}

/// Waits until the process `pid` (an init) sleeps in `rt_sigtimedwait`, its main loop: what it
/// does between starting PROGRAM and that wait (closing its files, leaving its directory) is
/// then done. Read from `/proc/<pid>/wchan`; where the kernel does not name the function there,
/// a pause has to do.
pub fn wait_until_in_signal_wait(pid: i32) {
    match in_signal_wait(pid) {
        None => std::thread::sleep(Duration::from_millis(200)),
        Some(_) => {
            let waiting = wait_for(Duration::from_secs(20), || {
                in_signal_wait(pid)?.then_some(())
            });
            assert!(waiting.is_some(), "process {pid} never waited for a signal");
        }
    }
}

/// Whether `pid` is in `rt_sigtimedwait`, read from `/proc/<pid>/wchan`; `None` where the kernel
/// does not name the function there.
fn in_signal_wait(pid: i32) -> Option<bool> {
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    match wchan.as_str() {
        "" | "0" => None,
        name => Some(name.contains("sigtimedwait")),
    }
}

/// The state letter of `pid` (`S`, `T`, ...), `None` if there is no such process.
pub fn state_of(pid: i32) -> Option<char> {
    proc_of(pid).map(|p| p.state)
}

/// Whether the process `pid` sleeps in `rt_sigtimedwait` (an init waiting for its next signal,
/// everything before done); where the kernel does not name the function, whether it sleeps.
pub fn sleeps_in_signal_wait(pid: i32) -> bool {
    state_of(pid) == Some('S') && in_signal_wait(pid).unwrap_or(true)
}

/// A pty: the leader (the side a terminal emulator holds) and the follower (the terminal).
pub fn open_pty() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty writes the two fds; the other arguments may be null.
    let opened = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fds that nothing else owns.
    unsafe {
        (
            std::fs::File::from_raw_fd(leader),
            std::os::fd::OwnedFd::from_raw_fd(follower),
        )
    }
}

/// Makes the child of `command` the leader of a new session whose controlling terminal is
/// `tty`, which it gets as the fds `on` too.
pub fn in_session_on(command: &mut Command, tty: &std::os::fd::OwnedFd, on: &'static [i32]) {
    use std::os::fd::AsRawFd;
    let tty = tty.as_raw_fd();
    // SAFETY: setsid, ioctl and dup2 are async-signal-safe and use an fd this process owns
    // (the caller keeps `tty` open until the spawn has returned).
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(tty, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for &fd in on {
                if libc::dup2(tty, fd) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Whether PROGRAM's group gets the terminal's foreground when `init` runs in a new session
/// whose controlling terminal (a pty) is its stdin, its own group in the foreground: PROGRAM
/// reports its group and the terminal's foreground group (fields 5 and 8 of its stat).
pub fn program_gets_the_foreground(init: Init) -> Result<bool, String> {
    let (_leader, follower) = open_pty();
    let script = "cut -d' ' -f5,8 /proc/$$/stat";
    let run = start_of(init, Mode::Plain, &[], &["sh", "-c", script], |command| {
        in_session_on(command, &follower, &[0])
    })?;
    let finished = run.finish(Duration::from_secs(20));
    assert_eq!(finished.code, Some(0), "{finished:?}");
    let (pgrp, tpgid) = finished.stdout[0].split_once(' ').expect("two fields");
    Ok(pgrp == tpgid)
}

/// Gives the child of `command` the fd `fd` (open in this process) as its fd 5, not
/// close-on-exec.
pub fn with_fd_5(command: &mut Command, fd: i32) {
    // SAFETY: dup2 and fcntl are async-signal-safe and work on fds this process owns (the
    // caller keeps `fd` open until the spawn has returned).
    unsafe {
        command.pre_exec(move || {
            // dup2 onto itself would leave close-on-exec set (the pipe may be fd 5 already:
            // under qemu-user the fds of qemu itself come first).
            let done = if fd == 5 {
                libc::fcntl(5, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 5)
            };
            if done < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `SigIgn`, `SigBlk` and `SigCgt` of `/proc/self/status` in `lines`.
pub fn signal_fields(lines: &[String]) -> [String; 3] {
    ["SigIgn", "SigBlk", "SigCgt"].map(|key| {
        let prefix = format!("{key}:\t");
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
    })
}

/// The signal state PROGRAM (`cat /proc/self/status`) sees under `init`, and the one the same
/// command sees when the test starts it itself, both with `ignored` ignored and `blocked`
/// blocked in the starting process.
pub fn signal_state_seen_by_child(
    init: Init,
    mode: Mode,
    ignored: &'static [i32],
    blocked: &'static [i32],
) -> Result<([String; 3], [String; 3]), String> {
    let program = ["cat", "/proc/self/status"];
    let run = start_of(init, mode, &[], &program, |command| {
        with_signals(command, ignored, blocked)
    })?;
    let finished = run.finish(Duration::from_secs(20));
    assert_eq!(finished.code, Some(0), "{finished:?}");
    let mut direct = Command::new(program[0]);
    direct.args(&program[1..]);
    with_signals(&mut direct, ignored, blocked);
    let output = output(&mut direct);
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    Ok((signal_fields(&finished.stdout), signal_fields(&lines)))
}
