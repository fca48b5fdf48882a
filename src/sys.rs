//! Raw system calls: the one layer every syscall of the crate goes through, and the page size.
//!
//! [`syscall0`] .. [`syscall6`] enter the kernel with a syscall number from [`nr`] and up to six
//! word-sized arguments, and return its raw result: a value in `-4095..=-1` (as `usize`) is
//! `-errno`, which [`Errno::result`](crate::Errno::result) turns into an error. [`syscall!`]
//! names the number and casts the arguments: `syscall!(GETPID)`, `syscall!(WRITE, fd, ptr, len)`.
//!
//! Where they come from: on x86_64, aarch64 and riscv64 they are the `sc` crate's (its whole
//! `nr` table). `sc` 0.2.7, the latest, implements the syscalls of i686, arm and powerpc64 with
//! `llvm_asm!`, which Rust no longer has, and knows no s390x: on those four architectures the
//! file of `arch/` supplies the functions in `asm!` and an `nr` with the numbers vspawn and its
//! programs use. Whatever the architecture, a name in `nr` means the syscall that takes this
//! crate's types: on the 32-bit ones the 32-bit-id calls (`setresuid32` as `SETRESUID`) and the
//! 64-bit-time ones (`clock_gettime64` as `CLOCK_GETTIME`, `ppoll_time64` as `PPOLL`), since
//! [`Timespec`](crate::process::Timespec) has 64-bit fields everywhere; and `mmap` is the
//! architecture's own form of it (see [`mmap`]). powerpc64's kernel reports errors with a flag
//! (`cr0.SO`) and a positive errno: its `syscallN` return `-errno` like all the others.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::errno::{Errno, Result};

cfg_if::cfg_if! {
    if #[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64"))] {
        pub use sc::{nr, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6};
    } else {
        pub use crate::arch::imp::{
            nr, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6,
        };
    }
}

/// `syscall!(NAME, args...)`: the syscall [`nr`]`::NAME` with each argument cast `as usize`
/// (up to six); evaluates to the raw result, as [`syscall0`] .. [`syscall6`]. It must be called
/// in an `unsafe` block: the kernel reads and writes whatever the arguments point to.
#[doc(hidden)]
#[macro_export]
macro_rules! __vspawn_syscall {
    ($nr:ident $(,)?) => {
        $crate::sys::syscall0($crate::sys::nr::$nr)
    };
    ($nr:ident, $a:expr $(,)?) => {
        $crate::sys::syscall1($crate::sys::nr::$nr, $a as usize)
    };
    ($nr:ident, $a:expr, $b:expr $(,)?) => {
        $crate::sys::syscall2($crate::sys::nr::$nr, $a as usize, $b as usize)
    };
    ($nr:ident, $a:expr, $b:expr, $c:expr $(,)?) => {
        $crate::sys::syscall3($crate::sys::nr::$nr, $a as usize, $b as usize, $c as usize)
    };
    ($nr:ident, $a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::sys::syscall4(
            $crate::sys::nr::$nr,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
        )
    };
    ($nr:ident, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::sys::syscall5(
            $crate::sys::nr::$nr,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
            $e as usize,
        )
    };
    ($nr:ident, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::sys::syscall6(
            $crate::sys::nr::$nr,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
            $e as usize,
            $f as usize,
        )
    };
}
#[doc(inline)]
pub use crate::__vspawn_syscall as syscall;

/// `PROT_*` and `MAP_*` values for [`mmap`] (the same on every supported architecture).
pub mod mm {
    /// No access (a guard page).
    pub const PROT_NONE: usize = 0;
    /// Readable.
    pub const PROT_READ: usize = 0x1;
    /// Writable.
    pub const PROT_WRITE: usize = 0x2;
    /// Changes are private to the process.
    pub const MAP_PRIVATE: usize = 0x02;
    /// Not backed by a file (`fd` -1, offset 0).
    pub const MAP_ANONYMOUS: usize = 0x20;
    /// The mapping is a stack (a hint).
    pub const MAP_STACK: usize = 0x2_0000;
}

