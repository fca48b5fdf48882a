//! riscv64: the crate's assembly for this architecture.
//!
//! # Syscall convention
//!
//! The number goes in `a7`, the arguments in `a0`..`a5`; `ecall` enters the kernel, which
//! returns the result (or `-errno`) in `a0` and preserves every other register. The raw `clone`
//! argument order here is `(flags, stack, parent_tid, tls, child_tid)`: `tls` comes before
//! `child_tid`, unlike x86_64.
//!
//! `sp` is 16-byte aligned at every call and there is no red zone: nothing below `sp` is live.
//! `s0` is the frame pointer and `ra` the return address. The kernel provides the signal
//! return trampoline (in the vDSO), so no restorer is needed; note that riscv64's kernel
//! `sigaction` has no `sa_restorer` field at all (24 bytes, not 32).
//!
//! # Why assembly
//!
//! A clone child that shares the parent's memory must never return into Rust code: both tasks
//! would then run the same frames. So the syscall and everything the child does before it
//! reaches the caller's function happen inside one `asm!` block. In a `CLONE_VM` child without a
//! stack of its own, that block runs below the parent's stack pointer, which the compiler leaves
//! free because the asm is not `nostack`.

use core::arch::asm;

use crate::clone::{ChildStart, CloneArgs};

/// Issues `clone(flags, stack, parent_tid, tls, child_tid)`. In the child, calls `f(arg)` and ends
/// the task with the syscall `exit_nr` (`exit` for a thread, `exit_group` for a process) of f's
/// result (all three from `child`); never returns there. Returns the raw syscall result in the
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
    child: ChildStart,
) -> usize {
    // SAFETY: the caller guarantees that the arguments are valid for clone; the child branch
    // never falls through into the code after the asm.
    unsafe {
        trampoline!(
            crate::sys::nr::CLONE,
            child,
            flags,
            in("a1") stack,
            in("a2") parent_tid,
            in("a3") tls,
            in("a4") child_tid,
        )
    }
}

/// Issues `clone3(args, size)`. The child calls `f(arg)` and exits with its result, like
/// [`clone`].
///
/// # Safety
///
/// `args` must point to a valid `clone_args` of `size` bytes, and the fields must be valid for
/// the kernel and for `f`: see [`crate::clone::clone3`].
#[inline]
pub(crate) unsafe fn clone3(args: *mut CloneArgs, size: usize, child: ChildStart) -> usize {
    // SAFETY: as for `clone`; the kernel reads `size` bytes at `args`.
    unsafe { trampoline!(crate::sys::nr::CLONE3, child, args, in("a1") size,) }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (`tp` 0): every thread-local access there faults instead of reaching the creator's
/// thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with its first argument `$first`
/// (in a0, where the result comes back) and the other argument operands `$args`; in the child,
/// `child_tail!`. Evaluates to the raw syscall result, in the parent.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $first:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "ecall",                      // clone(flags, stack, ptid, tls, ctid) or clone3(args, size)
            "bnez a0, 2f",                // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) $child.f,
            arg = in(reg) $child.arg,
            // Callee-saved, so it is still there when f returns.
            in("s2") $child.exit_nr,
            in("a7") $nr,
            inlateout("a0") $first => ret,
            $($args)*
        );
        ret
    }};
}
use trampoline;

