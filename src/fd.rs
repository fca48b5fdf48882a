//! File descriptors: the owned-fd type and the fd syscalls (`read`, `write`, `close`, `dup3`,
//! `pipe2`, `openat`, `fcntl` for the descriptor flags, `close_range`).
//!
//! Every fd this crate creates is close-on-exec unless the caller asks otherwise.

use core::ffi::CStr;
use core::fmt;
use core::mem::ManuallyDrop;

use crate::errno::{Errno, Result};

/// A raw file descriptor number.
pub type RawFd = i32;

/// `AT_FDCWD`: resolve a relative path against the current directory.
pub const AT_FDCWD: RawFd = -100;

/// Whether `O_DIRECTORY` and `O_NOFOLLOW` have the values of arm's and powerpc's own
/// `asm/fcntl.h` (`0o40000`, `0o100000`) rather than the generic ones (where those values mean
/// `O_DIRECT` and `O_LARGEFILE`).
const ARM_OR_POWERPC_O_FLAGS: bool = cfg!(any(
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc64"
));

crate::bits::bit_flags! {
    /// Flags for [`openat`], [`pipe2`] and [`dup3`]: the kernel's `O_*` values, the same on every
    /// architecture but `O_DIRECTORY` and `O_NOFOLLOW` (arm, aarch64 and powerpc define their
    /// own).
    ///
    /// ```
    /// use vspawn::fd::{OFlags, oflags::*};
    ///
    /// let create = O_WRONLY | O_CREAT | O_TRUNC;
    /// assert!(create.contains(O_CREAT));
    /// assert_eq!(create.bits(), 0o1101);
    /// assert_eq!(O_RDONLY, OFlags::empty());
    /// ```
    pub struct OFlags: u32;
    /// The [`OFlags`] as constants, for `use vspawn::fd::oflags::*`.
    pub mod oflags {
        /// Open for reading only (no bit: the absence of `O_WRONLY` and `O_RDWR`).
        const O_RDONLY = 0;
        /// Open for writing only.
        const O_WRONLY = 0o1;
        /// Open for reading and writing.
        const O_RDWR = 0o2;
        /// Create the file if it does not exist.
        const O_CREAT = 0o100;
        /// With `O_CREAT`: fail with `EEXIST` if it exists.
        const O_EXCL = 0o200;
        /// Do not make a terminal the controlling terminal.
        const O_NOCTTY = 0o400;
        /// Truncate to length 0.
        const O_TRUNC = 0o1000;
        /// Writes append.
        const O_APPEND = 0o2000;
        /// Non-blocking I/O.
        const O_NONBLOCK = 0o4000;
        /// Fail unless the path is a directory.
        const O_DIRECTORY = if ARM_OR_POWERPC_O_FLAGS { 0o40000 } else { 0o200000 };
        /// Do not follow a final symbolic link.
        const O_NOFOLLOW = if ARM_OR_POWERPC_O_FLAGS { 0o100000 } else { 0o400000 };
        /// Close on exec.
        const O_CLOEXEC = 0o2000000;
        /// A path-only descriptor.
        const O_PATH = 0o10000000;
    }
}

crate::bits::bit_flags! {
    /// A file mode: permission bits for [`openat`] with `O_CREAT` and for a umask.
    ///
    /// ```
    /// use vspawn::fd::Mode;
    ///
    /// let rw_r__r__ = Mode::S_IRUSR | Mode::S_IWUSR | Mode::S_IRGRP | Mode::S_IROTH;
    /// assert_eq!(rw_r__r__, Mode::from_bits_retain(0o644));
    /// ```
    pub struct Mode: u32 {
        /// Set-user-id on execution.
        const S_ISUID = 0o4000;
        /// Set-group-id on execution.
        const S_ISGID = 0o2000;
        /// Sticky bit.
        const S_ISVTX = 0o1000;
        /// Owner: read, write, execute.
        const S_IRWXU = 0o700;
        /// Owner: read.
        const S_IRUSR = 0o400;
        /// Owner: write.
        const S_IWUSR = 0o200;
        /// Owner: execute.
        const S_IXUSR = 0o100;
        /// Group: read, write, execute.
        const S_IRWXG = 0o70;
        /// Group: read.
        const S_IRGRP = 0o40;
        /// Group: write.
        const S_IWGRP = 0o20;
        /// Group: execute.
        const S_IXGRP = 0o10;
        /// Others: read, write, execute.
        const S_IRWXO = 0o7;
        /// Others: read.
        const S_IROTH = 0o4;
        /// Others: write.
        const S_IWOTH = 0o2;
        /// Others: execute.
        const S_IXOTH = 0o1;
    }
}

