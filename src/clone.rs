//! Process creation: [`fork`], [`vfork`], and the low-level [`clone`] and [`clone3`] with the
//! clone3 → clone fallback.
//!
//! The child of every call here except `fork` starts in assembly (`arch/`): it calls a
//! function of the caller's and then ends with the `exit` syscall, never returning into the Rust
//! frame that cloned it. That is what makes a `CLONE_VM` child that runs on the parent's own
//! stack, below the parent's stack pointer, safe: the parent's frames above that pointer are
//! never touched, and there is no stack to allocate or size.

use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::errno::{Errno, Result};
use crate::fd::RawFd;
use crate::process::Pid;
use crate::signal::Signal;
use crate::wait::PidFd;

/// The function a clone child runs: it gets the `arg` given to the clone call, and its result
/// becomes the child's exit status (for a thread, the value `exit` is called with).
pub type ChildFn = unsafe extern "C" fn(usize) -> i32;

crate::bits::bit_flags! {
    /// `CLONE_*` flags (a `u64`: the highest exist only in `clone3`), without the exit signal,
    /// which [`clone`] and [`Clone3`] take apart, as a [`Signal`].
    ///
    /// ```
    /// use vspawn::clone::CloneFlags;
    ///
    /// let thread = CloneFlags::CLONE_VM | CloneFlags::CLONE_THREAD | CloneFlags::CLONE_SIGHAND;
    /// assert!(thread.contains(CloneFlags::CLONE_VM));
    /// assert_eq!(thread.bits(), 0x10900);
    /// assert_eq!(format!("{thread:?}"), "CloneFlags(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)");
    /// ```
    pub struct CloneFlags: u64;
    /// The [`CloneFlags`] as constants, for `use vspawn::clone::flags::*`.
    pub mod flags {
        /// Child gets a new time namespace (clone3 only: in clone's flags this bit is the exit signal).
        const CLONE_NEWTIME = 0x80;
        /// Share the address space.
        const CLONE_VM = 0x100;
        /// Share root, current directory and umask.
        const CLONE_FS = 0x200;
        /// Share the fd table.
        const CLONE_FILES = 0x400;
        /// Share signal handlers (needs `CLONE_VM`).
        const CLONE_SIGHAND = 0x800;
        /// Return a pidfd for the child.
        const CLONE_PIDFD = 0x1000;
        /// Continue tracing the child if the parent is traced.
        const CLONE_PTRACE = 0x2000;
        /// Suspend the parent until the child execs or exits.
        const CLONE_VFORK = 0x4000;
        /// The child's parent is our parent.
        const CLONE_PARENT = 0x8000;
        /// Same thread group (needs `CLONE_SIGHAND`).
        const CLONE_THREAD = 0x10000;
        /// New mount namespace.
        const CLONE_NEWNS = 0x20000;
        /// Share System V semaphore undo lists.
        const CLONE_SYSVSEM = 0x40000;
        /// Set the child's TLS register from the `tls` argument.
        const CLONE_SETTLS = 0x80000;
        /// Write the child's tid at `parent_tid` (in the parent's memory).
        const CLONE_PARENT_SETTID = 0x10_0000;
        /// Clear `child_tid` and futex-wake it when the child exits.
        const CLONE_CHILD_CLEARTID = 0x20_0000;
        /// Do not let a tracer force tracing on the child.
        const CLONE_UNTRACED = 0x80_0000;
        /// Write the child's tid at `child_tid` (in the child's memory).
        const CLONE_CHILD_SETTID = 0x100_0000;
        /// New cgroup namespace.
        const CLONE_NEWCGROUP = 0x200_0000;
        /// New UTS namespace.
        const CLONE_NEWUTS = 0x400_0000;
        /// New IPC namespace.
        const CLONE_NEWIPC = 0x800_0000;
        /// New user namespace.
        const CLONE_NEWUSER = 0x1000_0000;
        /// New pid namespace.
        const CLONE_NEWPID = 0x2000_0000;
        /// New network namespace.
        const CLONE_NEWNET = 0x4000_0000;
        /// Share the I/O context.
        const CLONE_IO = 0x8000_0000;
        /// Reset every handled signal to its default in the child (clone3 only, Linux 5.5).
        const CLONE_CLEAR_SIGHAND = 0x1_0000_0000;
        /// Start the child in the cgroup given by `cgroup` (clone3 only, Linux 5.7).
        const CLONE_INTO_CGROUP = 0x2_0000_0000;
    }
}
use flags::*;

