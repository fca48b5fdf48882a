//! `Command`: std's process builder on the zero-allocation core (feature `alloc`).
//!
//! Names and meaning follow `std::process` where they apply: `arg`, `args`, `env`,
//! `env_remove`, `env_clear`, `current_dir`, `stdin`/`stdout`/`stderr` with
//! [`Stdio::null`]/[`Stdio::inherit`]/[`Stdio::piped`], `spawn`, `status`, `output`. Beyond std,
//! there is a builder method for every [`Attributes`] field. Strings are checked for interior
//! NULs when given; the first such error is returned by `spawn` before anything is created.

use alloc::collections::BTreeMap;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};

use super::{Attributes, CStrArray, Child, ChildStderr, ChildStdin, ChildStdout, FileAction};
use super::{IdMaps, Namespaces, Program, Spawn};
use crate::errno::{Errno, Result};
use crate::fd::{self, Mode, OFlags, OwnedFd, RawFd, oflags};
use crate::process::{Pid, Resource, Rlimit};
use crate::signal::{SigSet, Signal};
use crate::wait::ExitStatus;

/// Something that can be a program name, argument, environment key or value, or path: its
/// bytes, which must not contain NUL.
pub trait Arg {
    /// The bytes of the argument.
    fn arg_bytes(&self) -> &[u8];
}

impl<T: Arg + ?Sized> Arg for &T {
    fn arg_bytes(&self) -> &[u8] {
        (**self).arg_bytes()
    }
}

macro_rules! arg_impls {
    ($($ty:ty => |$s:ident| $bytes:expr;)*) => {
        $(impl Arg for $ty {
            fn arg_bytes(&self) -> &[u8] {
                let $s = self;
                $bytes
            }
        })*
    };
}

arg_impls! {
    str => |s| s.as_bytes();
    [u8] => |s| s;
    CStr => |s| s.to_bytes();
    alloc::string::String => |s| s.as_bytes();
    Vec<u8> => |s| s;
    CString => |s| s.as_bytes();
}

#[cfg(feature = "std")]
arg_impls! {
    std::ffi::OsStr => |s| std::os::unix::ffi::OsStrExt::as_bytes(s);
    std::ffi::OsString => |s| std::os::unix::ffi::OsStrExt::as_bytes(s.as_os_str());
    std::path::Path => |s| std::os::unix::ffi::OsStrExt::as_bytes(s.as_os_str());
    std::path::PathBuf => |s| std::os::unix::ffi::OsStrExt::as_bytes(s.as_os_str());
}

/// What a child's standard stream is connected to.
#[derive(Debug)]
pub struct Stdio(StdioKind);

#[derive(Debug)]
enum StdioKind {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
}

impl Stdio {
    /// The parent's stream.
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// `/dev/null`.
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    /// A new pipe; our end is in [`Child::stdin`]/[`Child::stdout`]/[`Child::stderr`].
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Stdio {
        Stdio(StdioKind::Fd(fd))
    }
}

impl From<ChildStdout> for Stdio {
    fn from(end: ChildStdout) -> Stdio {
        Stdio(StdioKind::Fd(end.0))
    }
}

impl From<ChildStderr> for Stdio {
    fn from(end: ChildStderr) -> Stdio {
        Stdio(StdioKind::Fd(end.0))
    }
}

impl From<ChildStdin> for Stdio {
    fn from(end: ChildStdin) -> Stdio {
        Stdio(StdioKind::Fd(end.0))
    }
}

#[cfg(feature = "std")]
impl From<std::os::fd::OwnedFd> for Stdio {
    fn from(fd: std::os::fd::OwnedFd) -> Stdio {
        Stdio(StdioKind::Fd(fd.into()))
    }
}

#[cfg(feature = "std")]
impl From<std::fs::File> for Stdio {
    fn from(file: std::fs::File) -> Stdio {
        Stdio::from(std::os::fd::OwnedFd::from(file))
    }
}

