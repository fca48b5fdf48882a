//! Shared by the integration tests: where we run, and visible skips.
//!
//! A test that cannot work in this environment calls [`skip!`]: it writes one line
//! `SKIPPED <test name>: <reason>` straight to fd 2 (so libtest's capture cannot hide it) and
//! returns. The test command (`scripts/test-all`) counts those lines as skips, not passes.

#![allow(dead_code)]

use std::sync::OnceLock;
use vspawn::fd::Mode;
use vspawn::fd::OFlags;
use vspawn::wait::WaitOptions;

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
        let (_, status) =
            vspawn::wait::wait4(pid, WaitOptions::empty(), None).expect("wait for vfork probe");
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
/// Under an emulator the wait is bounded (60 s): a child still running then is killed and the
/// test fails, instead of hanging the whole run.
pub fn wait_with(pid: Pid, options: WaitOptions) -> ExitStatus {
    if let Some(emulator) = emulator() {
        let mut status = None;
        let ended = wait_until(60_000, || {
            match vspawn::wait::wait4(pid, options | vspawn::wait::wflags::WNOHANG, None) {
                Ok((0, _)) | Err(vspawn::Errno::EINTR) => false,
                Ok((got, s)) => {
                    assert_eq!(got, pid, "wait4 returned another child");
                    status = Some(s);
                    true
                }
                Err(e) => panic!("wait4({pid}): {e}"),
            }
        });
        if !ended {
            let _ = vspawn::process::kill(pid, Some(vspawn::signal::Signal::SIGKILL));
            let _ = vspawn::wait::wait4(pid, options, None);
            panic!("child {pid} still running after 60 s under {emulator}: killed");
        }
        return status.unwrap();
    }
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
    wait_with(pid, WaitOptions::empty())
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
        let ret =
            unsafe { vspawn::sys::syscall!(CLOCK_NANOSLEEP, 1, 0, req.as_ptr(), rem.as_mut_ptr()) };
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
    unsafe { vspawn::sys::syscall!(PPOLL, 0usize, 0usize, ts.as_ptr(), 0usize, 8usize) };
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
        unsafe { vspawn::sys::syscall!(FUTEX, word.as_ptr(), 0usize, value as usize, 0usize) };
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
    unsafe { vspawn::sys::syscall!(PRLIMIT64, 0usize, RLIMIT_CORE, zero.as_ptr(), 0usize) };
}

/// This process's CPU time in nanoseconds (raw `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`).
pub fn process_cpu_time_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: the kernel writes one timespec (two i64) into `ts`.
    unsafe { vspawn::sys::syscall!(CLOCK_GETTIME, 2usize, ts.as_mut_ptr()) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

// ---- Spawning: serialized tests, exact fd sets, no children left, captured output. ----
//
// The spawn tests compare process-wide state (the fd table, the set of children), so the tests
// of one spawn_* binary that spawn take `serial()` for their whole body.

use std::sync::{Mutex, MutexGuard};

use vspawn::fd::RawFd;
use vspawn::spawn::{Attributes, CStrArray, FileAction, Program, Spawn};

/// Serializes the tests of this binary that spawn or change process-wide state. A failed test
/// poisons nothing: the next one takes the lock anyway.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The numbers of this process's open fds that stay open: two listings of `/proc/self/fd`, 10 ms
/// apart, and the fds in both. Another thread may open an fd for a moment (glibc reads
/// `/sys/devices/system/cpu/online` when a thread first allocates, for one); a leaked fd stays.
pub fn open_fds() -> Vec<RawFd> {
    let first = list_fds();
    std::thread::sleep(std::time::Duration::from_millis(10));
    let mut second = list_fds();
    second.retain(|fd| first.contains(fd));
    second
}

/// One listing of this process's open fds: `/proc/self/fd` read with raw `getdents64` on an fd
/// whose number we know, which is left out.
fn list_fds() -> Vec<RawFd> {
    use vspawn::fd::{self, oflags::O_DIRECTORY};
    let dir = fd::openat(fd::AT_FDCWD, c"/proc/self/fd", O_DIRECTORY, Mode::empty())
        .expect("open /proc/self/fd");
    let mut fds = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = fd::getdents64(dir.as_raw_fd(), &mut buf).expect("getdents64 /proc/self/fd");
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            let name = &buf[at + 19..at + reclen];
            let name = name.split(|&b| b == 0).next().unwrap_or(&[]);
            let fd = std::str::from_utf8(name).ok().and_then(|s| s.parse().ok());
            if let Some(fd) = fd.filter(|&fd| fd != dir.as_raw_fd()) {
                fds.push(fd);
            }
            at += reclen;
        }
    }
    fds.sort_unstable();
    fds
}

