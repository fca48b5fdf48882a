//! aarch64: the crate's assembly for this architecture.
//!
//! # Syscall convention
//!
//! The number goes in `x8`, the arguments in `x0`..`x5`; `svc #0` enters the kernel, which
//! returns the result (or `-errno`) in `x0` and preserves every other register. The raw `clone`
//! argument order here is `(flags, stack, parent_tid, tls, child_tid)`: `tls` comes before
//! `child_tid`, unlike x86_64.
//!
//! `sp` must always be 16-byte aligned and there is no red zone: nothing below `sp` is live.
//! `x29` is the frame pointer and `x30` the link register. The kernel provides the signal return
//! trampoline (in the vDSO), so no restorer is needed.
//!
//! # Why assembly
//!
//! A clone child that shares the parent's memory must never return into Rust code: both tasks
//! would then run the same frames. So the syscall and everything the child does before it
//! reaches the caller's function happen inside one `asm!` block. In a `CLONE_VM` child without a
//! stack of its own, that block runs below the parent's stack pointer, which the compiler leaves
//! free because the asm is not `nostack`.

use core::arch::asm;

use crate::clone::{ChildFn, CloneArgs};

/// Issues `clone(flags, stack, parent_tid, tls, child_tid)`. In the child, calls `f(arg)` and ends
/// the task with `exit(f's result)`; never returns there. Returns the raw syscall result in the
/// parent.
///
/// # Safety
///
/// The flags, pointers and stack must be valid for the kernel and for `f`: see
/// [`crate::clone::clone`].
#[inline]
pub(crate) unsafe fn clone(
    flags: usize,
    stack: *mut u8,
    parent_tid: *mut i32,
    child_tid: *mut i32,
    tls: usize,
    f: ChildFn,
    arg: usize,
) -> usize {
    let ret: usize;
    // SAFETY: the caller guarantees that the arguments are valid for clone; the child branch
    // never falls through into the code after this block.
    unsafe {
        asm!(
            "svc #0",                     // clone(flags, stack, parent_tid, tls, child_tid)
            "cbnz x0, 2f",                // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) f,
            arg = in(reg) arg,
            in("x8") sc::nr::CLONE,
            inlateout("x0") flags => ret,
            in("x1") stack,
            in("x2") parent_tid,
            in("x3") tls,
            in("x4") child_tid,
        );
    }
    ret
}

/// Issues `clone3(args, size)`. The child calls `f(arg)` and exits with its result, like
/// [`clone`].
///
/// # Safety
///
/// `args` must point to a valid `clone_args` of `size` bytes, and the fields must be valid for
/// the kernel and for `f`: see [`crate::clone::clone3`].
#[inline]
pub(crate) unsafe fn clone3(args: *mut CloneArgs, size: usize, f: ChildFn, arg: usize) -> usize {
    let ret: usize;
    // SAFETY: as for `clone`; the kernel reads `size` bytes at `args`.
    unsafe {
        asm!(
            "svc #0",                     // clone3(args, size)
            "cbnz x0, 2f",                // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) f,
            arg = in(reg) arg,
            in("x8") sc::nr::CLONE3,
            inlateout("x0") args => ret,
            in("x1") size,
        );
    }
    ret
}

/// The child's path after a clone, shared by `clone` and `clone3`. It expects `{f}` and `{arg}`
/// in registers and never returns.
macro_rules! child_tail {
    () => {
        concat!(
            "mov x29, xzr\n",  // Zero the frame pointer: the child's call chain ends here.
            "mov x30, xzr\n",  // And the link register: there is nowhere to return to.
            fault_clobber!(),  // (Test builds only: deliberately damage the parent.)
            "mov x0, {arg}\n", // f's only argument.
            "blr {f}\n",       // f(arg); sp is already 16-byte aligned (always is).
            "mov x8, #93\n",   // SYS_exit: end this task only, never the thread group.
            "svc #0\n",        // Exit status = f's result, already in w0.
            "udf #0\n",        // exit does not return.
        )
    };
}
use child_tail;

/// With the test-only feature `test-fault-clobber`, the vfork child overwrites the 8 bytes at the
/// stack pointer it inherited (the parent's live frame). It proves that the tests which check
/// the parent's frames can fail; only a child sharing memory can do this damage.
#[cfg(feature = "test-fault-clobber")]
macro_rules! fault_clobber {
    () => {
        "mov x9, sp\nstr x9, [sp]\n" // Clobber the parent's bottom stack slot.
    };
}
#[cfg(not(feature = "test-fault-clobber"))]
macro_rules! fault_clobber {
    () => {
        ""
    };
}
use fault_clobber;

/// aarch64 signal handlers return through the vDSO's trampoline: no restorer.
pub(crate) const SIGACTION_RESTORER: Option<unsafe extern "C" fn()> = None;
