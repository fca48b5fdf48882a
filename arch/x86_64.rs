//! x86_64: the crate's assembly for this architecture.
//!
//! # Syscall convention
//!
//! The number goes in `rax`, the arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` (`r10`, not
//! `rcx`, for the fourth). The `syscall` instruction puts the return address in `rcx` and the
//! flags in `r11`, so both are destroyed; the kernel returns the result (or `-errno`) in `rax` and
//! preserves every other register. The raw `clone` argument order here is
//! `(flags, stack, parent_tid, child_tid, tls)`, unlike aarch64 and riscv64 which put `tls` before
//! `child_tid`.
//!
//! The stack grows down, is 16-byte aligned at a `call` (so `rsp + 8` is aligned on function
//! entry) and code may use the 128-byte red zone below `rsp` without moving it. Signal
//! handlers must be installed with `SA_RESTORER` and a restorer that calls `rt_sigreturn`.
//!
//! # Why assembly
//!
//! A clone child that shares the parent's memory must never return into Rust code: both tasks
//! would then run the same frames. So the syscall and everything the child does before it
//! reaches the caller's function happen inside one `asm!` block. In a `CLONE_VM` child without a
//! stack of its own, that block runs below the parent's stack pointer: the asm is not `nostack`,
//! so the compiler keeps nothing live there, and the child also steps over the red zone before
//! its first push.

use core::arch::asm;

use crate::clone::{ChildFn, CloneArgs};

/// Issues `clone(flags, stack, parent_tid, child_tid, tls)`. In the child, calls `f(arg)` and ends
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
            "syscall",                    // clone(flags, stack, parent_tid, child_tid, tls)
            "test rax, rax",              // Zero means we are the child.
            "jnz 2f",                     // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) f,
            arg = in(reg) arg,
            inlateout("rax") sc::nr::CLONE => ret,
            in("rdi") flags,
            in("rsi") stack,
            in("rdx") parent_tid,
            in("r10") child_tid,
            in("r8") tls,
            // Not `lateout`: `syscall` overwrites rcx and r11 while `f` and `arg` must still be
            // intact in the child, so neither may be allocated to these registers.
            out("rcx") _,
            out("r11") _,
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
            "syscall",                    // clone3(args, size)
            "test rax, rax",              // Zero means we are the child.
            "jnz 2f",                     // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) f,
            arg = in(reg) arg,
            inlateout("rax") sc::nr::CLONE3 => ret,
            in("rdi") args,
            in("rsi") size,
            out("rcx") _,                 // Destroyed by `syscall`; see `clone`.
            out("r11") _,
        );
    }
    ret
}

/// The child's path after a clone, shared by `clone` and `clone3`. It expects `{f}` and `{arg}`
/// in registers and never returns.
macro_rules! child_tail {
    () => {
        concat!(
            "xor ebp, ebp\n",   // Zero the frame pointer: the child's call chain ends here.
            "sub rsp, 128\n",   // Step over the red zone: the parent may keep data there.
            fault_clobber!(),   // (Test builds only: deliberately damage the parent.)
            "and rsp, -16\n",   // Align the stack for the call.
            "mov rdi, {arg}\n", // f's only argument.
            "call {f}\n",       // f(arg); its i32 result comes back in eax.
            "mov edi, eax\n",   // Exit status = f's result.
            "mov eax, 60\n",    // SYS_exit: end this task only, never the thread group.
            "syscall\n",
            "ud2\n", // exit does not return.
        )
    };
}
use child_tail;

/// With the test-only feature `test-fault-clobber`, the vfork child overwrites the 8 bytes just
/// above the stack pointer it inherited (the parent's live frame). It proves that the tests which
/// check the parent's frames can fail; only a child sharing memory can do this damage.
#[cfg(feature = "test-fault-clobber")]
macro_rules! fault_clobber {
    () => {
        "mov qword ptr [rsp + 128], rsp\n" // Clobber the parent's top stack slot.
    };
}
#[cfg(not(feature = "test-fault-clobber"))]
macro_rules! fault_clobber {
    () => {
        ""
    };
}
use fault_clobber;

/// The signal restorer the x86_64 kernel requires (`SA_RESTORER`): a handler returns here, and
/// this calls `rt_sigreturn` to restore the interrupted context.
#[unsafe(naked)]
pub(crate) unsafe extern "C" fn sigreturn_restorer() {
    core::arch::naked_asm!(
        "mov eax, {nr}",                  // SYS_rt_sigreturn
        "syscall",                        // Restores the frame the kernel pushed; never returns.
        "ud2",
        nr = const sc::nr::RT_SIGRETURN,
    )
}

/// The address to put in `sa_restorer`, with `SA_RESTORER` in the flags.
pub(crate) const SIGACTION_RESTORER: Option<unsafe extern "C" fn()> = Some(sigreturn_restorer);
