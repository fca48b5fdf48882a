//! Process and thread identity and lifetime: `getpid`, `getppid`, `gettid`, `kill`, `tgkill`,
//! `exit`, `exit_group`, `prctl`.

use crate::errno::{Errno, Result};
use crate::signal::Signal;

/// A process, thread or process-group id.
pub type Pid = i32;

/// The calling process's id.
pub fn getpid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc::syscall!(GETPID) as Pid }
}

/// The parent process's id (0 when the parent is outside our pid namespace).
pub fn getppid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc::syscall!(GETPPID) as Pid }
}

/// The calling thread's id.
pub fn gettid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc::syscall!(GETTID) as Pid }
}

/// Sends `sig` to `pid` (> 0: a process; 0: our group; -1: every process we may signal; < -1:
/// group `-pid`). With `None`, only checks that the target exists and may be signalled.
pub fn kill(pid: Pid, sig: Option<Signal>) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { sc::syscall!(KILL, pid, sig.map_or(0, Signal::raw)) }).map(drop)
}

/// Sends `sig` to thread `tid` of thread group `tgid`.
pub fn tgkill(tgid: Pid, tid: Pid, sig: Option<Signal>) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { sc::syscall!(TGKILL, tgid, tid, sig.map_or(0, Signal::raw)) }).map(drop)
}

/// Ends the calling *thread* with `status` (`SYS_exit`). In a single-threaded process this ends
/// the process. Nothing is flushed or unwound.
pub fn exit(status: i32) -> ! {
    loop {
        // SAFETY: exit takes no pointers and does not return.
        unsafe { sc::syscall!(EXIT, status) };
    }
}

/// Ends the whole process, every thread, with `status` (`SYS_exit_group`). Nothing is flushed or
/// unwound.
pub fn exit_group(status: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        unsafe { sc::syscall!(EXIT_GROUP, status) };
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
    Errno::result(unsafe { sc::syscall!(PRCTL, option, arg2, arg3, arg4, arg5) })
}
