//! Waiting for children and pidfds: `wait4`, `waitid`, `pidfd_open`, `pidfd_send_signal`, and
//! the kernel structs they fill (`siginfo_t`, `struct rusage`), plus [`ExitStatus`].

use core::ffi::c_long;
use core::fmt;
use core::mem::{offset_of, size_of};

use crate::errno::{Errno, Result};
use crate::fd::{OwnedFd, RawFd};
use crate::process::Pid;
use crate::signal::Signal;

/// The kernel's `siginfo_t` (128 bytes), as filled by `waitid` and given to signal handlers.
///
/// After the three `int`s comes a union, aligned as its widest member (a pointer or `long`):
/// at offset 16 on the 64-bit architectures, 12 on the 32-bit ones. The members read here are
/// the first three `int`s of it, which every member that has them (`kill`, `sigchld`, `rt`)
/// puts there: the pid, the uid, and for `SIGCHLD` the status. They are read as `int`s, never
/// as halves of a wider word, so the byte order does not matter (s390x is big-endian).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct SigInfo {
    /// The signal number.
    pub signo: i32,
    /// An errno value, usually 0.
    pub errno: i32,
    /// Why the signal was sent (`CLD_EXITED`, `SI_USER`, ...).
    pub code: i32,
    #[cfg(target_pointer_width = "64")]
    _pad: i32,
    si_pid: i32,
    si_uid: u32,
    si_status: i32,
    rest: [u32; SIGINFO_REST_WORDS],
}

/// The union's words after pid, uid and status, up to 128 bytes.
const SIGINFO_REST_WORDS: usize = if cfg!(target_pointer_width = "64") {
    25
} else {
    26
};

static_assertions::const_assert_eq!(size_of::<SigInfo>(), 128);
static_assertions::const_assert_eq!(offset_of!(SigInfo, code), 8);
#[cfg(target_pointer_width = "64")]
static_assertions::const_assert_eq!(offset_of!(SigInfo, si_pid), 16);
#[cfg(target_pointer_width = "32")]
static_assertions::const_assert_eq!(offset_of!(SigInfo, si_pid), 12);
static_assertions::const_assert_eq!(
    offset_of!(SigInfo, si_status),
    offset_of!(SigInfo, si_pid) + 8
);

/// `si_code` values of `SIGCHLD` (and of `waitid`).
pub mod cld {
    /// The child exited.
    pub const CLD_EXITED: i32 = 1;
    /// The child was killed by a signal.
    pub const CLD_KILLED: i32 = 2;
    /// The child was killed and dumped core.
    pub const CLD_DUMPED: i32 = 3;
    /// A traced child trapped.
    pub const CLD_TRAPPED: i32 = 4;
    /// The child stopped.
    pub const CLD_STOPPED: i32 = 5;
    /// A stopped child continued.
    pub const CLD_CONTINUED: i32 = 6;
}

impl SigInfo {
    /// All zero: what `waitid` with `WNOHANG` leaves when no child was ready.
    pub const fn zeroed() -> SigInfo {
        SigInfo {
            signo: 0,
            errno: 0,
            code: 0,
            #[cfg(target_pointer_width = "64")]
            _pad: 0,
            si_pid: 0,
            si_uid: 0,
            si_status: 0,
            rest: [0; SIGINFO_REST_WORDS],
        }
    }

    /// `si_pid`: the sending or the waited-for process.
    pub const fn pid(&self) -> Pid {
        self.si_pid
    }

    /// `si_uid`: the real user id of the sender or child.
    pub const fn uid(&self) -> u32 {
        self.si_uid
    }

    /// `si_status` of `SIGCHLD`: the exit code, or the signal number.
    pub const fn status(&self) -> i32 {
        self.si_status
    }

    /// The child's state as an [`ExitStatus`], when this came from `waitid` or `SIGCHLD`.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        let status = self.status();
        match self.code {
            cld::CLD_EXITED => Some(ExitStatus::from_raw((status & 0xff) << 8)),
            cld::CLD_KILLED => Some(ExitStatus::from_raw(status & 0x7f)),
            cld::CLD_DUMPED => Some(ExitStatus::from_raw((status & 0x7f) | 0x80)),
            cld::CLD_STOPPED | cld::CLD_TRAPPED => {
                Some(ExitStatus::from_raw(((status & 0xff) << 8) | 0x7f))
            }
            cld::CLD_CONTINUED => Some(ExitStatus::from_raw(0xffff)),
            _ => None,
        }
    }
}