/// The `FD_CLOEXEC` descriptor flag, as read by [`get_fd_flags`].
pub const FD_CLOEXEC: u32 = 1;
const F_GETFD: usize = 1;
const F_SETFD: usize = 2;

/// `close_range` flag: set close-on-exec instead of closing.
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
/// `close_range` flag: unshare the fd table first.
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;

/// An owned file descriptor, closed when dropped.
///
/// With the `std` feature it converts to and from `std::os::fd::OwnedFd`.
#[repr(transparent)]
pub struct OwnedFd {
    fd: RawFd,
}

impl OwnedFd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// `fd` must be an open descriptor that nothing else owns or will close.
    #[inline]
    pub const unsafe fn from_raw_fd(fd: RawFd) -> Self {
        OwnedFd { fd }
    }

    /// The descriptor number, still owned by `self`.
    #[inline]
    pub const fn as_raw_fd(&self) -> RawFd {
        self.fd
    }

    /// Gives up ownership: the descriptor stays open and is the caller's to close.
    #[inline]
    pub fn into_raw_fd(self) -> RawFd {
        ManuallyDrop::new(self).fd
    }
}

impl OwnedFd {
    /// Closes the descriptor and reports what `close` said (dropping it closes it too, ignoring
    /// the error). On Linux the descriptor is closed even when this returns an error (`EINTR`,
    /// `EIO`): there is nothing to retry.
    pub fn close(self) -> Result<()> {
        let fd = self.into_raw_fd();
        // SAFETY: we owned `fd` and gave the ownership up to this call.
        unsafe { close(fd) }
    }

    /// Makes this descriptor a copy of `src` (`dup3(src, self, flags)`, `flags` 0 or
    /// `O_CLOEXEC`): what it referred to is closed, the number stays. `EINVAL` if `src` is this
    /// very descriptor.
    pub fn dup_from(&mut self, src: RawFd, flags: OFlags) -> Result<()> {
        // SAFETY: `self` owns the number being replaced.
        unsafe { dup3(src, self.fd, flags) }.map(drop)
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // Errors of close (EINTR, EIO) leave the fd closed on Linux; nothing to retry.
        // SAFETY: `self` owns the descriptor and is going away.
        let _ = unsafe { close(self.fd) };
    }
}

impl fmt::Debug for OwnedFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedFd").field(&self.fd).finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<OwnedFd> for std::os::fd::OwnedFd {
    fn from(fd: OwnedFd) -> Self {
        use std::os::fd::FromRawFd;
        // SAFETY: `fd` was owned by the `OwnedFd` we consume; ownership moves over.
        unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw_fd()) }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<std::os::fd::OwnedFd> for OwnedFd {
    fn from(fd: std::os::fd::OwnedFd) -> Self {
        use std::os::fd::IntoRawFd;
        // SAFETY: `fd` was owned by the std `OwnedFd` we consume; ownership moves over.
        unsafe { OwnedFd::from_raw_fd(fd.into_raw_fd()) }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::os::fd::AsRawFd for OwnedFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::os::fd::AsFd for OwnedFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: `self` owns the fd and keeps it open for the borrow's lifetime.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) }
    }
}

/// Reads up to `buf.len()` bytes from `fd`; returns how many were read (0 at end of file).
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    Errno::result(unsafe { crate::sys::syscall!(READ, fd, buf.as_mut_ptr(), buf.len()) })
}

