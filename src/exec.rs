//! Program execution: `execve` and `execveat`.
//!
//! Both only return on failure, with the reason. `argv` and `envp` are the kernel's
//! NUL-terminated arrays of pointers to NUL-terminated strings.

use core::ffi::{CStr, c_char};

use crate::errno::Errno;
use crate::fd::RawFd;

/// `execveat` flag: with an empty path, execute the file `dirfd` refers to.
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `execveat` flag: do not follow a final symbolic link (`ELOOP` if it is one).
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

/// Replaces the calling process's program with `path`. Returns only on failure.
///
/// # Safety
///
/// `argv` and `envp` must each be null or point to a null-terminated array of pointers to
/// NUL-terminated strings, all valid for the call.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: the caller guarantees the arrays; `path` is NUL-terminated.
    let ret = unsafe { crate::sys::syscall!(EXECVE, path.as_ptr(), argv, envp) };
    Errno::result(ret).err().unwrap_or(Errno::EINVAL)
}

/// Like [`execve`], with `path` relative to `dirfd` and `flags` ([`AT_EMPTY_PATH`],
/// [`AT_SYMLINK_NOFOLLOW`]). Linux 3.19; qemu-user 7.2 answers `ENOSYS`.
///
/// # Safety
///
/// As for [`execve`].
pub unsafe fn execveat(
    dirfd: RawFd,
    path: &CStr,
    argv: *const *const c_char,
    envp: *const *const c_char,
    flags: u32,
) -> Errno {
    // SAFETY: as for `execve`.
    let ret = unsafe { crate::sys::syscall!(EXECVEAT, dirfd, path.as_ptr(), argv, envp, flags) };
    Errno::result(ret).err().unwrap_or(Errno::EINVAL)
}
