//! Spawning programs: posix_spawn's job at the cost of a raw vfork, with the exact errno of a
//! failed exec returned synchronously on every platform.
//!
//! [`Spawn`] is the zero-allocation core, usable without an allocator: the caller lends the
//! program, `argv`, `envp`, the [`FileAction`]s and the [`Attributes`]. `Command` (feature
//! `alloc`) builds one from owned values with std's names.
//!
//! How a spawn goes (see `in_child` for the child's side):
//! 1. Everything is validated before any clone: bad input is refused with nothing left behind.
//! 2. The parent blocks every signal, so that none of its handlers can run in the child.
//! 3. `clone3(CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND)` (or `clone` where clone3 is
//!    missing): the child runs on this thread's stack, below our frames, while we are
//!    suspended. It applies the attributes and file actions, restores the signal mask, execs.
//! 4. The child reports a failure (its errno) through the *error channel*, then exits with 127;
//!    the parent reaps it and returns the errno, so no zombie is left.
//!
//! The error channel adapts to the platform. On a real kernel the vfork child shares our memory
//! and writes its errno into a slot in our frame: no extra syscall. Under emulators that turn
//! vfork into fork (qemu-user, valgrind) memory is not shared and the parent is not suspended;
//! so the first spawn of a process also passes a close-on-exec pipe, the child marks the shared
//! slot as its first act, and if the parent does not see the mark the process uses the pipe
//! from then on (the pipe's EOF also restores the wait-until-exec ordering).

mod cstr;
mod handle;
mod in_child;

#[cfg(feature = "alloc")]
mod command;

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, Ordering};

use crate::clone::{Clone3, CloneFlags, clone3_available, flags::*};
use crate::errno::{Errno, Result};
use crate::fd::{self, Mode, OFlags, OwnedFd, RawFd};
use crate::process::{self, Pid, Resource, Rlimit};
use crate::signal::{AllBlocked, SigSet, Signal};
use crate::wait;

pub use crate::wait::ExitStatus;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use command::{Arg, Command, Output, Stdio};
pub use cstr::CStrArray;
pub use handle::{Child, ChildStderr, ChildStdin, ChildStdout};

