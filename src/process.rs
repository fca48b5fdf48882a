//! Process and thread identity and lifetime: `getpid`, `getppid`, `gettid`, `kill`, `tgkill`,
//! `exit`, `exit_group`, `prctl`.

use crate::errno::{Errno, Result};
use crate::fd::Mode;
use crate::signal::Signal;

/// A process, thread or process-group id.
pub type Pid = i32;

/// The calling process's id.
pub fn getpid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETPID) as Pid }
}

/// The parent process's id (0 when the parent is outside our pid namespace).
pub fn getppid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETPPID) as Pid }
}

/// The calling thread's id.
pub fn gettid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETTID) as Pid }
}

/// Sends `sig` to `pid` (> 0: a process; 0: our group; -1: every process we may signal; < -1:
/// group `-pid`). With `None`, only checks that the target exists and may be signalled.
pub fn kill(pid: Pid, sig: Option<Signal>) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(KILL, pid, sig.map_or(0, Signal::raw)) }).map(drop)
}

/// Sends `sig` to thread `tid` of thread group `tgid`.
pub fn tgkill(tgid: Pid, tid: Pid, sig: Option<Signal>) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(TGKILL, tgid, tid, sig.map_or(0, Signal::raw)) })
        .map(drop)
}

/// Ends the calling *thread* with `status` (`SYS_exit`). In a single-threaded process this ends
/// the process. Nothing is flushed or unwound. To end the process, use [`exit_group`] (safe).
///
/// # Safety
///
/// The thread's frames are abandoned without running a destructor, and its stack is given up
/// while values on it may still be borrowed: a `vspawn::thread` joiner may then reuse or unmap
/// that stack, and anything else that borrowed from these frames (a scoped thread, a lock guard
/// another thread waits on) is left dangling. The caller must make sure nothing on this
/// thread's stack is still in use by anyone, and that leaking it is acceptable (this is why
/// `pthread_exit` is unsafe in Rust too). A thread that libc or std made must not end this way.
///
/// ```compile_fail,E0133
/// #![forbid(unsafe_code)]
/// vspawn::process::exit_thread(0); // unsafe: abandons the thread's frames
/// ```
///
/// The same call with the caller's promise builds (in a program's only thread, it ends the
/// program):
///
/// ```no_run
/// // SAFETY: nothing on this thread's stack is borrowed by anyone.
/// unsafe { vspawn::process::exit_thread(0) }
/// ```
pub unsafe fn exit_thread(status: i32) -> ! {
    loop {
        // SAFETY: exit takes no pointers and does not return.
        unsafe { crate::sys::syscall!(EXIT, status) };
    }
}

/// Ends the whole process, every thread, with `status` (`SYS_exit_group`). Nothing is flushed or
/// unwound.
pub fn exit_group(status: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        unsafe { crate::sys::syscall!(EXIT_GROUP, status) };
    }
}

/// `prctl` options used by this crate and its users.
pub mod pr {
    /// Set the parent-death signal.
    pub const PR_SET_PDEATHSIG: i32 = 1;
    /// Read the parent-death signal (into an `i32` the caller passes by address).
    pub const PR_GET_PDEATHSIG: i32 = 2;
    /// Set the thread's name (16 bytes with the NUL).
    pub const PR_SET_NAME: i32 = 15;
    /// Make this process a subreaper for its orphaned descendants.
    pub const PR_SET_CHILD_SUBREAPER: i32 = 36;
    /// Read the subreaper flag.
    pub const PR_GET_CHILD_SUBREAPER: i32 = 37;
    /// Set `no_new_privs` (cannot be unset).
    pub const PR_SET_NO_NEW_PRIVS: i32 = 38;
    /// Read `no_new_privs`.
    pub const PR_GET_NO_NEW_PRIVS: i32 = 39;
}

