//! powerpc64 (little-endian, ELFv2): the crate's assembly for this architecture, and its
//! syscalls.
//!
//! # Syscall convention
//!
//! `sc` enters the kernel with the number in `r0` and the arguments in `r3`..`r8`. It reports
//! failure differently from every other architecture here: it sets the summary-overflow bit of
//! `cr0` and returns the *positive* errno in `r3` (success: the bit clear, the result in `r3`).
//! Every syscall below turns a failure into `-errno` (`bns` skips the `neg`), so the rest of the
//! crate sees the usual convention. The kernel may change `r0`, `r4`..`r12`, `ctr`, `xer` and the
//! condition fields `cr0`, `cr1`, `cr5`..`cr7`. The raw `clone` argument order here is
//! `(flags, stack, parent_tid, tls, child_tid)`, as on aarch64.
//!
//! Functions take their arguments in `r3`..`r10` and return in `r3`; `r14`..`r31` are
//! callee-saved, `r1` is the stack pointer, `r2` the TOC pointer (globals are reached through
//! it), `r13` the thread pointer, `lr` the return address. A caller provides a 32-byte frame
//! header at `r1` (back chain, CR, LR and TOC save words), the stack is 16-byte aligned, and the
//! 288 bytes below `r1` are a red zone the function may keep data in. A function called through a
//! pointer expects its own address in `r12`. The kernel provides the signal return code (in the
//! vDSO), so no restorer is needed.
//!
//! # Why assembly
//!
//! A clone child that shares the parent's memory must never return into Rust code: both tasks
//! would then run the same frames. So the syscall and everything the child does before it
//! reaches the caller's function happen inside one `asm!` block. In a `CLONE_VM` child without a
//! stack of its own, that block runs below the parent's stack pointer, which the compiler leaves
//! free because the asm is not `nostack`; the child also steps over the red zone.

use core::arch::asm;

use crate::clone::{ChildStart, CloneArgs};

/// The syscall numbers the crate and its programs use
/// (`arch/powerpc/kernel/syscalls/syscall.tbl`, 64-bit).
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
    pub const GETUID: usize = 24;
    pub const SYNC: usize = 36;
    pub const KILL: usize = 37;
    pub const GETGID: usize = 47;
    pub const GETEUID: usize = 49;
    pub const GETEGID: usize = 50;
    pub const IOCTL: usize = 54;
    pub const FCNTL: usize = 55;
    pub const SETPGID: usize = 57;
    pub const UMASK: usize = 60;
    pub const GETPPID: usize = 64;
    pub const SETSID: usize = 66;
    pub const SETGROUPS: usize = 81;
    pub const REBOOT: usize = 88;
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
    pub const SETRESUID: usize = 164;
    pub const SETRESGID: usize = 169;
    pub const PRCTL: usize = 171;
    pub const RT_SIGRETURN: usize = 172;
    pub const RT_SIGACTION: usize = 173;
    pub const RT_SIGPROCMASK: usize = 174;
    pub const RT_SIGTIMEDWAIT: usize = 176;
    pub const GETDENTS64: usize = 202;
    pub const GETTID: usize = 207;
    pub const FUTEX: usize = 221;
    pub const EXIT_GROUP: usize = 234;
    pub const CLOCK_GETTIME: usize = 246;
    pub const CLOCK_NANOSLEEP: usize = 248;
    pub const TGKILL: usize = 250;
    pub const WAITID: usize = 272;
    pub const PPOLL: usize = 281;
    pub const OPENAT: usize = 286;
    pub const MKDIRAT: usize = 287;
    pub const FACCESSAT: usize = 298;
    pub const DUP3: usize = 316;
    pub const PIPE2: usize = 317;
    pub const PRLIMIT64: usize = 325;
    pub const EXECVEAT: usize = 362;
    pub const PIDFD_SEND_SIGNAL: usize = 424;
    pub const PIDFD_OPEN: usize = 434;
    pub const CLONE3: usize = 435;
    pub const CLOSE_RANGE: usize = 436;
    pub const SOCKETPAIR: usize = 333;
    pub const SENDTO: usize = 335;
}

/// Defines `syscall1` .. `syscall6`: `sc` with the number in r0 and the arguments in r3..r8, a
/// failure turned into `-errno`. After the arguments come the other registers the kernel may
/// change.
macro_rules! syscalls {
    ($($name:ident($($arg:ident: $reg:tt),*; $($free:tt),*);)*) => {$(
        /// A syscall with as many arguments as it takes.
        ///
        /// # Safety
        ///
        /// The syscall `n` must be safe to make with these arguments (see `crate::sys`).
        #[inline]
        pub unsafe fn $name(n: usize, a0: usize $(, $arg: usize)*) -> usize {
            let ret;
            // SAFETY: the caller vouches for the syscall; every register the kernel may change
            // is declared.
            unsafe {
                asm!(
                    "sc",
                    "bns 2f",             // cr0.SO clear: success, r3 is the result.
                    "neg 3, 3",           // Set: r3 is a positive errno; make it -errno.
                    "2:",
                    inlateout("r0") n => _,
                    inlateout("r3") a0 => ret,
                    $(inlateout($reg) $arg => _,)*
                    $(lateout($free) _,)*
                    out("cr0") _, out("cr1") _, out("cr5") _, out("cr6") _, out("cr7") _,
                    out("ctr") _, out("xer") _,
                    options(nostack),
                )
            };
            ret
        }
    )*};
}