impl fmt::Debug for SigInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigInfo")
            .field("signo", &self.signo)
            .field("code", &self.code)
            .field("pid", &self.pid())
            .field("uid", &self.uid())
            .field("status", &self.status())
            .finish()
    }
}

/// A `struct timeval` as in `rusage`: two C `long`s (64-bit, or 32-bit on i686 and armv7, where
/// `wait4` and `waitid` fill the 32-bit layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct TimeVal {
    /// Seconds.
    pub sec: c_long,
    /// Microseconds.
    pub usec: c_long,
}

/// The kernel's `struct rusage`: 18 C `long`s (144 bytes; 72 on i686 and armv7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Rusage {
    /// User CPU time.
    pub utime: TimeVal,
    /// System CPU time.
    pub stime: TimeVal,
    /// Peak resident set size, KiB.
    pub maxrss: c_long,
    /// Unused by Linux.
    pub ixrss: c_long,
    /// Unused by Linux.
    pub idrss: c_long,
    /// Unused by Linux.
    pub isrss: c_long,
    /// Page faults served without I/O.
    pub minflt: c_long,
    /// Page faults that needed I/O.
    pub majflt: c_long,
    /// Unused by Linux.
    pub nswap: c_long,
    /// Blocks read.
    pub inblock: c_long,
    /// Blocks written.
    pub oublock: c_long,
    /// Unused by Linux.
    pub msgsnd: c_long,
    /// Unused by Linux.
    pub msgrcv: c_long,
    /// Unused by Linux.
    pub nsignals: c_long,
    /// Voluntary context switches.
    pub nvcsw: c_long,
    /// Involuntary context switches.
    pub nivcsw: c_long,
}

static_assertions::const_assert_eq!(size_of::<Rusage>(), 18 * size_of::<c_long>());
static_assertions::const_assert_eq!(offset_of!(Rusage, maxrss), 4 * size_of::<c_long>());
static_assertions::const_assert_eq!(offset_of!(Rusage, nivcsw), 17 * size_of::<c_long>());

/// How a child ended (or stopped): the `wait` status word, decoded like std's `ExitStatus`
/// (its `Display` and `Debug` too). `Default` is the status of a child that exited with code 0,
/// as std's.
///
/// ```
/// use vspawn::wait::ExitStatus;
///
/// let exited = ExitStatus::from_raw(3 << 8);
/// assert_eq!((exited.code(), exited.signal(), exited.success()), (Some(3), None, false));
/// assert_eq!(exited.to_string(), "exit status: 3");
/// let killed = ExitStatus::from_raw(9);
/// assert_eq!((killed.code(), killed.signal()), (None, Some(9)));
/// assert_eq!(killed.to_string(), "signal: 9 (SIGKILL)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExitStatus(i32);

impl ExitStatus {
    /// Wraps a raw `wait` status word.
    pub const fn from_raw(raw: i32) -> ExitStatus {
        ExitStatus(raw)
    }

    /// The raw `wait` status word.
    pub const fn into_raw(self) -> i32 {
        self.0
    }

    /// `true` when the child exited with code 0.
    pub const fn success(self) -> bool {
        self.0 == 0
    }

    /// The exit code, if the child exited (`WEXITSTATUS`).
    pub const fn code(self) -> Option<i32> {
        if self.0 & 0x7f == 0 {
            Some((self.0 >> 8) & 0xff)
        } else {
            None
        }
    }

    /// The signal that killed the child (`WTERMSIG`).
    pub const fn signal(self) -> Option<i32> {
        let sig = self.0 & 0x7f;
        if sig != 0 && sig != 0x7f {
            Some(sig)
        } else {
            None
        }
    }

    /// Whether the child dumped core when killed (`WCOREDUMP`).
    pub const fn core_dumped(self) -> bool {
        self.signal().is_some() && self.0 & 0x80 != 0
    }

    /// The signal that stopped the child (`WSTOPSIG`), for `WUNTRACED` waits.
    pub const fn stopped_signal(self) -> Option<i32> {
        if self.0 & 0xff == 0x7f {
            Some((self.0 >> 8) & 0xff)
        } else {
            None
        }
    }

    /// Whether a stopped child was continued (`WIFCONTINUED`).
    pub const fn continued(self) -> bool {
        self.0 == 0xffff
    }
}

/// As std's: `ExitStatus(unix_wait_status(256))` (the raw word; `Display` decodes it).
impl fmt::Debug for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitStatus(unix_wait_status({}))", self.0)
    }
}