/// Which program to run. `#[non_exhaustive]`: more ways to name a program (an fd for
/// `execveat`) may come.
///
/// ```
/// use vspawn::spawn::{CStrArray, Program, Spawn};
///
/// let mut slots = [core::ptr::null(); 2];
/// let argv = CStrArray::new(&[c"true"], &mut slots)?;
/// // Searched in the child's PATH, like execvpe (without the /bin/sh fallback)...
/// let env = [c"PATH=/nonexistent:/usr/bin:/bin"];
/// let mut env_slots = [core::ptr::null(); 2];
/// let envp = CStrArray::new(&env, &mut env_slots)?;
/// assert!(Spawn::new(Program::Search(c"true"), argv, envp).spawn()?.wait()?.success());
/// // ... or exactly this path.
/// let missing = Spawn::new(Program::Path(c"true"), argv, envp).spawn().unwrap_err();
/// assert_eq!(missing, vspawn::Errno::ENOENT, "no ./true here");
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Program<'a> {
    /// Exactly this path (relative paths resolve against the child's working directory, after
    /// the file actions' `chdir`).
    Path(&'a CStr),
    /// A name searched like glibc's `execvpe`: a name with a `/` is used as is; otherwise each
    /// directory of `PATH` is tried (an empty entry: the name alone, in the working
    /// directory), `PATH` taken from the child's environment (or `/bin:/usr/bin`, glibc's
    /// default, when it has none). `EACCES` if a candidate existed but could not be executed,
    /// else the last error (`ENOENT`). There is no `/bin/sh` fallback for `ENOEXEC`: that error
    /// is returned, as by `posix_spawnp`.
    Search(&'a CStr),
}

/// One step of preparing the child's files, applied in order. `#[non_exhaustive]`: more
/// actions may come.
///
/// A run of consecutive `Dup2` actions is a simultaneous assignment: each source is the fd as
/// it was before the run, so swaps and cycles (`1 → 2`, `2 → 1`) work (the sources a run
/// replaces are copied away first, above every fd it names, and those copies are closed at the
/// end of the run). Between runs, actions see the effects of the earlier ones.
///
/// Compared with glibc's `posix_spawn` file actions (`tests/spawn_file_actions_diff.rs` runs
/// random sequences through both), the results are the same but in two documented ways:
/// glibc applies consecutive `dup2` one after the other, so a swap there copies one fd onto
/// both; and an [`FileAction::Open`] with `O_CLOEXEC` stays close-on-exec here, where glibc
/// loses the flag when the kernel did not open the file at the wanted number directly.
///
/// ```
/// use vspawn::fd::{Mode, oflags::*};
/// use vspawn::spawn::{CStrArray, FileAction, Program, Spawn};
///
/// // `sh -c 'echo out; echo err >&2'` with stdout to /dev/null and stderr swapped onto it:
/// // the two Dup2 in a row are one simultaneous assignment (a swap), so "err" reaches fd 1's
/// // old target (/dev/null) and "out" goes to the caller's stderr.
/// let null = c"/dev/null";
/// let actions = [
///     FileAction::Open { fd: 3, path: null, flags: O_WRONLY, mode: Mode::empty() },
///     FileAction::Dup2 { src: 1, dst: 2 },
///     FileAction::Dup2 { src: 2, dst: 1 },
///     FileAction::Close(3),
/// ];
/// let mut slots = [core::ptr::null(); 4];
/// let argv = CStrArray::new(&[c"sh", c"-c", c"exit 3"], &mut slots)?;
/// let mut child = Spawn::new(Program::Path(c"/bin/sh"), argv, CStrArray::empty())
///     .actions(&actions)
///     .spawn()?;
/// assert_eq!(child.wait()?.code(), Some(3));
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum FileAction<'a> {
    /// Make `dst` a copy of `src` (not close-on-exec). `src == dst` clears close-on-exec on it.
    Dup2 {
        /// The fd to copy.
        src: RawFd,
        /// The number it gets in the child.
        dst: RawFd,
    },
    /// Close the fd (an fd that is not open is not an error).
    Close(RawFd),
    /// Open `path` onto `fd` (closing whatever `fd` was first). Not close-on-exec unless
    /// `flags` says so; with `O_CLOEXEC` it stays so even when the file was opened at another
    /// number and moved to `fd` (glibc's `posix_spawn` loses the flag then).
    Open {
        /// The number the opened file gets.
        fd: RawFd,
        /// The path, relative to the child's working directory at this point.
        path: &'a CStr,
        /// `O_*` flags.
        flags: OFlags,
        /// The mode for `O_CREAT`.
        mode: Mode,
    },
    /// Change the working directory.
    Chdir(&'a CStr),
    /// Change the working directory to the one the fd refers to.
    Fchdir(RawFd),
    /// Close every fd from this number up (`close_range`, with a fallback for old kernels).
    CloseFrom(RawFd),
}

/// User and group id maps written for a child in a new user namespace (`CLONE_NEWUSER`), while
/// the child waits for them: the contents of `/proc/<pid>/uid_map` and `gid_map`, such as
/// `b"0 1000 1\n"`.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdMaps<'a> {
    /// Written to `/proc/<pid>/uid_map` (empty: not written).
    pub uid_map: &'a [u8],
    /// Written to `/proc/<pid>/gid_map` (empty: not written).
    pub gid_map: &'a [u8],
    /// Write `deny` to `/proc/<pid>/setgroups` first (needed for an unprivileged `gid_map`).
    pub deny_setgroups: bool,
}

crate::bits::bit_flags! {
    /// The namespaces a spawned child gets new ones of ([`Attributes::namespaces`]): the
    /// `CLONE_NEW*` flags, and nothing else.
    ///
    /// ```
    /// use vspawn::clone::CloneFlags;
    /// use vspawn::spawn::Namespaces;
    ///
    /// let container = Namespaces::USER | Namespaces::PID | Namespaces::MOUNT;
    /// assert_eq!(
    ///     CloneFlags::from(container),
    ///     CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS,
    /// );
    /// ```
    pub struct Namespaces: u64 {
        /// A new user namespace (`CLONE_NEWUSER`); see [`Attributes::id_maps`].
        const USER = CLONE_NEWUSER.bits();
        /// A new pid namespace (`CLONE_NEWPID`): the child is its PID 1.
        const PID = CLONE_NEWPID.bits();
        /// A new mount namespace (`CLONE_NEWNS`).
        const MOUNT = CLONE_NEWNS.bits();
        /// A new network namespace (`CLONE_NEWNET`).
        const NET = CLONE_NEWNET.bits();
        /// A new UTS namespace (`CLONE_NEWUTS`): host and domain name.
        const UTS = CLONE_NEWUTS.bits();
        /// A new IPC namespace (`CLONE_NEWIPC`).
        const IPC = CLONE_NEWIPC.bits();
        /// A new cgroup namespace (`CLONE_NEWCGROUP`).
        const CGROUP = CLONE_NEWCGROUP.bits();
        /// A new time namespace (`CLONE_NEWTIME`, Linux 5.6; needs clone3).
        const TIME = CLONE_NEWTIME.bits();
    }
}

