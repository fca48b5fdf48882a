//! Program entry for binaries without libc: `_start`, the initial stack, and the few C symbols
//! compiled Rust code needs.
//!
//! A `#![no_std]`, `#![no_main]` binary names its main function with [`entry!`](crate::entry!):
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! vspawn::entry!(main);
//! vspawn::panic_handler!();
//!
//! fn main(start: vspawn::entry::Start) -> i32 {
//!     for arg in start.args() {
//!         let _ = vspawn::fd::write_all(1, arg.to_bytes());
//!         let _ = vspawn::fd::write_all(1, b"\n");
//!     }
//!     0
//! }
//! ```
//!
//! `entry!(main)` defines, in the binary that invokes it:
//!
//! - `_start`, in assembly (`arch/`): it zeroes the frame pointer and return address so stack
//!   walks end there, aligns the stack, and passes the initial stack pointer to Rust;
//! - the Rust side, which reads `argc`, `argv`, `envp` and the auxiliary vector from that stack
//!   into a [`Start`], calls `main(start)`, and ends the process with
//!   [`exit_group`](crate::process::exit_group) of `main`'s result;
//! - `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`, in assembly: the compiler
//!   emits calls to them (struct copies, slice comparisons, `CStr::from_ptr`), Rust's
//!   `compiler_builtins` does not provide them on `*-linux-gnu` targets, and without libc nothing
//!   else does;
//! - `environ`, the C name of the process environment, set to the initial `envp`: what
//!   `Command` (feature `alloc`) inherits, as it inherits libc's `environ` in a program with libc;
//! - `getauxval`, which the precompiled `compiler_builtins` of aarch64 refers to (its constructor
//!   choosing between LSE and load-exclusive atomics; constructors do not run without libc, so
//!   the portable load-exclusive path is used, which is correct on every ARMv8 processor);
//! - `rust_eh_personality` and `_Unwind_Resume`, stand-ins: the precompiled `core` and `alloc`
//!   refer to them from their unwind tables and cleanup paths, but with `panic = "abort"` nothing
//!   ever unwinds, so they are never called.
//!
//! All of these are emitted by the macro, never by the library itself: a library that defined
//! `_start` or `memcpy` would clash with the C runtime of every ordinary program linking it. The
//! `entry` feature is therefore inert until a binary invokes `entry!`.
//!
//! # Building and linking
//!
//! The binary must be linked statically, without the C start files and without libc:
//! `-nostdlib -static -no-pie`, plus `-Wl,-z,norelro` to save the page padding of a RELRO
//! segment that nothing would apply (as `cargo::rustc-link-arg-bin=NAME=...` lines in a build
//! script, or `-C link-arg=...`). It needs `panic = "abort"` in the profiles that build it,
//! since a `no_std` binary cannot unwind. Optional, for size: `-Wl,--build-id=none`, and a
//! linker script fragment discarding `.eh_frame`, `.eh_frame_hdr` and `.comment` (a binary that
//! never unwinds has no use for unwind tables; they are a quarter of a small binary). This
//! package's own libc-free binaries (`vinit`, `examples/nolibc_hello.rs`) are set up this way in
//! its `build.rs` and `Cargo.toml`.
//!
//! # Panics
//!
//! A `no_std` binary must define its panic handler. [`panic_handler!`](crate::panic_handler!)
//! defines one that writes the panic message to standard error (like std: `panicked at
//! src/main.rs:7:5:` and the message) and ends the process with status 101, the status of a
//! panicking std `main`. It exits rather than raising `SIGABRT` because an init (PID 1) ignores
//! signals it has no handler for, even its own `abort`. A panic in a [`thread`](crate::thread)
//! other than the main one ends that thread alone (its `join` returns 127); a panic in a `vfork`
//! child ends that child. A program wanting something else writes its own `#[panic_handler]`,
//! and may call [`handle_panic`] from it.
//!
//! # With the `std` feature
//!
//! std needs libc, so once vspawn is built with `std` (anywhere in the dependency graph) a
//! libc-free binary is impossible: std brings the panic handler and the C runtime. `entry!` then
//! defines the C `main` instead of `_start` (libc's start files call it with `argc`, `argv` and
//! `envp`, and the auxiliary vector still follows `envp`), defines none of the C functions, and
//! `panic_handler!` expands to nothing. The same program then builds and runs as an ordinary
//! dynamically linked one, linked normally (this package's `build.rs` drops its libc-free link
//! arguments in that case).