/// `prctl(option, arg2, arg3, arg4, arg5)`: returns the kernel's non-negative result.
///
/// # Safety
///
/// Some options take pointers in their arguments; those must be valid for what the kernel
/// reads or writes there.
pub unsafe fn prctl(
    option: i32,
    arg2: usize,
    arg3: usize,
    arg4: usize,
    arg5: usize,
) -> Result<usize> {
    // SAFETY: the caller vouches for any pointer among the arguments.
    Errno::result(unsafe { crate::sys::syscall!(PRCTL, option, arg2, arg3, arg4, arg5) })
}

/// Creates a new session with the caller as leader (and a new process group); returns its id.
pub fn setsid() -> Result<Pid> {
    // SAFETY: no arguments.
    Errno::result(unsafe { crate::sys::syscall!(SETSID) }).map(|s| s as Pid)
}

/// Moves process `pid` (0: the caller) into process group `pgid` (0: a group whose id is
/// the pid).
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(SETPGID, pid, pgid) }).map(drop)
}

/// The process group of `pid` (0: the caller).
pub fn getpgid(pid: Pid) -> Result<Pid> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(GETPGID, pid) }).map(|p| p as Pid)
}

/// The session id of `pid` (0: the caller).
pub fn getsid(pid: Pid) -> Result<Pid> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(GETSID, pid) }).map(|p| p as Pid)
}

const TIOCGPGRP: usize = 0x540f;
const TIOCSPGRP: usize = 0x5410;

/// Makes process group `pgid` the foreground group of the terminal `fd` (`TIOCSPGRP`).
pub fn tcsetpgrp(fd: crate::fd::RawFd, pgid: Pid) -> Result<()> {
    // SAFETY: the kernel reads one pid_t at the pointer, which lives for the call.
    Errno::result(unsafe { crate::sys::syscall!(IOCTL, fd, TIOCSPGRP, &pgid as *const Pid) })
        .map(drop)
}

/// The foreground process group of the terminal `fd` (`TIOCGPGRP`); `ENOTTY` if it is no
/// terminal.
pub fn tcgetpgrp(fd: crate::fd::RawFd) -> Result<Pid> {
    let mut pgid: Pid = 0;
    // SAFETY: the kernel writes one pid_t at the pointer.
    Errno::result(unsafe { crate::sys::syscall!(IOCTL, fd, TIOCGPGRP, &mut pgid as *mut Pid) })?;
    Ok(pgid)
}

/// The real user id.
pub fn getuid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETUID) as u32 }
}

/// The effective user id.
pub fn geteuid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETEUID) as u32 }
}

/// The real group id.
pub fn getgid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETGID) as u32 }
}

/// The effective group id.
pub fn getegid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { crate::sys::syscall!(GETEGID) as u32 }
}

/// "Leave unchanged" for [`set_thread_res_uid`] and [`set_thread_res_gid`].
pub const ID_UNCHANGED: u32 = u32::MAX;

/// `setresuid` for the calling *thread* only: sets its real, effective and saved user ids
/// ([`ID_UNCHANGED`] keeps one). The kernel has no process-wide call: libc's `setresuid` makes
/// every thread call it. In a single-threaded process (a child before exec) it is the same.
pub fn set_thread_res_uid(ruid: u32, euid: u32, suid: u32) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(SETRESUID, ruid, euid, suid) }).map(drop)
}

/// `setresgid` for the calling *thread* only ([`ID_UNCHANGED`] keeps one), as
/// [`set_thread_res_uid`].
pub fn set_thread_res_gid(rgid: u32, egid: u32, sgid: u32) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(SETRESGID, rgid, egid, sgid) }).map(drop)
}

/// `setgroups` for the calling *thread* only: sets its supplementary group list, as
/// [`set_thread_res_uid`].
pub fn set_thread_groups(groups: &[u32]) -> Result<()> {
    // SAFETY: the kernel reads `groups.len()` gids from the slice.
    Errno::result(unsafe { crate::sys::syscall!(SETGROUPS, groups.len(), groups.as_ptr()) })
        .map(drop)
}