impl From<Namespaces> for CloneFlags {
    fn from(namespaces: Namespaces) -> CloneFlags {
        CloneFlags::from_bits_retain(namespaces.bits())
    }
}

/// How the child is set up besides its files. [`Attributes::new`] (or `Default`) changes
/// nothing but the signal hygiene every spawn has: handled signals reset to their default,
/// ignored ones stay ignored, and the signal mask is the caller's. Each method sets one
/// attribute; they are `const`, so a request known at compile time stays a constant.
/// `#[non_exhaustive]`: more attributes will come, so it is built with these methods.
///
/// The signal mask is posix_spawn's rule, and std's `Command`'s. Ids: `u32::MAX` as `uid`,
/// `gid` or one of `groups` is refused with `EINVAL` before any clone (the kernel reads it as
/// "unchanged"). A `uid` without `groups` drops the supplementary groups first, as std's
/// `Command` does (`setgroups(0)`; its `EPERM`, a caller without `CAP_SETGID`, is ignored); a
/// `gid` alone keeps them. Limits and `umask` are applied before the ids change, `no_new_privs`
/// and the parent-death signal after.
///
/// ```
/// use vspawn::signal::Signal;
/// use vspawn::spawn::{Attributes, Namespaces};
///
/// // A daemon-like child: its own session, killed when this thread ends.
/// let daemon = Attributes::new().setsid(true).parent_death_signal(Signal::SIGKILL);
/// assert!(daemon.setsid);
/// // A child in new user and pid namespaces, root inside, mapped to uid 1000 outside.
/// let contained = Attributes::new()
///     .namespaces(Namespaces::USER.union(Namespaces::PID))
///     .id_maps(vspawn::spawn::IdMaps {
///         uid_map: b"0 1000 1\n",
///         gid_map: b"0 1000 1\n",
///         deny_setgroups: true,
///     });
/// assert!(contained.id_maps.is_some());
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
#[must_use]
pub struct Attributes<'a> {
    /// Start a new session (`setsid`). Not together with `process_group`.
    pub setsid: bool,
    /// Move the child into this process group (0: a new group led by the child).
    pub process_group: Option<Pid>,
    /// Make the child's process group the foreground group of this terminal (after
    /// `process_group`).
    pub foreground: Option<RawFd>,
    /// The child's signal mask (`None`: the caller's mask at the time of the spawn, as
    /// `posix_spawn` without `POSIX_SPAWN_SETSIGMASK` and std's `Command`).
    pub sigmask: Option<SigSet>,
    /// Signals reset to their default action in the child, ignored ones included.
    pub sigdefault: SigSet,
    /// Signals ignored in the child (after `sigdefault`; not `SIGKILL` or `SIGSTOP`): for a
    /// parent that must not ignore a signal itself but hands it on ignored, such as an init
    /// started with `SIGCHLD` ignored, which it needs for itself.
    pub sigignore: SigSet,
    /// Reset the effective ids to the real ones (`POSIX_SPAWN_RESETIDS`).
    pub reset_ids: bool,
    /// Supplementary groups (set first). `None` with a `uid`: dropped (see above).
    pub groups: Option<&'a [u32]>,
    /// Group id (real, effective and saved; set after the groups).
    pub gid: Option<u32>,
    /// User id (real, effective and saved; set last).
    pub uid: Option<u32>,
    /// Resource limits (set before the ids change).
    pub rlimits: &'a [(Resource, Rlimit)],
    /// The file mode creation mask (set before the ids change).
    pub umask: Option<Mode>,
    /// Set `no_new_privs`.
    pub no_new_privs: bool,
    /// The signal the child gets when the thread that spawned it ends (set after the id
    /// changes, which would clear it; if the parent is already gone, the child exits).
    pub parent_death_signal: Option<Signal>,
    /// New namespaces for the child.
    pub namespaces: Namespaces,
    /// Id maps for a new user namespace, written by the parent before the child goes on.
    pub id_maps: Option<IdMaps<'a>>,
    /// Start the child in this cgroup (a directory fd; needs clone3: Linux 5.7).
    pub cgroup: Option<RawFd>,
    /// Return a pidfd for the child in [`Child::pidfd`].
    pub pidfd: bool,
}