/// Like std's: `exit status: 1`, `signal: 9 (SIGKILL)`, `signal: 6 (SIGABRT) (core dumped)`.
impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // std names the classic signals only: a real-time one is a bare number.
        let named = |f: &mut fmt::Formatter<'_>, what: &str, sig: i32| {
            let name = Signal::new(sig).and_then(Signal::name);
            match name {
                Some(name) => write!(f, "{what}: {sig} ({name})"),
                None => write!(f, "{what}: {sig}"),
            }
        };
        if let Some(code) = self.code() {
            write!(f, "exit status: {code}")
        } else if let Some(sig) = self.signal() {
            named(f, "signal", sig)?;
            if self.core_dumped() {
                f.write_str(" (core dumped)")
            } else {
                Ok(())
            }
        } else if let Some(sig) = self.stopped_signal() {
            named(f, "stopped (not terminated) by signal", sig)
        } else if self.continued() {
            f.write_str("continued (WIFCONTINUED)")
        } else {
            write!(f, "unrecognised wait status: {} {:#x}", self.0, self.0)
        }
    }
}

crate::bits::bit_flags! {
    /// Options of [`wait4`] and [`waitid`] (`W*`).
    ///
    /// ```
    /// use vspawn::wait::WaitOptions;
    ///
    /// let poll = WaitOptions::WEXITED | WaitOptions::WNOHANG;
    /// assert_eq!(poll.bits(), 5);
    /// assert_eq!(format!("{poll:?}"), "WaitOptions(WNOHANG | WEXITED)");
    /// ```
    pub struct WaitOptions: u32;
    /// The [`WaitOptions`] as constants.
    pub mod wflags {
        /// Return at once if no child is ready.
        const WNOHANG = 1;
        /// Also report stopped children (`wait4`).
        const WUNTRACED = 2;
        /// Report stopped children (`waitid`; the same bit as `WUNTRACED`).
        const WSTOPPED = 2;
        /// Report exited children (`waitid`).
        const WEXITED = 4;
        /// Report continued children.
        const WCONTINUED = 8;
        /// Leave the child waitable (`waitid`).
        const WNOWAIT = 0x0100_0000;
        /// Do not wait for the children of other threads of the group (`__WNOTHREAD`).
        const WNOTHREAD = 0x2000_0000;
        /// Wait for clone children (those with an exit signal other than `SIGCHLD`) too
        /// (`__WALL`).
        const WALL = 0x4000_0000;
        /// Wait only for clone children (`__WCLONE`).
        const WCLONE = 0x8000_0000;
    }
}

/// Waits for a child (`pid` > 0: that child; -1: any; 0: our group; < -1: group `-pid`).
/// Returns its pid and status; with `WNOHANG` and no child ready, `(0, _)`.
///
/// ```
/// use vspawn::clone::{Fork, fork};
/// use vspawn::wait::{WaitOptions, wait4};
///
/// // SAFETY: the child only ends itself with a raw syscall.
/// match unsafe { fork() }? {
///     Fork::Child => vspawn::process::exit_group(3),
///     Fork::Parent(pid) => {
///         let (waited, status) = wait4(pid, WaitOptions::empty(), None)?;
///         assert_eq!((waited, status.code()), (pid, Some(3)));
///         // Reaped: nothing is left to wait for.
///         assert_eq!(wait4(pid, WaitOptions::empty(), None), Err(vspawn::Errno::ECHILD));
///     }
/// }
/// # Ok::<(), vspawn::Errno>(())
/// ```
pub fn wait4(
    pid: Pid,
    options: WaitOptions,
    rusage: Option<&mut Rusage>,
) -> Result<(Pid, ExitStatus)> {
    let mut status = 0i32;
    let ru = rusage.map_or(core::ptr::null_mut(), |r| r as *mut Rusage);
    // SAFETY: the kernel writes an int to `status` and, if not null, a rusage to `ru`.
    let ret =
        unsafe { crate::sys::syscall!(WAIT4, pid, &mut status as *mut i32, options.bits(), ru) };
    Errno::result(ret).map(|p| (p as Pid, ExitStatus(status)))
}

/// What [`waitid`] waits for.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum WaitId<'a> {
    /// Any child (`P_ALL`).
    All,
    /// The child with this pid (`P_PID`).
    Pid(Pid),
    /// Any child in this process group (`P_PGID`).
    Pgid(Pid),
    /// The child this pidfd refers to (`P_PIDFD`, Linux 5.4).
    PidFd(&'a PidFd),
}