use core::ffi::{CStr, c_char};
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::ptr;
use core::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use crate::fd::{self, RawFd};
use crate::process;
use crate::spawn::CStrArray;

/// Keys of the auxiliary vector (`AT_*` from `<linux/auxvec.h>`), for [`Start::aux`].
pub mod aux {
    /// End of the vector.
    pub const AT_NULL: usize = 0;
    /// Address of the program headers.
    pub const AT_PHDR: usize = 3;
    /// Size of one program header.
    pub const AT_PHENT: usize = 4;
    /// Number of program headers.
    pub const AT_PHNUM: usize = 5;
    /// The system page size.
    pub const AT_PAGESZ: usize = 6;
    /// Base address of the dynamic loader (0 without one).
    pub const AT_BASE: usize = 7;
    /// The program's entry point.
    pub const AT_ENTRY: usize = 9;
    /// Real user id.
    pub const AT_UID: usize = 11;
    /// Effective user id.
    pub const AT_EUID: usize = 12;
    /// Real group id.
    pub const AT_GID: usize = 13;
    /// Effective group id.
    pub const AT_EGID: usize = 14;
    /// Address of a string naming the platform.
    pub const AT_PLATFORM: usize = 15;
    /// Hardware capabilities, first word.
    pub const AT_HWCAP: usize = 16;
    /// Clock ticks per second (for `times`).
    pub const AT_CLKTCK: usize = 17;
    /// Nonzero for a set-user-id or otherwise privileged exec ("secure mode").
    pub const AT_SECURE: usize = 23;
    /// Address of 16 random bytes from the kernel.
    pub const AT_RANDOM: usize = 25;
    /// Hardware capabilities, second word.
    pub const AT_HWCAP2: usize = 26;
    /// Address of the path the program was executed as.
    pub const AT_EXECFN: usize = 31;
    /// Address of the vDSO.
    pub const AT_SYSINFO_EHDR: usize = 33;
    /// Minimal stack size a signal handler needs.
    pub const AT_MINSIGSTKSZ: usize = 51;
}

/// What the kernel hands a new program: its arguments, environment and auxiliary vector, as
/// they lie on the initial stack.
///
/// The strings live above the stack pointer `_start` received, which the program never returns
/// past, so they last as long as the process: the accessors hand out `&'static` strings. The raw
/// arrays ([`argv`](Self::argv), [`envp`](Self::envp), [`Args::as_ptr`]) are null-terminated,
/// ready for [`execve`](crate::exec::execve) or a spawn without copying anything.
#[derive(Clone, Copy)]
pub struct Start {
    argc: usize,
    argv: *const *const c_char,
    envp: *const *const c_char,
    auxv: *const usize,
}