/// The low byte of clone's flag word: the exit signal.
const CSIGNAL: u64 = 0xff;

/// An obsolete flag, ignored by clone and refused by clone3.
const CLONE_DETACHED: u64 = 0x40_0000;

/// Flags only `clone3` can express; asked of `clone` they are an unsupported request.
const CLONE3_ONLY: CloneFlags = CLONE_CLEAR_SIGHAND
    .union(CLONE_INTO_CGROUP)
    .union(CLONE_NEWTIME);

/// The kernel's `struct clone_args` (version 2, 88 bytes: up to `cgroup`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CloneArgs {
    /// `CLONE_*` flags, without the exit signal.
    pub flags: u64,
    /// With `CLONE_PIDFD`: where the kernel stores the pidfd (an `int`).
    pub pidfd: u64,
    /// With `CLONE_CHILD_SETTID`/`CLEARTID`: the tid slot in the child's memory.
    pub child_tid: u64,
    /// With `CLONE_PARENT_SETTID`: the tid slot in the parent's memory.
    pub parent_tid: u64,
    /// The signal sent to the parent when the child ends (0: none).
    pub exit_signal: u64,
    /// Lowest address of the child's stack (0: the child runs on the caller's stack pointer).
    pub stack: u64,
    /// Size of the child's stack.
    pub stack_size: u64,
    /// With `CLONE_SETTLS`: the TLS value.
    pub tls: u64,
    /// Pointer to an array of pids to give the child, one per pid namespace level.
    pub set_tid: u64,
    /// Length of `set_tid`.
    pub set_tid_size: u64,
    /// With `CLONE_INTO_CGROUP`: an fd of the target cgroup directory.
    pub cgroup: u64,
}

static_assertions::const_assert_eq!(size_of::<CloneArgs>(), 88);
static_assertions::const_assert_eq!(offset_of!(CloneArgs, exit_signal), 32);
static_assertions::const_assert_eq!(offset_of!(CloneArgs, tls), 56);
static_assertions::const_assert_eq!(offset_of!(CloneArgs, cgroup), 80);

/// Set once clone3 has answered ENOSYS (or a caller disabled it): use clone from then on.
static CLONE3_MISSING: AtomicBool = AtomicBool::new(false);

/// Whether `clone3` is still believed to work in this process (no ENOSYS seen yet).
#[must_use]
pub fn clone3_available() -> bool {
    !CLONE3_MISSING.load(Ordering::Relaxed)
}

/// Makes this process behave as if `clone3` were missing (`true`) or retries it (`false`).
///
/// A documented hook for two users: tests of the fallback path (every spawn then takes the
/// `clone` route, as on a kernel before 5.3), and sandboxes whose seccomp policy *kills* a
/// process that calls clone3 instead of refusing it with ENOSYS. With clone3 disabled,
/// requests only clone3 can serve fail with `EOPNOTSUPP`.
pub fn set_clone3_disabled(disabled: bool) {
    CLONE3_MISSING.store(disabled, Ordering::Relaxed);
}

