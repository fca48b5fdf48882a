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
            in("x1") stack,
            in("x2") parent_tid,
            in("x3") tls,
            in("x4") child_tid,
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
    unsafe { trampoline!(crate::sys::nr::CLONE3, child, args, in("x1") size,) }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (`tpidr_el0` 0): every thread-local access there faults instead of reaching the creator's
/// thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with its first argument `$first`
/// (in x0, where the result comes back) and the other argument operands `$args`; in the child,
/// `child_tail!`. Evaluates to the raw syscall result, in the parent.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $first:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "svc #0",                     // clone(flags, stack, ptid, tls, ctid) or clone3(args, size)
            "cbnz x0, 2f",                // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) $child.f,
            arg = in(reg) $child.arg,
            // Callee-saved, so it is still there when f returns.
            in("x20") $child.exit_nr,
            in("x8") $nr,
            inlateout("x0") $first => ret,
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
            ".cfi_undefined x30\n",  // is undefined, so a backtrace (of a panic) ends here.
            "mov x0, {arg}\n",       // f's only argument (x0, the child's 0 from clone, is free).
            "mov x16, {f}\n",        // Move f out of the way: it may live in x30, zeroed next.
            "mov x29, xzr\n",        // Zero the frame pointer: the child's call chain ends here.
            "mov x30, xzr\n",        // And the link register: there is nowhere to return to.
            fault_clobber!(),        // (Test builds only: deliberately damage the parent.)
            "blr x16\n",             // f(arg); sp is already 16-byte aligned (always is).
            "mov x8, x20\n", // The exit syscall the caller chose: a thread's own or the group's.
            "svc #0\n",      // Exit status = f's result, already in w0.
            "udf #0\n",      // exit does not return.
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
        "mov x9, sp\nstr x9, [sp]\n" // Clobber the parent's bottom stack slot.
    };
}
#[cfg(not(vspawn_fault_clobber))]
macro_rules! fault_clobber {
    () => {
        ""
    };
}
use fault_clobber;

/// aarch64 signal handlers return through the vDSO's trampoline: no restorer.
pub(crate) const SIGACTION_RESTORER: Option<unsafe extern "C" fn()> = None;

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
/// auxiliary vector. `x0` may carry a function for `atexit` (from a dynamic loader); a static
/// binary has no loader, so it is ignored.
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
                "mov x29, xzr",    // Zero the frame pointer: this is the outermost frame.
                "mov x30, xzr",    // Zero the link register: there is nowhere to return to.
                "mov x0, sp",      // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "and sp, x0, #-16", // Align the stack (the kernel already does; never trust it).
                "b {rust_start}",  // rust_start(sp), without linking: it never returns.
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
/// into a call to themselves. They work a byte at a time: small and plainly correct, meant for
/// programs like an init, not for bulk copies.
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
                "mov x3, x0",      // Destination cursor; x0 stays the return value.
                "cbz x2, 3f",      // Nothing to copy.
                "2:",
                "ldrb w4, [x1], #1", // Load a byte and advance the source.
                "strb w4, [x3], #1", // Store it and advance the destination.
                "subs x2, x2, #1", // One byte fewer to go.
                "b.ne 2b",
                "3:",
                "ret",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "sub x4, x0, x1",  // dst - src, as unsigned: huge when dst is below src.
                "cmp x4, x2",      // If dst - src < n, dst sits inside the source:
                "b.lo 4f",         // copy downwards.
                "b {memcpy}",      // Otherwise ascending is safe: memcpy's copy, same arguments.
                "4:",              // Descending copy (n > 0 here).
                "subs x2, x2, #1", // Index of the highest byte not yet copied.
                "ldrb w4, [x1, x2]",
                "strb w4, [x0, x2]", // Loads and stores leave the flags of `subs` intact:
                "b.ne 4b",         // stop once index 0 is copied.
                "ret",
                memcpy = sym memcpy,
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov x3, x0",      // Destination cursor; x0 stays the return value.
                "cbz x2, 3f",      // Nothing to fill.
                "2:",
                "strb w1, [x3], #1", // Store the low byte of c and advance.
                "subs x2, x2, #1",
                "b.ne 2b",
                "3:",
                "ret",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "mov w5, #0",      // Result when n == 0: equal.
                "cbz x2, 3f",
                "2:",
                "ldrb w3, [x0], #1", // a[i] and b[i], zero-extended: compared as unsigned
                "ldrb w4, [x1], #1", // chars.
                "sub w5, w3, w4",  // Their difference is the result if they differ.
                "cbnz w5, 3f",
                "subs x2, x2, #1",
                "b.ne 2b",         // Loop ends with w5 == 0: all n bytes equal.
                "3:",
                "mov w0, w5",
                "ret",
            )
        }

        /// C `bcmp` (from `vspawn::entry!`): zero if `n` bytes are equal; `memcmp` answers that.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "b {memcmp}",      // Same arguments, a result with at least the meaning needed.
                memcmp = sym memcmp,
            )
        }

        /// C `strlen` (from `vspawn::entry!`): the length of a NUL-terminated string.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "mov x1, x0",      // Cursor.
                "2:",
                "ldrb w2, [x1], #1", // Load a byte and advance past it.
                "cbnz w2, 2b",     // Until the NUL.
                "sub x0, x1, x0",  // The cursor is one past the NUL:
                "sub x0, x0, #1",  // length = cursor - start - 1.
                "ret",
            )
        }
    };
}
