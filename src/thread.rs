//! Threads on raw `clone`: a stack (the caller's, or a mapped one with a guard page), the
//! closure and its result at the top of that stack, and a join through `CLONE_CHILD_CLEARTID`
//! and a futex. A thread ends with `SYS_exit`, which ends only that thread.
//!
//! # What a thread may touch
//!
//! These threads suit code that makes syscalls and touches memory it was given (libc-free
//! programs, helpers of an init); they are not a replacement for `std::thread` in a program that
//! uses libc or std. The contract is enforced where the kernel can do it:
//!
//! - **No thread-local storage.** Without libc nobody can set up a thread-local block for a new
//!   thread, and sharing the creator's (as a plain `CLONE_SETTLS`-less clone would) lets the two
//!   race on it. So a thread starts with no thread pointer: any thread-local access faults, and
//!   the process dies by `SIGSEGV` instead of corrupting the creator's state. In a program with
//!   libc or std that rules out allocation (glibc's malloc caches per thread), std's I/O
//!   (`println!`), `std::thread::current`, libc calls (`errno`) and panicking (std counts panics
//!   in a thread-local).
//! - **Every signal blocked.** The thread starts with all signals blocked, so that none of the
//!   process's handlers (which may use thread-locals) runs on it; the closure may unblock what it
//!   wants to receive with [`rt_sigprocmask`](crate::signal::rt_sigprocmask).
//! - **Panics.** In a libc-free program entered through `entry!`, whose panic
//!   handler is vspawn's, a panic in the thread prints its message and ends that thread alone:
//!   [`JoinHandle::join`] returns [`CHILD_PANIC_STATUS`] (127) and the rest of the process goes
//!   on (nothing is unwound: the thread's values are leaked, not dropped). In a program with std
//!   a panic in the thread is outside the contract: it ends the whole process by `SIGSEGV`.

use core::marker::PhantomData;
use core::mem::{ManuallyDrop, align_of, size_of};
use core::sync::atomic::{AtomicI32, Ordering};

use crate::clone::{CHILD_PANIC_STATUS, CloneFlags, flags::*};
use crate::errno::{Errno, Result};
use crate::process::Pid;
use crate::signal::AllBlocked;

/// Default usable stack size of [`spawn`]: 64 KiB.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;
/// The smallest stack [`spawn_on`] accepts, beyond the closure stored at its top.
pub const MIN_STACK_SIZE: usize = 4096;

/// The flags that make a thread: qemu-user accepts exactly this set (with `SYSVSEM`), and
/// `SETTLS` to give the thread no thread pointer.
const THREAD_FLAGS: CloneFlags = CLONE_VM
    .union(CLONE_FS)
    .union(CLONE_FILES)
    .union(CLONE_SIGHAND)
    .union(CLONE_THREAD)
    .union(CLONE_SYSVSEM)
    .union(CLONE_SETTLS)
    .union(CLONE_PARENT_SETTID)
    .union(CLONE_CHILD_CLEARTID);

/// The part of a thread's start block the joiner reads; at the top of the thread's stack.
#[repr(C)]
struct Header {
    /// The thread id while the thread lives: set by the kernel before `clone` returns
    /// (`CLONE_PARENT_SETTID`), cleared and futex-woken when the thread is gone
    /// (`CLONE_CHILD_CLEARTID`).
    tid: AtomicI32,
    /// The closure's result; stays 127 if it panicked.
    status: AtomicI32,
}

#[repr(C)]
struct Start<F> {
    header: Header,
    f: ManuallyDrop<F>,
}

/// Where a thread's stack came from, and so what joining must do with it.
enum StackMemory<'a> {
    Borrowed(PhantomData<&'a mut [u8]>),
    Mapped { base: *mut u8, len: usize },
}

/// A running (or finished, not yet joined) thread. Dropping it joins.
pub struct JoinHandle<'a> {
    header: *const Header,
    tid: Pid,
    stack: StackMemory<'a>,
    joined: bool,
}