impl<'a> Attributes<'a> {
    /// Nothing but the signal hygiene every spawn has (the same as `Default`).
    pub const fn new() -> Attributes<'a> {
        Attributes {
            setsid: false,
            process_group: None,
            foreground: None,
            sigmask: None,
            sigdefault: SigSet::EMPTY,
            sigignore: SigSet::EMPTY,
            reset_ids: false,
            groups: None,
            gid: None,
            uid: None,
            rlimits: &[],
            umask: None,
            no_new_privs: false,
            parent_death_signal: None,
            namespaces: Namespaces::empty(),
            id_maps: None,
            cgroup: None,
            pidfd: false,
        }
    }

    /// Starts a new session (`setsid`) or not.
    pub const fn setsid(mut self, on: bool) -> Attributes<'a> {
        self.setsid = on;
        self
    }

    /// Moves the child into process group `pgid` (0: a new group led by the child).
    pub const fn process_group(mut self, pgid: Pid) -> Attributes<'a> {
        self.process_group = Some(pgid);
        self
    }

    /// Makes the child's group the foreground group of the terminal `tty`.
    pub const fn foreground(mut self, tty: RawFd) -> Attributes<'a> {
        self.foreground = Some(tty);
        self
    }

    /// The child's signal mask (without it: the caller's).
    pub const fn sigmask(mut self, mask: SigSet) -> Attributes<'a> {
        self.sigmask = Some(mask);
        self
    }

    /// Signals reset to their default action in the child, ignored ones included.
    pub const fn sigdefault(mut self, signals: SigSet) -> Attributes<'a> {
        self.sigdefault = signals;
        self
    }

    /// Signals ignored in the child (after `sigdefault`; not `SIGKILL` or `SIGSTOP`).
    pub const fn sigignore(mut self, signals: SigSet) -> Attributes<'a> {
        self.sigignore = signals;
        self
    }

    /// Resets the effective ids to the real ones, or not.
    pub const fn reset_ids(mut self, on: bool) -> Attributes<'a> {
        self.reset_ids = on;
        self
    }

    /// The supplementary groups (without them, a `uid` drops ours: see the type's
    /// documentation).
    pub const fn groups(mut self, groups: &'a [u32]) -> Attributes<'a> {
        self.groups = Some(groups);
        self
    }

    /// The group id (real, effective and saved).
    pub const fn gid(mut self, gid: u32) -> Attributes<'a> {
        self.gid = Some(gid);
        self
    }

    /// The user id (real, effective and saved), set last; without `groups`, the supplementary
    /// groups are dropped first, as std does.
    pub const fn uid(mut self, uid: u32) -> Attributes<'a> {
        self.uid = Some(uid);
        self
    }

    /// Resource limits (set before the ids change).
    pub const fn rlimits(mut self, limits: &'a [(Resource, Rlimit)]) -> Attributes<'a> {
        self.rlimits = limits;
        self
    }

    /// The file mode creation mask (set before the ids change).
    pub const fn umask(mut self, mask: Mode) -> Attributes<'a> {
        self.umask = Some(mask);
        self
    }

    /// Sets `no_new_privs`, or not.
    pub const fn no_new_privs(mut self, on: bool) -> Attributes<'a> {
        self.no_new_privs = on;
        self
    }

    /// The signal the child gets when the spawning thread ends.
    pub const fn parent_death_signal(mut self, sig: Signal) -> Attributes<'a> {
        self.parent_death_signal = Some(sig);
        self
    }

    /// New namespaces for the child.
    pub const fn namespaces(mut self, namespaces: Namespaces) -> Attributes<'a> {
        self.namespaces = namespaces;
        self
    }

    /// Id maps written for a child in a new user namespace.
    pub const fn id_maps(mut self, maps: IdMaps<'a>) -> Attributes<'a> {
        self.id_maps = Some(maps);
        self
    }

    /// Starts the child in the cgroup of this directory fd.
    pub const fn cgroup(mut self, dir: RawFd) -> Attributes<'a> {
        self.cgroup = Some(dir);
        self
    }

    /// Returns a pidfd for the child in [`Child::pidfd`], or not.
    pub const fn pidfd(mut self, on: bool) -> Attributes<'a> {
        self.pidfd = on;
        self
    }
}

/// A spawn request: everything borrowed, nothing allocated. Built with [`Spawn::new`] and its
/// `const` methods (`#[non_exhaustive]`: it may grow).
///
/// ```
/// use vspawn::spawn::{CStrArray, Program, Spawn};
///
/// let mut slots = [core::ptr::null(); 3];
/// let argv = CStrArray::new(&[c"sh", c"-c"], &mut slots)?;
/// let env = CStrArray::empty();
/// let err = Spawn::new(Program::Path(c"/nonexistent/sh"), argv, env).spawn().unwrap_err();
/// assert_eq!(err, vspawn::Errno::ENOENT);
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
#[must_use]
pub struct Spawn<'a> {
    /// The program.
    pub program: Program<'a>,
    /// Its arguments, `argv[0]` included.
    pub argv: CStrArray<'a>,
    /// Its environment.
    pub envp: CStrArray<'a>,
    /// File actions, in order.
    pub actions: &'a [FileAction<'a>],
    /// Everything else.
    pub attrs: Attributes<'a>,
}