impl Start {
    /// Reads the initial stack the kernel set up at `sp`: `argc`, then `argv` (null-terminated),
    /// `envp` (null-terminated), and the auxiliary vector (key-value pairs up to `AT_NULL`).
    ///
    /// # Safety
    ///
    /// `sp` must point to such a layout (the stack pointer a process starts with), and it must
    /// stay valid and unmodified for the rest of the process.
    pub unsafe fn from_stack(sp: *const usize) -> Start {
        // SAFETY: the caller guarantees the layout: argc at sp, argv right after it.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1).cast::<*const c_char>();
            Start::from_args(argc, argv, argv.add(argc + 1))
        }
    }

    /// Builds a `Start` from the arguments of a C `main(argc, argv, envp)`; the auxiliary vector
    /// is found after `envp`'s terminating null, where the kernel put it.
    ///
    /// # Safety
    ///
    /// `argv` must hold `argc` pointers to NUL-terminated strings and a null; `envp` must be the
    /// initial environment the kernel passed (null-terminated, followed by the auxiliary vector);
    /// all of it valid and unmodified for the rest of the process.
    pub unsafe fn from_args(
        argc: usize,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> Start {
        let mut end = envp;
        // SAFETY: the caller guarantees that envp is null-terminated.
        unsafe {
            while !(*end).is_null() {
                end = end.add(1);
            }
        }
        // SAFETY: the auxiliary vector starts right after envp's null, by the same guarantee.
        let auxv = unsafe { end.add(1) }.cast::<usize>();
        Start {
            argc,
            argv,
            envp,
            auxv,
        }
    }

    /// The number of arguments (`argc`), the program name included.
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// The arguments, `argv[0]` (the program name) first.
    pub fn args(&self) -> Args {
        Args {
            next: self.argv,
            left: self.argc,
        }
    }

    /// Argument `index` (`argv[index]`), or `None` past the end.
    pub fn arg(&self, index: usize) -> Option<&'static CStr> {
        self.args().nth(index)
    }

    /// The raw `argv` array: `argc` pointers to NUL-terminated strings, then a null.
    pub fn argv(&self) -> *const *const c_char {
        self.argv
    }

    /// The environment entries (`NAME=value`), in the kernel's order.
    pub fn env(&self) -> Env {
        Env { next: self.envp }
    }

    /// The raw `envp` array: pointers to NUL-terminated `NAME=value` strings, then a null.
    pub fn envp(&self) -> *const *const c_char {
        self.envp
    }

    /// The environment as a [`CStrArray`], ready to hand on to a child ([`Spawn`]'s `envp`).
    ///
    /// [`Spawn`]: crate::spawn::Spawn
    pub fn environ(&self) -> CStrArray<'static> {
        // SAFETY: the initial `envp` is a null-terminated array of NUL-terminated strings on the
        // initial stack, which lives, unchanged, as long as the process.
        unsafe { CStrArray::from_raw(self.envp) }
    }

    /// The value of the first environment entry named `name`, like C's `getenv`. A name that is
    /// empty or contains `=` matches nothing.
    pub fn getenv(&self, name: impl AsRef<[u8]>) -> Option<&'static CStr> {
        let name = name.as_ref();
        if name.is_empty() || name.contains(&b'=') {
            return None;
        }
        self.env().find_map(|entry| {
            let bytes = entry.to_bytes_with_nul();
            match bytes.strip_prefix(name) {
                Some([b'=', value @ ..]) => CStr::from_bytes_with_nul(value).ok(),
                _ => None,
            }
        })
    }

    /// The entries of the auxiliary vector, as `(key, value)` pairs (keys in [`aux`]).
    pub fn aux_entries(&self) -> AuxEntries {
        AuxEntries { next: self.auxv }
    }

    /// The value of auxiliary vector entry `key` ([`aux::AT_PAGESZ`], ...), if the kernel gave it.
    pub fn aux(&self, key: usize) -> Option<usize> {
        self.aux_entries().find(|&(k, _)| k == key).map(|(_, v)| v)
    }

    /// The page size (`AT_PAGESZ`).
    pub fn page_size(&self) -> Option<usize> {
        self.aux(aux::AT_PAGESZ)
    }

    /// The 16 random bytes the kernel provides at exec (`AT_RANDOM`), e.g. to seed a hash.
    pub fn random_bytes(&self) -> Option<&'static [u8; 16]> {
        let addr = self.aux(aux::AT_RANDOM).filter(|&a| a != 0)?;
        // SAFETY: the kernel puts 16 bytes at this address on the initial stack, which lives as
        // long as the process.
        Some(unsafe { &*(addr as *const [u8; 16]) })
    }

    /// The path the program was executed as (`AT_EXECFN`).
    pub fn execfn(&self) -> Option<&'static CStr> {
        let addr = self.aux(aux::AT_EXECFN).filter(|&a| a != 0)?;
        // SAFETY: the kernel puts a NUL-terminated string at this address on the initial stack.
        Some(unsafe { CStr::from_ptr(addr as *const c_char) })
    }

    /// Whether the program runs in secure mode (`AT_SECURE`: set-user-id and the like), where
    /// the environment should not be trusted.
    pub fn is_secure(&self) -> bool {
        self.aux(aux::AT_SECURE).is_some_and(|v| v != 0)
    }
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Start")
            .field("args", &self.args())
            .field("env", &self.env())
            .finish_non_exhaustive()
    }
}