/// The low-level `clone`: creates a task with any flag set and runs `f(arg)` in it.
///
/// `exit_signal` is the signal the parent gets when the child ends (`SIGCHLD` for a child
/// process; `None` for a thread, or a child waited for with `__WALL`). `stack` is the *top* of
/// the child's stack; `None` runs the child on the caller's stack, below the current stack
/// pointer (only sound with `CLONE_VFORK`, or without `CLONE_VM`). Returns the child's id in the
/// parent; the child never returns here: it ends with `exit(f(arg))` (`exit_group` unless it is
/// a thread). `EOPNOTSUPP` for the flags only [`clone3`] has.
///
/// ```
/// use vspawn::clone::{CloneFlags, clone};
/// use vspawn::signal::Signal;
/// use vspawn::wait::{WaitOptions, wait4};
///
/// extern "C" fn child(arg: usize) -> i32 {
///     arg as i32 + 1
/// }
/// let null = core::ptr::null_mut();
/// // SAFETY: no CLONE_VM: the child runs `child` in its own copy of our memory, on its copy of
/// // our stack, and touches nothing else.
/// let pid = unsafe {
///     clone(CloneFlags::empty(), Some(Signal::SIGCHLD), None, null, null, 0, child, 41)
/// }?;
/// let (_, status) = wait4(pid, WaitOptions::empty(), None)?;
/// assert_eq!(status.code(), Some(42));
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// # Safety
///
/// - The flags must be a combination the caller can live with: with `CLONE_VM` the child shares
///   all memory (and, without `CLONE_SETTLS`, the thread pointer and so the caller's
///   thread-locals); with `CLONE_VM` but without `CLONE_VFORK` it needs its own `stack`, which
///   must stay mapped until it exits.
/// - `parent_tid`, `child_tid` and `tls` must be valid for the flags that use them, for as long
///   as the kernel may write them (`CLONE_CHILD_CLEARTID`: until the child exits).
/// - `f` must be callable with `arg` in the child's situation: with shared memory, no locks that
///   another thread may hold, no allocation unless the allocator is safe there, no unwinding.
// The syscall's five arguments, the exit signal apart, and the child's function and argument.
#[allow(clippy::too_many_arguments)]
pub unsafe fn clone(
    flags: CloneFlags,
    exit_signal: Option<Signal>,
    stack: Option<*mut u8>,
    parent_tid: *mut Pid,
    child_tid: *mut Pid,
    tls: usize,
    f: ChildFn,
    arg: usize,
) -> Result<Pid> {
    // clone's word has 32 bits of flags, the low byte of which is the exit signal.
    if flags.intersects(CLONE3_ONLY) || flags.bits() > u64::from(u32::MAX) {
        return Err(Errno::EOPNOTSUPP);
    }
    let word = flags.bits() | exit_signal.map_or(0, Signal::raw) as u64;
    let stack = stack.unwrap_or(core::ptr::null_mut());
    let start = ChildStart::new(flags, f, arg);
    // SAFETY: the caller upholds the contract above, which is the trampoline's.
    let ret =
        unsafe { crate::arch::clone(word as usize, stack, parent_tid, child_tid, tls, start) };
    Errno::result(ret).map(|pid| pid as Pid)
}

/// What the clone trampoline runs in the child: `f(arg)`, then the syscall `exit_nr` with f's
/// result.
pub(crate) struct ChildStart {
    pub f: ChildFn,
    pub arg: usize,
    pub exit_nr: usize,
}

impl ChildStart {
    /// A thread (`CLONE_THREAD`) ends with `exit`, which ends only itself; any other child with
    /// `exit_group`, being a process of its own. (The kernel treats both alike there, but
    /// qemu-user emulates a thread's `exit` with a lock that a fork child may have copied while
    /// held, and would hang in it.)
    fn new(flags: CloneFlags, f: ChildFn, arg: usize) -> ChildStart {
        let exit_nr = if flags.contains(CLONE_THREAD) {
            crate::sys::nr::EXIT
        } else {
            crate::sys::nr::EXIT_GROUP
        };
        ChildStart { f, arg, exit_nr }
    }
}