/// Writes up to `buf.len()` bytes to `fd`; returns how many were written.
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize> {
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
    Errno::result(unsafe { crate::sys::syscall!(WRITE, fd, buf.as_ptr(), buf.len()) })
}

/// Writes all of `buf` to `fd`, retrying short writes and `EINTR`.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Closes `fd`. The number is free afterwards even when this returns an error.
///
/// To close a descriptor you own, drop its [`OwnedFd`] or call [`OwnedFd::close`] (which
/// reports the error): both are safe.
///
/// # Safety
///
/// `fd` must not be owned by anything else: an [`OwnedFd`], a `File` or any I/O object would
/// later use or close a number that may by then name another file (Rust's I/O safety). The
/// caller must own the descriptor, for example one it got from [`OwnedFd::into_raw_fd`], or be
/// the only user of its fd table (a child between clone and exec).
///
/// ```compile_fail,E0133
/// #![forbid(unsafe_code)]
/// let _ = vspawn::fd::close(0); // unsafe: it may close a descriptor a `File` owns
/// ```
///
/// The same call with the caller's promise builds:
///
/// ```
/// // SAFETY: nothing owns fd 1000 (it is not even open).
/// assert_eq!(unsafe { vspawn::fd::close(1000) }, Err(vspawn::Errno::EBADF));
/// ```
pub unsafe fn close(fd: RawFd) -> Result<()> {
    // SAFETY: close takes no pointers; the caller owns `fd`.
    Errno::result(unsafe { crate::sys::syscall!(CLOSE, fd) }).map(drop)
}

/// Makes `new` a copy of `old` (closing what `new` was), with `flags` 0 or `O_CLOEXEC`.
/// Returns `new`. Unlike `dup2`, `old == new` is `EINVAL`.
///
/// Where `new` is an owned descriptor, [`OwnedFd::dup_from`] does the same safely.
///
/// # Safety
///
/// Whatever `new` was is closed and replaced: like [`close`], `new` must not be owned by
/// anything else (an [`OwnedFd`] or `File` holding that number would silently use the copy of
/// `old` instead). A free number, or one the caller owns, is fine.
///
/// ```compile_fail,E0133
/// #![forbid(unsafe_code)]
/// let _ = vspawn::fd::dup3(2, 1, vspawn::fd::OFlags::empty()); // unsafe: replaces fd 1
/// ```
///
/// The same call with the caller's promise builds:
///
/// ```
/// use vspawn::fd::{OFlags, dup3};
///
/// // SAFETY: nothing owns fd 1001, and fd 1000 is not open: nothing is replaced.
/// assert_eq!(unsafe { dup3(1000, 1001, OFlags::empty()) }, Err(vspawn::Errno::EBADF));
/// ```
pub unsafe fn dup3(old: RawFd, new: RawFd, flags: OFlags) -> Result<RawFd> {
    // SAFETY: no pointers; the caller owns `new` (or it is free).
    Errno::result(unsafe { crate::sys::syscall!(DUP3, old, new, flags.bits()) })
        .map(|fd| fd as RawFd)
}

/// Creates a pipe: `(read end, write end)`. `O_CLOEXEC` is always added; use
/// [`pipe2_inheritable`] when the ends must survive exec.
pub fn pipe2(flags: OFlags) -> Result<(OwnedFd, OwnedFd)> {
    pipe_raw(flags | oflags::O_CLOEXEC)
}

/// Creates a pipe whose ends are *not* close-on-exec (unless `flags` has `O_CLOEXEC`).
pub fn pipe2_inheritable(flags: OFlags) -> Result<(OwnedFd, OwnedFd)> {
    pipe_raw(flags)
}

fn pipe_raw(flags: OFlags) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: the kernel writes two ints into `fds`.
    Errno::result(unsafe { crate::sys::syscall!(PIPE2, fds.as_mut_ptr(), flags.bits()) })?;
    // SAFETY: the kernel just created both descriptors for us.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Opens `path` relative to `dirfd` ([`AT_FDCWD`] for the current directory). `O_CLOEXEC` is
