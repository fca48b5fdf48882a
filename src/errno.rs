//! `Errno`: the error every fallible call of this crate returns.
//!
//! Linux reports failure by returning `-errno` from the syscall; [`Errno`] keeps that number
//! and knows its symbolic name and a short message. The numbers are the same on every supported
//! architecture (the kernel's `asm-generic` errno table), but for powerpc's `EDEADLOCK`, 58.

use core::fmt;

/// A Linux error number, as returned (negated) by a failing system call.
///
/// `Debug` shows the symbolic name (`ENOENT`), `Display` the name and a short message
/// (`ENOENT: No such file or directory`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Errno(i32);

/// The result type of this crate.
pub type Result<T> = core::result::Result<T, Errno>;

/// The kernel returns errors as values in `-4095..=-1`.
const MAX_ERRNO: usize = 4095;

impl Errno {
    /// Wraps a raw error number (positive, as in C's `errno`).
    #[inline]
    pub const fn from_raw(raw: i32) -> Self {
        Errno(raw)
    }

    /// The raw, positive error number.
    #[inline]
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// Turns a raw syscall return value into a `Result`: values in `-4095..=-1` are errors.
    ///
    /// Part of the raw syscall layer, with [`sys`](crate::sys): for a call the crate has no
    /// wrapper for.
    ///
    /// ```
    /// use vspawn::{Errno, sys};
    ///
    /// // SAFETY: getppid takes no argument.
    /// let ppid = Errno::result(unsafe { sys::syscall!(GETPPID) })?;
    /// assert_eq!(ppid as vspawn::process::Pid, vspawn::process::getppid());
    /// // SAFETY: close takes no pointer; fd 1000 is not open here, so nothing is closed.
    /// assert_eq!(Errno::result(unsafe { sys::syscall!(CLOSE, 1000) }), Err(Errno::EBADF));
    /// # Ok::<(), Errno>(())
    /// ```
    #[inline]
    pub fn result(ret: usize) -> Result<usize> {
        if ret > usize::MAX - MAX_ERRNO {
            Err(Errno(ret.wrapping_neg() as i32))
        } else {
            Ok(ret)
        }
    }

    /// The symbolic name (`"ENOENT"`), or `None` for a number Linux does not define.
    pub const fn name(self) -> Option<&'static str> {
        match table(self.0) {
            Some((name, _)) => Some(name),
            None => None,
        }
    }

    /// A short description (`"No such file or directory"`), or `None` for an unknown number.
    pub const fn message(self) -> Option<&'static str> {
        match table(self.0) {
            Some((_, msg)) => Some(msg),
            None => None,
        }
    }

    /// The raw error number, as `std::io::Error::raw_os_error` gives it: code written for std
    /// (`e.raw_os_error() == Some(libc::ENOENT)`) works unchanged. Always `Some`.
    #[inline]
    pub const fn raw_os_error(self) -> Option<i32> {
        Some(self.0)
    }

    /// The `std::io::ErrorKind` of this error number: the same kind
    /// `std::io::Error::from_raw_os_error(n).kind()` reports (std's own table decides), so
    /// `e.kind() == ErrorKind::NotFound` means what it means for an `io::Error`.
    #[cfg(feature = "std")]
    pub fn kind(self) -> std::io::ErrorKind {
        std::io::Error::from_raw_os_error(self.0).kind()
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match table(self.0) {
            Some((name, msg)) => write!(f, "{name}: {msg}"),
            None => write!(f, "unknown error {}", self.0),
        }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::error::Error for Errno {}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl TryFrom<std::io::Error> for Errno {
    type Error = std::io::Error;

    /// Recovers the errno of an OS error; other `io::Error`s are given back.
    fn try_from(e: std::io::Error) -> core::result::Result<Self, std::io::Error> {
        match e.raw_os_error() {
            Some(raw) => Ok(Errno(raw)),
            None => Err(e),
        }
    }
}

macro_rules! errnos {
    ($($name:ident = $num:literal, $msg:literal;)*) => {
        impl Errno {
            $(
                #[doc = $msg]
                pub const $name: Errno = Errno($num);
            )*
        }

        /// Name and message of a raw errno.
        const fn table(raw: i32) -> Option<(&'static str, &'static str)> {
            match raw {
                $($num => Some((stringify!($name), $msg)),)*
                // powerpc's own: asm/errno.h there gives EDEADLOCK a number of its own.
                #[cfg(target_arch = "powerpc64")]
                58 => Some(("EDEADLOCK", "File locking deadlock error")),
                _ => None,
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ECHRNG = 44, "Channel number out of range";
    EL2NSYNC = 45, "Level 2 not synchronized";
    EL3HLT = 46, "Level 3 halted";
    EL3RST = 47, "Level 3 reset";
    ELNRNG = 48, "Link number out of range";
    EUNATCH = 49, "Protocol driver not attached";
    ENOCSI = 50, "No CSI structure available";
    EL2HLT = 51, "Level 2 halted";
    EBADE = 52, "Invalid exchange";
    EBADR = 53, "Invalid request descriptor";
    EXFULL = 54, "Exchange full";
    ENOANO = 55, "No anode";
    EBADRQC = 56, "Invalid request code";
    EBADSLT = 57, "Invalid slot";
    EBFONT = 59, "Bad font file format";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOSR = 63, "Out of streams resources";
    ENONET = 64, "Machine is not on the network";
    ENOPKG = 65, "Package not installed";
    EREMOTE = 66, "Object is remote";
    ENOLINK = 67, "Link has been severed";
    EADV = 68, "Advertise error";
    ESRMNT = 69, "Srmount error";
    ECOMM = 70, "Communication error on send";
    EPROTO = 71, "Protocol error";
    EMULTIHOP = 72, "Multihop attempted";
    EDOTDOT = 73, "RFS specific error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTUNIQ = 76, "Name not unique on network";
    EBADFD = 77, "File descriptor in bad state";
    EREMCHG = 78, "Remote address changed";
    ELIBACC = 79, "Can not access a needed shared library";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ELIBSCN = 81, ".lib section in a.out corrupted";
    ELIBMAX = 82, "Attempting to link in too many shared libraries";
    ELIBEXEC = 83, "Cannot exec a shared library directly";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    ESTRPIPE = 86, "Streams pipe error";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EUCLEAN = 117, "Structure needs cleaning";
    ENOTNAM = 118, "Not a XENIX named type file";
    ENAVAIL = 119, "No XENIX semaphores available";
    EISNAM = 120, "Is a named type file";
    EREMOTEIO = 121, "Remote I/O error";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    EMEDIUMTYPE = 124, "Wrong medium type";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EKEYEXPIRED = 127, "Key has expired";
    EKEYREVOKED = 128, "Key has been revoked";
    EKEYREJECTED = 129, "Key was rejected by service";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
}

impl Errno {
    /// Alias of [`Errno::EAGAIN`].
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// Alias of [`Errno::EDEADLK`] (on powerpc a number of its own, 58).
    #[cfg(not(target_arch = "powerpc64"))]
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// File locking deadlock error: on powerpc a number of its own, 58 (elsewhere an alias of
    /// [`Errno::EDEADLK`]).
    #[cfg(target_arch = "powerpc64")]
    pub const EDEADLOCK: Errno = Errno(58);
    /// Alias of [`Errno::EOPNOTSUPP`] (the name POSIX uses for unsupported operations).
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;
}