/// `mmap(addr, len, prot, flags, fd, offset)`: returns the mapping's address. `offset` must be a
/// multiple of the page size.
///
/// The architectures differ in how they take it, and this hides it: s390x's `mmap` reads its six
/// arguments from a block in memory (`old_mmap`), and i686's and arm's `mmap2` take the offset
/// in 4096-byte units.
///
/// # Safety
///
/// Mapping over an existing range (`MAP_FIXED`) replaces memory others may be using.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: i32,
    offset: u64,
) -> Result<*mut u8> {
    let fd = fd as usize;
    cfg_if::cfg_if! {
        if #[cfg(target_arch = "s390x")] {
            let block = [addr, len, prot, flags, fd, offset as usize];
            // SAFETY: the kernel reads the six words of `block`; the caller vouches for the rest.
            let ret = unsafe { syscall!(MMAP, block.as_ptr()) };
        } else if #[cfg(target_pointer_width = "32")] {
            if !offset.is_multiple_of(4096) || offset / 4096 > u64::from(u32::MAX) {
                return Err(Errno::EINVAL);
            }
            // SAFETY: as above, with mmap2's offset in 4096-byte units.
            let ret = unsafe { syscall!(MMAP, addr, len, prot, flags, fd, offset / 4096) };
        } else {
            // SAFETY: the caller vouches for the arguments.
            let ret = unsafe { syscall!(MMAP, addr, len, prot, flags, fd, offset) };
        }
    }
    Errno::result(ret).map(|addr| addr as *mut u8)
}

/// The page size, once known (0: not yet).
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The kernel's page size (`AT_PAGESZ`): 4096 on most machines, 16384 or 65536 on some aarch64
/// and powerpc64 kernels. Found once and cached; later calls are one atomic load.
///
/// Where it comes from: the auxiliary vector when the program was entered through
/// `entry!`, or libc's `getauxval` with the `std` feature (std links libc).
/// Otherwise the crate has no way to the auxiliary vector (no libc, and `/proc` may not be
/// mounted, as in an init), and asks the kernel with `msync`: it refuses an address that is not
/// page-aligned with `EINVAL` before looking at anything else, and accepts an aligned one with
/// length 0 whether or not it is mapped, so the smallest power of two from 4096 up that it
/// accepts is the page size (a few syscalls, once).
pub fn page_size() -> usize {
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => {
            let size = auxv_page_size().unwrap_or_else(probe_page_size);
            PAGE_SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// `AT_PAGESZ` from the auxiliary vector, where the crate can reach it.
fn auxv_page_size() -> Option<usize> {
    const AT_PAGESZ: usize = 6;
    auxv(AT_PAGESZ).filter(|size| size.is_power_of_two())
}

/// The value of auxiliary vector entry `key`, where the crate can reach the vector: in a program
/// entered through [`entry!`](crate::entry!) (which keeps it), or through libc's `getauxval` with
/// the `std` feature (std links libc). `None` elsewhere, or when the kernel gave no such entry.
pub(crate) fn auxv(key: usize) -> Option<usize> {
    #[cfg(feature = "std")]
    {
        unsafe extern "C" {
            /// glibc and musl: the value of an auxiliary vector entry, 0 if absent.
            safe fn getauxval(key: core::ffi::c_ulong) -> core::ffi::c_ulong;
        }
        let value = getauxval(key as core::ffi::c_ulong) as usize;
        if value != 0 {
            return Some(value);
        }
    }
    #[cfg(all(feature = "entry", not(feature = "std")))]
    {
        let value = crate::entry::__getauxval(key);
        if value != 0 {
            return Some(value);
        }
    }
    let _ = key;
    None
}

/// The page size measured with `msync` (see [`page_size`]); 4096 if nothing answers (the
/// smallest page any supported kernel has).
pub(crate) fn probe_page_size() -> usize {
    const MS_ASYNC: usize = 1;
    let mut size = 4096;
    while size <= 1 << 24 {
        // SAFETY: with length 0 msync touches no memory; it only checks the address.
        let ret = unsafe { syscall!(MSYNC, size, 0, MS_ASYNC) };
        if Errno::result(ret).is_ok() {
            return size;
        }
        size <<= 1;
    }
    4096
}

#[cfg(all(test, feature = "std"))]
mod tests {
    #[test]
    fn the_msync_probe_finds_the_page_size_of_the_auxiliary_vector() {
        let from_auxv = super::auxv_page_size().expect("getauxval(AT_PAGESZ)");
        assert_eq!(super::probe_page_size(), from_auxv);
        assert_eq!(super::page_size(), from_auxv);
    }
}