/// A resource limit: soft (`cur`) and hard (`max`) values; [`RLIM_INFINITY`] is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Rlimit {
    /// The soft limit, the one enforced.
    pub cur: u64,
    /// The hard limit, the ceiling for the soft one.
    pub max: u64,
}

/// No limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// A resource whose use [`prlimit`] limits (`RLIMIT_*`, the same numbers on every architecture
/// vspawn supports). `#[non_exhaustive]`: the kernel may add more.
///
/// ```
/// use vspawn::process::{Resource, prlimit};
///
/// let files = prlimit(0, Resource::Nofile, None)?;
/// assert!(files.cur <= files.max);
/// assert_eq!(Resource::Nofile as u32, 7);
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum Resource {
    /// CPU time, seconds (`RLIMIT_CPU`).
    Cpu = 0,
    /// File size, bytes (`RLIMIT_FSIZE`).
    Fsize = 1,
    /// Data segment, bytes (`RLIMIT_DATA`).
    Data = 2,
    /// Stack, bytes (`RLIMIT_STACK`).
    Stack = 3,
    /// Core file size, bytes (`RLIMIT_CORE`).
    Core = 4,
    /// Resident set (ignored by Linux) (`RLIMIT_RSS`).
    Rss = 5,
    /// Processes of the real user (`RLIMIT_NPROC`).
    Nproc = 6,
    /// Open files: one more than the highest fd number (`RLIMIT_NOFILE`).
    Nofile = 7,
    /// Locked memory, bytes (`RLIMIT_MEMLOCK`).
    Memlock = 8,
    /// Address space, bytes (`RLIMIT_AS`).
    As = 9,
    /// File locks (ignored by Linux) (`RLIMIT_LOCKS`).
    Locks = 10,
    /// Queued signals of the real user (`RLIMIT_SIGPENDING`).
    Sigpending = 11,
    /// Bytes in POSIX message queues (`RLIMIT_MSGQUEUE`).
    Msgqueue = 12,
    /// Ceiling of the nice value, as `20 - limit` (`RLIMIT_NICE`).
    Nice = 13,
    /// Ceiling of the real-time priority (`RLIMIT_RTPRIO`).
    Rtprio = 14,
    /// CPU time without a blocking syscall under a real-time policy, microseconds
    /// (`RLIMIT_RTTIME`).
    Rttime = 15,
}

/// The [`Resource`]s under their C names, for `use vspawn::process::rlimit::*`.
pub mod rlimit {
    use super::Resource;

    /// [`Resource::Cpu`].
    pub const RLIMIT_CPU: Resource = Resource::Cpu;
    /// [`Resource::Fsize`].
    pub const RLIMIT_FSIZE: Resource = Resource::Fsize;
    /// [`Resource::Data`].
    pub const RLIMIT_DATA: Resource = Resource::Data;
    /// [`Resource::Stack`].
    pub const RLIMIT_STACK: Resource = Resource::Stack;
    /// [`Resource::Core`].
    pub const RLIMIT_CORE: Resource = Resource::Core;
    /// [`Resource::Rss`].
    pub const RLIMIT_RSS: Resource = Resource::Rss;
    /// [`Resource::Nproc`].
    pub const RLIMIT_NPROC: Resource = Resource::Nproc;
    /// [`Resource::Nofile`].
    pub const RLIMIT_NOFILE: Resource = Resource::Nofile;
    /// [`Resource::Memlock`].
    pub const RLIMIT_MEMLOCK: Resource = Resource::Memlock;
    /// [`Resource::As`].
    pub const RLIMIT_AS: Resource = Resource::As;
    /// [`Resource::Locks`].
    pub const RLIMIT_LOCKS: Resource = Resource::Locks;
    /// [`Resource::Sigpending`].
    pub const RLIMIT_SIGPENDING: Resource = Resource::Sigpending;
    /// [`Resource::Msgqueue`].
    pub const RLIMIT_MSGQUEUE: Resource = Resource::Msgqueue;
    /// [`Resource::Nice`].
    pub const RLIMIT_NICE: Resource = Resource::Nice;
    /// [`Resource::Rtprio`].
    pub const RLIMIT_RTPRIO: Resource = Resource::Rtprio;
    /// [`Resource::Rttime`].
    pub const RLIMIT_RTTIME: Resource = Resource::Rttime;
}