// SAFETY: the handle only reads the header atomically and frees memory it owns; any thread
// may do that.
unsafe impl Send for JoinHandle<'_> {}

impl JoinHandle<'_> {
    /// The thread's id.
    pub fn tid(&self) -> Pid {
        self.tid
    }

    /// Whether the thread has ended (joining would not block).
    pub fn is_finished(&self) -> bool {
        // SAFETY: the header lives until the handle is joined.
        unsafe { (*self.header).tid.load(Ordering::Acquire) == 0 }
    }

    /// Waits for the thread to end and returns its closure's result ([`CHILD_PANIC_STATUS`] if
    /// it panicked in a libc-free program: see the [module](self) documentation).
    pub fn join(mut self) -> i32 {
        self.wait()
    }

    fn wait(&mut self) -> i32 {
        // SAFETY: the header stays valid until this handle frees the stack below.
        let header = unsafe { &*self.header };
        loop {
            let tid = header.tid.load(Ordering::Acquire);
            if tid == 0 {
                break;
            }
            // The kernel's CLONE_CHILD_CLEARTID wake is a shared (not private) futex wake.
            // EAGAIN (the value changed) and EINTR just mean: look again.
            // SAFETY: `tid` is a live, aligned 32-bit word; no timeout.
            let _ = unsafe {
                crate::sys::syscall4(
                    crate::sys::nr::FUTEX,
                    header.tid.as_ptr() as usize,
                    0,
                    tid as usize,
                    0,
                )
            };
        }
        let status = header.status.load(Ordering::Acquire);
        if !self.joined {
            self.joined = true;
            if let StackMemory::Mapped { base, len } = self.stack {
                // SAFETY: the thread is gone (the kernel cleared its tid after its last use of
                // the stack), and this mapping is ours alone.
                unsafe { release_stack(base, len) };
            }
        }
        status
    }
}

impl Drop for JoinHandle<'_> {
    fn drop(&mut self) {
        if !self.joined {
            self.wait();
        }
    }
}

/// Runs the closure stored at `arg` and records its result for the joiner.
///
/// # Safety
///
/// `arg` is the address of a `Start<F>` whose closure nobody else uses.
unsafe extern "C" fn thread_main<F: FnOnce() -> i32>(arg: usize) -> i32 {
    let start = arg as *mut Start<F>;
    // SAFETY: the spawner moved the closure into the start block for this thread alone.
    let f = unsafe { ManuallyDrop::take(&mut (*start).f) };
    // No catch: a panic ends this thread in the panic handler (libc-free programs), or the
    // process (see the module documentation); the header then keeps CHILD_PANIC_STATUS.
    let status = f();
    // SAFETY: the header outlives the thread.
    unsafe { (*start).header.status.store(status, Ordering::Release) };
    status
}

/// Starts a thread running `f` on `stack`, which it borrows until the thread is joined.
///
/// The closure and the join header are stored at the top of `stack`; the thread runs below
/// them. `EINVAL` if `stack` has less than [`MIN_STACK_SIZE`] bytes beyond them.
///
/// # Safety
///
/// The thread has no thread-local storage and shares the caller's signal handlers (see the
/// [module](self) documentation): `f` must not use thread-locals (std's `println!`,
/// `thread::current`, allocation, libc's `errno` and locks all do: they fault), must not panic
/// in a program with std, and must only make syscalls and use memory it owns or that is
/// synchronized. The returned handle must be joined or dropped (which joins) before `stack` is
/// used again: leaking it with `mem::forget` leaves the thread running on memory the borrow
/// checker believes free.
pub unsafe fn spawn_on<'a, F: FnOnce() -> i32 + Send + 'a>(
    stack: &'a mut [u8],
    f: F,
) -> Result<JoinHandle<'a>> {
    let range = (stack.as_mut_ptr(), stack.len());
    // SAFETY: the range is the borrowed stack; the caller upholds the thread contract.
    unsafe { start(range, StackMemory::Borrowed(PhantomData), f) }
}

