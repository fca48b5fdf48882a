//! Shared by the integration tests: where we run, and visible skips.
//!
//! A test that cannot work in this environment calls [`skip!`]: it writes one line
//! `SKIPPED <test name>: <reason>` straight to fd 2 (so libtest's capture cannot hide it) and
//! returns. The test command (`scripts/test-all`) counts those lines as skips, not passes.

#![allow(dead_code)]

use std::sync::OnceLock;

/// The emulator the runner told us about (`scripts/qemu-user` sets `VSPAWN_EMULATOR`), e.g.
/// `qemu-user-7.2.22`; `None` on a real kernel (natively or in the VM).
pub fn emulator() -> Option<String> {
    std::env::var("VSPAWN_EMULATOR")
        .ok()
        .filter(|s| !s.is_empty())
}

/// qemu-user's major version, when emulated by qemu-user.
pub fn qemu_user_major() -> Option<u32> {
    let emu = emulator()?;
    let version = emu.strip_prefix("qemu-user-")?;
    version.split('.').next()?.parse().ok()
}

/// Whether a vfork child really shares our memory: measured once, by a child that writes a
/// variable. False under qemu-user, which turns vfork into fork.
pub fn vfork_shares_memory() -> bool {
    static SHARED: OnceLock<bool> = OnceLock::new();
    *SHARED.get_or_init(|| {
        let mut seen = 0u32;
        let mut child = || {
            seen = 1;
            0
        };
        // SAFETY: the child only writes a local and returns.
        let pid = unsafe { vspawn::clone::vfork(&mut child) }.expect("vfork probe");
        let (_, status) = vspawn::wait::wait4(pid, 0, None).expect("wait for vfork probe");
        assert_eq!(status.code(), Some(0));
        // SAFETY: read through a volatile so the compiler cannot assume the child left it alone.
        unsafe { std::ptr::read_volatile(&seen) == 1 }
    })
}

/// Writes the skip line for the current test to fd 2, bypassing libtest's capture.
pub fn report_skip(reason: &str) {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed test>");
    let line = format!("SKIPPED {name}: {reason}\n");
    vspawn::fd::write_all(2, line.as_bytes()).expect("write skip line");
}

/// Skips the current test visibly: `skip!("reason {}", x);` returns from the test.
#[macro_export]
macro_rules! skip {
    ($($reason:tt)*) => {{
        $crate::common::report_skip(&format!($($reason)*));
        return;
    }};
}

/// Skips unless vfork children share memory here (natively, or in the VM).
#[macro_export]
macro_rules! require_shared_vfork {
    () => {
        if !$crate::common::vfork_shares_memory() {
            $crate::skip!(
                "vfork does not share memory here ({}): checked natively and in the VM",
                $crate::common::emulator().unwrap_or_else(|| "unknown emulator".into())
            );
        }
    };
}

// ---- Children, waiting and small raw helpers shared by the test files. ----
//
// A forked child of this (multi-threaded) test process may only do what a signal handler may:
// raw syscalls on memory prepared before the fork. No allocation, no locks, no `assert!` (a panic
// allocates and takes locks): a child reports a failed check through its exit status.

use vspawn::process::Pid;
use vspawn::wait::ExitStatus;

/// Forks; the child runs `child` and ends the process with its result (`exit_group`).
/// Returns the child's pid in the parent.
pub fn fork_child(child: impl FnOnce() -> i32) -> Pid {
    // SAFETY: the child only runs `child`, which by this module's rule makes raw syscalls on
    // memory prepared before the fork, then ends with exit_group.
    match unsafe { vspawn::clone::fork() }.expect("fork") {
        vspawn::clone::Fork::Child => vspawn::process::exit_group(child()),
        vspawn::clone::Fork::Parent(pid) => pid,
    }
}

/// Waits for `pid` (with `options` added, e.g. `__WALL`), retrying `EINTR`; returns its status.
pub fn wait_with(pid: Pid, options: u32) -> ExitStatus {
    loop {
        match vspawn::wait::wait4(pid, options, None) {
            Ok((got, status)) => {
                assert_eq!(got, pid, "wait4 returned another child");
                return status;
            }
            Err(vspawn::Errno::EINTR) => continue,
            Err(e) => panic!("wait4({pid}): {e}"),
        }
    }
}