/// The typed request for [`clone3`], built from [`Clone3::new`] (a child process: no flags,
/// `SIGCHLD` when it ends, on the caller's stack) with the methods below.
///
/// ```
/// use vspawn::clone::{Clone3, CloneFlags};
/// use vspawn::signal::Signal;
///
/// let req = Clone3::new().flags(CloneFlags::CLONE_PIDFD).exit_signal(Some(Signal::SIGUSR1));
/// assert_eq!(req.flags, CloneFlags::CLONE_PIDFD);
/// assert_eq!(req.exit_signal, Some(Signal::SIGUSR1));
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
#[must_use]
pub struct Clone3<'a> {
    /// `CLONE_*` flags (the exit signal is apart).
    pub flags: CloneFlags,
    /// The signal sent to the parent when the child ends (`None`: no signal; such a child is
    /// waited for with `__WALL`/`__WCLONE`).
    pub exit_signal: Option<Signal>,
    /// With `CLONE_CHILD_SETTID`/`CLONE_CHILD_CLEARTID`: the tid slot in the child's memory.
    pub child_tid: *mut Pid,
    /// With `CLONE_PARENT_SETTID`: the tid slot in the parent's memory.
    pub parent_tid: *mut Pid,
    /// The child's stack as `(lowest address, size)`; `None`: the caller's stack pointer.
    pub stack: Option<(*mut u8, usize)>,
    /// With `CLONE_SETTLS`: the TLS value.
    pub tls: usize,
    /// The pids to give the child, innermost namespace first (needs `CAP_SYS_ADMIN`).
    pub set_tid: &'a [Pid],
    /// With `CLONE_INTO_CGROUP`: an fd of the cgroup directory to start the child in.
    pub cgroup: Option<RawFd>,
}

impl Default for Clone3<'_> {
    fn default() -> Self {
        Clone3::new()
    }
}

impl<'a> Clone3<'a> {
    /// A child process: no flags, `SIGCHLD` when it ends, on the caller's stack.
    pub const fn new() -> Clone3<'a> {
        Clone3 {
            flags: CloneFlags::empty(),
            exit_signal: Some(Signal::SIGCHLD),
            child_tid: core::ptr::null_mut(),
            parent_tid: core::ptr::null_mut(),
            stack: None,
            tls: 0,
            set_tid: &[],
            cgroup: None,
        }
    }

    /// Sets the `CLONE_*` flags.
    pub const fn flags(mut self, flags: CloneFlags) -> Clone3<'a> {
        self.flags = flags;
        self
    }

    /// Sets the exit signal (`None`: none).
    pub const fn exit_signal(mut self, sig: Option<Signal>) -> Clone3<'a> {
        self.exit_signal = sig;
        self
    }

    /// Sets the child's tid slot (`CLONE_CHILD_SETTID`, `CLONE_CHILD_CLEARTID`).
    pub const fn child_tid(mut self, slot: *mut Pid) -> Clone3<'a> {
        self.child_tid = slot;
        self
    }

    /// Sets the parent's tid slot (`CLONE_PARENT_SETTID`).
    pub const fn parent_tid(mut self, slot: *mut Pid) -> Clone3<'a> {
        self.parent_tid = slot;
        self
    }

    /// Runs the child on `size` bytes of stack from `lowest` up.
    pub const fn stack(mut self, lowest: *mut u8, size: usize) -> Clone3<'a> {
        self.stack = Some((lowest, size));
        self
    }

    /// Sets the TLS value (`CLONE_SETTLS`).
    pub const fn tls(mut self, tls: usize) -> Clone3<'a> {
        self.tls = tls;
        self
    }

    /// Sets the pids to give the child, innermost namespace first.
    pub const fn set_tid(mut self, pids: &'a [Pid]) -> Clone3<'a> {
        self.set_tid = pids;
        self
    }

    /// Starts the child in the cgroup of this directory fd (`CLONE_INTO_CGROUP` is added).
    pub const fn cgroup(mut self, dir: RawFd) -> Clone3<'a> {
        self.cgroup = Some(dir);
        self
    }
}

/// What a successful [`clone3`] gives the parent.
#[derive(Debug)]
#[non_exhaustive]
pub struct Cloned {
    /// The child's id.
    pub pid: Pid,
    /// The child's pidfd, when `CLONE_PIDFD` was asked and the kernel made one (`None` from the
    /// `clone` fallback on kernels before 5.2, which ignore the flag: open one with
    /// [`pidfd_open`](crate::wait::pidfd_open), Linux 5.3, while the child cannot be reaped).
    pub pidfd: Option<PidFd>,
}