syscalls! {
    syscall1(; "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12");
    syscall2(a1: "r4"; "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12");
    syscall3(a1: "r4", a2: "r5"; "r6", "r7", "r8", "r9", "r10", "r11", "r12");
    syscall4(a1: "r4", a2: "r5", a3: "r6"; "r7", "r8", "r9", "r10", "r11", "r12");
    syscall5(a1: "r4", a2: "r5", a3: "r6", a4: "r7"; "r8", "r9", "r10", "r11", "r12");
    syscall6(a1: "r4", a2: "r5", a3: "r6", a4: "r7", a5: "r8"; "r9", "r10", "r11", "r12");
}

/// A syscall with no argument.
///
/// # Safety
///
/// The syscall `n` must be safe to make (see `crate::sys`).
#[inline]
pub unsafe fn syscall0(n: usize) -> usize {
    // SAFETY: a syscall without arguments ignores r3 on the way in.
    unsafe { syscall1(n, 0) }
}

/// Issues `clone(flags, stack, parent_tid, tls, child_tid)`. In the child, calls `f(arg)` and ends
/// the task with the syscall `exit_nr` (`exit` for a thread, `exit_group` for a process) of f's
/// result (all three from `child`); never returns there. Returns the raw syscall result in the
/// parent (`-errno` on failure, as everywhere).
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
            inlateout("r4") stack => _,
            inlateout("r5") parent_tid => _,
            inlateout("r6") tls => _,
            inlateout("r7") child_tid => _,
            lateout("r8") _,
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
    unsafe {
        trampoline!(
            nr::CLONE3,
            child,
            args,
            inlateout("r4") size => _,
            lateout("r5") _,
            lateout("r6") _,
            lateout("r7") _,
            lateout("r8") _,
        )
    }
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer
/// (r13 0): every thread-local access there faults instead of reaching the creator's
/// thread-locals. `vspawn::thread` threads and `vfork` children run so.
pub(crate) const NO_THREAD_POINTER: usize = 0;

/// The one asm block of `clone` and `clone3`: the syscall `$nr` with its first argument `$first`
/// (in r3, where the result comes back) and the other argument operands `$args` (r4..r8, each
/// declared changed); in the child, `child_tail!`. Evaluates to the raw syscall result, in the
/// parent, a failure turned into `-errno`. `f`, `arg` and the exit syscall wait in callee-saved
/// registers, which the child gets back unchanged.
macro_rules! trampoline {
    ($nr:expr, $child:expr, $first:expr, $($args:tt)*) => {{
        let ret: usize;
        asm!(
            "sc",                         // clone(flags, stack, ptid, tls, ctid) or clone3(args, size)
            "bns 3f",                     // cr0.SO clear: r3 is a pid, or 0 in the child.
            "neg 3, 3",                   // Set: r3 is a positive errno; make it -errno
            "b 2f",                       // and leave the block.
            "3:",
            "cmpdi 3, 0",                 // The parent (a pid) leaves the block.
            "bne 2f",
            child_tail!(),                // Child: run f(arg) and exit with its result.
            "2:",
            in("r14") $child.f,
            in("r15") $child.arg,
            in("r16") $child.exit_nr,
            inlateout("r0") $nr => _,
            inlateout("r3") $first => ret,
            $($args)*
            lateout("r9") _, lateout("r10") _, lateout("r11") _, lateout("r12") _,
            out("cr0") _, out("cr1") _, out("cr5") _, out("cr6") _, out("cr7") _,
            out("ctr") _, out("xer") _,
        );
        ret
    }};
}
use trampoline;