/// At most this many `Dup2` in one run may read a source that an earlier one of the run
/// replaced (the child keeps their originals in a fixed array on its stack); a request needing
/// more is refused with `E2BIG` before any clone. A documented limit, far above what swaps and
/// small cycles of the standard streams need.
pub const MAX_DUP2_CYCLE_SAVES: usize = 64;

impl<'a> Spawn<'a> {
    /// A request with no file actions and default attributes.
    pub const fn new(program: Program<'a>, argv: CStrArray<'a>, envp: CStrArray<'a>) -> Spawn<'a> {
        Spawn {
            program,
            argv,
            envp,
            actions: &[],
            attrs: Attributes::new(),
        }
    }

    /// Sets the file actions.
    pub const fn actions(mut self, actions: &'a [FileAction<'a>]) -> Spawn<'a> {
        self.actions = actions;
        self
    }

    /// Sets the attributes.
    pub const fn attrs(mut self, attrs: Attributes<'a>) -> Spawn<'a> {
        self.attrs = attrs;
        self
    }

    /// Starts the program. Returns when the child has exec'd (or failed to), with the exact
    /// errno of a failed exec, attribute or file action; a failed child has been reaped.
    pub fn spawn(&self) -> Result<Child> {
        // Before anything else: where the request is a literal, the compiler still sees its
        // fields as constants here and keeps only the child entry it needs.
        let full = in_child::needs_full(self);
        self.validate(full)?;
        spawn_checked(self, full)
    }

    /// Replaces the calling process with the program, set up as [`Spawn::spawn`] would set up
    /// the child, in the same order: `execve` (or the `PATH` search of `Program::Search`) in
    /// this process, as std's `CommandExt::exec`. Returns only on failure, with the errno.
    ///
    /// Signals are blocked during the set-up and the mask is restored on failure, but the steps
    /// applied before the failure stay applied (file actions, session, ids, limits, the
    /// `sigdefault` dispositions). Namespaces, id maps, a cgroup and a pidfd need a new process:
    /// `EINVAL`. No allocation.
    pub fn exec(&self) -> Errno {
        if let Err(e) = self.validate(true) {
            return e;
        }
        let attrs = &self.attrs;
        if !attrs.namespaces.is_empty()
            || attrs.id_maps.is_some()
            || attrs.cgroup.is_some()
            || attrs.pidfd
        {
            return Errno::EINVAL;
        }
        exec_in_place(self)
    }

    /// Refuses bad input before any clone. `full`: the request has file actions, ids or limits
    /// ([`in_child::needs_full`]); a plain spawn skips their checks.
    fn validate(&self, full: bool) -> Result<()> {
        let name = match self.program {
            Program::Path(p) | Program::Search(p) => p,
        };
        if name.is_empty() {
            return Err(Errno::ENOENT);
        }
        let attrs = &self.attrs;
        if attrs.setsid && attrs.process_group.is_some() {
            return Err(Errno::EINVAL);
        }
        if attrs.process_group.is_some_and(|g| g < 0) || attrs.namespaces.unknown_bits() != 0 {
            return Err(Errno::EINVAL);
        }
        if attrs.sigignore.contains(Signal::SIGKILL) || attrs.sigignore.contains(Signal::SIGSTOP) {
            return Err(Errno::EINVAL);
        }
        if attrs.id_maps.is_some() && !attrs.namespaces.contains(Namespaces::USER) {
            return Err(Errno::EINVAL);
        }
        let bad_fd = |fd: RawFd| fd < 0;
        if attrs.foreground.is_some_and(bad_fd) || attrs.cgroup.is_some_and(bad_fd) {
            return Err(Errno::EBADF);
        }
        for action in self.actions {
            let fds_ok = match *action {
                FileAction::Dup2 { src, dst } => !bad_fd(src) && !bad_fd(dst),
                FileAction::Close(fd) | FileAction::Fchdir(fd) | FileAction::CloseFrom(fd) => {
                    !bad_fd(fd)
                }
                FileAction::Open { fd, .. } => !bad_fd(fd),
                FileAction::Chdir(_) => true,
            };
            if !fds_ok {
                return Err(Errno::EBADF);
            }
        }
        if !self.actions.is_empty()
            && in_child::dup2_saves_needed(self.actions) > MAX_DUP2_CYCLE_SAVES
        {
            return Err(Errno::E2BIG);
        }
        // -1 would mean "unchanged" to the kernel: the child would keep our ids.
        let unchanged = |id: u32| id == u32::MAX;
        if full
            && (attrs.uid.is_some_and(unchanged)
                || attrs.gid.is_some_and(unchanged)
                || attrs
                    .groups
                    .is_some_and(|g| g.iter().copied().any(unchanged)))
        {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// [`Spawn::exec`] once the request is checked: the child's steps, in this process.
fn exec_in_place(req: &Spawn<'_>) -> Errno {
    let mask = match AllBlocked::new() {
        Ok(mask) => mask,
        Err(e) => return e,
    };
    let report = Report {
        mark: AtomicU32::new(0),
        errno: AtomicI32::new(0),
    };
    let ctx = in_child::Context {
        req,
        report: &report,
        err_pipe: -1,
        sync_child_end: -1,
        sync_parent_end: -1,
        // Our own parent: the one whose death the signal is about.
        parent_pid: if req.attrs.parent_death_signal.is_some() {
            process::getppid()
        } else {
            0
        },
        mask: req.attrs.sigmask.unwrap_or(mask.previous()),
        // exec resets the handlers itself.
        reset_handlers: false,
        path: search_path(req),
    };
    let mut err_pipe = -1;
    let Err(err) = in_child::run::<true>(&ctx, &mut err_pipe);
    drop(mask);
    err
}

/// The directories `Program::Search` tries: the child's `PATH`, or the default.
fn search_path<'a>(req: &Spawn<'a>) -> &'a [u8] {
    match req.program {
        Program::Search(_) => req.envp.var(b"PATH").unwrap_or(in_child::DEFAULT_PATH),
        Program::Path(_) => &[],
    }
}

/// What the parent knows about the error channel of this process.
static CHANNEL: AtomicU8 = AtomicU8::new(CHANNEL_UNKNOWN);
/// No spawn has told yet whether vfork children share memory here.
const CHANNEL_UNKNOWN: u8 = 0;
/// They do: the child's errno arrives in the shared slot.
const CHANNEL_SHARED: u8 = 1;
/// They do not (an emulator): every spawn uses a pipe.
const CHANNEL_PIPE: u8 = 2;

/// The slot the child writes and, where memory is shared, the parent reads.
#[repr(C)]
struct Report {
    /// Set to [`Report::MARK`] by the child's first act.
    mark: AtomicU32,
    /// The errno of the child's failure; 0 if it exec'd.
    errno: AtomicI32,
}

impl Report {
    const MARK: u32 = 0x7673_706e;
}

/// Unmaps the stack of a concurrent child once the spawn is over (the child has exec'd or been
/// reaped by then).
struct StackGuard {
    base: *mut u8,
    len: usize,
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        // SAFETY: the child no longer runs on this stack: it exec'd (its close-on-exec pipe end
        // closed after the switch to the new address space) or it was reaped.
        unsafe { crate::thread::unmap(self.base, self.len) };
    }
}