/// Asserts that this process has no child at all, not even a zombie: `waitid(P_ALL, WEXITED |
/// WNOHANG)` answers `ECHILD`.
pub fn assert_no_children() {
    use vspawn::wait::{WaitId, waitid, wflags::*};
    let got = waitid(WaitId::All, WEXITED | WNOHANG, None).map(|info| info.pid());
    assert_eq!(
        got,
        Err(vspawn::Errno::ECHILD),
        "a child (or zombie) is left"
    );
}

/// The environment the spawn tests give their children: just a `PATH` that finds the shell and
/// the tools on the host (Debian) and in the VM (busybox in /bin).
pub const CHILD_PATH: &str = "PATH=/bin:/usr/bin";

/// What a child wrote on its stdout, and how it ended.
#[derive(Debug)]
pub struct Captured {
    pub pid: Pid,
    pub status: ExitStatus,
    pub stdout: String,
}

/// Spawns `argv` with the core `Spawn` (`argv[0]` is the program: used as is if it has a `/`,
/// else searched in [`CHILD_PATH`]), the environment `[CHILD_PATH]`, its stdout on a pipe, then
/// `actions`, and `attrs`; reads the pipe to its end and waits.
///
/// The pipe goes first: `Dup2 { pipe → 1 }` followed by a `Close` of the pipe's own number (so a
/// leading `Dup2` of `actions` does not join the capture's run); `actions` see fd 1 as the pipe.
pub fn spawn_capture(
    argv: &[&str],
    actions: &[FileAction<'_>],
    attrs: Attributes<'_>,
) -> vspawn::Result<Captured> {
    let (read, write) = vspawn::fd::pipe2(OFlags::empty()).expect("pipe2");
    let mut all = vec![
        FileAction::Dup2 {
            src: write.as_raw_fd(),
            dst: 1,
        },
        FileAction::Close(write.as_raw_fd()),
    ];
    all.extend_from_slice(actions);
    let mut child = spawn_with(argv, &[CHILD_PATH], &all, attrs)?;
    drop(write);
    let stdout = read_to_end(read.as_raw_fd());
    let status = child.wait().expect("wait for the spawned child");
    Ok(Captured {
        pid: child.pid(),
        status,
        stdout: String::from_utf8(stdout).expect("child output is UTF-8"),
    })
}

/// Spawns `argv` (as [`spawn_capture`] names the program) with `env`, `actions` and `attrs`
/// through the core `Spawn`.
pub fn spawn_with(
    argv: &[&str],
    env: &[&str],
    actions: &[FileAction<'_>],
    attrs: Attributes<'_>,
) -> vspawn::Result<vspawn::spawn::Child> {
    let args: Vec<std::ffi::CString> = argv.iter().map(cstring).collect();
    let env: Vec<std::ffi::CString> = env.iter().map(cstring).collect();
    let arg_refs: Vec<&std::ffi::CStr> = args.iter().map(|s| s.as_c_str()).collect();
    let env_refs: Vec<&std::ffi::CStr> = env.iter().map(|s| s.as_c_str()).collect();
    let mut arg_slots = vec![std::ptr::null(); args.len() + 1];
    let mut env_slots = vec![std::ptr::null(); env.len() + 1];
    let argv = CStrArray::new(&arg_refs, &mut arg_slots)?;
    let envp = CStrArray::new(&env_refs, &mut env_slots)?;
    let name = arg_refs[0];
    let program = if name.to_bytes().contains(&b'/') {
        Program::Path(name)
    } else {
        Program::Search(name)
    };
    Spawn::new(program, argv, envp)
        .actions(actions)
        .attrs(attrs)
        .spawn()
}

/// Reads `fd` to its end (retrying `EINTR`).
pub fn read_to_end(fd: RawFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match vspawn::fd::read(fd, &mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(vspawn::Errno::EINTR) => {}
            Err(e) => panic!("read fd {fd}: {e}"),
        }
    }
}

/// The value of the line `Key:\t...` of `/proc/<pid>/status` text, trimmed.
pub fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {key} in status:\n{status}"))
        .trim()
}

/// The fields of a `/proc/<pid>/stat` line after the command name: `[state, ppid, pgrp, session,
/// tty_nr, tpgid, ...]`, with the pid (the first field) in front: `(pid, fields)`.
pub fn proc_stat_fields(stat: &str) -> (Pid, Vec<String>) {
    let pid = stat
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("pid in stat");
    let after_comm = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    (
        pid,
        after_comm.split_whitespace().map(String::from).collect(),
    )
}