/// Waits for a child's state change (`options` must name one of `WEXITED`, `WSTOPPED`,
/// `WCONTINUED`). Returns the filled `siginfo`; with `WNOHANG` and no child ready, its `pid()`
/// is 0.
///
/// ```
/// use vspawn::wait::{WaitId, WaitOptions, waitid};
///
/// // No child at all: ECHILD, and with WNOHANG as well.
/// let any = waitid(WaitId::All, WaitOptions::WEXITED | WaitOptions::WNOHANG, None);
/// assert_eq!(any.map(|info| info.pid()), Err(vspawn::Errno::ECHILD));
/// ```
pub fn waitid(
    id: WaitId<'_>,
    options: WaitOptions,
    rusage: Option<&mut Rusage>,
) -> Result<SigInfo> {
    let (idtype, idval) = match id {
        WaitId::All => (0, 0),
        WaitId::Pid(p) => (1, p),
        WaitId::Pgid(p) => (2, p),
        WaitId::PidFd(fd) => (3, fd.as_raw_fd()),
    };
    let mut info = SigInfo::zeroed();
    let ru = rusage.map_or(core::ptr::null_mut(), |r| r as *mut Rusage);
    // SAFETY: the kernel writes a siginfo into `info` and, if not null, a rusage into `ru`.
    let ret = unsafe {
        crate::sys::syscall!(
            WAITID,
            idtype,
            idval,
            &mut info as *mut SigInfo,
            options.bits(),
            ru
        )
    };
    Errno::result(ret).map(|_| info)
}

crate::bits::bit_flags! {
    /// Flags of [`pidfd_open`].
    pub struct PidFdFlags: u32 {
        /// The pidfd is non-blocking: `waitid` through it is `EAGAIN` while the process runs
        /// (Linux 5.10).
        const PIDFD_NONBLOCK = 0o4000;
        /// The pidfd refers to a thread, not a process (Linux 6.9).
        const PIDFD_THREAD = 0o200;
    }
}

/// A pidfd: a descriptor that refers to one process for as long as it is open, so that a
/// signal or wait through it cannot reach another process that got a recycled pid. A type of its
/// own, so that a pidfd and a pid cannot be swapped by accident (both are integers to the
/// kernel). Closed when dropped.
///
/// ```
/// use vspawn::process::getpid;
/// use vspawn::wait::{PidFd, PidFdFlags, pidfd_open};
///
/// let me: PidFd = pidfd_open(getpid(), PidFdFlags::empty())?;
/// me.send_signal(None)?; // only checks that the process exists
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Debug)]
#[repr(transparent)]
pub struct PidFd(OwnedFd);

impl PidFd {
    /// Takes ownership of `fd` as a pidfd.
    ///
    /// # Safety
    ///
    /// `fd` must be an open pidfd that nothing else owns or will close.
    pub const unsafe fn from_raw_fd(fd: RawFd) -> PidFd {
        // SAFETY: the caller's promise.
        PidFd(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The descriptor number, still owned by `self`.
    #[must_use]
    pub const fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// The descriptor, as a plain owned fd.
    #[must_use]
    pub fn into_owned_fd(self) -> OwnedFd {
        self.0
    }

    /// [`pidfd_send_signal`] through this pidfd.
    pub fn send_signal(&self, sig: Option<Signal>) -> Result<()> {
        pidfd_send_signal(self, sig)
    }
}

impl From<PidFd> for OwnedFd {
    fn from(pidfd: PidFd) -> OwnedFd {
        pidfd.0
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<PidFd> for std::os::fd::OwnedFd {
    fn from(pidfd: PidFd) -> Self {
        pidfd.0.into()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::os::fd::AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::os::fd::AsFd for PidFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Opens a pidfd for `pid` (Linux 5.3). The fd is close-on-exec.
pub fn pidfd_open(pid: Pid, flags: PidFdFlags) -> Result<PidFd> {
    // SAFETY: no pointers.
    let fd = Errno::result(unsafe { crate::sys::syscall!(PIDFD_OPEN, pid, flags.bits()) })?;
    // SAFETY: the kernel just created this pidfd for us.
    Ok(unsafe { PidFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` (or, with `None`, only checks that the process exists) to the process `pidfd`
/// refers to (Linux 5.1).
pub fn pidfd_send_signal(pidfd: &PidFd, sig: Option<Signal>) -> Result<()> {
    let sig = sig.map_or(0, Signal::raw);
    let fd = pidfd.as_raw_fd();
    // SAFETY: a null siginfo asks the kernel to fill a default one.
    let ret = unsafe { crate::sys::syscall!(PIDFD_SEND_SIGNAL, fd, sig, 0usize, 0usize) };
    Errno::result(ret).map(drop)
}