/// The stack of a child that runs while the parent goes on (user namespace maps).
const CONCURRENT_STACK_SIZE: usize = 256 * 1024;

fn spawn_checked(req: &Spawn<'_>, full: bool) -> Result<Child> {
    let attrs = &req.attrs;
    // A child in a new user namespace must wait for its id maps, which the parent writes after
    // the clone: it cannot be a vfork child (we would wait for each other). It runs on its
    // own stack, concurrently, and reports through the pipe.
    let concurrent = attrs.id_maps.is_some();
    let channel = CHANNEL.load(Ordering::Relaxed);
    let pipe = if channel != CHANNEL_SHARED || concurrent {
        Some(fd::pipe2(OFlags::empty())?)
    } else {
        None
    };
    // A socket pair, not a pipe: the go byte is sent with MSG_NOSIGNAL, so a child that died
    // before reading it gives us EPIPE, never a SIGPIPE (the mask is restored by then).
    let sync = if concurrent {
        Some(socket_pair()?)
    } else {
        None
    };
    let stack = if concurrent {
        let len = CONCURRENT_STACK_SIZE + crate::sys::page_size();
        Some(StackGuard {
            base: crate::thread::map_stack(len)?,
            len,
        })
    } else {
        None
    };
    let report = Report {
        mark: AtomicU32::new(0),
        errno: AtomicI32::new(0),
    };

    let mask = AllBlocked::new()?;
    let mut ctx = in_child::Context {
        req,
        report: &report,
        err_pipe: pipe.as_ref().map_or(-1, |(_, w)| w.as_raw_fd()),
        sync_child_end: sync.as_ref().map_or(-1, |(r, _)| r.as_raw_fd()),
        sync_parent_end: sync.as_ref().map_or(-1, |(_, w)| w.as_raw_fd()),
        // Only the parent-death check needs it: spare the syscall otherwise.
        parent_pid: if attrs.parent_death_signal.is_some() {
            process::getpid()
        } else {
            0
        },
        mask: attrs.sigmask.unwrap_or(mask.previous()),
        reset_handlers: false,
        path: search_path(req),
    };
    let stack_range = stack.as_ref().map(|s| {
        let guard = crate::sys::page_size();
        (s.base.wrapping_add(guard), s.len - guard)
    });
    let entry: ChildEntry = if full {
        in_child::entry::<true>
    } else {
        in_child::entry::<false>
    };
    let cloned = clone_child(&mut ctx, concurrent, stack_range, entry);
    drop(mask);
    let cloned = cloned?;
    let pid = cloned.pid;

    let mut err = None;
    if let Some((r, w)) = sync {
        drop(r);
        if let Err(e) = write_id_maps(pid, attrs.id_maps.unwrap_or_default()) {
            // Do not count on the EOF alone: a fork of another thread may hold a copy of `w`
            // until it execs.
            let _ = process::kill(pid, Some(Signal::SIGKILL));
            err = Some(e);
        }
        // Go (or, on error, EOF when `w` is dropped: the child then exits without exec'ing).
        // EPIPE: the child is already gone; its errno (or its death) is read below.
        if err.is_none() {
            let _ = send_go(w.as_raw_fd());
        }
    }
    if let Some((r, w)) = pipe {
        drop(w);
        let from_pipe = read_child_errno(r.as_raw_fd());
        err = err.or(from_pipe);
        if channel == CHANNEL_UNKNOWN && !concurrent {
            let shared = report.mark.load(Ordering::Acquire) == Report::MARK;
            let learned = if shared { CHANNEL_SHARED } else { CHANNEL_PIPE };
            CHANNEL.store(learned, Ordering::Relaxed);
        }
    } else {
        err = match report.errno.load(Ordering::Acquire) {
            0 => None,
            e => Some(Errno::from_raw(e)),
        };
    }
    let pidfd = match cloned.pidfd {
        Some(fd) => Some(fd),
        // clone had no CLONE_PIDFD for us; the pid cannot be reused before we reap it.
        None if attrs.pidfd && err.is_none() => {
            match wait::pidfd_open(pid, wait::PidFdFlags::empty()) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    // The child exec'd and runs: it is stopped for good.
                    let _ = process::kill(pid, Some(Signal::SIGKILL));
                    err = Some(e);
                    None
                }
            }
        }
        None => None,
    };
    if let Some(e) = err {
        // A child that failed exits by itself; the two that would not (waiting for id maps that
        // will not come, or exec'd before the pidfd failed) were killed above.
        reap(pid);
        drop(stack);
        return Err(e);
    }
    // The child exec'd: it has left the stack (if it had one of its own).
    drop(stack);
    Ok(Child::new(pid, pidfd))
}

