//! arm (armv7, EABI, ARM mode): the crate's assembly for this architecture, and its syscalls.
//!
//! # Syscall convention
//!
//! The EABI one: the number goes in `r7`, the arguments in `r0`..`r5`; `svc #0` enters the
//! kernel, which returns the result (or `-errno`) in `r0` and preserves every other register.
//! (A 64-bit argument would take an even-odd register pair; no syscall of the crate has one.)
//! `r7` is the frame pointer of Thumb code, which is why build.rs refuses Thumb-mode targets: in
//! ARM mode the frame pointer is `r11`. The raw `clone` argument order here is
//! `(flags, stack, parent_tid, tls, child_tid)`, as on aarch64.
//!
//! Functions take their arguments in `r0`..`r3` and return in `r0`; `r4`..`r11` are
//! callee-saved, `lr` is the return address. The stack is 8-byte aligned at a call (AAPCS) and
//! has no red zone. The kernel provides the signal return code (its sigpage), so no restorer is
//! needed.
//!
//! The 32-bit ABI has its own syscall numbers for what the crate's types need: the 32-bit-id
//! calls (`setresuid32`, ...), the 64-bit-time ones (`clock_gettime64`, ...) and `mmap2`. `nr`
//! below gives them under the names the crate uses (see `crate::sys`).
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

/// The syscall numbers the crate and its programs use (EABI table, `arch/arm/tools/syscall.tbl`).
#[allow(missing_docs)]
pub mod nr {
    pub const EXIT: usize = 1;
    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const EXECVE: usize = 11;
    pub const CHDIR: usize = 12;
    pub const GETPID: usize = 20;
    pub const MOUNT: usize = 21;
    pub const SYNC: usize = 36;
    pub const KILL: usize = 37;
    pub const IOCTL: usize = 54;
    pub const FCNTL: usize = 55;
    pub const SETPGID: usize = 57;
    pub const UMASK: usize = 60;
    pub const GETPPID: usize = 64;
    pub const SETSID: usize = 66;
    pub const REBOOT: usize = 88;
    pub const MUNMAP: usize = 91;
    pub const WAIT4: usize = 114;
    pub const CLONE: usize = 120;
    pub const UNAME: usize = 122;
    pub const MPROTECT: usize = 125;
    pub const GETPGID: usize = 132;
    pub const FCHDIR: usize = 133;
    pub const MSYNC: usize = 144;
    pub const GETSID: usize = 147;
    pub const PRCTL: usize = 172;
    pub const RT_SIGRETURN: usize = 173;
    pub const RT_SIGACTION: usize = 174;
    pub const RT_SIGPROCMASK: usize = 175;
    /// `mmap2`: the offset in 4096-byte units (see `crate::sys::mmap`).
    pub const MMAP: usize = 192;
    /// `getuid32` (the plain `getuid` has 16-bit ids), and likewise below.
    pub const GETUID: usize = 199;
    pub const GETGID: usize = 200;
    pub const GETEUID: usize = 201;
    pub const GETEGID: usize = 202;
    pub const SETGROUPS: usize = 206;
    pub const SETRESUID: usize = 208;
    pub const SETRESGID: usize = 210;
    pub const GETDENTS64: usize = 217;
    pub const GETTID: usize = 224;
    pub const EXIT_GROUP: usize = 248;
    pub const TGKILL: usize = 268;
    pub const WAITID: usize = 280;
    pub const OPENAT: usize = 322;
    pub const MKDIRAT: usize = 323;
    pub const FACCESSAT: usize = 334;
    pub const DUP3: usize = 358;
    pub const PIPE2: usize = 359;
    pub const PRLIMIT64: usize = 369;
    pub const EXECVEAT: usize = 387;
    /// `clock_gettime64`, and the other `_time64` calls below: `struct __kernel_timespec`.
    pub const CLOCK_GETTIME: usize = 403;
    pub const CLOCK_NANOSLEEP: usize = 407;
    pub const PPOLL: usize = 414;
    pub const RT_SIGTIMEDWAIT: usize = 421;
    pub const FUTEX: usize = 422;
    pub const PIDFD_SEND_SIGNAL: usize = 424;
    pub const PIDFD_OPEN: usize = 434;
    pub const CLONE3: usize = 435;
    pub const CLOSE_RANGE: usize = 436;
    pub const SOCKETPAIR: usize = 288;
    pub const SENDTO: usize = 290;
}

