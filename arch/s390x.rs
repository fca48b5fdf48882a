//! s390x (64-bit, big-endian): the crate's assembly for this architecture, and its syscalls.
//!
//! # Syscall convention
//!
//! `svc 0` enters the kernel with the number in `r1` and the arguments in `r2`..`r7`; the result
//! (or `-errno`) comes back in `r2`, every other general register is preserved, the condition
//! code is not. (`svc N` with the number in the instruction only reaches the first 256.) `mmap`
//! is the old one, reading its six arguments from memory (see `crate::sys::mmap`). The raw
//! `clone` argument order here is `(stack, flags, parent_tid, child_tid, tls)`: the stack comes
//! first, unlike every other architecture.
//!
//! Functions take their arguments in `r2`..`r6` and return in `r2`; `r6`..`r15` are
//! callee-saved, `r14` is the return address, `r15` the stack pointer and `r11` the frame pointer.
//! The stack is 8-byte aligned, and a caller provides the 160 bytes at `r15` for the callee to
//! save registers in (the first 8, the back chain, point to the caller's frame or are 0); nothing
//! below `r15` is live. The kernel provides the signal return code (in the vDSO, or on the
//! signal frame), so no restorer is needed.
//!
//! The byte order is big-endian: the crate reads every kernel field at its own width, never a
//! narrower one out of a wider word (see `SigInfo`).
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

/// The syscall numbers the crate and its programs use (`arch/s390/kernel/syscalls/syscall.tbl`,
/// 64-bit).
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
    /// The old `mmap`: one pointer to its six arguments (see `crate::sys::mmap`).
    pub const MMAP: usize = 90;
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
    pub const RT_SIGTIMEDWAIT: usize = 177;
    pub const GETUID: usize = 199;
    pub const GETGID: usize = 200;
    pub const GETEUID: usize = 201;
    pub const GETEGID: usize = 202;
    pub const SETGROUPS: usize = 206;
    pub const SETRESUID: usize = 208;
    pub const SETRESGID: usize = 210;
    pub const GETDENTS64: usize = 220;
    pub const GETTID: usize = 236;
    pub const FUTEX: usize = 238;
    pub const TGKILL: usize = 241;
    pub const EXIT_GROUP: usize = 248;
    pub const CLOCK_GETTIME: usize = 260;
    pub const CLOCK_NANOSLEEP: usize = 262;
    pub const WAITID: usize = 281;
    pub const OPENAT: usize = 288;
    pub const MKDIRAT: usize = 289;
    pub const FACCESSAT: usize = 300;
    pub const PPOLL: usize = 302;
    pub const PIPE2: usize = 325;
    pub const DUP3: usize = 326;
    pub const PRLIMIT64: usize = 334;
    pub const EXECVEAT: usize = 354;
    pub const PIDFD_SEND_SIGNAL: usize = 424;
    pub const PIDFD_OPEN: usize = 434;
    pub const CLONE3: usize = 435;
    pub const CLOSE_RANGE: usize = 436;
    pub const SOCKETPAIR: usize = 360;
    pub const SENDTO: usize = 369;
}

/// Defines `syscall1` .. `syscall6`: `svc 0` with the number in r1 and the arguments in r2..r7.
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
            // SAFETY: the caller vouches for the syscall; the kernel changes no general
            // register but r2.
            unsafe {
                asm!(
                    "svc 0",
                    in("r1") n,
                    inlateout("r2") a0 => ret,
                    $(in($reg) $arg,)*
                    options(nostack),
                )
            };
            ret
        }
    )*};
}

syscalls! {
    syscall1();
    syscall2(a1: "r3");
    syscall3(a1: "r3", a2: "r4");
    syscall4(a1: "r3", a2: "r4", a3: "r5");
    syscall5(a1: "r3", a2: "r4", a3: "r5", a4: "r6");
    syscall6(a1: "r3", a2: "r4", a3: "r5", a4: "r6", a5: "r7");
}

/// A syscall with no argument.
///
/// # Safety
///
/// The syscall `n` must be safe to make (see `crate::sys`).
#[inline]
pub unsafe fn syscall0(n: usize) -> usize {
    // SAFETY: a syscall without arguments ignores r2 on the way in.
    unsafe { syscall1(n, 0) }
}

/// Issues `clone(stack, flags, parent_tid, child_tid, tls)`. In the child, calls `f(arg)` and ends
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
            stack,
            in("r3") flags,
            in("r4") parent_tid,
            in("r5") child_tid,
            in("r6") tls,
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
    unsafe { trampoline!(nr::CLONE3, child, args, in("r3") size,) }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (access registers a0 and a1 both 0): every thread-local access there faults instead of
/// reaching the creator's thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with its first argument `$first`
/// (in r2, where the result comes back) and the other argument operands `$args`; in the child,
/// `child_tail!`. Evaluates to the raw syscall result, in the parent. `f`, `arg` and the exit
/// syscall wait in callee-saved registers, which the child gets back unchanged.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $first:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "svc 0",                      // clone(stack, flags, ptid, ctid, tls) or clone3(args, size)
            "ltgr %r2, %r2",              // Parent (pid) or error (-errno): leave the block.
            "jnz 2f",
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            in("r8") $child.f,
            in("r9") $child.arg,
            in("r10") $child.exit_nr,
            in("r1") $nr,
            inlateout("r2") $first => ret,
            $($args)*
        );
        ret
    }};
}
use trampoline;