/// The arguments of a [`Start`]: an iterator of `&'static CStr`.
#[derive(Clone)]
pub struct Args {
    next: *const *const c_char,
    left: usize,
}

impl Args {
    /// The arguments not yet returned, as a raw null-terminated `argv` array: after consuming a
    /// program's own options, this is the argument list for the program it runs, without a copy.
    pub fn as_ptr(&self) -> *const *const c_char {
        self.next
    }
}

impl Iterator for Args {
    type Item = &'static CStr;

    fn next(&mut self) -> Option<&'static CStr> {
        if self.left == 0 {
            return None;
        }
        // SAFETY: `Start`'s contract: argv holds `argc` valid string pointers; `left` counts the
        // ones after `next`.
        let arg = unsafe { CStr::from_ptr(*self.next) };
        // SAFETY: at most one past the last argument, which is argv's null.
        self.next = unsafe { self.next.add(1) };
        self.left -= 1;
        Some(arg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Args {}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The environment of a [`Start`]: an iterator of `&'static CStr` entries, `NAME=value`.
#[derive(Clone)]
pub struct Env {
    next: *const *const c_char,
}

impl Env {
    /// The entries not yet returned, as a raw null-terminated `envp` array.
    pub fn as_ptr(&self) -> *const *const c_char {
        self.next
    }
}

impl Iterator for Env {
    type Item = &'static CStr;

    fn next(&mut self) -> Option<&'static CStr> {
        // SAFETY: `Start`'s contract: envp is a null-terminated array of valid strings, and
        // `next` never moves past its null.
        unsafe {
            let entry = *self.next;
            if entry.is_null() {
                return None;
            }
            self.next = self.next.add(1);
            Some(CStr::from_ptr(entry))
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The auxiliary vector of a [`Start`]: an iterator of `(key, value)` pairs, `AT_NULL` excluded.
#[derive(Clone, Debug)]
pub struct AuxEntries {
    next: *const usize,
}

impl Iterator for AuxEntries {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        // SAFETY: `Start`'s contract: the vector is a sequence of pairs ended by an `AT_NULL`
        // key, and `next` never moves past that key.
        unsafe {
            let key = *self.next;
            if key == aux::AT_NULL {
                return None;
            }
            let value = *self.next.add(1);
            self.next = self.next.add(2);
            Some((key, value))
        }
    }
}

/// Runs `main` with the process's [`Start`] and exits with its result. Called by the `_start`
/// that [`entry!`](crate::entry!) defines.
///
/// # Safety
///
/// `sp` must be the initial stack pointer of the process, and this must be the only call.
#[doc(hidden)]
pub unsafe fn __start(sp: *const usize, main: fn(Start) -> i32, environ: &Environ) -> ! {
    // SAFETY: the caller passes the kernel's initial stack pointer; nothing above it is ever
    // popped or written, since `_start` never returns.
    let start = unsafe { Start::from_stack(sp) };
    AUXV.store(start.auxv.cast_mut(), Ordering::Relaxed);
    environ.0.store(start.envp.cast_mut(), Ordering::Relaxed);
    process::exit_group(main(start))
}

/// The C `environ` of a libc-free binary, which [`entry!`](crate::entry!) defines and `_start`
/// sets to the initial `envp`: the process environment that vspawn's `Command` inherits, as it
/// inherits libc's `environ` in a program with libc. To C, a `char **`.
#[doc(hidden)]
#[repr(transparent)]
pub struct Environ(AtomicPtr<*const c_char>);

impl Environ {
    #[doc(hidden)]
    pub const fn new() -> Environ {
        Environ(AtomicPtr::new(ptr::null_mut()))
    }
}

impl Default for Environ {
    fn default() -> Environ {
        Environ::new()
    }
}

/// A global allocator that refuses every request (returns null, so an allocation fails with
/// `alloc::alloc::handle_alloc_error`): for a libc-free binary that allocates nothing but is
/// built with vspawn's `alloc` feature, which links the `alloc` crate and so requires a
/// `#[global_allocator]`.
///
/// ```ignore
/// #[global_allocator]
/// static NO_HEAP: vspawn::entry::NoHeap = vspawn::entry::NoHeap;
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHeap;

#[cfg(feature = "alloc")]
// SAFETY: refusing (null) is always a valid answer of `alloc`; `dealloc` is never given a
// pointer, since none was handed out.
unsafe impl core::alloc::GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _: core::alloc::Layout) -> *mut u8 {
        ptr::null_mut()
    }

    unsafe fn dealloc(&self, _: *mut u8, _: core::alloc::Layout) {}
}

/// The auxiliary vector of a process entered through [`__start`], for [`__getauxval`].
static AUXV: AtomicPtr<usize> = AtomicPtr::new(ptr::null_mut());

/// C `getauxval(key)` for a libc-free binary: the value of auxiliary vector entry `key`, or 0 if
/// there is none (or if called before `_start` ran `main`).
#[doc(hidden)]
pub extern "C" fn __getauxval(key: usize) -> usize {
    let auxv = AUXV.load(Ordering::Relaxed);
    if auxv.is_null() {
        return 0;
    }
    AuxEntries { next: auxv }
        .find(|&(k, _)| k == key)
        .map_or(0, |(_, v)| v)
}

/// Runs `main` with the [`Start`] built from a C `main`'s arguments and returns its result to
/// libc. Called by the C `main` that [`entry!`](crate::entry!) defines with the `std` feature.
///
/// # Safety
///
/// The arguments must be those libc passed to `main`.
#[doc(hidden)]
pub unsafe fn __c_main(
    argc: i32,
    argv: *const *const c_char,
    envp: *const *const c_char,
    main: fn(Start) -> i32,
) -> i32 {
    // SAFETY: libc passes the kernel's argc, argv and initial envp, which live on the initial
    // stack for the whole process.
    let start = unsafe { Start::from_args(argc as usize, argv, envp) };
    main(start)
}

/// Defines the program entry of a libc-free binary, which runs `main` and exits with its
/// result. `main` is a `fn(Start) -> i32` (a path or a non-capturing closure).
///
/// Invoke it once, at the top level of a `#![no_std]`, `#![no_main]` binary; see the
/// [module documentation](mod@crate::entry) for what it defines and how to link the binary. With
/// vspawn's `std` feature it defines a C `main` instead.
#[macro_export]
macro_rules! entry {
    ($main:expr $(,)?) => {
        const _: () = {
            $crate::__vspawn_entry!($main);
        };
    };
}

#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __vspawn_entry {
    ($main:expr) => {
        /// Called by `_start` with the initial stack pointer.
        unsafe extern "C" fn __vspawn_rust_start(sp: *const usize) -> ! {
            // SAFETY: `_start` passes the kernel's initial stack pointer, once.
            unsafe { $crate::entry::__start(sp, $main, &environ) }
        }

        /// C `environ`: the environment `Command` inherits (see `vspawn::entry`).
        #[unsafe(no_mangle)]
        static environ: $crate::entry::Environ = $crate::entry::Environ::new();

        $crate::__vspawn_start!(__vspawn_rust_start);
        $crate::__vspawn_mem_functions!();

        /// C `getauxval`, for the precompiled `compiler_builtins` (see `vspawn::entry`).
        #[unsafe(no_mangle)]
        extern "C" fn getauxval(key: usize) -> usize {
            $crate::entry::__getauxval(key)
        }

        /// Referenced by the unwind tables of the precompiled `core`; never called, since
        /// nothing unwinds with `panic = "abort"`.
        #[unsafe(no_mangle)]
        extern "C" fn rust_eh_personality() {}

        /// Referenced by the cleanup paths of the precompiled `alloc` (a program with
        /// vspawn's `alloc` feature); never called, since nothing unwinds with
        /// `panic = "abort"`. Were it reached, the process ends.
        #[unsafe(no_mangle)]
        extern "C" fn _Unwind_Resume() -> ! {
            $crate::process::exit_group(134)
        }
    };
}

