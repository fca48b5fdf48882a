//! `Child`: a spawned process we are the parent of, and the pipe ends to it.

use crate::errno::{Errno, Result};
use crate::fd::{self, OwnedFd, RawFd};
use crate::process::{self, Pid};
use crate::signal::Signal;
use crate::wait::{self, ExitStatus, PidFd, WaitOptions};

/// A spawned child process. Like std's, dropping it neither kills nor waits for it.
///
/// ```
/// use vspawn::signal::Signal;
/// use vspawn::spawn::{Attributes, CStrArray, Program, Spawn};
///
/// let mut slots = [core::ptr::null(); 3];
/// let argv = CStrArray::new(&[c"sleep", c"60"], &mut slots)?;
/// let mut child = Spawn::new(Program::Search(c"sleep"), argv, CStrArray::empty())
///     .attrs(Attributes::new().pidfd(true))
///     .spawn()?;
/// assert_eq!(child.try_wait()?, None, "still sleeping");
/// child.kill()?; // through its pidfd: never another process
/// assert_eq!(child.wait()?.signal(), Some(Signal::SIGKILL.raw()));
/// # Ok::<(), vspawn::Errno>(())
/// ```
#[derive(Debug)]
pub struct Child {
    pid: Pid,
    pidfd: Option<PidFd>,
    status: Option<ExitStatus>,
    /// The write end of the child's stdin, when it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The read end of the child's stdout, when it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The read end of the child's stderr, when it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    pub(super) fn new(pid: Pid, pidfd: Option<PidFd>) -> Child {
        Child {
            pid,
            pidfd,
            status: None,
            stdin: None,
            stdout: None,
            stderr: None,
        }
    }

    /// The child's process id (std's name and type).
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// The child's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The child's pidfd, if one was asked for ([`Attributes::pidfd`](super::Attributes)).
    pub fn pidfd(&self) -> Option<&PidFd> {
        self.pidfd.as_ref()
    }

    /// Takes the pidfd out of the handle.
    pub fn take_pidfd(&mut self) -> Option<PidFd> {
        self.pidfd.take()
    }

    /// Waits for the child to exit and returns its status; closes our end of its stdin first,
    /// so a child reading it sees EOF. Calling it again returns the same status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        loop {
            match wait::wait4(self.pid, WaitOptions::empty(), None) {
                Ok((_, status)) => {
                    self.status = Some(status);
                    return Ok(status);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The child's status if it has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        match wait::wait4(self.pid, wait::wflags::WNOHANG, None)? {
            (0, _) => Ok(None),
            (_, status) => {
                self.status = Some(status);
                Ok(Some(status))
            }
        }
    }

    /// Sends `SIGKILL`. A child already waited for is not signalled (its pid may be someone
    /// else's by now) and `Ok` is returned, as std does.
    pub fn kill(&mut self) -> Result<()> {
        self.signal(Signal::SIGKILL)
    }

    /// Sends `sig` to the child (through its pidfd when there is one). `Ok` without sending if
    /// it was already waited for.
    pub fn signal(&mut self, sig: Signal) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        match &self.pidfd {
            Some(pidfd) => pidfd.send_signal(Some(sig)),
            None => process::kill(self.pid, Some(sig)),
        }
    }
}

macro_rules! pipe_end {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name(pub(super) OwnedFd);

        impl $name {
            /// The descriptor number.
            pub fn as_raw_fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }

            /// The pipe end as an owned fd.
            pub fn into_owned_fd(self) -> OwnedFd {
                self.0
            }
        }

        impl From<$name> for OwnedFd {
            fn from(end: $name) -> OwnedFd {
                end.0
            }
        }

        /// Wraps an fd as this pipe end (std has the same for its pipe ends); nothing checks
        /// that it is a pipe.
        impl From<OwnedFd> for $name {
            fn from(fd: OwnedFd) -> $name {
                $name(fd)
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl std::os::fd::AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl std::os::fd::AsFd for $name {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.0)
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl std::os::fd::IntoRawFd for $name {
            fn into_raw_fd(self) -> RawFd {
                self.0.into_raw_fd()
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl From<$name> for std::os::fd::OwnedFd {
            fn from(end: $name) -> std::os::fd::OwnedFd {
                end.0.into()
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl From<std::os::fd::OwnedFd> for $name {
            fn from(fd: std::os::fd::OwnedFd) -> $name {
                $name(fd.into())
            }
        }
    };
}

pipe_end!(
    ChildStdin,
    "Our end of the child's stdin pipe: writing feeds the child."
);
pipe_end!(
    ChildStdout,
    "Our end of the child's stdout pipe: reading gets what it wrote."
);
pipe_end!(
    ChildStderr,
    "Our end of the child's stderr pipe: reading gets what it wrote."
);

impl ChildStdin {
    /// Writes to the child's stdin; returns the bytes written.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize> {
        fd::write(self.as_raw_fd(), buf)
    }
}

macro_rules! readable_end {
    ($name:ident) => {
        impl $name {
            /// Reads what the child wrote; 0 at EOF.
            pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
                fd::read(self.as_raw_fd(), buf)
            }
        }

        #[cfg(feature = "std")]
        #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
        impl std::io::Read for $name {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                Ok(fd::read(self.as_raw_fd(), buf)?)
            }
        }
    };
}

readable_end!(ChildStdout);
readable_end!(ChildStderr);

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::io::Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(fd::write(self.as_raw_fd(), buf)?)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
