//! i686 (32-bit x86): the crate's assembly for this architecture, and its syscalls.
//!
//! # Syscall convention
//!
//! `int 0x80` enters the kernel with the number in `eax` and the arguments in `ebx`, `ecx`,
//! `edx`, `esi`, `edi`, `ebp`; the result (or `-errno`) comes back in `eax` and every other
//! register is preserved. The vDSO's `__kernel_vsyscall` takes the same registers and enters the
//! kernel with `sysenter` or `syscall`, which is far cheaper: the syscalls use it where the crate
//! can find it in the auxiliary vector, and `int 0x80` where it cannot. The clone trampolines
//! always use `int 0x80`: a child on a new stack would return from the vDSO function to an
//! address its stack does not hold. LLVM keeps
//! `esi` (its base pointer) and `ebp` (the frame pointer) for itself, so no `asm!` operand may
//! name them: the arguments that go there are moved in and out inside the asm. The raw `clone`
//! argument order here is `(flags, stack, parent_tid, tls, child_tid)` (`tls` before `child_tid`,
//! unlike x86_64), and `tls` is a `struct user_desc *`, not a value: the crate never passes one.
//!
//! Functions take their arguments on the stack (cdecl) and return in `eax`; `ebx`, `esi`, `edi`
//! and `ebp` are callee-saved. The stack is 16-byte aligned at a `call` (`esp + 4` aligned on
//! function entry) and has no red zone. A signal handler installed without `SA_RESTORER`
//! returns through the vDSO's `__kernel_sigreturn` or `__kernel_rt_sigreturn`, whichever its
//! frame needs, so no restorer is installed (one restorer could not serve both frames).
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
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::clone::{ChildStart, CloneArgs};

/// The syscall numbers the crate and its programs use (i386 table, `arch/x86/entry/syscalls/`).
#[allow(missing_docs)]
pub mod nr {
    pub const EXIT: usize = 1;
    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const EXECVE: usize = 11;
    pub const CHDIR: usize = 12;
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
    pub const GETPID: usize = 20;
    pub const GETDENTS64: usize = 220;
    pub const GETTID: usize = 224;
    pub const EXIT_GROUP: usize = 252;
    pub const TGKILL: usize = 270;
    pub const WAITID: usize = 284;
    pub const OPENAT: usize = 295;
    pub const MKDIRAT: usize = 296;
    pub const FACCESSAT: usize = 307;
    pub const DUP3: usize = 330;
    pub const PIPE2: usize = 331;
    pub const PRLIMIT64: usize = 340;
    pub const EXECVEAT: usize = 358;
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
    pub const SOCKETPAIR: usize = 360;
    pub const SENDTO: usize = 369;
}

/// The vDSO's `__kernel_vsyscall` (the auxiliary vector's `AT_SYSINFO`) once looked up;
/// [`NO_VSYSCALL`] when the crate cannot reach the vector (neither `entry!` nor the `std`
/// feature) or the kernel gave none: then `int 0x80`. The entry takes the registers `int 0x80`
/// takes and changes only `eax` (and the flags), but it enters the kernel with `sysenter` or
/// `syscall`: on this machine a `getppid` through it took 88 ns, through `int 0x80` 7 µs.
static VSYSCALL: AtomicUsize = AtomicUsize::new(VSYSCALL_UNKNOWN);
const VSYSCALL_UNKNOWN: usize = 0;
const NO_VSYSCALL: usize = 1;

/// The syscall entry: the address of `__kernel_vsyscall`, or [`NO_VSYSCALL`].
#[inline]
fn vsyscall() -> usize {
    match VSYSCALL.load(Ordering::Relaxed) {
        VSYSCALL_UNKNOWN => {
            const AT_SYSINFO: usize = 32;
            let entry = crate::sys::auxv(AT_SYSINFO).unwrap_or(NO_VSYSCALL);
            VSYSCALL.store(entry, Ordering::Relaxed);
            entry
        }
        entry => entry,
    }
}