/// Sets (if `new` is given) and returns the previous limit of `resource` for process `pid`
/// (0: the caller).
pub fn prlimit(pid: Pid, resource: Resource, new: Option<&Rlimit>) -> Result<Rlimit> {
    let mut old = Rlimit { cur: 0, max: 0 };
    let new_ptr = new.map_or(core::ptr::null(), |r| r as *const Rlimit);
    let resource = resource as u32;
    // SAFETY: `new_ptr` is null or a valid rlimit; the kernel writes one into `old`.
    let ret =
        unsafe { crate::sys::syscall!(PRLIMIT64, pid, resource, new_ptr, &mut old as *mut Rlimit) };
    Errno::result(ret).map(|_| old)
}

/// Sets the file mode creation mask; returns the previous one.
pub fn umask(mask: Mode) -> Mode {
    // SAFETY: no pointers; cannot fail.
    Mode::from_bits_retain(unsafe { crate::sys::syscall!(UMASK, mask.bits()) as u32 })
}

/// A `struct timespec`: seconds and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: i64,
}

impl Timespec {
    /// The time in nanoseconds (saturating).
    pub const fn as_nanos(self) -> u64 {
        (self.sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(self.nsec as u64)
    }
}

/// A clock for [`clock_gettime`] (`CLOCK_*`). A newtype rather than an enum: dynamic clocks
/// (a CPU-time clock of another process, a PTP device) are numbers the kernel computes.
///
/// ```
/// use vspawn::process::{ClockId, clock_gettime};
///
/// let a = clock_gettime(ClockId::MONOTONIC)?;
/// let b = clock_gettime(ClockId::MONOTONIC)?;
/// assert!(a <= b);
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct ClockId(i32);

impl ClockId {
    /// Wall-clock time.
    pub const REALTIME: ClockId = ClockId(0);
    /// Time since an unspecified start, never jumping; excludes suspend.
    pub const MONOTONIC: ClockId = ClockId(1);
    /// CPU time of the calling process.
    pub const PROCESS_CPUTIME_ID: ClockId = ClockId(2);
    /// CPU time of the calling thread.
    pub const THREAD_CPUTIME_ID: ClockId = ClockId(3);
    /// Like `MONOTONIC`, without NTP's frequency adjustments.
    pub const MONOTONIC_RAW: ClockId = ClockId(4);
    /// `REALTIME`, cheaper and coarser.
    pub const REALTIME_COARSE: ClockId = ClockId(5);
    /// `MONOTONIC`, cheaper and coarser.
    pub const MONOTONIC_COARSE: ClockId = ClockId(6);
    /// Like `MONOTONIC`, including time suspended.
    pub const BOOTTIME: ClockId = ClockId(7);
    /// International Atomic Time.
    pub const TAI: ClockId = ClockId(11);

    /// A clock by its number (a dynamic clock, or one newer than this crate).
    pub const fn from_raw(id: i32) -> ClockId {
        ClockId(id)
    }

    /// The clock's number.
    pub const fn raw(self) -> i32 {
        self.0
    }
}

/// The [`ClockId`]s under their C names.
pub mod clock {
    use super::ClockId;