/// The child's path after a clone, shared by `clone` and `clone3`. It expects f in r8, its
/// argument in r9 and the exit syscall number in r10, and never returns. Its unwind information
/// marks the end of the call chain: an unwinder must not walk from the child into the frames of
/// the parent it was cloned from.
macro_rules! child_tail {
    () => {
        concat!(
            ".cfi_remember_state\n", // Unwind info for the child's path: its return address
            ".cfi_undefined %r14\n", // is undefined, so a backtrace (of a panic) ends here.
            fault_clobber!("stg %r15, 0(%r15)\n"), // (Test builds: damage the parent.)
            "lgr %r2, %r9\n",        // f's only argument (r2, the child's 0 from clone, is free).
            "lghi %r11, 0\n",        // Zero the frame pointer: the child's call chain ends here.
            "aghi %r15, -160\n",     // The register save area f may use, below the inherited
            "nill %r15, 0xfff0\n",   // stack pointer, aligned,
            "lghi %r0, 0\n",
            "stg %r0, 0(%r15)\n",   // with a back chain of 0: no caller frame.
            "basr %r14, %r8\n",     // f(arg); its i32 result comes back in r2.
            "lgr %r1, %r10\n",      // The exit syscall the caller chose: a thread's own or the
            "svc 0\n",              // group's. Exit status = f's result, already in r2.
            ".word 0\n",            // exit does not return (an invalid instruction).
            ".cfi_restore_state\n", // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// s390x signal handlers return through the kernel's own code: no restorer.
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
/// The kernel enters `_start` with `r15` pointing at `argc`, followed by `argv`, `envp` and the
/// auxiliary vector. `r14` may carry a function for `atexit` (from a dynamic loader); a static
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
                "lgr %r2, %r15",   // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "aghi %r15, -160", // The register save area of the first frame, aligned
                "nill %r15, 0xfff0", // (the kernel already does; never trust it),
                "lghi %r0, 0",
                "stg %r0, 0(%r15)", // with a back chain of 0: this is the outermost frame.
                "lghi %r11, 0",    // Zero the frame pointer
                "lghi %r14, 0",    // and the return address: there is nowhere to return to.
                "jg {rust_start}", // rust_start(sp): never returns.
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
/// programs like an init, not for bulk copies. Leaf functions: they use only the volatile
/// registers r0..r5 and no stack.
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
                "lgr %r1, %r2",    // Destination cursor; r2 stays the return value.
                "ltgr %r4, %r4",   // Nothing to copy?
                "jz 3f",
                "2:",
                "llc %r0, 0(%r3)", // Copy one byte,
                "stc %r0, 0(%r1)",
                "la %r3, 1(%r3)",  // advance both cursors,
                "la %r1, 1(%r1)",
                "brctg %r4, 2b",   // and count it.
                "3:",
                "br %r14",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "lgr %r1, %r2",
                "sgr %r1, %r3",    // dst - src, as unsigned: huge when dst is below src.
                "clgr %r1, %r4",   // If dst - src >= n, ascending is safe: memcpy's copy,
                "jgnl {memcpy}",   // same arguments.
                "4:",              // Otherwise dst sits inside the source: descending (n > 0).
                "aghi %r4, -1",    // Index of the highest byte not yet copied.
                "llc %r0, 0(%r4,%r3)",
                "stc %r0, 0(%r4,%r2)",
                "ltgr %r4, %r4",   // Stop once index 0 is copied.
                "jnz 4b",
                "br %r14",
                memcpy = sym memcpy,
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "lgr %r1, %r2",    // Destination cursor; r2 stays the return value.
                "ltgr %r4, %r4",   // Nothing to fill?
                "jz 3f",
                "2:",
                "stc %r3, 0(%r1)", // Store the low byte of c,
                "la %r1, 1(%r1)",  // advance,
                "brctg %r4, 2b",   // and count it.
                "3:",
                "br %r14",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "ltgr %r4, %r4",
                "jz 3f",           // n == 0: equal.
                "2:",
                "llc %r0, 0(%r2)", // a[i] and b[i], zero-extended: compared as unsigned chars.
                "llc %r1, 0(%r3)",
                "sr %r0, %r1",     // Their difference is the result if they differ.
                "jnz 4f",
                "la %r2, 1(%r2)",
                "la %r3, 1(%r3)",
                "brctg %r4, 2b",
                "3:",
                "lghi %r2, 0",     // All n bytes equal.
                "br %r14",
                "4:",
                "lgfr %r2, %r0",   // The difference, sign-extended as the ABI wants an int.
                "br %r14",
            )
        }

        /// C `bcmp` (from `vspawn::entry!`): zero if `n` bytes are equal; `memcmp` answers that.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "jg {memcmp}",     // Same arguments, a result with at least the meaning needed.
                memcmp = sym memcmp,
            )
        }

        /// C `strlen` (from `vspawn::entry!`): the length of a NUL-terminated string.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "lgr %r1, %r2",    // Cursor.
                "2:",
                "llc %r0, 0(%r1)", // Load a byte
                "la %r1, 1(%r1)",  // and advance past it,
                "ltr %r0, %r0",    // until the NUL.
                "jnz 2b",
                "sgr %r1, %r2",    // The cursor is one past the NUL:
                "aghi %r1, -1",    // length = cursor - start - 1.
                "lgr %r2, %r1",
                "br %r14",
            )
        }
    };
}