/// Syscall with no argument.
///
/// # Safety
///
/// The syscall `n` must be safe to make with these arguments (see `crate::sys`).
#[inline]
pub unsafe fn syscall0(n: usize) -> usize {
    // SAFETY: as for `syscall3`.
    unsafe { syscall3(n, 0, 0, 0) }
}

/// Syscall with one argument.
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall1(n: usize, a0: usize) -> usize {
    // SAFETY: as for `syscall3`.
    unsafe { syscall3(n, a0, 0, 0) }
}

/// Syscall with two arguments.
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall2(n: usize, a0: usize, a1: usize) -> usize {
    // SAFETY: as for `syscall3`.
    unsafe { syscall3(n, a0, a1, 0) }
}

/// Syscall with three arguments (the kernel ignores the registers of arguments a syscall does not
/// take, so the shorter ones are this one with zeros).
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    let entry = vsyscall();
    if entry == NO_VSYSCALL {
        // SAFETY: the caller vouches for the syscall; int 0x80 changes no register but eax.
        unsafe {
            asm!("int 0x80", inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1, in("edx") a2,
                options(nostack, preserves_flags))
        };
    } else {
        // SAFETY: as above; the vDSO entry changes eax and the flags, and uses the stack.
        unsafe {
            asm!("call edi", in("edi") entry,
                inlateout("eax") n => ret, in("ebx") a0, in("ecx") a1, in("edx") a2)
        };
    }
    ret
}

/// Syscall with four arguments.
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall4(n: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    // SAFETY: as for `syscall6`.
    unsafe { syscall6(n, a0, a1, a2, a3, 0, 0) }
}

/// Syscall with five arguments.
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall5(n: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
    // SAFETY: as for `syscall6`.
    unsafe { syscall6(n, a0, a1, a2, a3, a4, 0) }
}

/// Syscall with six arguments.
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> usize {
    // Every register but esi and ebp holds an argument, so the number, the arguments for esi and
    // ebp and the entry come from memory, through eax.
    let block = [n, a3, a5, vsyscall()];
    let ret;
    // SAFETY: the caller vouches for the syscall; esi and ebp are pushed and popped around it;
    // either way of entering the kernel changes only eax (and, through the vDSO, the flags).
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "mov esi, [eax + 4]",         // Fourth argument.
            "mov ebp, [eax + 8]",         // Sixth argument.
            "cmp dword ptr [eax + 12], {no_vsyscall}",
            "je 2f",
            "push dword ptr [eax + 12]",  // Through the vDSO: its entry, called from the stack.
            "mov eax, [eax]",             // The number.
            "call [esp]",
            "add esp, 4",
            "jmp 3f",
            "2:",
            "mov eax, [eax]",             // Without one: the number, and int 0x80.
            "int 0x80",
            "3:",
            "pop esi",
            "pop ebp",
            no_vsyscall = const NO_VSYSCALL,
            inlateout("eax") block.as_ptr() => ret,
            in("ebx") a0, in("ecx") a1, in("edx") a2, in("edi") a4,
        )
    };
    ret
}