/// always added; use [`openat_inheritable`] for a descriptor meant to survive exec.
pub fn openat(dirfd: RawFd, path: &CStr, flags: OFlags, mode: Mode) -> Result<OwnedFd> {
    openat_inheritable(dirfd, path, flags | oflags::O_CLOEXEC, mode)
}

/// [`openat`] without the implied `O_CLOEXEC`.
pub fn openat_inheritable(dirfd: RawFd, path: &CStr, flags: OFlags, mode: Mode) -> Result<OwnedFd> {
    // SAFETY: `path` is NUL-terminated and outlives the call.
    let fd = Errno::result(unsafe {
        crate::sys::syscall!(OPENAT, dirfd, path.as_ptr(), flags.bits(), mode.bits())
    })?;
    // SAFETY: the kernel just created this descriptor for us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The descriptor flags of `fd` (`FD_CLOEXEC` or 0).
pub fn get_fd_flags(fd: RawFd) -> Result<u32> {
    // SAFETY: F_GETFD takes no pointer.
    Errno::result(unsafe { crate::sys::syscall!(FCNTL, fd, F_GETFD) }).map(|f| f as u32)
}

/// Sets the descriptor flags of `fd` (`FD_CLOEXEC` or 0).
pub fn set_fd_flags(fd: RawFd, flags: u32) -> Result<()> {
    // SAFETY: F_SETFD takes no pointer.
    Errno::result(unsafe { crate::sys::syscall!(FCNTL, fd, F_SETFD, flags) }).map(drop)
}

/// Closes (or, with [`CLOSE_RANGE_CLOEXEC`], marks close-on-exec) every fd in `first..=last`.
/// `ENOSYS` on kernels before 5.9.
///
/// # Safety
///
/// Without `CLOSE_RANGE_CLOEXEC`, as for [`close`] for every descriptor of the range: none may
/// be owned by anything that will use it again. It suits a process that owns its whole fd table
/// (an init, a child before exec).
///
/// ```compile_fail,E0133
/// #![forbid(unsafe_code)]
/// let _ = vspawn::fd::close_range(3, u32::MAX, 0); // unsafe: closes fds others own
/// ```
///
/// The same call with the caller's promise builds:
///
/// ```
/// // SAFETY: first > last: the kernel refuses the range and closes nothing.
/// let refused = unsafe { vspawn::fd::close_range(9, 8, 0) };
/// assert_eq!(refused, Err(vspawn::Errno::EINVAL));
/// ```
pub unsafe fn close_range(first: u32, last: u32, flags: u32) -> Result<()> {
    // SAFETY: no pointers; the caller owns the descriptors in the range.
    Errno::result(unsafe { crate::sys::syscall!(CLOSE_RANGE, first, last, flags) }).map(drop)
}

pub(crate) const F_DUPFD_CLOEXEC: usize = 1030;

/// Duplicates `fd` onto the lowest free number `>= min`, close-on-exec.
pub fn dup_above(fd: RawFd, min: RawFd) -> Result<RawFd> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(FCNTL, fd, F_DUPFD_CLOEXEC, min) })
        .map(|f| f as RawFd)
}

/// Changes the current directory.
pub fn chdir(path: &CStr) -> Result<()> {
    // SAFETY: `path` is NUL-terminated and outlives the call.
    Errno::result(unsafe { crate::sys::syscall!(CHDIR, path.as_ptr()) }).map(drop)
}

/// Changes the current directory to the one `fd` refers to.
pub fn fchdir(fd: RawFd) -> Result<()> {
    // SAFETY: no pointers.
    Errno::result(unsafe { crate::sys::syscall!(FCHDIR, fd) }).map(drop)
}

/// Reads directory entries of `fd` into `buf` (`getdents64`); returns the bytes filled, 0 at
/// the end. Each record: `d_ino: u64, d_off: i64, d_reclen: u16, d_type: u8, d_name` (NUL-ended).
pub fn getdents64(fd: RawFd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    Errno::result(unsafe { crate::sys::syscall!(GETDENTS64, fd, buf.as_mut_ptr(), buf.len()) })
}
