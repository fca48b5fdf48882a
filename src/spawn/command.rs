//! `Command`: std's process builder on the zero-allocation core (feature `alloc`).
//!
//! Names and meaning follow `std::process` where they apply: `arg`, `args`, `env`,
//! `env_remove`, `env_clear`, `current_dir`, `stdin`/`stdout`/`stderr` with
//! [`Stdio::null`]/[`Stdio::inherit`]/[`Stdio::piped`], `spawn`, `status`, `output`, `exec`,
//! `get_*`, [`Child::wait_with_output`]. Beyond std, there is a builder method for every
//! [`Attributes`] field. Strings are checked for interior NULs when given; the first such error
//! is returned by `spawn` before anything is created. Where vspawn and std differ, the
//! [`Command`] documentation says so ("Differences from std").

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::ffi::CString;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};
use core::fmt;

use super::{Attributes, CStrArray, Child, ChildStderr, ChildStdin, ChildStdout, FileAction};
use super::{IdMaps, Namespaces, Program, Spawn};
use crate::errno::{Errno, Result};
use crate::fd::{self, Mode, OFlags, OwnedFd, RawFd, oflags};
use crate::process::{Pid, Resource, Rlimit};
use crate::signal::{SigSet, Signal};
use crate::wait::ExitStatus;

/// Something that can be a program name, argument, environment key or value, or path: its
/// bytes, which must not contain NUL.
///
/// Implemented for the string and byte types of `core` and `alloc` (`str`, `String`,
/// `Cow<str>`, `Box`/`Rc`/`Arc<str>`, `[u8]`, `Vec<u8>`, `CStr`, `CString`, and their
/// boxes), and with `std` for every std type that is `AsRef<OsStr>` (`OsStr`, `OsString`,
/// `Path`, `PathBuf`, `Cow<OsStr>`, `Cow<Path>`, `Box`/`Rc`/`Arc` of `OsStr` and `Path`, path
/// `Component`s, `Components` and `Iter`), and references to any of them. A type of your own
/// that is only `AsRef<OsStr>` passes `x.as_ref()` (see "Differences from std" on
/// [`Command`]).
pub trait Arg {
    /// The bytes of the argument.
    fn arg_bytes(&self) -> &[u8];
}

impl<T: Arg + ?Sized> Arg for &T {
    fn arg_bytes(&self) -> &[u8] {
        (**self).arg_bytes()
    }
}

impl<T: Arg + ?Sized> Arg for &mut T {
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
    String => |s| s.as_bytes();
    Vec<u8> => |s| s;
    CString => |s| s.as_bytes();
    Cow<'_, str> => |s| s.as_bytes();
    Cow<'_, [u8]> => |s| s;
    Cow<'_, CStr> => |s| s.to_bytes();
    Box<str> => |s| s.as_bytes();
    Rc<str> => |s| s.as_bytes();
    Arc<str> => |s| s.as_bytes();
    Box<[u8]> => |s| s;
    Rc<[u8]> => |s| s;
    Arc<[u8]> => |s| s;
    Box<CStr> => |s| s.to_bytes();
    Rc<CStr> => |s| s.to_bytes();
    Arc<CStr> => |s| s.to_bytes();
}

#[cfg(feature = "std")]
use std::os::unix::ffi::OsStrExt;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
arg_impls! {
    std::ffi::OsStr => |s| s.as_bytes();
    std::ffi::OsString => |s| s.as_bytes();
    Cow<'_, std::ffi::OsStr> => |s| s.as_bytes();
    Box<std::ffi::OsStr> => |s| s.as_bytes();
    Rc<std::ffi::OsStr> => |s| s.as_bytes();
    Arc<std::ffi::OsStr> => |s| s.as_bytes();
    std::path::Path => |s| s.as_os_str().as_bytes();
    std::path::PathBuf => |s| s.as_os_str().as_bytes();
    Cow<'_, std::path::Path> => |s| s.as_os_str().as_bytes();
    Box<std::path::Path> => |s| s.as_os_str().as_bytes();
    Rc<std::path::Path> => |s| s.as_os_str().as_bytes();
    Arc<std::path::Path> => |s| s.as_os_str().as_bytes();
    std::path::Component<'_> => |s| s.as_os_str().as_bytes();
    std::path::Components<'_> => |s| s.as_path().as_os_str().as_bytes();
    std::path::Iter<'_> => |s| s.as_path().as_os_str().as_bytes();
}

