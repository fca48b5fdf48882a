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

use crate::clone::{ChildStart, CloneArgs};

/// Issues `clone(flags, stack, parent_tid, child_tid, tls)`. In the child, calls `f(arg)` and ends
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
            in("rdi") flags,
            in("rsi") stack,
            in("rdx") parent_tid,
            in("r10") child_tid,
            in("r8") tls,
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
    unsafe { trampoline!(crate::sys::nr::CLONE3, child, in("rdi") args, in("rsi") size,) }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (`fs` base 0): every thread-local access there faults instead of reaching the creator's
/// thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with the argument operands
/// `$args`; in the child, `child_tail!`. Evaluates to the raw syscall result, in the parent.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "syscall",                    // clone(flags, stack, ptid, ctid, tls) or clone3(args, size)
            "test rax, rax",              // Zero means we are the child.
            "jnz 2f",                     // Parent (pid) or error (-errno): leave the block.
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            f = in(reg) $child.f,
            arg = in(reg) $child.arg,
            // Callee-saved, so it is still there when f returns.
            in("r12") $child.exit_nr,
            inlateout("rax") $nr => ret,
            $($args)*
            // Not `lateout`: `syscall` overwrites rcx and r11 while `f` and `arg` must still be
            // intact in the child, so neither may be allocated to these registers.
            out("rcx") _,
            out("r11") _,
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
            ".cfi_undefined rip\n",  // is undefined, so a backtrace (of a panic) ends here.
            "mov rdi, {arg}\n",      // f's only argument.
            "mov rax, {f}\n", // Move f out of the way (rax, the child's 0 from clone, is free):
            "xor ebp, ebp\n", // it may live in rbp. Zero the frame pointer: the chain ends here.
            "sub rsp, 128\n", // Step over the red zone: the parent may keep data there.
            fault_clobber!(), // (Test builds only: deliberately damage the parent.)
            "and rsp, -16\n", // Align the stack for the call.
            "call rax\n",     // f(arg); its i32 result comes back in eax.
            "mov edi, eax\n", // Exit status = f's result.
            "mov eax, r12d\n", // The exit syscall the caller chose: a thread's own or the group's.
            "syscall\n",
            "ud2\n",                // exit does not return.
            ".cfi_restore_state\n", // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// With the test-only cfg `vspawn_fault_clobber` (set by scripts/fault-proof alone), the clone
/// child overwrites the 8 bytes at the stack pointer it inherited (for a vfork child, the bottom of
/// the parent's live frame). It proves that the stack-bounds tests can fail; only a child sharing
/// memory can do this damage.
#[cfg(vspawn_fault_clobber)]
macro_rules! fault_clobber {
    () => {
        "mov qword ptr [rsp + 128], rsp\n" // Clobber the word at the inherited stack pointer.
    };
}
#[cfg(not(vspawn_fault_clobber))]
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
        nr = const crate::sys::nr::RT_SIGRETURN,
    )
}

/// The address to put in `sa_restorer`, with `SA_RESTORER` in the flags.
pub(crate) const SIGACTION_RESTORER: Option<unsafe extern "C" fn()> = Some(sigreturn_restorer);

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
/// The kernel enters `_start` with `rsp` pointing at `argc`, followed by `argv`, `envp` and the
/// auxiliary vector. The psABI lets `rdx` carry a function for `atexit` (from a dynamic loader); a
/// static binary has no loader, so it is ignored.
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
                "xor ebp, ebp",    // Zero the frame pointer: this is the outermost frame.
                "mov rdi, rsp",    // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "and rsp, -16",    // Align the stack (the kernel already does; never trust it).
                "push rbp",        // A zero return address, so stack walks stop here; rsp + 8
                                   // is now aligned, as at any function entry.
                "jmp {rust_start}", // rust_start(sp): never returns.
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
/// into a call to themselves. The copies use `rep movsb` / `rep stosb`, which processors with
/// "enhanced rep movsb" (every x86_64 since 2013) run at near-memcpy speed. The direction flag is
/// clear on entry and on return, as the ABI requires.
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
                "mov rax, rdi",    // Return the destination.
                "mov rcx, rdx",    // Byte count for `rep`.
                "rep movsb",       // Copy rcx bytes from [rsi] to [rdi], ascending.
                "ret",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov rax, rdi",    // Return the destination.
                "mov rcx, rdx",    // Byte count for `rep`.
                "mov r8, rdi",
                "sub r8, rsi",     // dst - src, as unsigned: huge when dst is below src.
                "cmp r8, rdx",     // If dst - src >= n, copying upwards never overwrites a source
                "jae 2f",          // byte before it is read.
                "lea rsi, [rsi + rdx - 1]", // Otherwise dst sits inside the source: copy
                "lea rdi, [rdi + rdx - 1]", // downwards from the last byte (n > 0 here).
                "std",             // Direction flag set: `rep movsb` descends.
                "rep movsb",
                "cld",             // The ABI requires the direction flag clear again.
                "ret",
                "2:",
                "rep movsb",       // Ascending copy.
                "ret",
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov r8, rdi",     // Keep the destination: rax is needed for the byte.
                "mov eax, esi",    // The fill byte, in al.
                "mov rcx, rdx",    // Byte count for `rep`.
                "rep stosb",       // Store al into rcx bytes at [rdi], ascending.
                "mov rax, r8",     // Return the destination.
                "ret",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "xor eax, eax",    // Result when n == 0: equal.
                "xor ecx, ecx",    // Index.
                "test rdx, rdx",
                "jz 3f",
                "2:",
                "movzx eax, byte ptr [rdi + rcx]", // a[i] and b[i], zero-extended:
                "movzx r8d, byte ptr [rsi + rcx]", // compared as unsigned chars.
                "sub eax, r8d",    // Their difference is the result if they differ.
                "jnz 3f",
                "inc rcx",
                "cmp rcx, rdx",
                "jne 2b",          // Loop ends with eax == 0: all n bytes equal.
                "3:",
                "ret",
            )
        }

        /// C `bcmp` (from `vspawn::entry!`): zero if `n` bytes are equal; `memcmp` answers that.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "jmp {memcmp}",    // Same arguments, a result with at least the meaning needed.
                memcmp = sym memcmp,
            )
        }

        /// C `strlen` (from `vspawn::entry!`): the length of a NUL-terminated string.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "mov rax, rdi",    // Cursor.
                "2:",
                "cmp byte ptr [rax], 0",
                "je 3f",           // Stop at the NUL.
                "inc rax",
                "jmp 2b",
                "3:",
                "sub rax, rdi",    // Length = NUL's address - start.
                "ret",
            )
        }
    };
}