/// Defines `syscall0` .. `syscall6`: `svc #0` with the number in r7 and the arguments in r0..r5.
macro_rules! syscalls {
    ($($name:ident($($arg:ident: $reg:tt),*);)*) => {$(
        /// A syscall with as many arguments as it takes.
        ///
        /// # Safety
        ///
        /// The syscall `n` must be safe to make with these arguments (see `crate::sys`).
        #[inline]
        pub unsafe fn $name(n: usize, a0: usize $(, $arg: usize)*) -> usize {
            let ret;
            // SAFETY: the caller vouches for the syscall; the kernel changes no register but r0.
            unsafe {
                asm!(
                    "svc #0",
                    in("r7") n,
                    inlateout("r0") a0 => ret,
                    $(in($reg) $arg,)*
                    options(nostack, preserves_flags),
                )
            };
            ret
        }
    )*};
}

syscalls! {
    syscall1();
    syscall2(a1: "r1");
    syscall3(a1: "r1", a2: "r2");
    syscall4(a1: "r1", a2: "r2", a3: "r3");
    syscall5(a1: "r1", a2: "r2", a3: "r3", a4: "r4");
    syscall6(a1: "r1", a2: "r2", a3: "r3", a4: "r4", a5: "r5");
}

/// A syscall with no argument.
///
/// # Safety
///
/// The syscall `n` must be safe to make (see `crate::sys`).
#[inline]
pub unsafe fn syscall0(n: usize) -> usize {
    // SAFETY: a syscall without arguments ignores r0 on the way in.
    unsafe { syscall1(n, 0) }
}

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
            nr::CLONE,
            child,
            flags,
            in("r1") stack,
            in("r2") parent_tid,
            in("r3") tls,
            in("r4") child_tid,
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
    unsafe { trampoline!(nr::CLONE3, child, args, in("r1") size,) }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (`tpidruro` 0): every thread-local access there faults instead of reaching the creator's
/// thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with its first argument `$first`
/// (in r0, where the result comes back) and the other argument operands `$args`; in the child,
/// `child_tail!`. Evaluates to the raw syscall result, in the parent. `f`, `arg` and the exit
/// syscall wait in callee-saved registers, which the child gets back unchanged.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $first:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "svc #0",                     // clone(flags, stack, ptid, tls, ctid) or clone3(args, size)
            "cmp r0, #0",                 // Parent (pid) or error (-errno): leave the block.
            "bne 2f",
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            in("r5") $child.f,
            in("r10") $child.arg,
            in("r8") $child.exit_nr,
            in("r7") $nr,
            inlateout("r0") $first => ret,
            $($args)*
        );
        ret
    }};
}
use trampoline;