/// What a child's standard stream is connected to.
///
/// ```
/// use vspawn::spawn::{Command, Stdio};
///
/// // stdin from a pipe we write, stdout captured, stderr thrown away.
/// let mut child = Command::new("tr")
///     .arg("a-z")
///     .arg("A-Z")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .stderr(Stdio::null())
///     .spawn()?;
/// child.stdin.take().unwrap().write(b"shout")?;
/// let mut out = [0u8; 5];
/// let stdout = child.stdout.as_mut().unwrap();
/// let mut got = 0;
/// while got < out.len() {
///     got += stdout.read(&mut out[got..])?;
/// }
/// assert_eq!(&out, b"SHOUT");
/// assert!(child.wait()?.success());
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Debug)]
pub struct Stdio(StdioKind);

#[derive(Debug)]
enum StdioKind {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
    /// One of our own standard streams (`From<io::Stdout>`, `From<io::Stderr>`), borrowed: the
    /// child gets a copy of it.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Ours(RawFd),
}

impl Stdio {
    /// The parent's stream.
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// `/dev/null` (opened for reading as stdin, for writing as stdout or stderr, as std does).
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
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<std::os::fd::OwnedFd> for Stdio {
    fn from(fd: std::os::fd::OwnedFd) -> Stdio {
        Stdio(StdioKind::Fd(fd.into()))
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<std::fs::File> for Stdio {
    fn from(file: std::fs::File) -> Stdio {
        Stdio::from(std::os::fd::OwnedFd::from(file))
    }
}

/// The child's stream is a copy of our stdout (fd 1), as std's.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<std::io::Stdout> for Stdio {
    fn from(_: std::io::Stdout) -> Stdio {
        Stdio(StdioKind::Ours(1))
    }
}

/// The child's stream is a copy of our stderr (fd 2), as std's.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<std::io::Stderr> for Stdio {
    fn from(_: std::io::Stderr) -> Stdio {
        Stdio(StdioKind::Ours(2))
    }
}

/// The result of [`Command::output`] and [`Child::wait_with_output`]: the status and everything
/// the child wrote. `Debug` shows the outputs as strings when they are UTF-8, as std's.
///
/// ```
/// use vspawn::spawn::Command;
///
/// let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 1"]).output()?;
/// assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
/// assert_eq!(out.status.code(), Some(1));
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// As std's: the outputs as strings when they are UTF-8, else as bytes.
impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Bytes<'a>(&'a [u8]);
        impl fmt::Debug for Bytes<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match core::str::from_utf8(self.0) {
                    Ok(text) => fmt::Debug::fmt(text, f),
                    Err(_) => fmt::Debug::fmt(self.0, f),
                }
            }
        }
        f.debug_struct("Output")
            .field("status", &self.status)
            .field("stdout", &Bytes(&self.stdout))
            .field("stderr", &Bytes(&self.stderr))
            .finish()
    }
}