/// Waits for the child `pid` and returns its status.
pub fn wait_child(pid: Pid) -> ExitStatus {
    wait_with(pid, 0)
}

/// Forks a child running `child` and returns its status.
pub fn run_in_child(child: impl FnOnce() -> i32) -> ExitStatus {
    wait_child(fork_child(child))
}

/// Sleeps `ms` milliseconds with a raw `clock_nanosleep(CLOCK_MONOTONIC)` (usable in any child).
pub fn sleep_ms(ms: u64) {
    let ts = [(ms / 1000) as i64, ((ms % 1000) * 1_000_000) as i64];
    let mut rem = [0i64; 2];
    let mut req = ts;
    loop {
        // SAFETY: `req` and `rem` are valid timespecs (two i64) for the call.
        let ret = unsafe { sc::syscall!(CLOCK_NANOSLEEP, 1, 0, req.as_ptr(), rem.as_mut_ptr()) };
        if ret == (-4isize) as usize {
            req = rem; // EINTR: sleep the rest.
            continue;
        }
        return;
    }
}

/// Blocks until a signal is handled or `ms` milliseconds pass (raw `ppoll` with no fds; there is
/// no `pause` syscall on aarch64 and riscv64). A child that waits to be killed uses this with a
/// bound, so that a failed test leaves no process behind for long.
pub fn pause_ms(ms: u64) {
    let ts = [(ms / 1000) as i64, ((ms % 1000) * 1_000_000) as i64];
    // SAFETY: no fds; `ts` is a valid timespec for the call; no mask.
    unsafe { sc::syscall!(PPOLL, 0usize, 0usize, ts.as_ptr(), 0usize, 8usize) };
}

/// Waits until `word` reads 0: the kernel clears a `CLONE_CHILD_CLEARTID` word and futex-wakes
/// it when the task exits.
pub fn wait_cleared(word: &std::sync::atomic::AtomicI32) {
    use std::sync::atomic::Ordering;
    loop {
        let value = word.load(Ordering::Acquire);
        if value == 0 {
            return;
        }
        // SAFETY: FUTEX_WAIT (shared, as the kernel's wake) on a live aligned word, no timeout.
        unsafe { sc::syscall!(FUTEX, word.as_ptr(), 0usize, value as usize, 0usize) };
    }
}

/// Spins (with 1 ms sleeps) until `cond` holds or `ms` milliseconds passed; returns `cond()`.
pub fn wait_until(ms: u64, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..ms {
        if cond() {
            return true;
        }
        sleep_ms(1);
    }
    cond()
}

/// A fresh directory for this test binary's files (`$TMPDIR` or `/tmp`, created if missing).
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vspawn-test-{}-{}", std::process::id(), name));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A `CString` from a path or string literal.
pub fn cstring(s: impl AsRef<std::ffi::OsStr>) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(s.as_ref().as_bytes()).expect("no NUL inside")
}

/// A NULL-terminated array of pointers to `strings`, valid while `strings` lives.
pub fn ptr_array(strings: &[std::ffi::CString]) -> Vec<*const std::ffi::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Sets this process's `RLIMIT_CORE` to 0 (raw `prlimit64`), so that a signal death leaves no core
/// file and its status has no core-dump bit. For children.
pub fn disable_core_dumps() {
    const RLIMIT_CORE: usize = 4;
    let zero = [0u64; 2];
    // SAFETY: the kernel reads one rlimit (two u64) from `zero`; no old limit is asked.
    unsafe { sc::syscall!(PRLIMIT64, 0usize, RLIMIT_CORE, zero.as_ptr(), 0usize) };
}

/// This process's CPU time in nanoseconds (raw `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`).
pub fn process_cpu_time_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: the kernel writes one timespec (two i64) into `ts`.
    unsafe { sc::syscall!(CLOCK_GETTIME, 2usize, ts.as_mut_ptr()) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}