// ---- qemu-user's clone lock ----
//
// Measured with qemu-user 7.2: a child forked while another thread of the process is being
// created or is exiting inherits qemu's internal clone lock held, and then deadlocks (futex wait,
// forever) in its first `SYS_exit` or thread creation; `exit_group` is not affected (vspawn's
// trampolines end a non-thread child with `exit_group` for that reason). A test whose forked
// child calls `SYS_exit` itself holds `creating_children()` across the fork, and code that
// creates threads holds `creating_threads()` for the threads' whole lives; libtest's own thread
// per test is outside this lock, so such a child is waited for with `wait_sys_exit_child!`,
// which under qemu-user gives up after a while and skips visibly. Emulated runs with
// `--test-threads=1` (`RUST_TEST_THREADS=1`) avoid the hang.

static CREATION: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held while threads are created, live and exit (see above).
pub fn creating_threads() -> std::sync::RwLockWriteGuard<'static, ()> {
    CREATION
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while forking children that will call `SYS_exit` themselves (see above).
pub fn creating_children() -> std::sync::RwLockReadGuard<'static, ()> {
    CREATION
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The skip reason when an emulated `SYS_exit` child hung.
pub const QEMU_CLONE_LOCK_HANG: &str = "the child hung in SYS_exit: qemu-user forked it while \
     another thread held qemu's clone lock (libtest starts and ends a thread per test); run the \
     emulated tests with --test-threads=1; checked natively and in the VM";

/// Waits for a child that ends with `SYS_exit`. On a real kernel: a plain wait. Under an
/// emulator: at most 10 s; a child still running then is stuck on qemu's clone lock (see above):
/// it is killed and reaped, and `None` returned (the caller skips, see `wait_sys_exit_child!`).
pub fn wait_exit_child(pid: Pid, options: WaitOptions) -> Option<ExitStatus> {
    if emulator().is_none() {
        return Some(wait_with(pid, options));
    }
    let mut status = None;
    let ended = wait_until(10_000, || {
        match vspawn::wait::wait4(pid, options | vspawn::wait::wflags::WNOHANG, None) {
            Ok((0, _)) => false,
            Ok((got, s)) => {
                assert_eq!(got, pid);
                status = Some(s);
                true
            }
            Err(e) => panic!("wait4({pid}): {e}"),
        }
    });
    if !ended {
        vspawn::process::kill(pid, Some(vspawn::signal::Signal::SIGKILL)).expect("kill");
        wait_with(pid, options);
    }
    status
}

/// `wait_sys_exit_child!(pid)` or `wait_sys_exit_child!(pid, options)`: the child's status,
/// or a visible skip if it hung under qemu-user (see `wait_exit_child`).
#[macro_export]
macro_rules! wait_sys_exit_child {
    ($pid:expr) => {
        $crate::wait_sys_exit_child!($pid, vspawn::wait::WaitOptions::empty())
    };
    ($pid:expr, $options:expr) => {
        match $crate::common::wait_exit_child($pid, $options) {
            Some(status) => status,
            None => $crate::skip!("{}", $crate::common::QEMU_CLONE_LOCK_HANG),
        }
    };
}

// ---- Raw clone helpers: stacks, the thread pointer, a probe thread. ----

/// `CLOCK_MONOTONIC` in nanoseconds (raw `clock_gettime`, usable in any child).
pub fn monotonic_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: the kernel writes one timespec (two i64) into `ts`.
    unsafe { vspawn::sys::syscall!(CLOCK_GETTIME, 1usize, ts.as_mut_ptr()) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

/// A heap block used as a raw clone child's stack.
pub struct Stack(Vec<u128>);

impl Stack {
    /// `size` bytes (rounded up to 16), 16-byte aligned.
    pub fn new(size: usize) -> Stack {
        Stack(vec![0u128; size.div_ceil(16)])
    }

    /// `(lowest address, size)`, as `Clone3::stack` takes it.
    pub fn range(&mut self) -> (*mut u8, usize) {
        (self.0.as_mut_ptr().cast(), self.0.len() * 16)
    }

    /// The top (one past the highest byte), as `clone` takes it; 16-byte aligned.
    pub fn top(&mut self) -> *mut u8 {
        let (lowest, size) = self.range();
        lowest.wrapping_add(size)
    }
}

/// The calling thread's thread pointer: the register `CLONE_SETTLS` sets (x86_64: the fs base,
/// read with `arch_prctl(ARCH_GET_FS)`; aarch64: `tpidr_el0`; riscv64: `tp`). Uses no
/// thread-local storage itself.
pub fn thread_pointer() -> usize {
    let tp: usize;
    #[cfg(target_arch = "x86_64")]
    {
        const ARCH_GET_FS: usize = 0x1003;
        let mut base = 0usize;
        // SAFETY: the kernel writes one unsigned long at the pointer.
        unsafe { vspawn::sys::syscall!(ARCH_PRCTL, ARCH_GET_FS, &mut base as *mut usize) };
        tp = base;
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reading the EL0 thread pointer register has no side effects.
    unsafe {
        core::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack))
    };
    #[cfg(target_arch = "riscv64")]
    // SAFETY: reading the tp register has no side effects.
    unsafe {
        core::arch::asm!("mv {}, tp", out(reg) tp, options(nomem, nostack))
    };
    tp
}