/// Issues `clone(flags, stack, parent_tid, tls, child_tid)`. In the child, calls `f(arg)` and ends
/// the task with the syscall `exit_nr` (`exit` for a thread, `exit_group` for a process) of f's
/// result (all three from `child`); never returns there. Returns the raw syscall result in the
/// parent.
///
/// With its five arguments in registers, clone leaves only ebp free, too few for what the child
/// needs; so the child finds `f`, `arg`, `exit_nr` (and the asm finds `tls`) in a 16-byte start
/// block that ebp points to. Without a stack of its own the child shares or copies our frame,
/// which holds the block; with one, the block goes on that stack, just below its top (the only
/// place sure to outlive this frame when the child runs beside us), and the child starts there.
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
    let mut flags = flags;
    let no_tls = EmptyTls::new();
    let tls = if tls == NO_THREAD_POINTER {
        no_tls.tls_for(&mut flags)
    } else {
        tls
    };
    let block = [child.f as usize, child.arg, child.exit_nr, tls];
    let (stack, block) = if stack.is_null() {
        (stack, block.as_ptr())
    } else {
        let top = stack.wrapping_sub(16).cast::<[usize; 4]>();
        // SAFETY: the caller's stack is writable memory for the child, below its top.
        unsafe { top.write(block) };
        (top.cast::<u8>(), top.cast::<usize>().cast_const())
    };
    let ret: usize;
    // SAFETY: the caller guarantees that the arguments are valid for clone; the block is
    // readable by the child (see above); the child branch never falls through into the code
    // after the asm.
    unsafe {
        asm!(
            "push ebp",                   // ebp and esi are LLVM's: kept, and given back in the
            "push esi",                   // parent's path.
            "sub esp, 8",                 // The child's stack pointer, when it shares ours, is 16
                                          // bytes below the one it inherits (see the fault).
            "mov ebp, eax",               // The start block, kept by the child too.
            "mov esi, [ebp + 12]",        // tls.
            "mov eax, {nr}",
            "int 0x80",                   // clone(flags, stack, ptid, tls, ctid)
            "test eax, eax",              // Zero means we are the child.
            "jnz 2f",
            child_tail!(concat!(          // Child: run f(arg) from the block, and exit.
                "mov eax, [ebp]\n",      // f,
                "mov ecx, [ebp + 4]\n",  // its argument,
                "mov edi, [ebp + 8]\n",  // and the exit syscall.
            )),
            "2:",
            "add esp, 8",
            "pop esi",
            "pop ebp",
            nr = const nr::CLONE,
            inlateout("eax") block => ret,
            in("ebx") flags,
            in("ecx") stack,
            in("edx") parent_tid,
            in("edi") child_tid,
        );
    }
    ret
}

/// Issues `clone3(args, size)`. The child calls `f(arg)` and exits with its result, like
/// [`clone`]; here `f` and `exit_nr` travel in edx and edi and `arg` in esi, which clone3 leaves
/// free, so nothing of the child's start is in memory (a child with a stack of its own runs
/// beside us, after this frame is gone).
///
/// # Safety
///
/// `args` must point to a valid `clone_args` of `size` bytes, and the fields must be valid for
/// the kernel and for `f`: see [`crate::clone::clone3`].
#[inline]
pub(crate) unsafe fn clone3(args: *mut CloneArgs, size: usize, child: ChildStart) -> usize {
    let no_tls = EmptyTls::new();
    // SAFETY: the caller passes a valid, exclusive `clone_args`.
    let request = unsafe { &mut *args };
    if request.tls == NO_THREAD_POINTER as u64 {
        let mut flags = request.flags as usize;
        request.tls = no_tls.tls_for(&mut flags) as u64;
        request.flags = (request.flags & !(u32::MAX as u64)) | flags as u64;
    }
    let ret: usize;
    // SAFETY: as for `clone`; the kernel reads `size` bytes at `args`.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "sub esp, 8",                 // As in `clone`.
            "mov esi, eax",               // arg, in a register the syscall keeps.
            "mov eax, {nr}",
            "int 0x80",                   // clone3(args, size)
            "test eax, eax",
            "jnz 2f",
            child_tail!(concat!(          // Child: run f(arg) and exit; exit_nr is in edi.
                "mov eax, edx\n",        // f,
                "mov ecx, esi\n",        // and its argument.
            )),
            "2:",
            "add esp, 8",
            "pop esi",
            "pop ebp",
            nr = const nr::CLONE3,
            inlateout("eax") child.arg => ret,
            in("ebx") args,
            in("ecx") size,
            in("edx") child.f,
            in("edi") child.exit_nr,
        );
    }
    ret
}