/// `clone3` with typed arguments, falling back to [`clone`] where clone3 is missing (ENOSYS:
/// old kernels, seccomp profiles, qemu-user). The first ENOSYS is remembered for the whole
/// process. A request only clone3 can serve (`CLONE_CLEAR_SIGHAND`, `CLONE_INTO_CGROUP`,
/// `CLONE_NEWTIME`, `set_tid`, a pidfd together with `CLONE_PARENT_SETTID`) then fails with
/// `EOPNOTSUPP` instead of being dropped.
///
/// `CLONE_INTO_CGROUP` is added when `cgroup` is given.
///
/// ```
/// use vspawn::clone::{Clone3, CloneFlags, clone3};
/// use vspawn::wait::{WaitId, WaitOptions, waitid};
///
/// extern "C" fn child(_: usize) -> i32 {
///     7
/// }
/// let req = Clone3::new().flags(CloneFlags::CLONE_PIDFD);
/// // SAFETY: no CLONE_VM: the child runs `child` in its own copy of our memory.
/// let cloned = unsafe { clone3(&req, child, 0) }?;
/// // Waited for through its pidfd (Linux 5.4), which cannot name a recycled pid.
/// let pidfd = cloned.pidfd.expect("a pidfd");
/// let info = waitid(WaitId::PidFd(&pidfd), WaitOptions::WEXITED, None)?;
/// assert_eq!(info.pid(), cloned.pid);
/// assert_eq!(info.exit_status().and_then(|s| s.code()), Some(7));
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// # Safety
///
/// As for [`clone`]: the flags, tid pointers, TLS and stack must be valid for the child, and `f`
/// callable with `arg` in the child's situation.
pub unsafe fn clone3(req: &Clone3<'_>, f: ChildFn, arg: usize) -> Result<Cloned> {
    let mut pidfd: RawFd = -1;
    let mut flags = req.flags;
    if req.cgroup.is_some() {
        flags |= CLONE_INTO_CGROUP;
    }
    let exit_signal = req.exit_signal.map_or(0, Signal::raw) as u64;
    let pidfd_slot = &mut pidfd as *mut RawFd;
    if clone3_available() {
        let (stack, stack_size) = req.stack.map_or((0, 0), |(p, n)| (p as u64, n as u64));
        let mut args = CloneArgs {
            flags: flags.bits(),
            pidfd: pidfd_slot as u64,
            child_tid: req.child_tid as u64,
            parent_tid: req.parent_tid as u64,
            exit_signal,
            stack,
            stack_size,
            tls: req.tls as u64,
            // An empty slice's pointer is dangling, not null: the kernel refuses a non-null
            // `set_tid` with a zero size (EINVAL).
            set_tid: if req.set_tid.is_empty() {
                0
            } else {
                req.set_tid.as_ptr() as u64
            },
            set_tid_size: req.set_tid.len() as u64,
            cgroup: req.cgroup.map_or(0, |fd| fd as u64),
        };
        // SAFETY: `args` is a complete clone_args; the caller vouches for what it points to.
        let ret = unsafe {
            crate::arch::clone3(
                &mut args,
                size_of::<CloneArgs>(),
                ChildStart::new(flags, f, arg),
            )
        };
        match Errno::result(ret) {
            Err(Errno::ENOSYS) => CLONE3_MISSING.store(true, Ordering::Relaxed),
            other => return other.map(|pid| cloned(pid as Pid, flags, pidfd)),
        }
    }
    // What clone3 itself refuses (kernel/fork.c, clone3_args_valid) but clone would accept,
    // reading the low flag bits as the exit signal, ignoring the exit signal of a thread, or taking
    // a stack of size 0: the fallback refuses it the same way.
    let stack_invalid = req.stack.is_some_and(|(p, n)| p.is_null() != (n == 0));
    if flags.bits() & (CLONE_DETACHED | (CSIGNAL & !CLONE_NEWTIME.bits())) != 0
        || (flags.intersects(CLONE_THREAD | CLONE_PARENT) && exit_signal != 0)
        || stack_invalid
    {
        return Err(Errno::EINVAL);
    }
    if !req.set_tid.is_empty() || flags.contains(CLONE_PIDFD | CLONE_PARENT_SETTID) {
        return Err(Errno::EOPNOTSUPP);
    }
    // clone puts the pidfd where clone3 has the parent tid.
    let parent_slot = if flags.contains(CLONE_PIDFD) {
        pidfd_slot
    } else {
        req.parent_tid
    };
    let stack_top = req.stack.map(|(p, n)| p.wrapping_add(n));
    // SAFETY: the same request in clone's form; `clone` refuses the clone3-only flags.
    let pid = unsafe {
        clone(
            flags,
            req.exit_signal,
            stack_top,
            parent_slot,
            req.child_tid,
            req.tls,
            f,
            arg,
        )
    }?;
    Ok(cloned(pid, flags, pidfd))
}