#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vspawn_entry {
    ($main:expr) => {
        /// The C `main`, called by libc's start files.
        #[unsafe(export_name = "main")]
        unsafe extern "C" fn __vspawn_c_main(
            argc: i32,
            argv: *const *const ::core::ffi::c_char,
            envp: *const *const ::core::ffi::c_char,
        ) -> i32 {
            // SAFETY: libc calls `main` once, with the process's own arguments.
            unsafe { $crate::entry::__c_main(argc, argv, envp, $main) }
        }
    };
}

/// Defines the `#[panic_handler]` of a libc-free binary: it calls [`handle_panic`], which writes
/// the message to standard error and exits with status 101.
///
/// With vspawn's `std` feature, std's panic handler is linked and this expands to nothing.
#[cfg(not(feature = "std"))]
#[macro_export]
macro_rules! panic_handler {
    () => {
        const _: () = {
            #[panic_handler]
            fn panic(info: &::core::panic::PanicInfo<'_>) -> ! {
                $crate::entry::handle_panic(info)
            }
        };
    };
}

/// Defines the `#[panic_handler]` of a libc-free binary: it calls [`handle_panic`], which writes
/// the message to standard error and exits with status 101.
///
/// With vspawn's `std` feature, std's panic handler is linked and this expands to nothing.
#[cfg(feature = "std")]
#[macro_export]
macro_rules! panic_handler {
    () => {};
}