/// The child's path after a clone, shared by `clone` and `clone3`. It expects f in r14, its
/// argument in r15 and the exit syscall number in r16, and never returns. Its unwind information
/// marks the end of the call chain: an unwinder must not walk from the child into the frames of
/// the parent it was cloned from.
macro_rules! child_tail {
    () => {
        concat!(
            ".cfi_remember_state\n", // Unwind info for the child's path: its return address
            ".cfi_undefined lr\n",   // is undefined, so a backtrace (of a panic) ends here.
            fault_clobber!("std 1, 0(1)\n"), // (Test builds: damage the parent.)
            "mr 3, 15\n",            // f's only argument (r3, the child's 0 from clone, is free).
            "mr 12, 14\n",           // f's address in r12 and ctr, as a call through a pointer
            "mtctr 12\n",            // wants it.
            "addi 1, 1, -320\n",     // Step over the red zone (the parent may keep data there)
            "clrrdi 1, 1, 4\n",      // and make f's caller frame header, 16-byte aligned,
            "li 0, 0\n",
            "std 0, 0(1)\n", // with a back chain of 0: the child's call chain ends here,
            "mtlr 0\n",      // and no return address.
            "bctrl\n",       // f(arg); its i32 result comes back in r3.
            "mr 0, 16\n",    // The exit syscall the caller chose: a thread's own or the
            "sc\n",          // group's. Exit status = f's result, already in r3.
            "trap\n",        // exit does not return.
            ".cfi_restore_state\n", // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// powerpc64 signal handlers return through the vDSO: no restorer.
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
/// The kernel enters `_start` with `r1` pointing at `argc`, followed by `argv`, `envp` and the
/// auxiliary vector. Nothing has set the TOC pointer: `_start` computes it from its own address
/// (the linker's `.TOC.` relative to a label), as every function's global entry does from `r12`.
/// `r7` may carry a function for `atexit` (from a dynamic loader); a static binary has no loader,
/// so it is ignored.
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
                "bcl 20, 31, 0f",  // lr = the address of the next instruction,
                "0:",
                "mflr 12",
                "addis 2, 12, (.TOC. - 0b)@ha", // and from it the TOC pointer.
                "addi 2, 2, (.TOC. - 0b)@l",
                "mr 3, 1",         // Argument: the initial stack pointer (argc, argv, envp, auxv).
                "clrrdi 1, 1, 4",  // Align the stack (the kernel already does; never trust it),
                "li 0, 0",
                "stdu 0, -32(1)",  // and make a frame header with a back chain of 0: this is the
                "mtlr 0",          // outermost frame; no return address.
                "b {rust_start}",  // rust_start(sp): never returns.
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
/// programs like an init, not for bulk copies. Leaf functions: volatile registers only, no stack,
/// no TOC.
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
                "mr 6, 3",         // Destination cursor; r3 stays the return value.
                "cmpdi 5, 0",      // Nothing to copy?
                "beqlr",
                "mtctr 5",         // The count, for bdnz.
                "2:",
                "lbz 7, 0(4)",     // Copy one byte,
                "stb 7, 0(6)",
                "addi 4, 4, 1",    // and advance both cursors.
                "addi 6, 6, 1",
                "bdnz 2b",
                "blr",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "subf 6, 4, 3",    // dst - src, as unsigned: huge when dst is below src.
                "cmpld 6, 5",      // If dst - src < n, dst sits inside the source: copy
                "blt 4f",          // downwards.
                "b {memcpy}",      // Otherwise ascending is safe: memcpy's copy, same arguments.
                "4:",              // Descending copy (n > 0 here), from the ends:
                "mtctr 5",
                "add 4, 4, 5",
                "add 6, 3, 5",
                "5:",
                "lbzu 7, -1(4)",   // step back and load a byte,
                "stbu 7, -1(6)",   // step back and store it.
                "bdnz 5b",
                "blr",
                memcpy = sym memcpy,
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mr 6, 3",         // Destination cursor; r3 stays the return value.
                "cmpdi 5, 0",      // Nothing to fill?
                "beqlr",
                "mtctr 5",
                "2:",
                "stb 4, 0(6)",     // Store the low byte of c and advance.
                "addi 6, 6, 1",
                "bdnz 2b",
                "blr",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "li 6, 0",         // Result when n == 0: equal.
                "cmpdi 5, 0",
                "beq 3f",
                "mtctr 5",
                "2:",
                "lbz 7, 0(3)",     // a[i] and b[i], zero-extended: compared as unsigned chars.
                "lbz 8, 0(4)",
                "subf. 6, 8, 7",   // Their difference is the result if they differ.
                "bne 3f",
                "addi 3, 3, 1",
                "addi 4, 4, 1",
                "bdnz 2b",         // Loop ends with r6 == 0: all n bytes equal.
                "3:",
                "extsw 3, 6",      // An int, sign-extended as the ABI wants.
                "blr",
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
                "mr 4, 3",         // Cursor.
                "2:",
                "lbz 5, 0(4)",     // Load a byte
                "addi 4, 4, 1",    // and advance past it,
                "cmpdi 5, 0",      // until the NUL.
                "bne 2b",
                "subf 3, 3, 4",    // The cursor is one past the NUL:
                "addi 3, 3, -1",   // length = cursor - start - 1.
                "blr",
            )
        }
    };
}