/// The `tls` value of a clone with `CLONE_SETTLS` that leaves the child without a thread pointer:
/// every thread-local access there faults instead of reaching the creator's thread-locals.
/// `vspawn::thread` threads and `vfork` children run so.
///
/// Here `tls` is a `struct user_desc *`, so this is no value the kernel could take: 1, which no
/// descriptor can be at, tells `clone` and `clone3` to put in its place a descriptor of their own
/// (see [`EmptyTls`]).
pub(crate) const NO_THREAD_POINTER: usize = 1;

/// The `struct user_desc` that empties the child's TLS segment: the GDT entry that gs selects
/// (the thread pointer of libc's threads), with every field 0, which the kernel stores as a
/// descriptor that is not present. When the child's gs is reloaded from it, the kernel loads
/// the null selector instead, and every gs-relative access faults.
#[repr(C)]
struct EmptyTls {
    entry_number: u32,
    base_addr: u32,
    limit: u32,
    flags: u32,
}

impl EmptyTls {
    fn new() -> EmptyTls {
        let selector: u32;
        // SAFETY: reading a segment register has no side effects.
        unsafe {
            asm!("mov {:e}, gs", out(reg) selector, options(nomem, nostack, preserves_flags))
        };
        EmptyTls {
            entry_number: selector >> 3,
            base_addr: 0,
            limit: 0,
            flags: 0,
        }
    }

    /// The `tls` argument that empties the child's thread pointer, this descriptor. A process
    /// whose gs selects nothing (a libc-free program sets no TLS) has no thread pointer to
    /// remove: `CLONE_SETTLS` is then taken out of `flags`, and the child keeps the null gs.
    fn tls_for(&self, flags: &mut usize) -> usize {
        if self.entry_number == 0 {
            *flags &= !(crate::clone::flags::CLONE_SETTLS.bits() as usize);
            0
        } else {
            self as *const EmptyTls as usize
        }
    }
}

/// The child's path after a clone, shared by `clone` and `clone3`: `$setup` puts f in eax, its
/// argument in ecx and the exit syscall number in edi (which survives the call); it never
/// returns. Its unwind information marks the end of the call chain: an unwinder must not walk
/// from the child into the frames of the parent it was cloned from.
macro_rules! child_tail {
    ($setup:expr) => {
        concat!(
            ".cfi_remember_state\n", // Unwind info for the child's path: its return address
            ".cfi_undefined eip\n",  // is undefined, so a backtrace (of a panic) ends here.
            fault_clobber!("mov dword ptr [esp + 16], esp\n"), // (Test builds: damage the parent.)
            $setup,
            "xor ebp, ebp\n", // Zero the frame pointer: the child's call chain ends here.
            "and esp, -16\n", // Align the stack so that it is aligned at the call:
            "sub esp, 12\n",
            "push ecx\n",           // f's only argument, on the stack.
            "call eax\n",           // f(arg); its i32 result comes back in eax.
            "mov ebx, eax\n",       // Exit status = f's result.
            "mov eax, edi\n",       // The exit syscall the caller chose: a thread's own or the
            "int 0x80\n",           // group's.
            "ud2\n",                // exit does not return.
            ".cfi_restore_state\n", // The parent's path goes on with the function's own rules.
        )
    };
}
use child_tail;