    /// [`ClockId::REALTIME`].
    pub const CLOCK_REALTIME: ClockId = ClockId::REALTIME;
    /// [`ClockId::MONOTONIC`].
    pub const CLOCK_MONOTONIC: ClockId = ClockId::MONOTONIC;
    /// [`ClockId::PROCESS_CPUTIME_ID`].
    pub const CLOCK_PROCESS_CPUTIME_ID: ClockId = ClockId::PROCESS_CPUTIME_ID;
    /// [`ClockId::THREAD_CPUTIME_ID`].
    pub const CLOCK_THREAD_CPUTIME_ID: ClockId = ClockId::THREAD_CPUTIME_ID;
    /// [`ClockId::MONOTONIC_RAW`].
    pub const CLOCK_MONOTONIC_RAW: ClockId = ClockId::MONOTONIC_RAW;
    /// [`ClockId::REALTIME_COARSE`].
    pub const CLOCK_REALTIME_COARSE: ClockId = ClockId::REALTIME_COARSE;
    /// [`ClockId::MONOTONIC_COARSE`].
    pub const CLOCK_MONOTONIC_COARSE: ClockId = ClockId::MONOTONIC_COARSE;
    /// [`ClockId::BOOTTIME`].
    pub const CLOCK_BOOTTIME: ClockId = ClockId::BOOTTIME;
    /// [`ClockId::TAI`].
    pub const CLOCK_TAI: ClockId = ClockId::TAI;
}

/// Reads a clock (the system call; no vDSO without libc).
pub fn clock_gettime(clock: ClockId) -> Result<Timespec> {
    let clock = clock.raw();
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one timespec into `ts`.
    Errno::result(unsafe { crate::sys::syscall!(CLOCK_GETTIME, clock, &mut ts as *mut Timespec) })?;
    Ok(ts)
}

/// Every constant of this module and of `fd` the kernel defines, against the `libc` crate's
/// values for the target (the unit tests run on each architecture).
#[cfg(test)]
// libc's types for these differ between targets (c_ulong, u32, i32...): the casts are needed on
// some even where they are not on this one.
#[allow(clippy::unnecessary_cast)]
mod platform_constants {
    use super::*;

    #[test]
    fn resources_are_the_platform_rlimits() {
        let pairs = [
            (Resource::Cpu, libc::RLIMIT_CPU),
            (Resource::Fsize, libc::RLIMIT_FSIZE),
            (Resource::Data, libc::RLIMIT_DATA),
            (Resource::Stack, libc::RLIMIT_STACK),
            (Resource::Core, libc::RLIMIT_CORE),
            (Resource::Rss, libc::RLIMIT_RSS),
            (Resource::Nproc, libc::RLIMIT_NPROC),
            (Resource::Nofile, libc::RLIMIT_NOFILE),
            (Resource::Memlock, libc::RLIMIT_MEMLOCK),
            (Resource::As, libc::RLIMIT_AS),
            (Resource::Locks, libc::RLIMIT_LOCKS),
            (Resource::Sigpending, libc::RLIMIT_SIGPENDING),
            (Resource::Msgqueue, libc::RLIMIT_MSGQUEUE),
            (Resource::Nice, libc::RLIMIT_NICE),
            (Resource::Rtprio, libc::RLIMIT_RTPRIO),
            (Resource::Rttime, libc::RLIMIT_RTTIME),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(u64::from(ours as u32), theirs as u64, "{ours:?}");
        }
        // Every resource of today's kernels (RLIMIT_NLIMITS is 16; libc deprecates reading it).
        assert_eq!(pairs.len(), 16);
        assert_eq!(RLIM_INFINITY, libc::RLIM64_INFINITY);
    }

    #[test]
    fn clocks_are_the_platform_clocks() {
        let pairs = [
            (ClockId::REALTIME, libc::CLOCK_REALTIME),
            (ClockId::MONOTONIC, libc::CLOCK_MONOTONIC),
            (ClockId::PROCESS_CPUTIME_ID, libc::CLOCK_PROCESS_CPUTIME_ID),
            (ClockId::THREAD_CPUTIME_ID, libc::CLOCK_THREAD_CPUTIME_ID),
            (ClockId::MONOTONIC_RAW, libc::CLOCK_MONOTONIC_RAW),
            (ClockId::REALTIME_COARSE, libc::CLOCK_REALTIME_COARSE),
            (ClockId::MONOTONIC_COARSE, libc::CLOCK_MONOTONIC_COARSE),
            (ClockId::BOOTTIME, libc::CLOCK_BOOTTIME),
            (ClockId::TAI, libc::CLOCK_TAI),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.raw(), theirs, "{ours:?}");
        }
    }