/// Starts a thread running `f` on a fresh stack of [`DEFAULT_STACK_SIZE`] bytes with a guard page
/// below it (a page of the kernel's size, [`page_size`](crate::sys::page_size)); the stack is
/// unmapped when the thread is joined.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// static COUNTER: AtomicU32 = AtomicU32::new(0);
/// // SAFETY: the closure touches only an atomic: no thread-local, no allocation, no panic.
/// let handle = unsafe {
///     vspawn::thread::spawn(|| {
///         COUNTER.fetch_add(1, Ordering::SeqCst);
///         7
///     })
/// }?;
/// assert_eq!(handle.join(), 7);
/// assert_eq!(COUNTER.load(Ordering::SeqCst), 1);
/// # Ok::<(), vspawn::Errno>(())
/// ```
///
/// # Safety
///
/// As for [`spawn_on`]: the thread has no thread-locals and must not use them.
pub unsafe fn spawn<F: FnOnce() -> i32 + Send + 'static>(f: F) -> Result<JoinHandle<'static>> {
    // SAFETY: the caller upholds the thread contract.
    unsafe { spawn_with_stack_size(DEFAULT_STACK_SIZE, f) }
}

/// Like [`spawn`], with `size` bytes of stack (at least [`MIN_STACK_SIZE`], rounded up to whole
/// pages; the closure is stored above them).
///
/// # Safety
///
/// As for [`spawn_on`].
pub unsafe fn spawn_with_stack_size<F: FnOnce() -> i32 + Send + 'static>(
    size: usize,
    f: F,
) -> Result<JoinHandle<'static>> {
    let block = size_of::<Start<F>>() + align_of::<Start<F>>().max(16);
    let (len, usable) = stack_mapping(size, block).ok_or(Errno::EINVAL)?;
    let base = take_cached_stack(len).map_or_else(|| map_stack(len), Ok)?;
    let usable_range = (base.wrapping_add(crate::sys::page_size()), usable);
    // SAFETY: the range lies in the mapping we own; the caller upholds the thread contract.
    let spawned = unsafe { start(usable_range, StackMemory::Mapped { base, len }, f) };
    if spawned.is_err() {
        // SAFETY: no thread was created; the mapping is still ours alone.
        unsafe { release_stack(base, len) };
    }
    spawned
}

/// The mapping of a thread stack with `size` usable bytes and a start block of up to `block`
/// bytes above them: the guard page, the stack rounded up to whole pages, and whole pages for
/// the block. Returns `(mapping length, usable length above the guard)`; `None` on overflow.
fn stack_mapping(size: usize, block: usize) -> Option<(usize, usize)> {
    let page = crate::sys::page_size();
    let stack = size.max(MIN_STACK_SIZE).checked_next_multiple_of(page)?;
    let usable = stack.checked_add(block.checked_next_multiple_of(page)?)?;
    Some((usable.checked_add(page)?, usable))
}

