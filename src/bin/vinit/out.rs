//! vinit's messages on standard error, without `core::fmt`.
//!
//! `core::fmt` (the formatting machinery, integer formatting, padding, the `Display` tables of
//! `Errno`) would be most of the binary; a message here is a handful of strings and numbers, so
//! [`Line`] appends them with small hand-written code into a fixed buffer, and writes the whole
//! message with one `write` so that it does not interleave with PROGRAM's output. Nothing here
//! can panic (no indexing that the compiler could not prove in bounds).

use vspawn::Errno;
use vspawn::fd;
use vspawn::signal::Signal;

use crate::options::signal_name;

/// Room for one message; a longer one is cut and ends with `...`.
const CAPACITY: usize = 256;

/// One message line, `vinit: ` first and a newline added by [`Line::print`].
pub struct Line {
    buf: [u8; CAPACITY],
    len: usize,
    cut: bool,
}

impl Line {
    /// A line holding `vinit: `.
    pub fn new() -> Line {
        let mut line = Line {
            buf: [0; CAPACITY],
            len: 0,
            cut: false,
        };
        line.str("vinit: ");
        line
    }

    /// Appends text.
    pub fn str(&mut self, s: &str) -> &mut Line {
        self.bytes(s.as_bytes())
    }

    /// Appends raw bytes (cut at the capacity).
    #[inline(never)]
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Line {
        let free = self.buf.get_mut(self.len..).unwrap_or_default();
        // Byte by byte, where `copy_from_slice` would bring a panic path for lengths that differ.
        let taken = free.len().min(bytes.len());
        for (to, from) in free.iter_mut().zip(bytes) {
            *to = *from;
        }
        self.len += taken;
        self.cut |= taken < bytes.len();
        self
    }

    /// Appends a number in decimal. Every number vinit shows is one that cannot be negative (a
    /// pid, an exit code, an errno, a count): its `u32` value.
    #[inline(never)]
    pub fn int(&mut self, n: u32) -> &mut Line {
        let mut digits = [0u8; 10];
        self.bytes(decimal_digits(n, &mut digits))
    }

    /// Appends a signal's name (`SIGTERM`, `SIGRTMIN+3`).
    #[inline(never)]
    pub fn signal(&mut self, sig: Signal) -> &mut Line {
        self.str("SIG");
        match signal_name(sig) {
            Some(name) => self.bytes(name),
            None => self
                .str("RTMIN+")
                .int((sig.raw() - Signal::SIGRTMIN_KERNEL) as u32),
        }
    }

    /// Appends an error as `ENOENT: No such file or directory` (`errno N` for an error vinit
    /// does not describe).
    #[inline(never)]
    pub fn errno(&mut self, e: Errno) -> &mut Line {
        match describe(e) {
            Some(text) => self.bytes(text),
            None => self.str("errno ").int(e.raw() as u32),
        }
    }

    /// Writes the line and a newline to standard error.
    #[inline(never)]
    pub fn print(&mut self) {
        if self.cut || self.len == CAPACITY {
            // End with `...`, leaving room for the newline.
            self.len = self.len.min(CAPACITY - 4);
            self.bytes(b"...");
        }
        self.bytes(b"\n");
        // Nothing better to do if standard error is gone.
        let _ = fd::write_all(2, self.buf.get(..self.len).unwrap_or_default());
    }
}

/// Writes `n` in decimal at the end of `digits` and returns those digits.
fn decimal_digits(mut n: u32, digits: &mut [u8; 10]) -> &[u8] {
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        used += 1;
        if n == 0 {
            break;
        }
    }
    digits.get(10 - used..).unwrap_or_default()
}

/// The errors vinit describes: those `execve` and the spawn return, and those of the few calls
/// vinit makes itself. The whole table of `Errno` (130 names and messages, with the code that
/// looks them up) would be a quarter of the binary.
const DESCRIBED: [Errno; 20] = [
    Errno::EPERM,
    Errno::ENOENT,
    Errno::ESRCH,
    Errno::EIO,
    Errno::E2BIG,
    Errno::ENOEXEC,
    Errno::EBADF,
    Errno::EAGAIN,
    Errno::ENOMEM,
    Errno::EACCES,
    Errno::EFAULT,
    Errno::ENOTDIR,
    Errno::EISDIR,
    Errno::EINVAL,
    Errno::EMFILE,
    Errno::ENOTTY,
    Errno::ETXTBSY,
    Errno::ENAMETOOLONG,
    Errno::ENOSYS,
    Errno::ELOOP,
];

/// `DESCRIBED` packed at compile time from `Errno`'s own names and messages: per error its
/// number, the length of its text, and the text `NAME: message` (no pointers, no relocations).
const PACKED: [u8; packed_len()] = pack();

const fn text_of(e: Errno) -> (&'static [u8], &'static [u8]) {
    match (e.name(), e.message()) {
        (Some(name), Some(message)) => (name.as_bytes(), message.as_bytes()),
        _ => panic!("DESCRIBED holds Errno constants"),
    }
}

const fn packed_len() -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < DESCRIBED.len() {
        let (name, message) = text_of(DESCRIBED[i]);
        len += 2 + name.len() + 2 + message.len();
        i += 1;
    }
    len
}

const fn pack() -> [u8; packed_len()] {
    const fn put(out: &mut [u8; packed_len()], at: usize, bytes: &[u8]) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            out[at + i] = bytes[i];
            i += 1;
        }
        at + bytes.len()
    }
    let mut out = [0u8; packed_len()];
    let mut at = 0;
    let mut i = 0;
    while i < DESCRIBED.len() {
        let (name, message) = text_of(DESCRIBED[i]);
        let len = name.len() + 2 + message.len();
        assert!(DESCRIBED[i].raw() < 256 && len < 256);
        at = put(&mut out, at, &[DESCRIBED[i].raw() as u8, len as u8]);
        at = put(&mut out, at, name);
        at = put(&mut out, at, b": ");
        at = put(&mut out, at, message);
        i += 1;
    }
    out
}

/// `NAME: message` for `e`, if vinit describes it.
fn describe(e: Errno) -> Option<&'static [u8]> {
    let mut rest: &[u8] = &PACKED;
    while let [number, len, tail @ ..] = rest {
        let (text, next) = tail.split_at_checked(usize::from(*len))?;
        if i32::from(*number) == e.raw() {
            return Some(text);
        }
        rest = next;
    }
    None
}

/// Messages by importance: errors always (a [`Line::new`] printed), warnings from verbosity 1
/// (the default), information from 2, debugging from 3. Each method starts a line, to fill and
/// [`print`](Line::print), if its level is shown.
pub struct Log {
    /// `VINIT_VERBOSITY`, plus one per `-v`.
    pub verbosity: u32,
}

impl Log {
    /// A warning (`vinit: warning: ...`).
    pub fn warn(&self) -> Option<Line> {
        self.at(1, "warning: ")
    }

    /// Information.
    pub fn info(&self) -> Option<Line> {
        self.at(2, "")
    }

    /// Debugging.
    pub fn debug(&self) -> Option<Line> {
        self.at(3, "")
    }

    /// A line starting with `prefix`, if `level` is shown (one copy of this for every message).
    #[inline(never)]
    fn at(&self, level: u32, prefix: &str) -> Option<Line> {
        if level > self.verbosity {
            return None;
        }
        let mut line = Line::new();
        line.str(prefix);
        Some(line)
    }
}