/// The child's side: `in_child::entry::<true>` (everything) or `::<false>` (no file actions, ids
/// or limits).
type ChildEntry = unsafe extern "C" fn(usize) -> i32;

/// Set when this kernel has clone3 but refuses `CLONE_CLEAR_SIGHAND` (Linux 5.3 and 5.4).
static CLEAR_SIGHAND_REFUSED: AtomicBool = AtomicBool::new(false);

/// Clones the child: clone3 with `CLONE_CLEAR_SIGHAND` (and `CLONE_PIDFD`) where possible; else
/// clone, the child resetting the handlers itself and the parent opening the pidfd afterwards.
fn clone_child(
    ctx: &mut in_child::Context<'_>,
    concurrent: bool,
    stack: Option<(*mut u8, usize)>,
    entry: ChildEntry,
) -> Result<crate::clone::Cloned> {
    let attrs = &ctx.req.attrs;
    let mut flags = CLONE_VM | CloneFlags::from(attrs.namespaces);
    if !concurrent {
        flags |= CLONE_VFORK;
    }
    if clone3_available() {
        let pidfd = if attrs.pidfd {
            CLONE_PIDFD
        } else {
            CloneFlags::empty()
        };
        let clear = !CLEAR_SIGHAND_REFUSED.load(Ordering::Relaxed);
        let sighand = if clear {
            CLONE_CLEAR_SIGHAND
        } else {
            CloneFlags::empty()
        };
        match clone_once(ctx, flags | pidfd | sighand, stack, entry) {
            // clone3 just turned out missing: nothing was created; use clone below.
            Err(Errno::EOPNOTSUPP) if !clone3_available() => {}
            Err(Errno::EINVAL) if clear => {
                let again = clone_once(ctx, flags | pidfd, stack, entry);
                if again.is_ok() {
                    CLEAR_SIGHAND_REFUSED.store(true, Ordering::Relaxed);
                }
                return again;
            }
            other => return other,
        }
    }
    clone_once(ctx, flags, stack, entry)
}

