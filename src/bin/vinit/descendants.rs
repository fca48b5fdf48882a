//! vinit's descendants, for `-t` when vinit is a subreaper rather than PID 1 (as PID 1,
//! `kill(-1)` reaches every other process of its namespace): the processes whose chain of
//! parents, read from `/proc/<pid>/stat`, reaches vinit.
//!
//! A fixed table holds the descendants known so far, vinit first. A pass over `/proc` adds (and
//! signals) every process whose parent is in the table; passes repeat until one adds nothing.
//! `/proc` lists processes in increasing pid order and a child usually has a larger pid than its
//! parent, so the first pass finds nearly everything and the second confirms. Nothing is
//! allocated; beyond the table's capacity, processes are still signalled but their own children
//! are left to the next call (vinit calls again after each wave of deaths).

use core::ffi::CStr;

use vspawn::fd::{self, RawFd, oflags::O_DIRECTORY};
use vspawn::process::{self, Pid};
use vspawn::signal::Signal;

use crate::options::decimal;

/// Descendants remembered per call (4 bytes each, on the stack).
const CAPACITY: usize = 1024;

/// Sends `sig` to every live (not zombie) descendant of `ancestor`; returns how many were
/// signalled.
pub fn signal_descendants(ancestor: Pid, sig: Signal) -> u32 {
    let mut known = [0 as Pid; CAPACITY];
    known[0] = ancestor;
    let mut len = 1;
    let mut signalled = 0;
    loop {
        let before = len;
        for_each_process(|pid, parent, zombie| {
            let held = known.get(..len).unwrap_or_default();
            if held.contains(&parent) && !held.contains(&pid) {
                if let Some(slot) = known.get_mut(len) {
                    *slot = pid;
                    len += 1;
                }
                if !zombie && process::kill(pid, Some(sig)).is_ok() {
                    signalled += 1;
                }
            }
        });
        if len == before || len == CAPACITY {
            return signalled;
        }
    }
}

/// Calls `f(pid, parent, zombie)` for every process in `/proc`.
fn for_each_process(mut f: impl FnMut(Pid, Pid, bool)) {
    let Ok(proc) = fd::openat(
        fd::AT_FDCWD,
        c"/proc",
        O_DIRECTORY,
        vspawn::fd::Mode::empty(),
    ) else {
        return;
    };
    let mut buf = [0u8; 2048];
    while let Ok(n @ 1..) = fd::getdents64(proc.as_raw_fd(), &mut buf) {
        let mut entries = buf.get(..n).unwrap_or_default();
        // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name (NUL-terminated).
        while let Some(&[lo, hi]) = entries.get(16..18) {
            let reclen = usize::from(u16::from_ne_bytes([lo, hi]));
            let name = entries.get(19..reclen).unwrap_or_default();
            if let Some((pid, parent, zombie)) = stat(proc.as_raw_fd(), name) {
                f(pid, parent, zombie);
            }
            entries = match entries.get(reclen..) {
                Some(rest) if reclen > 0 => rest,
                _ => break,
            };
        }
    }
}

/// For the entry `name` of `/proc` (open as `proc`), if it is a process: its pid, its parent,
/// and whether it is a zombie, from `<pid>/stat` (`pid (comm) state ppid ...`, where `comm` may
/// hold spaces and parentheses, hence the last `)`).
fn stat(proc: RawFd, name: &[u8]) -> Option<(Pid, Pid, bool)> {
    let len = name.iter().position(|&b| b == 0)?;
    let pid = Pid::try_from(decimal(name.get(..len)?)?).ok()?;
    // SAFETY: digits (`decimal` accepted them), then the NUL at `len`: no other NUL. (Cheaper
    // than `CStr::from_bytes_until_nul`, whose `memchr` is inlined.)
    let name = unsafe { CStr::from_bytes_with_nul_unchecked(name.get(..=len)?) };
    // Relative to the directory fds: no path to assemble.
    let dir = fd::openat(proc, name, O_DIRECTORY, vspawn::fd::Mode::empty()).ok()?;
    let file = fd::openat(
        dir.as_raw_fd(),
        c"stat",
        fd::oflags::O_RDONLY,
        vspawn::fd::Mode::empty(),
    )
    .ok()?;
    let mut text = [0u8; 256];
    let n = fd::read(file.as_raw_fd(), &mut text).ok()?;
    let text = text.get(..n)?;
    // After the last `)`: a space, the state letter, a space, the parent's pid, a space.
    let after = text.get(text.iter().rposition(|&b| b == b')')? + 1..)?;
    let (&state, after) = after.get(1..)?.split_first()?;
    let parent = after.get(1..)?;
    let parent = parent.split(|&b| b == b' ').next()?;
    let parent = Pid::try_from(decimal(parent)?).ok()?;
    Some((pid, parent, state == b'Z'))
}