/// The child's path after a clone, shared by `clone` and `clone3`. It expects f in r5, its
/// argument in r10 and the exit syscall number in r8, and never returns. Its unwind information
/// marks the end of the call chain: an unwinder must not walk from the child into the frames of
/// the parent it was cloned from.
macro_rules! child_tail {
    () => {
        concat!(
            ".cfi_remember_state\n", // Unwind info for the child's path: its return address
            ".cfi_undefined lr\n",   // is undefined, so a backtrace (of a panic) ends here.
            fault_clobber!("str sp, [sp]\n"), // (Test builds: damage the parent.)
            "mov r0, r10\n",         // f's only argument (r0, the child's 0 from clone, is free).
            "mov r11, #0\n",         // Zero the frame pointer: the child's call chain ends here.
            "mov lr, #0\n",          // And the link register: there is nowhere to return to.
            "bic sp, sp, #7\n",      // The call ABI's 8-byte alignment.
            "blx r5\n",              // f(arg); its i32 result comes back in r0.
            "mov r7, r8\n",          // The exit syscall the caller chose: a thread's own or the
            "svc #0\n",              // group's. Exit status = f's result, already in r0.
            "udf #0\n",              // exit does not return.
            ".cfi_restore_state\n",  // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// arm signal handlers return through the kernel's sigpage: no restorer.
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
/// auxiliary vector. `r0` may carry a function for `atexit` (from a dynamic loader); a static
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
                "mov r11, #0",     // Zero the frame pointer: this is the outermost frame.
                "mov lr, #0",      // Zero the link register: there is nowhere to return to.
                "mov r0, sp",      // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "bic sp, sp, #15", // Align the stack (the kernel already does; never trust it).
                "b {rust_start}",  // rust_start(sp), without linking: it never returns.
                rust_start = sym $rust_start,
            )
        }

        /// The personality routines the unwind tables (`.ARM.exidx`) of the precompiled `core`
        /// refer to: never called, since nothing unwinds with `panic = "abort"`.
        #[unsafe(no_mangle)]
        extern "C" fn __aeabi_unwind_cpp_pr0() {}
        /// See `__aeabi_unwind_cpp_pr0`.
        #[unsafe(no_mangle)]
        extern "C" fn __aeabi_unwind_cpp_pr1() {}
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
                "mov r3, r0",      // Destination cursor; r0 stays the return value.
                "cmp r2, #0",      // Nothing to copy?
                "beq 3f",
                "2:",
                "ldrb r12, [r1], #1", // Load a byte and advance the source.
                "strb r12, [r3], #1", // Store it and advance the destination.
                "subs r2, r2, #1", // One byte fewer to go.
                "bne 2b",
                "3:",
                "bx lr",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "sub r3, r0, r1",  // dst - src, as unsigned: huge when dst is below src.
                "cmp r3, r2",      // If dst - src >= n, ascending is safe: memcpy's copy,
                "bhs {memcpy}",    // same arguments.
                "4:",              // Otherwise dst sits inside the source: descending (n > 0).
                "subs r2, r2, #1", // Index of the highest byte not yet copied.
                "ldrb r3, [r1, r2]",
                "strb r3, [r0, r2]", // Loads and stores leave the flags of `subs` intact:
                "bne 4b",          // stop once index 0 is copied.
                "bx lr",
                memcpy = sym memcpy,
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov r3, r0",      // Destination cursor; r0 stays the return value.
                "cmp r2, #0",      // Nothing to fill?
                "beq 3f",
                "2:",
                "strb r1, [r3], #1", // Store the low byte of c and advance.
                "subs r2, r2, #1",
                "bne 2b",
                "3:",
                "bx lr",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "mov r3, #0",      // Result when n == 0: equal.
                "cmp r2, #0",
                "beq 3f",
                "2:",
                "ldrb r3, [r0], #1", // a[i] and b[i], zero-extended: compared as unsigned
                "ldrb r12, [r1], #1", // chars.
                "subs r3, r3, r12", // Their difference is the result if they differ.
                "bne 3f",
                "subs r2, r2, #1",
                "bne 2b",          // Loop ends with r3 == 0: all n bytes equal.
                "3:",
                "mov r0, r3",
                "bx lr",
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
                "mov r1, r0",      // Cursor.
                "2:",
                "ldrb r2, [r1], #1", // Load a byte and advance past it,
                "cmp r2, #0",      // until the NUL.
                "bne 2b",
                "sub r0, r1, r0",  // The cursor is one past the NUL:
                "sub r0, r0, #1",  // length = cursor - start - 1.
                "bx lr",
            )
        }
    };
}