/// The child's path after a clone, shared by `clone` and `clone3`. It expects `{f}` and `{arg}`
/// in registers, the exit syscall number in a callee-saved one, and never returns. Its unwind
/// information marks the end of the call chain: an unwinder must not walk from the child into
/// the frames of the parent it was cloned from (on aarch64 it read address 0 there).
macro_rules! child_tail {
    () => {
        concat!(
            ".cfi_remember_state\n", // Unwind info for the child's path: its return address
            ".cfi_undefined ra\n",   // is undefined, so a backtrace (of a panic) ends here.
            "mv a0, {arg}\n",        // f's only argument (a0, the child's 0 from clone, is free).
            "mv t0, {f}\n",          // Move f out of the way: it may live in ra, zeroed next.
            "li s0, 0\n",            // Zero the frame pointer: the child's call chain ends here.
            "li ra, 0\n",            // And the return address: there is nowhere to return to.
            fault_clobber!(),        // (Test builds only: deliberately damage the parent.)
            "andi sp, sp, -16\n",    // Keep the call ABI's 16-byte alignment.
            "jalr t0\n",             // f(arg); its i32 result comes back in a0.
            "mv a7, s2\n", // The exit syscall the caller chose: a thread's own or the group's.
            "ecall\n",     // Exit status = f's result, already in a0.
            "unimp\n",     // exit does not return.
            ".cfi_restore_state\n", // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// With the test-only cfg `vspawn_fault_clobber` (set by scripts/fault-proof alone), the vfork
/// child overwrites the 8 bytes at the stack pointer it inherited (the parent's live frame). It
/// proves that the tests which check the parent's frames can fail; only a child sharing memory can
/// do this damage.
#[cfg(vspawn_fault_clobber)]
macro_rules! fault_clobber {
    () => {
        "sd sp, 0(sp)\n" // Clobber the parent's bottom stack slot.
    };
}
#[cfg(not(vspawn_fault_clobber))]
macro_rules! fault_clobber {
    () => {
        ""
    };
}
use fault_clobber;

// ------------------------------------------------------------------------------------------------
// Program entry (feature `entry`): `_start` and the C memory functions of a libc-free binary.
//
// These are macros, not items, because their symbols must exist only in the final binary that
// asks for them (through `vspawn::entry!`): a library defining `_start` or `memcpy` would clash
// with crt1.o and libc in every ordinary binary that links it.
// ------------------------------------------------------------------------------------------------

/// Defines `_start`, the process entry point, which calls `$rust_start(sp)` with the initial stack
/// pointer. Expanded by `vspawn::entry!`; not for direct use.
///
/// The kernel enters `_start` with `sp` pointing at `argc`, followed by `argv`, `envp` and the
/// auxiliary vector. `a0` may carry a function for `atexit` (from a dynamic loader); a static
/// binary has no loader, so it is ignored.
///
/// The global pointer must be loaded before any other code runs: the linker relaxes accesses to
/// small data near `__global_pointer$` into `gp`-relative ones. The load itself must not be
/// relaxed (it would be rewritten relative to `gp`, which is not set yet), hence `norelax`.
#[cfg(feature = "entry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vspawn_start {
    ($rust_start:path) => {
        /// The process entry point (from `vspawn::entry!`).
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn _start() -> ! {
            ::core::arch::naked_asm!(
                ".option push",
                ".option norelax", // Keep the next load literal (see above).
                "la gp, __global_pointer$", // Set up the global pointer for relaxed accesses.
                ".option pop",
                "li s0, 0",        // Zero the frame pointer: this is the outermost frame.
                "li ra, 0",        // Zero the return address: there is nowhere to return to.
                "mv a0, sp",       // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "andi sp, sp, -16", // Align the stack (the kernel already does; never trust it).
                "tail {rust_start}", // rust_start(sp), without linking: it never returns.
                rust_start = sym $rust_start,
            )
        }
    };
}

/// Defines `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`, which compiled Rust code
/// calls and which a binary without libc must bring itself. Expanded by `vspawn::entry!`; not
/// for direct use.
///
/// They are assembly so that the compiler cannot recognise their loops as a copy and compile them
/// into a call to themselves. They work a byte at a time (misaligned word accesses may trap and
/// be emulated on riscv64): small and plainly correct, meant for programs like an init, not for
/// bulk copies.
#[cfg(feature = "entry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vspawn_mem_functions {
    () => {
        /// C `memcpy` (from `vspawn::entry!`): copies `n` bytes forwards.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mv a3, a0",       // Destination cursor; a0 stays the return value.
                "beqz a2, 3f",     // Nothing to copy.
                "2:",
                "lbu a4, 0(a1)",   // Copy one byte,
                "sb a4, 0(a3)",
                "addi a1, a1, 1",  // advance both cursors,
                "addi a3, a3, 1",
                "addi a2, a2, -1", // and count it.
                "bnez a2, 2b",
                "3:",
                "ret",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "sub a4, a0, a1",  // dst - src, as unsigned: huge when dst is below src.
                "bltu a4, a2, 4f", // If dst - src < n, dst sits inside the source: copy downwards.
                "tail {memcpy}",   // Otherwise ascending is safe: memcpy's copy, same arguments.
                "4:",              // Descending copy (n > 0 here).
                "addi a2, a2, -1", // Index of the highest byte not yet copied.
                "add a5, a1, a2",
                "lbu a4, 0(a5)",   // src[i]
                "add a5, a0, a2",
                "sb a4, 0(a5)",    // -> dst[i]
                "bnez a2, 4b",     // Stop once index 0 is copied.
                "ret",
                memcpy = sym memcpy,
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mv a3, a0",       // Destination cursor; a0 stays the return value.
                "beqz a2, 3f",     // Nothing to fill.
                "2:",
                "sb a1, 0(a3)",    // Store the low byte of c,
                "addi a3, a3, 1",  // advance,
                "addi a2, a2, -1", // and count it.
                "bnez a2, 2b",
                "3:",
                "ret",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "li a5, 0",        // Result when n == 0: equal.
                "beqz a2, 3f",
                "2:",
                "lbu a3, 0(a0)",   // a[i] and b[i], zero-extended: compared as unsigned chars.
                "lbu a4, 0(a1)",
                "sub a5, a3, a4",  // Their difference (sign-extended, as the ABI wants an int)
                "bnez a5, 3f",     // is the result if they differ.
                "addi a0, a0, 1",
                "addi a1, a1, 1",
                "addi a2, a2, -1",
                "bnez a2, 2b",     // Loop ends with a5 == 0: all n bytes equal.
                "3:",
                "mv a0, a5",
                "ret",
            )
        }

        /// C `bcmp` (from `vspawn::entry!`): zero if `n` bytes are equal; `memcmp` answers that.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "tail {memcmp}",   // Same arguments, a result with at least the meaning needed.
                memcmp = sym memcmp,
            )
        }

        /// C `strlen` (from `vspawn::entry!`): the length of a NUL-terminated string.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "mv a1, a0",       // Cursor.
                "2:",
                "lbu a2, 0(a1)",   // Load a byte
                "addi a1, a1, 1",  // and advance past it,
                "bnez a2, 2b",     // until the NUL.
                "sub a0, a1, a0",  // The cursor is one past the NUL:
                "addi a0, a0, -1", // length = cursor - start - 1.
                "ret",
            )
        }
    };
}