/// One clone attempt (clone3, or clone where clone3 is known missing); the child resets the
/// signal handlers itself unless `flags` has `CLONE_CLEAR_SIGHAND`.
fn clone_once(
    ctx: &mut in_child::Context<'_>,
    flags: CloneFlags,
    stack: Option<(*mut u8, usize)>,
    entry: ChildEntry,
) -> Result<crate::clone::Cloned> {
    ctx.reset_handlers = !flags.contains(CLONE_CLEAR_SIGHAND);
    let mut req = Clone3::new().flags(flags);
    if let Some((lowest, size)) = stack {
        req = req.stack(lowest, size);
    }
    if let Some(dir) = ctx.req.attrs.cgroup {
        req = req.cgroup(dir);
    }
    // SAFETY: a vfork child on our stack (we are suspended until it execs or exits), or a
    // concurrent one on its own mapped stack that outlives it; `ctx` outlives the child's use of
    // it; `in_child::entry` only makes syscalls on memory prepared here.
    unsafe { crate::clone::clone3(&req, entry, ctx as *const _ as usize) }
}

/// A connected pair of Unix stream sockets, close-on-exec.
fn socket_pair() -> Result<(OwnedFd, OwnedFd)> {
    const AF_UNIX: usize = 1;
    const SOCK_STREAM: usize = 1;
    let mut fds: [RawFd; 2] = [-1, -1];
    // SAFETY: the kernel writes two ints into `fds`.
    Errno::result(unsafe {
        crate::sys::syscall!(
            SOCKETPAIR,
            AF_UNIX,
            SOCK_STREAM | fd::oflags::O_CLOEXEC.bits() as usize,
            0usize,
            fds.as_mut_ptr()
        )
    })?;
    // SAFETY: the kernel just created both; nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends the one-byte go signal on the id-map socket, without SIGPIPE.
fn send_go(socket: RawFd) -> Result<()> {
    const MSG_NOSIGNAL: usize = 0x4000;
    let go = b"g";
    loop {
        // SAFETY: the kernel reads one byte from `go`; no address.
        let sent = Errno::result(unsafe {
            crate::sys::syscall!(
                SENDTO,
                socket,
                go.as_ptr(),
                1usize,
                MSG_NOSIGNAL,
                0usize,
                0usize
            )
        });
        match sent {
            Err(Errno::EINTR) => {}
            other => return other.map(drop),
        }
    }
}

/// Reads the child's report from the error pipe: `None` at EOF (it exec'd), else its errno.
fn read_child_errno(fd: RawFd) -> Option<Errno> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < buf.len() {
        match fd::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Some(e),
        }
    }
    match got {
        0 => None,
        4 => Some(Errno::from_raw(i32::from_ne_bytes(buf))),
        // A torn report cannot come from our child (4 bytes < PIPE_BUF are atomic).
        _ => Some(Errno::EIO),
    }
}

/// Waits for a child that failed, so that it leaves no zombie.
fn reap(pid: Pid) {
    loop {
        match wait::wait4(pid, wait::wflags::WALL, None) {
            Err(Errno::EINTR) => {}
            _ => return,
        }
    }
}

/// Writes the id maps of a child in a new user namespace.
fn write_id_maps(pid: Pid, maps: IdMaps<'_>) -> Result<()> {
    if maps.deny_setgroups {
        write_proc_file(pid, b"setgroups", b"deny")?;
    }
    if !maps.uid_map.is_empty() {
        write_proc_file(pid, b"uid_map", maps.uid_map)?;
    }
    if !maps.gid_map.is_empty() {
        write_proc_file(pid, b"gid_map", maps.gid_map)?;
    }
    Ok(())
}

/// Writes `data` to `/proc/<pid>/<name>` in one write, as the id map files require.
fn write_proc_file(pid: Pid, name: &[u8], data: &[u8]) -> Result<()> {
    let mut path = [0u8; 64];
    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        path[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    push(b"/proc/");
    let mut digits = [0u8; 10];
    let mut n = pid as u32;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push(&digits[i..]);
    push(b"/");
    push(name);
    push(b"\0");
    let path = CStr::from_bytes_with_nul(&path[..len]).map_err(|_| Errno::EINVAL)?;
    let file: OwnedFd = fd::openat(fd::AT_FDCWD, path, fd::oflags::O_WRONLY, Mode::empty())?;
    let written = fd::write(file.as_raw_fd(), data)?;
    if written != data.len() {
        Err(Errno::EIO)
    } else {
        Ok(())
    }
}