    #[test]
    fn terminal_ioctls_are_the_platform_ones() {
        assert_eq!(TIOCGPGRP as u64, libc::TIOCGPGRP as u64);
        assert_eq!(TIOCSPGRP as u64, libc::TIOCSPGRP as u64);
    }

    #[test]
    fn fd_constants_are_the_platform_ones() {
        use crate::fd;
        assert_eq!(fd::AT_FDCWD, libc::AT_FDCWD);
        assert_eq!(fd::FD_CLOEXEC, libc::FD_CLOEXEC as u32);
        assert_eq!(fd::F_DUPFD_CLOEXEC, libc::F_DUPFD_CLOEXEC as usize);
        assert_eq!(fd::CLOSE_RANGE_CLOEXEC, libc::CLOSE_RANGE_CLOEXEC);
        assert_eq!(fd::CLOSE_RANGE_UNSHARE, libc::CLOSE_RANGE_UNSHARE);
        let modes = [
            (fd::Mode::S_ISUID, libc::S_ISUID),
            (fd::Mode::S_ISGID, libc::S_ISGID),
            (fd::Mode::S_ISVTX, libc::S_ISVTX),
            (fd::Mode::S_IRWXU, libc::S_IRWXU),
            (fd::Mode::S_IRUSR, libc::S_IRUSR),
            (fd::Mode::S_IWUSR, libc::S_IWUSR),
            (fd::Mode::S_IXUSR, libc::S_IXUSR),
            (fd::Mode::S_IRWXG, libc::S_IRWXG),
            (fd::Mode::S_IRGRP, libc::S_IRGRP),
            (fd::Mode::S_IWGRP, libc::S_IWGRP),
            (fd::Mode::S_IXGRP, libc::S_IXGRP),
            (fd::Mode::S_IRWXO, libc::S_IRWXO),
            (fd::Mode::S_IROTH, libc::S_IROTH),
            (fd::Mode::S_IWOTH, libc::S_IWOTH),
            (fd::Mode::S_IXOTH, libc::S_IXOTH),
        ];
        for (ours, theirs) in modes {
            assert_eq!(ours.bits(), theirs as u32, "{ours:?}");
        }
        assert_eq!(
            crate::wait::PidFdFlags::PIDFD_THREAD.bits(),
            libc::O_EXCL as u32
        );
    }

    #[cfg(feature = "entry")]
    #[test]
    fn auxiliary_vector_keys_are_the_platform_ones() {
        use crate::entry::aux::*;
        let pairs = [
            (AT_NULL, libc::AT_NULL),
            (AT_PHDR, libc::AT_PHDR),
            (AT_PHENT, libc::AT_PHENT),
            (AT_PHNUM, libc::AT_PHNUM),
            (AT_PAGESZ, libc::AT_PAGESZ),
            (AT_BASE, libc::AT_BASE),
            (AT_ENTRY, libc::AT_ENTRY),
            (AT_UID, libc::AT_UID),
            (AT_EUID, libc::AT_EUID),
            (AT_GID, libc::AT_GID),
            (AT_EGID, libc::AT_EGID),
            (AT_PLATFORM, libc::AT_PLATFORM),
            (AT_HWCAP, libc::AT_HWCAP),
            (AT_CLKTCK, libc::AT_CLKTCK),
            (AT_SECURE, libc::AT_SECURE),
            (AT_RANDOM, libc::AT_RANDOM),
            (AT_HWCAP2, libc::AT_HWCAP2),
            (AT_EXECFN, libc::AT_EXECFN),
            (AT_SYSINFO_EHDR, libc::AT_SYSINFO_EHDR),
            (AT_MINSIGSTKSZ, libc::AT_MINSIGSTKSZ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours as u64, theirs as u64);
        }
    }
}