/// A process builder, as `std::process::Command`.
///
/// ```
/// use vspawn::spawn::Command;
///
/// let status = Command::new("sh")
///     .args(["-c", "test \"$GREETING\" = hello && test \"$(pwd)\" = /"])
///     .env("GREETING", "hello")
///     .current_dir("/")
///     .status()?;
/// assert!(status.success());
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// `Debug` shows it as std's does, like a shell line: `cd "/tmp" && env -i A="1" "ls" "-l"`
/// (`{:#?}` shows the fields).
///
/// # Signals
///
/// The child starts with every handled signal at its default action, ignored ones still ignored
/// but `SIGPIPE` (see [`Command::signals_default`]), and the caller's signal mask:
/// all as std's `Command` (which inherits the mask since Rust 1.66). [`Command::signal_mask`]
/// sets another.
///
/// # Credentials
///
/// [`Command::groups`], then [`Command::gid`], then [`Command::uid`] (real, effective and saved
/// ids). As std: when a uid is given without groups, the supplementary groups are dropped
/// (`setgroups(0)`) just before the uid changes, and an `EPERM` there (a caller without
/// `CAP_SETGID`, who cannot have changed its groups either) is ignored; a gid alone keeps them.
/// `u32::MAX` as a uid, gid or group is refused with `EINVAL` (the kernel would read it as
/// "unchanged"). Resource limits and the umask are set before the ids change (a privileged
/// parent may raise a hard limit for an unprivileged child), `no_new_privs` and the
/// parent-death signal after.
///
/// # Differences from std
///
/// Measured side by side with `std::process::Command` by the parity suite
/// (`tests/std_parity.rs`), which reads this list: a difference it observes that is not listed
/// here fails it, and so does an entry no scenario observes. Each entry is `` `name`: `` what
/// differs, then why.
///
/// - `glibc-internal-signals`: a child std starts through glibc's `posix_spawn` (its usual
///   path) has signals 32 and 33 ignored; vspawn's has them as they are in the parent (33
///   handled by glibc, so at its default; 32 often ignored, inherited from a parent that was
///   itself started by std), as std's own fork path does. They are glibc's internal signals
///   (thread cancellation and `setxid`), which its `posix_spawn` sets to ignored in the child:
///   the program exec'd never asked for that.
/// - `script-without-shebang`: an executable file without `#!` fails with `ENOEXEC`, as
///   with `posix_spawnp`. std gives it to `/bin/sh` when it takes its fork path (a name searched
///   in a changed `PATH`, ids, groups or `pre_exec`) and fails like vspawn on its `posix_spawn`
///   path: here a setting unrelated to the program does not decide whether a shell runs it.
/// - `cwd-before-ids`: with [`Command::uid`]/[`Command::gid`], the working directory is
///   entered before the ids change, with the caller's rights (it is one of the file actions,
///   which all run before the ids, as `posix_spawn`'s do): a directory only the caller may enter
///   works. std enters it after the change and fails with `EACCES` there.
/// - `env-key`: an environment key that is empty or contains `=` is refused with `EINVAL` by
///   `spawn`. std passes `A=B=1` for the key `A=B`, which the child reads as `A` set to `B=1`:
///   a variable nobody asked for.
/// - `nul-error`: an interior NUL in a string is `EINVAL` (kind `InvalidInput`, as std's), where
///   std's error has no OS error number: every error here is an [`Errno`].
/// - `alternate-debug`: `{:#?}` lists vspawn's own fields, not std's private ones (`{:?}` is
///   std's shell-like line).
/// - `arg-types` (API): arguments are [`Arg`], not any `AsRef<OsStr>`: every std type that is
///   `AsRef<OsStr>` is accepted (and byte strings, which std takes only as `OsStr`), but a type
///   of your own passes `x.as_ref()`. A blanket `AsRef<OsStr>` implementation would conflict
///   with the byte-string ones, which a `#![no_std]` user needs.
///
/// ```compile_fail,E0277
/// // A type of one's own that is only `AsRef<OsStr>` (std's `Command::arg` takes it).
/// struct Name;
/// impl AsRef<std::ffi::OsStr> for Name {
///     fn as_ref(&self) -> &std::ffi::OsStr {
///         "name".as_ref()
///     }
/// }
/// vspawn::spawn::Command::new("echo").arg(Name);
/// ```
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
    /// `std`, else from the C `environ`, libc's or the one `entry!` defines in
    /// a libc-free program), the current directory, stdio inherited by `spawn`/`status`/`exec` and
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
        let key = key.arg_bytes().to_vec();
        if self.env_base.as_ref().is_some_and(Vec::is_empty) {
            // Nothing to remove it from: forget it, as std does after `env_clear`.
            self.env_changes.remove(&key);
        } else {
            self.env_changes.insert(key, None);
        }
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

    /// The child's signal mask (default: the caller's at the time of the spawn, as std's).
    pub fn signal_mask(&mut self, mask: SigSet) -> &mut Command {
        self.attrs.sigmask = Some(mask);
        self
    }

    /// Signals to reset to their default action in the child, ignored ones included (default:
    /// `SIGPIPE`, as std does).
    pub fn signals_default(&mut self, set: SigSet) -> &mut Command {
        self.attrs.sigdefault = set;
        self
    }

    /// Resets the effective ids to the real ones.
    pub fn reset_ids(&mut self, on: bool) -> &mut Command {
        self.attrs.reset_ids = on;
        self
    }

    /// The child's user id (see "Credentials" above).
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
        let defaults = [StdioKind::Inherit, StdioKind::Inherit, StdioKind::Inherit];
        let (child, ours) = self.with_request(defaults, |req| req.spawn())?;
        Ok(ours.give_to(child))
    }

    /// Spawns the child and waits for it; stdio not configured is inherited.
    pub fn status(&mut self) -> Result<ExitStatus> {
        let mut child = self.spawn()?;
        child.wait()
    }

    /// Spawns the child with stdout and stderr captured (unless configured) and stdin null
    /// (unless configured), collects both outputs and waits ([`Child::wait_with_output`]: a
    /// piped stdin is closed first, as std's).
    pub fn output(&mut self) -> Result<Output> {
        let defaults = [StdioKind::Null, StdioKind::Piped, StdioKind::Piped];
        let (child, ours) = self.with_request(defaults, |req| req.spawn())?;
        ours.give_to(child).wait_with_output()
    }

    /// Replaces the calling process with the program, set up as `spawn` would set up the
    /// child (stdio not configured is inherited), as std's `CommandExt::exec`: the same `PATH`
    /// search in the environment the program gets, the same errors. Returns only on failure,
    /// with the error.
    ///
    /// As std's, a failure can come after some of the set-up was applied to this process:
    /// stdio, directory, session and process group, ids, limits, `SIGPIPE` at its default
    /// stay as they were left. Signals are blocked during the set-up and the mask
    /// is restored on failure. Namespaces, id maps, a cgroup or a pidfd make no sense without
    /// a new process: `EINVAL`.
    pub fn exec(&mut self) -> Errno {
        let defaults = [StdioKind::Inherit, StdioKind::Inherit, StdioKind::Inherit];
        let exec = |req: &Spawn<'_>| -> Result<core::convert::Infallible> { Err(req.exec()) };
        match self.with_request(defaults, exec) {
            Ok((never, _)) => match never {},
            Err(e) => e,
        }
    }

    /// Builds the request: the stdio (`defaults` for what was not configured) and everything
    /// else, and calls `f` with it. Returns `f`'s result and our ends of the pipes; the child's
    /// ends are closed by then.
    fn with_request<R>(
        &mut self,
        defaults: [StdioKind; 3],
        f: impl FnOnce(&Spawn<'_>) -> Result<R>,
    ) -> Result<(R, OurEnds)> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut actions: Vec<FileAction<'_>> = Vec::new();
        // Our ends of the pipes, and the child's ends (closed here once it has them).
        let mut ours: [Option<OwnedFd>; 3] = [None, None, None];
        let mut theirs: Vec<OwnedFd> = Vec::new();
        // Opened after the copies: a copy may read our fd 0-2, which must not be replaced first.
        let mut opens: Vec<FileAction<'_>> = Vec::new();
        for (child_fd, (cfg, default)) in self.stdio.iter().zip(defaults).enumerate() {
            let child_fd = child_fd as RawFd;
            let kind = cfg.as_ref().map(|s| &s.0).unwrap_or(&default);
            match kind {
                StdioKind::Inherit => {}
                StdioKind::Null => opens.push(FileAction::Open {
                    fd: child_fd,
                    path: c"/dev/null",
                    flags: if child_fd == 0 {
                        oflags::O_RDONLY
                    } else {
                        oflags::O_WRONLY
                    },
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
                &StdioKind::Ours(fd) => actions.push(FileAction::Dup2 {
                    src: fd,
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
        actions.append(&mut opens);
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
        let result = f(&request)?;
        drop(theirs);
        Ok((result, OurEnds(ours)))
    }

    fn env_block(&self) -> Vec<CString> {
        // Interior NULs are impossible below: the entries come from C strings or from std.
        if self.env_base.is_none() && self.env_changes.is_empty() {
            // Unchanged: the process's environment as it is, in its order (std passes
            // `environ` itself then).
            let mut block = Vec::new();
            inherited_env(&mut |kv| block.extend(CString::new(kv).ok()));
            return block;
        }
        // Changed: one entry per key, sorted by key, as std builds it.
        let mut vars: BTreeMap<Vec<u8>, CString> = BTreeMap::new();
        match &self.env_base {
            // Of duplicates, the first, which `getenv` would find.
            Some(base) => {
                for kv in base {
                    let key = env_key(kv.as_bytes()).to_vec();
                    vars.entry(key).or_insert_with(|| kv.clone());
                }
            }
            // Of duplicates, the last, as std's map of `vars_os`.
            None => inherited_env(&mut |kv| {
                if let Ok(c) = CString::new(kv) {
                    vars.insert(env_key(kv).to_vec(), c);
                }
            }),
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
}

/// The key of a `KEY=value` entry: up to the first `=` after its first byte (std's rule).
fn env_key(kv: &[u8]) -> &[u8] {
    let end = kv
        .iter()
        .skip(1)
        .position(|&b| b == b'=')
        .map_or(kv.len(), |at| at + 1);
    &kv[..end]
}

/// std's accessors (with `std`: they return std's types).
#[cfg(feature = "std")]
impl Command {
    /// The program, as given to [`Command::new`].
    pub fn get_program(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::from_bytes(self.program.as_bytes())
    }

    /// The arguments after `argv[0]`.
    pub fn get_args(&self) -> impl ExactSizeIterator<Item = &std::ffi::OsStr> + fmt::Debug {
        CommandArgs(self.args[1..].iter())
    }

    /// The variables set (`Some`) or removed (`None`) explicitly, sorted by name, as std's: not
    /// the inherited ones, and nothing before an [`Command::env_clear`].
    pub fn get_envs(
        &self,
    ) -> impl ExactSizeIterator<Item = (&std::ffi::OsStr, Option<&std::ffi::OsStr>)> + fmt::Debug
    {
        CommandEnvs(self.env_changes.iter())
    }

    /// The working directory set with [`Command::current_dir`].
    pub fn get_current_dir(&self) -> Option<&std::path::Path> {
        let dir = self.cwd.as_ref()?;
        Some(std::path::Path::new(std::ffi::OsStr::from_bytes(
            dir.as_bytes(),
        )))
    }
}

/// [`Command::get_args`].
#[cfg(feature = "std")]
#[derive(Clone)]
struct CommandArgs<'a>(core::slice::Iter<'a, CString>);

#[cfg(feature = "std")]
impl<'a> Iterator for CommandArgs<'a> {
    type Item = &'a std::ffi::OsStr;

    fn next(&mut self) -> Option<&'a std::ffi::OsStr> {
        self.0
            .next()
            .map(|a| std::ffi::OsStr::from_bytes(a.as_bytes()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

#[cfg(feature = "std")]
impl ExactSizeIterator for CommandArgs<'_> {}

#[cfg(feature = "std")]
impl fmt::Debug for CommandArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// [`Command::get_envs`].
#[cfg(feature = "std")]
#[derive(Clone)]
struct CommandEnvs<'a>(alloc::collections::btree_map::Iter<'a, Vec<u8>, Option<CString>>);

#[cfg(feature = "std")]
impl<'a> Iterator for CommandEnvs<'a> {
    type Item = (&'a std::ffi::OsStr, Option<&'a std::ffi::OsStr>);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = self.0.next()?;
        let value = value
            .as_ref()
            .map(|v| std::ffi::OsStr::from_bytes(v.as_bytes()));
        Some((std::ffi::OsStr::from_bytes(key), value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

#[cfg(feature = "std")]
impl ExactSizeIterator for CommandEnvs<'_> {}

#[cfg(feature = "std")]
impl fmt::Debug for CommandEnvs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// An environment value as std's `Debug` shows an `OsStr`.
struct EnvValue<'a>(&'a [u8]);

impl fmt::Debug for EnvValue<'_> {
    #[cfg(feature = "std")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(std::ffi::OsStr::from_bytes(self.0), f)
    }

    /// Without std: the UTF-8 runs escaped as a `str`'s, other bytes as `\xNN`.
    #[cfg(not(feature = "std"))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                // A `char`'s escape, but `'` needs none inside double quotes.
                if c == '\'' {
                    f.write_char(c)?;
                } else {
                    for e in c.escape_debug() {
                        f.write_char(e)?;
                    }
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02X}")?;
            }
        }
        f.write_char('"')
    }
}

/// As std's: `cd "dir" && env -i -u REMOVED KEY="value" ["program"] "argv0" "arg"...`.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f
                .debug_struct("Command")
                .field("program", &self.program)
                .field("args", &self.args)
                .field("env_base", &self.env_base)
                .field("env_changes", &self.env_changes)
                .field("cwd", &self.cwd)
                .field("stdio", &self.stdio)
                .field("extra_fds", &self.extra_fds)
                .field("close_from", &self.close_from)
                .field("groups", &self.groups)
                .field("rlimits", &self.rlimits)
                .field("attrs", &self.attrs)
                .finish();
        }
        if let Some(cwd) = &self.cwd {
            write!(f, "cd {cwd:?} && ")?;
        }
        match &self.env_base {
            Some(base) => {
                f.write_str("env -i ")?;
                for kv in base {
                    let kv = kv.as_bytes();
                    let split = kv.iter().position(|&b| b == b'=').unwrap_or(kv.len());
                    if !self.env_changes.contains_key(&kv[..split]) {
                        let value = kv.get(split + 1..).unwrap_or_default();
                        let key = String::from_utf8_lossy(&kv[..split]);
                        write!(f, "{key}={:?} ", EnvValue(value))?;
                    }
                }
            }
            None => {
                let mut removed = self.env_changes.iter().filter(|(_, v)| v.is_none());
                if let Some((first, _)) = removed.next() {
                    write!(f, "env -u {} ", String::from_utf8_lossy(first))?;
                    for (key, _) in removed {
                        write!(f, "-u {} ", String::from_utf8_lossy(key))?;
                    }
                }
            }
        }
        for (key, value) in &self.env_changes {
            if let Some(value) = value {
                let key = String::from_utf8_lossy(key);
                write!(f, "{key}={:?} ", EnvValue(value.as_bytes()))?;
            }
        }
        if self.program != self.args[0] {
            write!(f, "[{:?}] ", self.program)?;
        }
        write!(f, "{:?}", self.args[0])?;
        for arg in &self.args[1..] {
            write!(f, " {arg:?}")?;
        }
        Ok(())
    }
}

/// Our ends of the child's pipes, handed to its [`Child`].
struct OurEnds([Option<OwnedFd>; 3]);

impl OurEnds {
    fn give_to(self, mut child: Child) -> Child {
        let [stdin, stdout, stderr] = self.0;
        child.stdin = stdin.map(ChildStdin);
        child.stdout = stdout.map(ChildStdout);
        child.stderr = stderr.map(ChildStderr);
        child
    }
}

impl Child {
    /// Closes our end of a piped stdin (so a child reading it sees EOF), reads a piped stdout
    /// and stderr to their ends (both at once: a child filling one cannot block us on the
    /// other), and waits, as std's. A stream that was not piped is empty in the [`Output`].
    ///
    /// If reading fails, the pipes are closed (a child writing more gets `EPIPE`) and the child
    /// is still waited for, so that no zombie is left; the read error is returned.
    pub fn wait_with_output(mut self) -> Result<Output> {
        drop(self.stdin.take());
        let read = read_both(self.stdout.take(), self.stderr.take());
        let status = self.wait();
        let (stdout, stderr) = read?;
        Ok(Output {
            status: status?,
            stdout,
            stderr,
        })
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
/// other cannot deadlock. Both are closed when it returns, whatever happened.
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