/// Puts the start block at the top of `(lowest, len)` and clones the thread below it.
///
/// # Safety
///
/// The range must be writable memory that stays valid until the thread is joined.
unsafe fn start<'a, F: FnOnce() -> i32 + Send + 'a>(
    (lowest, len): (*mut u8, usize),
    memory: StackMemory<'a>,
    f: F,
) -> Result<JoinHandle<'a>> {
    let top = lowest as usize + len;
    let block = (top - size_of::<Start<F>>()) & !(align_of::<Start<F>>().max(16) - 1);
    if block < lowest as usize + MIN_STACK_SIZE {
        return Err(Errno::EINVAL);
    }
    let start = block as *mut Start<F>;
    let header = Header {
        tid: AtomicI32::new(0),
        status: AtomicI32::new(CHILD_PANIC_STATUS),
    };
    // SAFETY: `start` is aligned and inside the caller's writable range.
    unsafe {
        start.write(Start {
            header,
            f: ManuallyDrop::new(f),
        })
    };
    // SAFETY: `start` was just initialized.
    let tid_slot = unsafe { (*start).header.tid.as_ptr() };
    // The child's stack pointer: just below the start block (block is 16-byte aligned).
    let sp = block as *mut u8;
    // SAFETY: thread flags with a private stack and no thread pointer; the tid slot stays valid
    // until join; the closure at `start` belongs to the child from here on.
    let clone_thread = || unsafe {
        crate::clone::clone(
            THREAD_FLAGS,
            None,
            Some(sp),
            tid_slot,
            tid_slot,
            crate::arch::NO_THREAD_POINTER,
            thread_main::<F>,
            block,
        )
    };
    // The thread starts with the mask in force at the clone: every signal blocked.
    let cloned = AllBlocked::new().and_then(|_blocked| clone_thread());
    match cloned {
        Ok(tid) => Ok(JoinHandle {
            header: start as *const Header,
            tid,
            stack: memory,
            joined: false,
        }),
        Err(e) => {
            // SAFETY: no thread took the closure; drop it here.
            unsafe { ManuallyDrop::drop(&mut (*start).f) };
            Err(e)
        }
    }
}

/// Maps `len` bytes of stack whose lowest page (of the kernel's size) is a guard page (no access).
pub(crate) fn map_stack(len: usize) -> Result<*mut u8> {
    use crate::sys::mm::*;
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK;
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing.
    let base = unsafe { crate::sys::mmap(0, len, PROT_READ | PROT_WRITE, flags, -1, 0) }?;
    // SAFETY: the first page of the mapping we just made.
    let guarded = Errno::result(unsafe {
        crate::sys::syscall!(MPROTECT, base, crate::sys::page_size(), PROT_NONE)
    });
    if let Err(e) = guarded {
        // SAFETY: our own fresh mapping.
        unsafe { unmap(base, len) };
        return Err(e);
    }
    Ok(base)
}

/// # Safety
///
/// `(base, len)` must be a mapping nobody uses any more.
pub(crate) unsafe fn unmap(base: *mut u8, len: usize) {
    // SAFETY: the caller owns the mapping. munmap of a valid mapping cannot fail.
    let _ = unsafe { crate::sys::syscall2(crate::sys::nr::MUNMAP, base as usize, len) };
}

/// The length of the mapping of a [`DEFAULT_STACK_SIZE`] stack whose start block fits a page (its
/// guard page included): the only size the cache keeps.
fn cached_stack_len() -> usize {
    stack_mapping(DEFAULT_STACK_SIZE, 1).map_or(0, |(len, _)| len)
}

/// Stacks of joined threads kept for the next [`spawn`]: mapping, guarding, faulting in and
/// unmapping a fresh stack (with the TLB shootdown of the unmap) is about a third of a thread's
/// cost. Slots are swapped whole, so no ABA problem; a full cache unmaps.
static STACK_CACHE: [core::sync::atomic::AtomicPtr<u8>; 4] =
    [const { core::sync::atomic::AtomicPtr::new(core::ptr::null_mut()) }; 4];

fn take_cached_stack(len: usize) -> Option<*mut u8> {
    if len != cached_stack_len() {
        return None;
    }
    STACK_CACHE.iter().find_map(|slot| {
        let base = slot.swap(core::ptr::null_mut(), Ordering::Acquire);
        (!base.is_null()).then_some(base)
    })
}

/// # Safety
///
/// As for [`unmap`].
unsafe fn release_stack(base: *mut u8, len: usize) {
    if len == cached_stack_len() {
        for slot in &STACK_CACHE {
            let kept = slot.compare_exchange(
                core::ptr::null_mut(),
                base,
                Ordering::Release,
                Ordering::Relaxed,
            );
            if kept.is_ok() {
                return;
            }
        }
    }
    // SAFETY: the caller's contract.
    unsafe { unmap(base, len) };
}