/// The parent's result. `pidfd` is the slot's value, still -1 where the kernel did not fill it:
/// `clone` before Linux 5.2 ignores the unknown `CLONE_PIDFD` bit, and the child exists all the
/// same, so that is `pidfd: None` rather than an error or an `OwnedFd` of -1.
fn cloned(pid: Pid, flags: CloneFlags, pidfd: RawFd) -> Cloned {
    let pidfd = (flags.contains(CLONE_PIDFD) && pidfd >= 0).then(|| {
        // SAFETY: with CLONE_PIDFD the kernel created this pidfd (close-on-exec) for us.
        unsafe { PidFd::from_raw_fd(pidfd) }
    });
    Cloned { pid, pidfd }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_slot_the_kernel_left_unset_is_no_pidfd() {
        // Before Linux 5.2, clone ignores CLONE_PIDFD and leaves the slot at -1 (failed before
        // the fix: `Some(OwnedFd(-1))`, whose drop closed fd -1).
        let got = cloned(1234, CLONE_PIDFD, -1);
        assert_eq!(got.pid, 1234);
        assert!(got.pidfd.is_none(), "{got:?}");
        let without = cloned(1234, CloneFlags::empty(), 5);
        assert!(without.pidfd.is_none(), "no CLONE_PIDFD: no pidfd");
    }
}

/// Which side of a [`fork`] we are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    /// The parent; the child has this pid.
    Parent(Pid),
    /// The child.
    Child,
}

/// `fork` as a raw `clone(SIGCHLD)`: the child gets a copy of the address space and continues
/// from here, as in C.
///
/// ```
/// use vspawn::clone::{Fork, fork};
/// use vspawn::process::{exit_group, getpid};
/// use vspawn::wait::{WaitOptions, wait4};
///
/// let parent = getpid();
/// // SAFETY: the child only compares pids and ends with a raw syscall (no allocation, no lock).
/// match unsafe { fork() }? {
///     Fork::Child => exit_group(if getpid() != parent { 0 } else { 1 }),
///     Fork::Parent(child) => {
///         let (_, status) = wait4(child, WaitOptions::empty(), None)?;
///         assert_eq!(status.code(), Some(0), "the child has a pid of its own");
///     }
/// }
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// # Safety
///
/// No libc `atfork` handlers run: in the child, libc's locks (malloc, stdio) may be held by
/// threads that no longer exist, and libc's cached thread id is the parent's. In a
/// multi-threaded parent the child may only do what a signal handler may (async-signal-safe
/// calls) until it execs or exits.
pub unsafe fn fork() -> Result<Fork> {
    // SAFETY: a plain clone with no pointers; the caller accepts the child's restrictions.
    let ret = unsafe {
        crate::sys::syscall5(
            crate::sys::nr::CLONE,
            Signal::SIGCHLD.raw() as usize,
            0,
            0,
            0,
            0,
        )
    };
    match Errno::result(ret)? {
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid as Pid)),
    }
}