/// The task (thread id) that panicked last, so that a panic while reporting one ends it at once
/// instead of recursing. A task id, not a flag: a `vfork` child shares this memory, and its
/// panic must not silence a later one of its parent's.
static PANICKING: AtomicI32 = AtomicI32::new(0);

/// The exit status of a process that panicked, as for a panicking std `main`.
pub const PANIC_EXIT_STATUS: i32 = 101;

/// Writes `panicked at FILE:LINE:COLUMN:` and the message to standard error, then ends the
/// panicking task:
///
/// - the process (`exit_group`: every thread) with [`PANIC_EXIT_STATUS`], when it is the
///   process's main thread or a `vfork` child (a process of its own);
/// - only the thread, with [`CHILD_PANIC_STATUS`](crate::clone::CHILD_PANIC_STATUS), when it is
///   another thread (a [`thread`](crate::thread)): its join reports that status, and the rest of
///   the program goes on. Nothing is unwound: the thread's values are leaked, not dropped.
///
/// A panic raised while reporting ends the task at once, silently.
///
/// This is what [`panic_handler!`](crate::panic_handler!) installs; a custom `#[panic_handler]`
/// can call it after doing its own work.
pub fn handle_panic(info: &PanicInfo<'_>) -> ! {
    let tid = process::gettid();
    if PANICKING.swap(tid, Ordering::Relaxed) != tid {
        let mut out = FdWriter::new(2);
        // Nothing useful can be done if standard error is gone.
        let _ = writeln!(out, "{info}");
        out.flush();
    }
    if tid != process::getpid() {
        // SAFETY: a thread of a libc-free program is a `vspawn::thread` (or a raw clone of the
        // program's own): its joiner reads only the start block above the closure's frames, and
        // waits for the kernel's CLONE_CHILD_CLEARTID before it reuses or unmaps the stack.
        // Nothing else may borrow from a panicking thread's frames.
        unsafe { process::exit_thread(crate::clone::CHILD_PANIC_STATUS) }
    }
    process::exit_group(PANIC_EXIT_STATUS)
}

/// A small buffered writer to a raw fd, for the panic message: one `write` for most messages.
struct FdWriter {
    fd: RawFd,
    buf: [u8; 256],
    len: usize,
}

impl FdWriter {
    fn new(fd: RawFd) -> Self {
        FdWriter {
            fd,
            buf: [0; 256],
            len: 0,
        }
    }

    fn flush(&mut self) {
        let _ = fd::write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if self.len + bytes.len() > self.buf.len() {
            self.flush();
        }
        if bytes.len() > self.buf.len() {
            return fd::write_all(self.fd, bytes).map_err(|_| fmt::Error);
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}