/// The result of [`Command::output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// A process builder, as `std::process::Command`.
#[derive(Debug)]
pub struct Command {
    program: CString,
    /// `argv`; `args[0]` is the program unless `arg0` replaced it.
    args: Vec<CString>,
    /// `Some(base)`: the environment starts from `base`; `None`: from the process's.
    env_base: Option<Vec<CString>>,
    env_changes: BTreeMap<Vec<u8>, Option<CString>>,
    cwd: Option<CString>,
    stdio: [Option<Stdio>; 3],
    extra_fds: Vec<(RawFd, OwnedFd)>,
    close_from: Option<RawFd>,
    groups: Option<Vec<u32>>,
    rlimits: Vec<(Resource, Rlimit)>,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    deny_setgroups: bool,
    attrs: Attributes<'static>,
    /// The first bad input seen (a NUL inside a string), returned by `spawn`.
    error: Option<Errno>,
}

/// Converts to a C string, recording `EINVAL` for an interior NUL.
fn c_string(bytes: &[u8], error: &mut Option<Errno>) -> CString {
    CString::new(bytes).unwrap_or_else(|_| {
        error.get_or_insert(Errno::EINVAL);
        CString::default()
    })
}

impl Command {
    /// A command for `program`: a name without `/` is looked up in `PATH` (the child's), as
    /// std does. Defaults, the same with or without the `std` feature: no arguments besides
    /// `argv[0]`, the process's environment (read when the child is spawned: through std with
    /// `std`, else from the C `environ`, libc's or the one [`entry!`](crate::entry!) defines in
    /// a libc-free program), the current directory, stdio inherited by `spawn`/`status` and
    /// captured by `output`, `SIGPIPE` back at its default action in the child.
    pub fn new(program: impl Arg) -> Command {
        let mut error = None;
        let program = c_string(program.arg_bytes(), &mut error);
        Command {
            args: alloc::vec![program.clone()],
            program,
            env_base: None,
            env_changes: BTreeMap::new(),
            cwd: None,
            stdio: [None, None, None],
            extra_fds: Vec::new(),
            close_from: None,
            groups: None,
            rlimits: Vec::new(),
            uid_map: Vec::new(),
            gid_map: Vec::new(),
            deny_setgroups: false,
            attrs: Attributes {
                sigdefault: default_sigdefault(),
                ..Attributes::default()
            },
            error,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl Arg) -> &mut Command {
        let arg = c_string(arg.arg_bytes(), &mut self.error);
        self.args.push(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator,
        I::Item: Arg,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Sets `argv[0]` (by default the program as given).
    pub fn arg0(&mut self, arg0: impl Arg) -> &mut Command {
        self.args[0] = c_string(arg0.arg_bytes(), &mut self.error);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(&mut self, key: impl Arg, value: impl Arg) -> &mut Command {
        let key = key.arg_bytes();
        if key.is_empty() || key.contains(&b'=') || key.contains(&0) {
            self.error.get_or_insert(Errno::EINVAL);
        }
        let value = c_string(value.arg_bytes(), &mut self.error);
        self.env_changes.insert(key.to_vec(), Some(value));
        self
    }

    /// Sets several environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: Arg,
        V: Arg,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Removes a variable from the child's environment.
    pub fn env_remove(&mut self, key: impl Arg) -> &mut Command {
        self.env_changes.insert(key.arg_bytes().to_vec(), None);
        self
    }

    /// Starts the child's environment empty (variables set afterwards still apply).
    pub fn env_clear(&mut self) -> &mut Command {
        self.env_base = Some(Vec::new());
        self.env_changes.clear();
        self
    }

    /// Starts the child's environment from `base` (`KEY=value` strings), such as the `envp`
    /// a libc-free program got; the way to inherit an environment without std.
    pub fn env_base(&mut self, base: CStrArray<'_>) -> &mut Command {
        self.env_base = Some(base.iter().map(CString::from).collect());
        self
    }

    /// The child's working directory (applied after its stdio is set up and before the exec,
    /// so a relative program path resolves against it).
    pub fn current_dir(&mut self, dir: impl Arg) -> &mut Command {
        self.cwd = Some(c_string(dir.arg_bytes(), &mut self.error));
        self
    }

    /// The child's stdin.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio[0] = Some(cfg.into());
        self
    }

    /// The child's stdout.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio[1] = Some(cfg.into());
        self
    }

    /// The child's stderr.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdio[2] = Some(cfg.into());
        self
    }

    /// Gives the child `fd` under the number `child_fd` (besides stdio), not close-on-exec.
    pub fn fd(&mut self, child_fd: RawFd, fd: impl Into<OwnedFd>) -> &mut Command {
        if child_fd < 0 {
            self.error.get_or_insert(Errno::EBADF);
        }
        self.extra_fds.push((child_fd, fd.into()));
        self
    }

    /// Closes every fd `>= first` in the child (after stdio and [`Command::fd`]s are in place).
    pub fn close_fds_from(&mut self, first: RawFd) -> &mut Command {
        self.close_from = Some(first);
        self
    }

    /// Starts a new session (`setsid`).
    pub fn setsid(&mut self, on: bool) -> &mut Command {
        self.attrs.setsid = on;
        self
    }

    /// Puts the child in process group `pgid` (0: a new group led by the child).
    pub fn process_group(&mut self, pgid: Pid) -> &mut Command {
        self.attrs.process_group = Some(pgid);
        self
    }

    /// Makes the child's process group the foreground group of the terminal `tty`.
    pub fn foreground(&mut self, tty: RawFd) -> &mut Command {
        self.attrs.foreground = Some(tty);
        self
    }

    /// The child's signal mask (default: ours at the time of the spawn).
    pub fn signal_mask(&mut self, mask: SigSet) -> &mut Command {
        self.attrs.sigmask = Some(mask);
        self
    }

    /// Signals to reset to their default action in the child, ignored ones included (default:
    /// `SIGPIPE` with the `std` feature, as std does; nothing without).
    pub fn signals_default(&mut self, set: SigSet) -> &mut Command {
        self.attrs.sigdefault = set;
        self
    }

    /// Resets the effective ids to the real ones.
    pub fn reset_ids(&mut self, on: bool) -> &mut Command {
        self.attrs.reset_ids = on;
        self
    }

    /// The child's user id.
    pub fn uid(&mut self, uid: u32) -> &mut Command {
        self.attrs.uid = Some(uid);
        self
    }

    /// The child's group id.
    pub fn gid(&mut self, gid: u32) -> &mut Command {
        self.attrs.gid = Some(gid);
        self
    }

    /// The child's supplementary groups.
    pub fn groups(&mut self, groups: &[u32]) -> &mut Command {
        self.groups = Some(groups.to_vec());
        self
    }

    /// A resource limit of the child.
    pub fn rlimit(&mut self, resource: Resource, limit: Rlimit) -> &mut Command {
        self.rlimits.push((resource, limit));
        self
    }

    /// The child's umask.
    pub fn umask(&mut self, mask: Mode) -> &mut Command {
        self.attrs.umask = Some(mask);
        self
    }

    /// Sets `no_new_privs` in the child.
    pub fn no_new_privs(&mut self, on: bool) -> &mut Command {
        self.attrs.no_new_privs = on;
        self
    }

    /// The signal the child gets when the spawning thread ends.
    pub fn parent_death_signal(&mut self, sig: Signal) -> &mut Command {
        self.attrs.parent_death_signal = Some(sig);
        self
    }

    /// New namespaces for the child.
    pub fn namespaces(&mut self, namespaces: Namespaces) -> &mut Command {
        self.attrs.namespaces = namespaces;
        self
    }

    /// Id maps for a new user namespace, written before the child goes on.
    pub fn id_maps(
        &mut self,
        uid_map: &[u8],
        gid_map: &[u8],
        deny_setgroups: bool,
    ) -> &mut Command {
        self.uid_map = uid_map.to_vec();
        self.gid_map = gid_map.to_vec();
        self.deny_setgroups = deny_setgroups;
        self.attrs.id_maps = Some(IdMaps::default());
        self
    }

    /// Starts the child in the cgroup whose directory `fd` refers to.
    pub fn cgroup(&mut self, fd: RawFd) -> &mut Command {
        self.attrs.cgroup = Some(fd);
        self
    }

    /// Asks for a pidfd ([`Child::pidfd`]).
    pub fn pidfd(&mut self, on: bool) -> &mut Command {
        self.attrs.pidfd = on;
        self
    }

    /// Spawns the child; stdio not configured is inherited.
    pub fn spawn(&mut self) -> Result<Child> {
        self.spawn_with_defaults([StdioKind::Inherit, StdioKind::Inherit, StdioKind::Inherit])
    }

    /// Spawns the child and waits for it; stdio not configured is inherited.
    pub fn status(&mut self) -> Result<ExitStatus> {
        let mut child = self.spawn()?;
        child.wait()
    }

    /// Spawns the child with stdout and stderr captured (unless configured) and stdin null
    /// (unless configured), collects both outputs and waits.
    pub fn output(&mut self) -> Result<Output> {
        let mut child =
            self.spawn_with_defaults([StdioKind::Null, StdioKind::Piped, StdioKind::Piped])?;
        let (stdout, stderr) = read_both(child.stdout.take(), child.stderr.take())?;
        let status = child.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    fn env_block(&self) -> Vec<CString> {
        let mut vars: BTreeMap<Vec<u8>, CString> = BTreeMap::new();
        let mut entry = |kv: &[u8]| {
            let split = kv.iter().position(|&b| b == b'=').unwrap_or(kv.len());
            if split > 0 && !vars.contains_key(&kv[..split]) {
                // Interior NULs are impossible: these come from C strings or from std.
                if let Ok(c) = CString::new(kv) {
                    vars.insert(kv[..split].to_vec(), c);
                }
            }
        };
        match &self.env_base {
            Some(base) => base.iter().for_each(|kv| entry(kv.as_bytes())),
            None => inherited_env(&mut entry),
        }
        for (key, value) in &self.env_changes {
            match value {
                Some(v) => {
                    let mut kv = key.clone();
                    kv.push(b'=');
                    kv.extend_from_slice(v.as_bytes());
                    vars.insert(key.clone(), CString::new(kv).unwrap_or_default());
                }
                None => {
                    vars.remove(key);
                }
            }
        }
        vars.into_values().collect()
    }

    fn spawn_with_defaults(&mut self, defaults: [StdioKind; 3]) -> Result<Child> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut actions: Vec<FileAction<'_>> = Vec::new();
        // Our ends of the pipes, and the child's ends (closed here once it has them).
        let mut ours: [Option<OwnedFd>; 3] = [None, None, None];
        let mut theirs: Vec<OwnedFd> = Vec::new();
        for (child_fd, (cfg, default)) in self.stdio.iter().zip(defaults).enumerate() {
            let child_fd = child_fd as RawFd;
            let kind = cfg.as_ref().map(|s| &s.0).unwrap_or(&default);
            match kind {
                StdioKind::Inherit => {}
                StdioKind::Null => actions.push(FileAction::Open {
                    fd: child_fd,
                    path: c"/dev/null",
                    flags: oflags::O_RDWR,
                    mode: Mode::empty(),
                }),
                StdioKind::Piped => {
                    let (read, write) = fd::pipe2(OFlags::empty())?;
                    let (mine, child_end) = if child_fd == 0 {
                        (write, read)
                    } else {
                        (read, write)
                    };
                    actions.push(FileAction::Dup2 {
                        src: child_end.as_raw_fd(),
                        dst: child_fd,
                    });
                    ours[child_fd as usize] = Some(mine);
                    theirs.push(child_end);
                }
                StdioKind::Fd(fd) => actions.push(FileAction::Dup2 {
                    src: fd.as_raw_fd(),
                    dst: child_fd,
                }),
            }
        }
        for (child_fd, fd) in &self.extra_fds {
            actions.push(FileAction::Dup2 {
                src: fd.as_raw_fd(),
                dst: *child_fd,
            });
        }
        if let Some(first) = self.close_from {
            actions.push(FileAction::CloseFrom(first));
        }
        if let Some(dir) = &self.cwd {
            actions.push(FileAction::Chdir(dir));
        }

        let mut arg_slots: Vec<*const c_char> = alloc::vec![core::ptr::null(); self.args.len() + 1];
        let arg_refs: Vec<&CStr> = self.args.iter().map(CString::as_c_str).collect();
        let argv = CStrArray::new(&arg_refs, &mut arg_slots)?;
        let env = self.env_block();
        let mut env_slots: Vec<*const c_char> = alloc::vec![core::ptr::null(); env.len() + 1];
        let env_refs: Vec<&CStr> = env.iter().map(CString::as_c_str).collect();
        let envp = CStrArray::new(&env_refs, &mut env_slots)?;

        let mut attrs = self.attrs;
        attrs.groups = self.groups.as_deref();
        attrs.rlimits = &self.rlimits;
        if attrs.id_maps.is_some() {
            attrs.id_maps = Some(IdMaps {
                uid_map: &self.uid_map,
                gid_map: &self.gid_map,
                deny_setgroups: self.deny_setgroups,
            });
        }
        let program = if self.program.as_bytes().contains(&b'/') {
            Program::Path(&self.program)
        } else {
            Program::Search(&self.program)
        };
        let request = Spawn {
            program,
            argv,
            envp,
            actions: &actions,
            attrs,
        };
        let mut child = request.spawn()?;
        drop(theirs);
        let [stdin, stdout, stderr] = ours;
        child.stdin = stdin.map(ChildStdin);
        child.stdout = stdout.map(ChildStdout);
        child.stderr = stderr.map(ChildStderr);
        Ok(child)
    }
}

/// Signals a child gets back at their default action unless [`Command::signals_default`] says
/// otherwise: `SIGPIPE`, as std's `Command` does (the Rust runtime ignores it in a std program,
/// and a child expects to die of a broken pipe like any program), with or without the `std`
/// feature.
fn default_sigdefault() -> SigSet {
    SigSet::EMPTY.with(Signal::SIGPIPE)
}

/// The environment of this process, from std.
#[cfg(feature = "std")]
fn inherited_env(entry: &mut dyn FnMut(&[u8])) {
    use std::os::unix::ffi::OsStrExt;
    for (key, value) in std::env::vars_os() {
        let mut kv = key.as_bytes().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(value.as_bytes());
        entry(&kv);
    }
}

/// The environment of this process, from the C `environ`: libc's, or in a libc-free program the
/// one `entry!` defines (a program with neither does not link once it spawns a `Command` that
/// inherits).
#[cfg(not(feature = "std"))]
fn inherited_env(entry: &mut dyn FnMut(&[u8])) {
    unsafe extern "C" {
        static environ: *const *const c_char;
    }
    // SAFETY: `environ` is a null-terminated array of NUL-terminated strings (or null before a
    // libc-free program's `_start` set it). Only setenv-like calls change it, and their contract
    // (std::env::set_var's included) is not to run while another thread reads the environment.
    let mut var = unsafe { environ };
    while !var.is_null() {
        // SAFETY: `var` points into that array, before its terminating null.
        let ptr = unsafe { *var };
        if ptr.is_null() {
            break;
        }
        // SAFETY: each entry is a NUL-terminated string that lives as long as the process.
        entry(unsafe { CStr::from_ptr(ptr) }.to_bytes());
        // SAFETY: the array goes on at least to its terminating null.
        var = unsafe { var.add(1) };
    }
}

/// Reads two pipes to their ends at once, so that a child filling one while we block on the
/// other cannot deadlock.
fn read_both(out: Option<ChildStdout>, err: Option<ChildStderr>) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut bufs = (Vec::new(), Vec::new());
    let mut fds = [
        PollFd {
            fd: out.as_ref().map_or(-1, ChildStdout::as_raw_fd),
            events: POLLIN,
            revents: 0,
        },
        PollFd {
            fd: err.as_ref().map_or(-1, ChildStderr::as_raw_fd),
            events: POLLIN,
            revents: 0,
        },
    ];
    let mut chunk = [0u8; 4096];
    while fds.iter().any(|p| p.fd >= 0) {
        // SAFETY: `fds` is an array of two pollfd structs; no timeout, no signal mask.
        let ready = Errno::result(unsafe {
            crate::sys::syscall5(
                crate::sys::nr::PPOLL,
                fds.as_mut_ptr() as usize,
                fds.len(),
                0,
                0,
                0,
            )
        });
        match ready {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        for (i, p) in fds.iter_mut().enumerate() {
            if p.fd < 0 || p.revents == 0 {
                continue;
            }
            let buf = if i == 0 { &mut bufs.0 } else { &mut bufs.1 };
            match fd::read(p.fd, &mut chunk) {
                Ok(0) => p.fd = -1,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(bufs)
}

const POLLIN: i16 = 1;

/// The kernel's `struct pollfd`; a negative fd is skipped.
#[repr(C)]
struct PollFd {
    fd: RawFd,
    events: i16,
    revents: i16,
}

static_assertions::const_assert_eq!(core::mem::size_of::<PollFd>(), 8);