/// What `join` returns for a [`thread`](crate::thread) whose closure panicked, in a libc-free
/// program (the panic handler of `vspawn::entry` ends that thread alone with it).
pub const CHILD_PANIC_STATUS: i32 = 127;

/// Runs the closure `arg` points to (the trampoline's entry for closure-based children).
///
/// No panic is caught here, on purpose: the child has no thread pointer (see [`vfork`]), and a
/// catch would need the panic machinery's thread-locals, which are the parent's.
///
/// # Safety
///
/// `arg` must be the address of a live `F`, not used by anyone else while this runs.
unsafe extern "C" fn call_closure<F: FnMut() -> i32>(arg: usize) -> i32 {
    // SAFETY: the caller passes the address of an `F` it keeps alive and does not touch while
    // the child runs (the parent is suspended, or the closure was moved to the child).
    let f = unsafe { &mut *(arg as *mut F) };
    f()
}

/// `vfork`: creates a child that shares the parent's memory and runs `child` on the parent's
/// stack, below its live frames; the parent is suspended until the child execs or exits, then
/// gets the child's pid.
///
/// The child's result is its exit status (if it does not exec).
///
/// The child runs **without a thread pointer** (`CLONE_SETTLS` with none): every thread-local
/// access faults there instead of reaching the suspended parent's thread-locals, which the child
/// would otherwise share. So nothing the child does can change the parent's per-thread state: a
/// panic in a program with std ends the child by `SIGSEGV` (std's panic machinery counts panics
/// in a thread-local) and the parent's `std::thread::panicking()` stays false; in a libc-free
/// program (`entry!`) the panic handler ends the child with status 101. libc
/// functions use thread-locals too (`errno`, locks, the stack protector's canary): call the
/// crate's own syscall wrappers ([`exec::execve`](crate::exec::execve),
/// [`process::exit_group`](crate::process::exit_group), ...) instead.
///
/// Under emulators that turn vfork into a fork (qemu-user, valgrind) the child gets a copy of
/// the memory instead and the parent does not wait; code that must work everywhere should not
/// depend on either.
///
/// ```
/// use core::ptr::{read_volatile, write_volatile};
/// use vspawn::{clone::vfork, wait::WaitOptions, wait::wait4};
///
/// let mut answer = 0u32;
/// let slot = &mut answer as *mut u32;
/// // SAFETY: the child only writes to memory the suspended parent prepared, then returns.
/// let pid = unsafe { vfork(&mut || { write_volatile(slot, 42); 7 }) }?;
/// let (_, status) = wait4(pid, WaitOptions::empty(), None)?;
/// assert_eq!(status.code(), Some(7));
/// // On a real kernel the child wrote into our memory (under qemu-user, into a copy).
/// assert_eq!(unsafe { read_volatile(slot) }, 42);
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// # Safety
///
/// The child shares the parent's memory and stack region, a copy of its signal handlers, and
/// the parent's thread is suspended meanwhile. `child` may only: make syscalls, read and write
/// memory the parent prepared, and return or exec. No allocation, no locks (another thread may
/// hold them and never release them in the child's world), no thread-locals (they fault, see
/// above), no `Drop` of the parent's values. Block signals around the call if a handler of the
/// parent must not run in the child.
pub unsafe fn vfork<F: FnMut() -> i32>(child: &mut F) -> Result<Pid> {
    let flags = CLONE_VM | CLONE_VFORK | CLONE_SETTLS;
    let null = core::ptr::null_mut();
    // SAFETY: CLONE_VFORK keeps the parent suspended while the child runs below its stack
    // pointer; `child` stays borrowed (alive) until then; the child has no thread pointer, so
    // it cannot touch the parent's thread-locals; the caller upholds the rest of the contract.
    unsafe {
        clone(
            flags,
            Some(Signal::SIGCHLD),
            None,
            null,
            null,
            crate::arch::NO_THREAD_POINTER,
            call_closure::<F>,
            child as *mut F as usize,
        )
    }
}