/// The flag set of a thread (qemu-user accepts exactly this set, with `SYSVSEM`), without the tid
/// and TLS flags.
pub const THREAD_FLAGS: vspawn::clone::CloneFlags = {
    use vspawn::clone::flags::*;
    CLONE_VM
        .union(CLONE_FS)
        .union(CLONE_FILES)
        .union(CLONE_SIGHAND)
        .union(CLONE_THREAD)
        .union(CLONE_SYSVSEM)
};

/// What a probe thread saw; shared with the thread that made it.
#[repr(C)]
pub struct ThreadProbe {
    /// The `CLONE_CHILD_SETTID`/`CLEARTID` word: -1 until the kernel sets it.
    pub ctid: std::sync::atomic::AtomicI32,
    /// gettid() in the thread.
    pub tid: std::sync::atomic::AtomicI32,
    /// The `ctid` word as the thread first saw it.
    pub ctid_seen: std::sync::atomic::AtomicI32,
    /// getpid() in the thread.
    pub pid: std::sync::atomic::AtomicI32,
    /// The thread pointer register in the thread.
    pub tp: std::sync::atomic::AtomicUsize,
}

impl ThreadProbe {
    /// Nothing seen yet.
    pub fn new() -> ThreadProbe {
        use std::sync::atomic::{AtomicI32, AtomicUsize};
        ThreadProbe {
            ctid: AtomicI32::new(-1),
            tid: AtomicI32::new(0),
            ctid_seen: AtomicI32::new(0),
            pid: AtomicI32::new(0),
            tp: AtomicUsize::new(0),
        }
    }
}

/// A raw clone child function: records into the `ThreadProbe` at `arg` and returns 0. It may run
/// with a foreign thread pointer, so it uses only atomics and raw syscalls, no thread-locals.
pub extern "C" fn probe_thread(arg: usize) -> i32 {
    use std::sync::atomic::Ordering::SeqCst;
    // SAFETY: the cloner passes the address of a ThreadProbe that outlives this thread.
    let probe = unsafe { &*(arg as *const ThreadProbe) };
    probe.tp.store(thread_pointer(), SeqCst);
    probe.ctid_seen.store(probe.ctid.load(SeqCst), SeqCst);
    probe.pid.store(vspawn::process::getpid(), SeqCst);
    probe.tid.store(vspawn::process::gettid(), SeqCst);
    0
}

/// A block whose address serves as the TLS value of probe threads: any user address will do,
/// as long as it differs from every other argument.
#[repr(C, align(64))]
pub struct TlsBlock(pub [u64; 8]);

/// See [`TlsBlock`].
pub static TLS_BLOCK: TlsBlock = TlsBlock([0; 8]);

/// A raw clone child function: returns its argument as the exit status.
pub extern "C" fn exit_with_arg(arg: usize) -> i32 {
    arg as i32
}

/// This target's triple (the one the test binary was built for).
pub fn triple() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-gnu",
        "aarch64" => "aarch64-unknown-linux-gnu",
        "riscv64" => "riscv64gc-unknown-linux-gnu",
        other => panic!("unsupported architecture {other}"),
    }
}

/// Builds this package's targets `args` (e.g. `["--release", "--bin", "vinit"]`) for this target
/// with a nested `cargo build --offline` into `<profile dir>/<dir>`, next to the outer build's
/// output, and returns `<that dir>/<triple>`; `Err` when there is no cargo to run (in the VM),
/// `what` naming what was being built in the reason.
pub fn nested_cargo_build(
    dir: &str,
    args: &[&str],
    what: &str,
) -> Result<std::path::PathBuf, String> {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in <profile>/deps");
    let target_dir: PathBuf = profile_dir.join(dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--offline"])
        .args(args)
        .args(["--target", triple()])
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("cargo is not available here to build {what}"));
        }
        Err(e) => panic!("running {cargo:?}: {e}"),
    };
    assert!(
        output.status.success(),
        "building {what} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(target_dir.join(triple()))
}