/// i686 signal handlers return through the vDSO (see the module documentation): no restorer.
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
/// The kernel enters `_start` with `esp` pointing at `argc`, followed by `argv`, `envp` and the
/// auxiliary vector. `edx` may carry a function for `atexit` (from a dynamic loader); a static
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
                "xor ebp, ebp",    // Zero the frame pointer: this is the outermost frame.
                "mov eax, esp",    // The initial stack pointer (argc, argv, envp, auxv).
                "and esp, -16",    // Align the stack (the kernel already does; never trust it),
                "sub esp, 12",     // leaving room so that esp + 4 is aligned at the entry below.
                "push eax",        // Argument: the initial stack pointer.
                "push ebp",        // A zero return address, so stack walks stop here.
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
/// into a call to themselves. The copies use `rep movsb` / `rep stosb`. The arguments are on the
/// stack (cdecl); esi and edi are callee-saved, so the functions using them push them first. The
/// direction flag is clear on entry and on return, as the ABI requires.
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
                "push edi",
                "push esi",
                "mov edi, [esp + 12]", // dst (above the two saved registers and the return address)
                "mov esi, [esp + 16]", // src
                "mov ecx, [esp + 20]", // n
                "mov eax, edi",        // Return the destination.
                "rep movsb",           // Copy ecx bytes from [esi] to [edi], ascending.
                "pop esi",
                "pop edi",
                "ret",
            )
        }

        /// C `memmove` (from `vspawn::entry!`): copies `n` bytes between regions that may overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "push edi",
                "push esi",
                "mov edi, [esp + 12]", // dst
                "mov esi, [esp + 16]", // src
                "mov ecx, [esp + 20]", // n
                "mov eax, edi",        // Return the destination.
                "mov edx, edi",
                "sub edx, esi",        // dst - src, as unsigned: huge when dst is below src.
                "cmp edx, ecx",        // If dst - src >= n, copying upwards never overwrites a
                "jae 2f",              // source byte before it is read.
                "lea esi, [esi + ecx - 1]", // Otherwise dst sits inside the source: copy
                "lea edi, [edi + ecx - 1]", // downwards from the last byte (n > 0 here).
                "std",                 // Direction flag set: `rep movsb` descends.
                "rep movsb",
                "cld",                 // The ABI requires the direction flag clear again.
                "jmp 3f",
                "2:",
                "rep movsb",           // Ascending copy.
                "3:",
                "pop esi",
                "pop edi",
                "ret",
            )
        }

        /// C `memset` (from `vspawn::entry!`): fills `n` bytes with the byte `c`.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "push edi",
                "mov edi, [esp + 8]",  // dst
                "mov eax, [esp + 12]", // The fill byte, in al.
                "mov ecx, [esp + 16]", // n
                "mov edx, edi",        // Keep the destination to return it.
                "rep stosb",           // Store al into ecx bytes at [edi], ascending.
                "mov eax, edx",
                "pop edi",
                "ret",
            )
        }

        /// C `memcmp` (from `vspawn::entry!`): compares `n` bytes as unsigned chars.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "push esi",
                "push edi",
                "mov esi, [esp + 12]", // a
                "mov edi, [esp + 16]", // b
                "mov ecx, [esp + 20]", // n
                "xor eax, eax",        // Result when n == 0: equal.
                "test ecx, ecx",
                "jz 3f",
                "2:",
                "movzx eax, byte ptr [esi]", // a[i] and b[i], zero-extended: compared as
                "movzx edx, byte ptr [edi]", // unsigned chars.
                "sub eax, edx",        // Their difference is the result if they differ.
                "jnz 3f",
                "inc esi",
                "inc edi",
                "dec ecx",
                "jnz 2b",              // Loop ends with eax == 0: all n bytes equal.
                "3:",
                "pop edi",
                "pop esi",
                "ret",
            )
        }

        /// C `bcmp` (from `vspawn::entry!`): zero if `n` bytes are equal; `memcmp` answers that.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "jmp {memcmp}",        // Same arguments, a result with at least the meaning needed.
                memcmp = sym memcmp,
            )
        }

        /// C `strlen` (from `vspawn::entry!`): the length of a NUL-terminated string.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "mov edx, [esp + 4]",  // s
                "mov eax, edx",        // Cursor.
                "2:",
                "cmp byte ptr [eax], 0",
                "je 3f",               // Stop at the NUL.
                "inc eax",
                "jmp 2b",
                "3:",
                "sub eax, edx",        // Length = NUL's address - start.
                "ret",
            )
        }
    };
}
