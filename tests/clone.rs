//! The process core: `fork`, `vfork`, `clone` and `clone3` (the real one; its fallback has its
//! own binary, `clone3_fallback.rs`, because switching it is process-wide).
//!
//! What is proven here: the vfork child shares memory and the parent waits for it (natively and
//! in the VM; qemu-user turns vfork into fork); nothing the child does, down to 256 KiB of stack,
//! disturbs the parent's registers, frames or return path; the clone arguments land where the
//! kernel documents them on each architecture (tids, TLS); clone3's own features work; and the
//! kernel's refusals come back unchanged.
//!
//! Under qemu-user a wait is bounded (see `common::wait_with`): a child that never ends fails its
//! test instead of hanging the run.

#[macro_use]
mod common;

use std::hint::black_box;
use std::ptr::{read_volatile, write_volatile};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use common::{Stack, THREAD_FLAGS, ThreadProbe, exit_with_arg, probe_thread};
use vspawn::Errno;
use vspawn::clone::CloneFlags;
use vspawn::clone::{Clone3, Fork, clone, clone3, clone3_available, flags::*, fork, vfork};
use vspawn::exec::execve;
use vspawn::fd;
use vspawn::fd::OFlags;
use vspawn::process::{Pid, exit_group, getpid, gettid};
use vspawn::signal::{SigAction, SigHandler, Signal, get_sigaction, rt_sigaction};
use vspawn::wait::{SigInfo, WaitId, cld::CLD_EXITED, wait4, waitid, wflags::*};

/// `vfork`; the child runs `child`.
///
/// Every caller's closure only makes raw syscalls and writes memory prepared for it (the vfork
/// contract).
fn vfork_child(child: &mut impl FnMut() -> i32) -> Pid {
    // SAFETY: see above: the closures of this file honour the vfork child's restrictions.
    unsafe { vfork(child) }.expect("vfork")
}

/// `clone` of a process (no `CLONE_THREAD`) running `f(arg)`.
///
/// # Safety
///
/// As for [`clone`].
unsafe fn clone_process(
    flags: CloneFlags,
    exit_signal: Option<Signal>,
    stack: Option<*mut u8>,
    ptid: *mut Pid,
    ctid: *mut Pid,
    f: extern "C" fn(usize) -> i32,
    arg: usize,
) -> vspawn::Result<Pid> {
    // SAFETY: the caller upholds clone's contract.
    unsafe { clone(flags, exit_signal, stack, ptid, ctid, 0, f, arg) }
}

/// `clone3` of a process running `f(arg)`.
///
/// # Safety
///
/// As for [`clone3`].
unsafe fn clone3_process(
    req: &Clone3<'_>,
    f: extern "C" fn(usize) -> i32,
    arg: usize,
) -> vspawn::Result<vspawn::clone::Cloned> {
    // SAFETY: the caller upholds clone3's contract.
    unsafe { clone3(req, f, arg) }
}

/// `argv`/`envp` for `/bin/true`, built before any child runs.
struct TrueProgram {
    argv: Vec<std::ffi::CString>,
    envp: Vec<std::ffi::CString>,
}

impl TrueProgram {
    fn new() -> TrueProgram {
        TrueProgram {
            argv: vec![common::cstring("true")],
            envp: vec![common::cstring("PATH=/bin:/usr/bin")],
        }
    }

    fn pointers(&self) -> (Vec<*const std::ffi::c_char>, Vec<*const std::ffi::c_char>) {
        (common::ptr_array(&self.argv), common::ptr_array(&self.envp))
    }
}

// ---- vfork: shared memory, suspended parent, exec, status, panic ----

#[test]
fn vfork_child_writes_are_seen_by_the_parent() {
    require_shared_vfork!();
    let mut slot = 0u64;
    let slot_ptr = &mut slot as *mut u64;
    let mut child = || {
        // SAFETY: the slot lives in the suspended parent's frame.
        unsafe { write_volatile(slot_ptr, 0x5eed_f00d) };
        0
    };
    let pid = vfork_child(&mut child);
    // Before any wait: the child has run to its end while we were suspended.
    // SAFETY: the slot is ours again.
    assert_eq!(unsafe { read_volatile(slot_ptr) }, 0x5eed_f00d);
    assert_eq!(common::wait_child(pid).code(), Some(0));
}

#[test]
fn vfork_parent_stays_suspended_while_the_child_sleeps() {
    require_shared_vfork!();
    let mut child_done_ns = 0u64;
    let done_ptr = &mut child_done_ns as *mut u64;
    let start = Instant::now();
    let mut child = || {
        common::sleep_ms(100);
        // SAFETY: the slot lives in the suspended parent's frame.
        unsafe { write_volatile(done_ptr, common::monotonic_ns()) };
        0
    };
    let pid = vfork_child(&mut child);
    let resumed_ns = common::monotonic_ns();
    let elapsed = start.elapsed();
    // SAFETY: the slot is ours again.
    let done_ns = unsafe { read_volatile(done_ptr) };
    assert!(
        elapsed >= Duration::from_millis(100),
        "resumed after {elapsed:?}"
    );
    assert_ne!(done_ns, 0, "the child's last write is not visible");
    assert!(
        resumed_ns >= done_ns,
        "the parent ran before the child ended"
    );
    assert_eq!(common::wait_child(pid).code(), Some(0));
}

#[test]
fn vfork_parent_resumes_when_the_child_execs() {
    let argv: Vec<_> = ["sh", "-c", "sleep 1; exit 4"]
        .iter()
        .map(common::cstring)
        .collect();
    let envp = vec![common::cstring("PATH=/bin:/usr/bin")];
    let (argv_ptrs, envp_ptrs) = (common::ptr_array(&argv), common::ptr_array(&envp));
    let mut child = || {
        // SAFETY: both arrays were built before the vfork and stay alive.
        unsafe { execve(c"/bin/sh", argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) };
        127
    };
    let pid = vfork_child(&mut child);
    // The child is still running its program: we were released by the exec, not the exit.
    let (got, _) = wait4(pid, WNOHANG, None).unwrap();
    assert_eq!(got, 0);
    assert_eq!(common::wait_child(pid).code(), Some(4));
}

#[test]
fn vfork_child_exec_error_reaches_the_parent_through_shared_memory() {
    require_shared_vfork!();
    let program = TrueProgram::new();
    let (argv, envp) = program.pointers();
    let mut errno_slot = 0i32;
    let slot_ptr = &mut errno_slot as *mut i32;
    let mut child = || {
        // SAFETY: the arrays were built before the vfork and stay alive.
        let err = unsafe { execve(c"/nonexistent-vspawn/prog", argv.as_ptr(), envp.as_ptr()) };
        // SAFETY: the slot lives in the suspended parent's frame.
        unsafe { write_volatile(slot_ptr, err.raw()) };
        127
    };
    let pid = vfork_child(&mut child);
    // SAFETY: the slot is ours again.
    assert_eq!(
        Errno::from_raw(unsafe { read_volatile(slot_ptr) }),
        Errno::ENOENT
    );
    assert_eq!(common::wait_child(pid).code(), Some(127));
}

#[test]
fn vfork_child_exec_of_true_exits_zero() {
    let program = TrueProgram::new();
    let (argv, envp) = program.pointers();
    let mut child = || {
        // SAFETY: the arrays were built before the vfork and stay alive.
        unsafe { execve(c"/bin/true", argv.as_ptr(), envp.as_ptr()) };
        127
    };
    let pid = vfork_child(&mut child);
    assert_eq!(common::wait_child(pid).code(), Some(0));
}

#[test]
fn vfork_child_result_is_its_exit_status() {
    for (result, code) in [(42, 42), (0, 0), (300, 44)] {
        let pid = vfork_child(&mut || black_box(result));
        assert_eq!(common::wait_child(pid).code(), Some(code));
    }
}

#[test]
fn vfork_child_panicking_dies_by_sigsegv_and_leaves_the_parent_unpanicked() {
    // The child has no thread pointer: std's panic machinery faults on its first thread-local
    // (the panic count) instead of raising the count of the suspended parent, whose memory and
    // thread-locals the child would share. (Before: the count was raised and never lowered
    // without the `std` feature or with panic = "abort"; tests/std_consumer shows those builds.)
    let mut child = || -> i32 {
        if black_box(true) {
            panic!("deliberate panic in a vfork child");
        }
        0
    };
    let pid = vfork_child(&mut child);
    let status = common::wait_child(pid);
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
    assert!(!std::thread::panicking());
    // A mutex unlocked after it is not poisoned (a guard's drop poisons when panicking() lies).
    let mutex = std::sync::Mutex::new(0);
    drop(mutex.lock().unwrap());
    assert!(!mutex.is_poisoned());
}

#[test]
fn vfork_child_has_no_thread_pointer() {
    // A thread-local access in the child faults: it cannot reach the parent's thread-locals.
    thread_local! {
        static PARENT_ONLY: std::cell::Cell<u32> = const { std::cell::Cell::new(5) };
    }
    PARENT_ONLY.with(|v| v.set(6));
    let mut child = || -> i32 {
        PARENT_ONLY.with(|v| v.set(black_box(99)));
        0
    };
    let pid = vfork_child(&mut child);
    let status = common::wait_child(pid);
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
    assert_eq!(
        PARENT_ONLY.with(|v| v.get()),
        6,
        "the parent's thread-local is untouched"
    );
}

// ---- Register and stack safety ----

/// Twenty values derived from `seed`, each its own variable, so that the optimizer keeps them in
/// registers and stack slots across a call; `after` must give them back unchanged.
#[inline(never)]
fn live_values_across(seed: u64, spawn: &mut dyn FnMut() -> i32) -> [u64; 20] {
    let v0 = seed ^ 0x1111;
    let v1 = seed.rotate_left(3);
    let v2 = seed.wrapping_mul(5);
    let v3 = seed.wrapping_add(0x7777_0000);
    let v4 = !seed;
    let v5 = seed >> 7;
    let v6 = seed << 9;
    let v7 = seed.swap_bytes();
    let v8 = seed.wrapping_sub(12345);
    let v9 = seed.rotate_right(17) ^ v0;
    let v10 = v1.wrapping_mul(v2 | 1);
    let v11 = v3 ^ v4;
    let v12 = v5.wrapping_add(v6);
    let v13 = v7.rotate_left(29);
    let v14 = v8 ^ 0xdead_beef;
    let v15 = v9.wrapping_mul(0x9e37_79b9);
    let v16 = v10 ^ v11;
    let v17 = v12.wrapping_sub(v13);
    let v18 = v14.count_ones() as u64 + v15;
    let v19 = seed.leading_zeros() as u64 ^ v16;
    let code = spawn();
    // Used after the call (black_box: nothing can be recomputed late or dropped).
    black_box(code);
    black_box([
        v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19,
    ])
}

/// A child that clobbers what it can: many registers (a busy loop) and 64 KiB of stack.
#[inline(never)]
fn clobbering_child_work() -> i32 {
    (child_recurse(black_box(64)) & 0x3f) as i32
}

#[test]
fn values_live_across_vfork_and_clone_stay_intact() {
    let seed = black_box(0x0123_4567_89ab_cdef_u64);
    let expected = live_values_across(seed, &mut || 0);
    extern "C" fn clobber(_: usize) -> i32 {
        clobbering_child_work();
        21
    }
    type Spawner<'a> = (&'a str, Box<dyn FnMut() -> i32 + 'a>);
    let spawners: Vec<Spawner<'_>> = vec![
        (
            "vfork",
            Box::new(|| {
                let pid = vfork_child(&mut || {
                    clobbering_child_work();
                    21
                });
                common::wait_child(pid).code().unwrap_or(-1)
            }),
        ),
        (
            "clone(VM|VFORK)",
            Box::new(|| {
                let flags = CLONE_VM | CLONE_VFORK;
                let sigchld = Some(Signal::SIGCHLD);
                let null = std::ptr::null_mut();
                // SAFETY: CLONE_VFORK keeps us suspended while the child runs below our frames.
                let pid =
                    unsafe { clone_process(flags, sigchld, None, null, null, clobber, 0) }.unwrap();
                common::wait_child(pid).code().unwrap_or(-1)
            }),
        ),
        (
            "clone(SIGCHLD)",
            Box::new(|| {
                let null = std::ptr::null_mut();
                // SAFETY: without CLONE_VM the child works on its own copy of our stack.
                let pid = unsafe {
                    clone_process(
                        CloneFlags::empty(),
                        Some(Signal::SIGCHLD),
                        None,
                        null,
                        null,
                        clobber,
                        0,
                    )
                }
                .unwrap();
                common::wait_child(pid).code().unwrap_or(-1)
            }),
        ),
        (
            "clone3(VM|VFORK)",
            Box::new(|| {
                let req = Clone3::new().flags(CLONE_VM | CLONE_VFORK);
                // SAFETY: as for vfork.
                let pid = unsafe { clone3_process(&req, clobber, 0) }.unwrap().pid;
                common::wait_child(pid).code().unwrap_or(-1)
            }),
        ),
        (
            "clone3()",
            Box::new(|| {
                // SAFETY: a fork-like child on its own copy of our stack.
                let pid = unsafe { clone3_process(&Clone3::default(), clobber, 0) }
                    .unwrap()
                    .pid;
                common::wait_child(pid).code().unwrap_or(-1)
            }),
        ),
    ];
    for (name, mut spawn) in spawners {
        let after = live_values_across(seed, &mut *spawn);
        assert_eq!(after, expected, "values changed across {name}");
    }
}

/// Recurses `depth` times with a 1 KiB array per frame, written with volatile stores: a child
/// that really uses its stack.
#[inline(never)]
fn child_recurse(depth: u32) -> u64 {
    let mut frame = [0u8; 1024];
    for (i, byte) in frame.iter_mut().enumerate() {
        // SAFETY: a plain write to a local.
        unsafe { write_volatile(byte, (i as u8) ^ (depth as u8)) };
    }
    black_box(&mut frame);
    if depth == 0 {
        0
    } else {
        child_recurse(depth - 1).wrapping_add(u64::from(frame[depth as usize % 1024]))
    }
}

/// A chain of `depth` frames of the parent around `at_bottom`, each with locals it checks after
/// the call returns; returns a digest of all of them.
#[inline(never)]
fn parent_chain(depth: u32, seed: u64, at_bottom: &mut dyn FnMut() -> u64) -> u64 {
    let mut locals = [0u64; 16];
    for (i, local) in locals.iter_mut().enumerate() {
        *local = seed ^ (i as u64).wrapping_mul(0x0100_0000_01b3) ^ u64::from(depth);
    }
    black_box(&mut locals);
    let below = if depth == 0 {
        at_bottom()
    } else {
        parent_chain(depth - 1, seed.rotate_left(5) ^ 0xabc, at_bottom)
    };
    for (i, local) in locals.iter().enumerate() {
        let want = seed ^ (i as u64).wrapping_mul(0x0100_0000_01b3) ^ u64::from(depth);
        assert_eq!(*local, want, "frame at depth {depth}, local {i}");
    }
    below
        .wrapping_mul(31)
        .wrapping_add(locals.iter().fold(0, |acc, x| acc ^ x))
}

#[test]
fn vfork_child_recursing_256_kib_then_exec_leaves_parent_frames_intact() {
    let program = TrueProgram::new();
    let (argv, envp) = program.pointers();
    let canary: [u64; 32] = black_box(std::array::from_fn(|i| 0xc0de_0000_0000_0000 | i as u64));
    let seed = black_box(0x5151_2323_abab_7070_u64);
    let expected = parent_chain(24, seed, &mut || 7);

    let mut pid = 0;
    let mut child = || {
        black_box(child_recurse(black_box(256)));
        // SAFETY: the arrays were built before the vfork and stay alive.
        unsafe { execve(c"/bin/true", argv.as_ptr(), envp.as_ptr()) };
        127
    };
    let got = parent_chain(24, seed, &mut || {
        pid = vfork_child(&mut child);
        7
    });
    assert_eq!(got, expected, "a parent frame's digest changed");
    assert_eq!(
        canary,
        std::array::from_fn::<u64, 32, _>(|i| 0xc0de_0000_0000_0000 | i as u64),
        "the caller's canary changed"
    );
    // The child got to its exec: /bin/true's status.
    assert_eq!(common::wait_child(pid).code(), Some(0));
}

// ---- fork ----

#[test]
fn fork_returns_the_childs_pid_to_the_parent_and_child_to_the_child() {
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let write_end = w.as_raw_fd();
    // SAFETY: the child only makes raw syscalls and exits.
    let pid = match unsafe { fork() }.expect("fork") {
        Fork::Child => {
            let _ = fd::write_all(write_end, &getpid().to_ne_bytes());
            exit_group(33)
        }
        Fork::Parent(pid) => pid,
    };
    let mut buf = [0u8; 4];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(4));
    assert_eq!(i32::from_ne_bytes(buf), pid);
    assert_ne!(pid, getpid());
    assert_eq!(common::wait_child(pid).code(), Some(33));
}

#[test]
fn fork_and_vfork_from_four_threads_at_once_give_each_its_own_child_and_status() {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                // fork: the child continues here and exits with a code of its thread's own.
                // SAFETY: the child only calls exit_group.
                let forked = match unsafe { fork() }.expect("fork") {
                    Fork::Child => exit_group(10 + i),
                    Fork::Parent(pid) => pid,
                };
                let fork_status = common::wait_child(forked);
                barrier.wait();
                // vfork: each thread is suspended alone; the others go on.
                // SAFETY: the child only returns a value.
                let vforked = unsafe { vfork(&mut || 20 + i) }.expect("vfork");
                let vfork_status = common::wait_child(vforked);
                (forked, fork_status, vforked, vfork_status)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut pids = Vec::new();
    for (i, (forked, fork_status, vforked, vfork_status)) in results.into_iter().enumerate() {
        assert_eq!(
            fork_status.code(),
            Some(10 + i as i32),
            "fork in thread {i}"
        );
        assert_eq!(
            vfork_status.code(),
            Some(20 + i as i32),
            "vfork in thread {i}"
        );
        pids.extend([forked, vforked]);
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 8, "every child had its own pid");
}

// ---- Argument placement: tids and TLS, per architecture ----

#[test]
fn clone_parent_settid_writes_the_tid_in_the_parents_memory_on_the_fork_path() {
    let ptid = AtomicI32::new(0);
    let null = std::ptr::null_mut();
    let (flags, sigchld) = (CLONE_PARENT_SETTID, Some(Signal::SIGCHLD));
    // SAFETY: a fork-like child; `ptid` outlives the call.
    let pid = unsafe { clone_process(flags, sigchld, None, ptid.as_ptr(), null, exit_with_arg, 0) }
        .expect("clone");
    let written = ptid.load(SeqCst);
    let status = common::wait_child(pid);
    assert_eq!(status.code(), Some(0));
    if written == 0 && common::qemu_user_major().is_some() {
        skip!(
            "{} writes CLONE_PARENT_SETTID only in the child's memory on the fork path \
             (measured, see the README); checked natively and in the VM",
            common::emulator().unwrap()
        );
    }
    assert_eq!(written, pid);
}

extern "C" fn child_checks_its_ctid(arg: usize) -> i32 {
    // SAFETY: the parent passes the address of an AtomicI32 it keeps alive; ours is a copy.
    let ctid = unsafe { &*(arg as *const AtomicI32) };
    if ctid.load(SeqCst) == gettid() { 0 } else { 1 }
}

#[test]
fn clone_child_settid_writes_the_tid_in_the_childs_memory_on_the_fork_path() {
    let ctid = AtomicI32::new(0);
    let null = std::ptr::null_mut();
    let arg = &ctid as *const AtomicI32 as usize;
    // SAFETY: a fork-like child; it reads its own copy of `ctid`.
    let pid = unsafe {
        clone_process(
            CLONE_CHILD_SETTID,
            Some(Signal::SIGCHLD),
            None,
            null,
            ctid.as_ptr(),
            child_checks_its_ctid,
            arg,
        )
    }
    .expect("clone");
    assert_eq!(
        common::wait_child(pid).code(),
        Some(0),
        "child's ctid != its tid"
    );
    // Our memory is not the child's.
    assert_eq!(ctid.load(SeqCst), 0);
}

/// Checks what a probe thread saw against what was asked of the clone that made it.
fn check_probe_thread(tid: Pid, ptid: &AtomicI32, probe: &ThreadProbe, tls: usize) {
    // CLONE_PARENT_SETTID: in our memory before clone returned (checked by the caller too).
    assert_eq!(ptid.load(SeqCst), tid, "parent_tid");
    // CLONE_CHILD_CLEARTID: cleared, and woken, when the thread ended.
    common::wait_cleared(&probe.ctid);
    // CLONE_CHILD_SETTID: the kernel wrote the tid before the thread ran.
    assert_eq!(probe.ctid_seen.load(SeqCst), tid, "child_tid");
    assert_eq!(probe.tid.load(SeqCst), tid, "gettid in the thread");
    assert_eq!(probe.pid.load(SeqCst), getpid(), "same thread group");
    // CLONE_SETTLS: the thread pointer register holds exactly what we passed.
    assert_eq!(probe.tp.load(SeqCst), tls, "tls");
}

const TID_TLS_FLAGS: CloneFlags = CLONE_SETTLS
    .union(CLONE_PARENT_SETTID)
    .union(CLONE_CHILD_SETTID)
    .union(CLONE_CHILD_CLEARTID);

#[test]
fn thread_clone_puts_parent_tid_child_tid_and_tls_where_the_kernel_documents() {
    let tls = &common::TLS_BLOCK as *const _ as usize;
    let mut stack = Stack::new(64 * 1024);
    let probe = ThreadProbe::new();
    let ptid = AtomicI32::new(0);
    // SAFETY: a thread on its own stack that outlives it; the probe and tid words outlive it
    // (we wait for CHILD_CLEARTID); probe_thread touches no thread-locals, so the foreign TLS
    // is harmless.
    let tid = unsafe {
        clone(
            THREAD_FLAGS | TID_TLS_FLAGS,
            None,
            Some(stack.top()),
            ptid.as_ptr(),
            probe.ctid.as_ptr(),
            tls,
            probe_thread,
            &probe as *const ThreadProbe as usize,
        )
    }
    .expect("clone thread");
    check_probe_thread(tid, &ptid, &probe, tls);
    assert_ne!(tid, gettid());
}

#[test]
fn thread_clone3_puts_parent_tid_child_tid_and_tls_where_the_kernel_documents() {
    let tls = &common::TLS_BLOCK as *const _ as usize + 8;
    let mut stack = Stack::new(64 * 1024);
    let probe = ThreadProbe::new();
    let ptid = AtomicI32::new(0);
    let (lowest, size) = stack.range();
    let req = Clone3::new()
        .flags(THREAD_FLAGS | TID_TLS_FLAGS)
        .exit_signal(None)
        .child_tid(probe.ctid.as_ptr())
        .parent_tid(ptid.as_ptr())
        .stack(lowest, size)
        .tls(tls);
    // SAFETY: as for the clone variant above.
    let cloned = unsafe { clone3(&req, probe_thread, &probe as *const ThreadProbe as usize) }
        .expect("clone3 thread");
    assert!(cloned.pidfd.is_none());
    check_probe_thread(cloned.pid, &ptid, &probe, tls);
    // Natively this went through clone3 itself; qemu-user answers ENOSYS and it fell back.
    assert_eq!(clone3_available(), common::emulator().is_none());
}

// ---- clone3 ----

#[test]
fn clone3_plain_child_exits_with_its_status() {
    // SAFETY: a fork-like child on its own copy of our memory.
    let cloned = unsafe { clone3_process(&Clone3::default(), exit_with_arg, 23) }.expect("clone3");
    assert!(cloned.pidfd.is_none());
    assert_eq!(common::wait_child(cloned.pid).code(), Some(23));
    // Natively the real clone3 served it; under qemu-user the first call met ENOSYS and the
    // crate remembered it.
    assert_eq!(clone3_available(), common::emulator().is_none());
}

extern "C" fn write_marker(arg: usize) -> i32 {
    // SAFETY: the parent passes the address of an AtomicI32 that outlives this child.
    unsafe { &*(arg as *const AtomicI32) }.store(0x600d, SeqCst);
    3
}

#[test]
fn clone3_vfork_child_shares_memory_and_suspends_the_parent() {
    let marker = AtomicI32::new(0);
    let req = Clone3::new().flags(CLONE_VM | CLONE_VFORK);
    // SAFETY: CLONE_VFORK keeps us suspended while the child runs below our frames.
    let cloned = unsafe { clone3_process(&req, write_marker, &marker as *const _ as usize) }
        .expect("clone3 vfork");
    let seen = marker.load(SeqCst);
    let status = common::wait_child(cloned.pid);
    assert_eq!(status.code(), Some(3));
    require_shared_vfork!();
    assert_eq!(seen, 0x600d);
}

static EXIT_SIGNAL_PID: AtomicI32 = AtomicI32::new(0);
static EXIT_SIGNAL_CODE: AtomicI32 = AtomicI32::new(0);
static EXIT_SIGNAL_STATUS: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_exit_signal(_: i32, info: *mut SigInfo, _: *mut core::ffi::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo.
    let info = unsafe { &*info };
    EXIT_SIGNAL_CODE.store(info.code, SeqCst);
    EXIT_SIGNAL_STATUS.store(info.status(), SeqCst);
    EXIT_SIGNAL_PID.store(info.pid(), SeqCst);
}

#[test]
fn clone3_exit_signal_sigusr1_is_sent_and_the_child_is_waited_with_wall() {
    let act = SigAction::new(SigHandler::Action(record_exit_signal));
    // SAFETY: the handler only stores into atomics. SIGUSR1 is this test's alone in this binary.
    unsafe { rt_sigaction(Signal::SIGUSR1, Some(&act)) }.unwrap();
    let req = Clone3::new().exit_signal(Some(Signal::SIGUSR1));
    // SAFETY: a fork-like child.
    let result = unsafe { clone3_process(&req, exit_with_arg, 5) };
    if result.as_ref().err() == Some(&Errno::EINVAL) && common::qemu_user_major().is_some() {
        skip!(
            "{} refuses exit signals other than SIGCHLD (measured, see the README); checked natively and in the VM",
            common::emulator().unwrap()
        );
    }
    let pid = result.expect("clone3 with SIGUSR1").pid;
    // Not a SIGCHLD child: invisible to a plain wait, found with __WALL.
    assert_eq!(wait4(pid, WNOHANG, None).map(drop), Err(Errno::ECHILD));
    let status = common::wait_with(pid, WALL);
    assert_eq!(status.code(), Some(5));
    assert!(common::wait_until(5000, || EXIT_SIGNAL_PID.load(SeqCst) != 0));
    // SAFETY: restoring the default installs no handler.
    unsafe { rt_sigaction(Signal::SIGUSR1, Some(&SigAction::DEFAULT)) }.unwrap();
    assert_eq!(EXIT_SIGNAL_PID.load(SeqCst), pid);
    assert_eq!(EXIT_SIGNAL_CODE.load(SeqCst), CLD_EXITED);
    assert_eq!(EXIT_SIGNAL_STATUS.load(SeqCst), 5);
}

#[test]
fn clone3_without_exit_signal_is_a_clone_child_for_wclone() {
    let req = Clone3::new().exit_signal(None);
    // SAFETY: a fork-like child.
    let result = unsafe { clone3_process(&req, exit_with_arg, 6) };
    if result.as_ref().err() == Some(&Errno::EINVAL) && common::qemu_user_major().is_some() {
        skip!(
            "{} refuses exit signals other than SIGCHLD (measured, see the README); checked natively and in the VM",
            common::emulator().unwrap()
        );
    }
    let pid = result.expect("clone3 without exit signal").pid;
    assert_eq!(wait4(pid, WNOHANG, None).map(drop), Err(Errno::ECHILD));
    assert_eq!(common::wait_with(pid, WCLONE).code(), Some(6));
}

#[test]
fn clone3_pidfd_refers_to_the_child() {
    let req = Clone3::new().flags(CLONE_PIDFD);
    // SAFETY: a fork-like child.
    let result = unsafe { clone3_process(&req, exit_with_arg, 31) };
    if result.as_ref().err() == Some(&Errno::EINVAL)
        && common::qemu_user_major().is_some_and(|major| major < 10)
    {
        skip!(
            "{} refuses CLONE_PIDFD on clone (measured, see the README); checked natively and in the VM",
            common::emulator().unwrap()
        );
    }
    let cloned = result.expect("clone3 with CLONE_PIDFD");
    let pidfd = cloned.pidfd.expect("a pidfd");
    assert_eq!(fd::get_fd_flags(pidfd.as_raw_fd()), Ok(fd::FD_CLOEXEC));
    // Let it end without reaping it: the pidfd wait below does that.
    let info = waitid(WaitId::Pid(cloned.pid), WEXITED | WNOWAIT, None).expect("waitid WNOWAIT");
    assert_eq!(info.pid(), cloned.pid);
    let info = waitid(WaitId::PidFd(&pidfd), WEXITED, None).expect("waitid P_PIDFD");
    assert_eq!(info.pid(), cloned.pid);
    assert_eq!((info.code, info.status()), (CLD_EXITED, 31));
}

#[test]
fn clone3_pidfd_and_parent_settid_are_both_filled() {
    let ptid = AtomicI32::new(0);
    let req = Clone3::new()
        .flags(CLONE_PIDFD | CLONE_PARENT_SETTID)
        .parent_tid(ptid.as_ptr());
    // SAFETY: a fork-like child; `ptid` outlives the call.
    let result = unsafe { clone3_process(&req, exit_with_arg, 0) };
    if result.as_ref().err() == Some(&Errno::EOPNOTSUPP) && !clone3_available() {
        skip!(
            "clone3 is missing here ({}): clone has one slot for both; checked natively",
            common::emulator().unwrap_or_default()
        );
    }
    let cloned = result.expect("clone3 PIDFD|PARENT_SETTID");
    assert_eq!(ptid.load(SeqCst), cloned.pid);
    assert!(cloned.pidfd.is_some());
    assert_eq!(common::wait_child(cloned.pid).code(), Some(0));
}

static CLEAR_SIGHAND_RAN: AtomicBool = AtomicBool::new(false);

extern "C" fn never_runs(_: i32) {
    CLEAR_SIGHAND_RAN.store(true, SeqCst);
}

/// 0 if SIGUSR2 has our handler and SIGPWR is ignored; 1 if SIGUSR2 is back to default and
/// SIGPWR still ignored; other values for anything else.
extern "C" fn report_dispositions(_: usize) -> i32 {
    let usr2 = get_sigaction(Signal::SIGUSR2).map(|a| a.handler);
    let pwr = get_sigaction(Signal::SIGPWR).map(|a| a.handler);
    match (usr2, pwr) {
        (Ok(SigHandler::Handler(_)), Ok(SigHandler::Ignore)) => 0,
        (Ok(SigHandler::Default), Ok(SigHandler::Ignore)) => 1,
        _ => 2,
    }
}

#[test]
fn clone3_clear_sighand_resets_handlers_but_keeps_ignored_signals() {
    // SIGUSR2 and SIGPWR are this test's alone in this binary.
    let handler = SigAction::new(SigHandler::Handler(never_runs));
    // SAFETY: the handler only stores into an atomic.
    unsafe { rt_sigaction(Signal::SIGUSR2, Some(&handler)) }.unwrap();
    // SAFETY: ignoring installs no handler.
    unsafe { rt_sigaction(Signal::SIGPWR, Some(&SigAction::IGNORE)) }.unwrap();
    let run = |flags: CloneFlags| {
        let req = Clone3::new().flags(flags);
        // SAFETY: a fork-like child that only reads its dispositions.
        unsafe { clone3_process(&req, report_dispositions, 0) }.map(|cloned| cloned.pid)
    };
    let plain = run(CloneFlags::empty()).expect("clone3");
    let cleared = run(CLONE_CLEAR_SIGHAND);
    let plain_status = common::wait_child(plain);
    let cleared_status = cleared.map(common::wait_child);
    // SAFETY: restoring defaults installs no handler.
    unsafe {
        rt_sigaction(Signal::SIGUSR2, Some(&SigAction::DEFAULT)).unwrap();
        rt_sigaction(Signal::SIGPWR, Some(&SigAction::DEFAULT)).unwrap();
    }
    if cleared_status == Err(Errno::EOPNOTSUPP) && !clone3_available() {
        skip!(
            "clone3 is missing here ({}), and CLONE_CLEAR_SIGHAND only exists there: \
             checked natively and in the VM",
            common::emulator().unwrap_or_default()
        );
    }
    let cleared_status = cleared_status.expect("clone3 CLONE_CLEAR_SIGHAND");
    assert_eq!(
        plain_status.code(),
        Some(0),
        "a plain child inherits the handler"
    );
    assert_eq!(
        cleared_status.code(),
        Some(1),
        "CLONE_CLEAR_SIGHAND resets it"
    );
    assert!(!CLEAR_SIGHAND_RAN.load(SeqCst));
}

#[test]
fn invalid_flag_combinations_get_the_kernels_einval() {
    let mut stack = Stack::new(16 * 1024);
    let null = std::ptr::null_mut();
    // If the kernel ever accepted one, the child would only return: a stack is given so that
    // even that could not hurt us.
    let cases = [
        (
            "CLONE_SIGHAND without CLONE_VM",
            CLONE_SIGHAND,
            Some(Signal::SIGCHLD),
        ),
        (
            "CLONE_THREAD without CLONE_SIGHAND",
            CLONE_VM | CLONE_THREAD,
            None,
        ),
    ];
    for (what, flags, exit_signal) in cases {
        let (lowest, size) = stack.range();
        let req = Clone3::new()
            .flags(flags)
            .exit_signal(exit_signal)
            .stack(lowest, size);
        // SAFETY: refused by the kernel (and harmless if not, see above).
        let got = unsafe { clone3_process(&req, exit_with_arg, 0) }.map(|c| c.pid);
        assert_eq!(got, Err(Errno::EINVAL), "clone3: {what}");
        // SAFETY: as above.
        let got = unsafe {
            clone_process(
                flags,
                exit_signal,
                Some(stack.top()),
                null,
                null,
                exit_with_arg,
                0,
            )
        };
        assert_eq!(got, Err(Errno::EINVAL), "clone: {what}");
    }
}

#[test]
fn clone_refuses_clone3_only_requests_with_eopnotsupp() {
    let null = std::ptr::null_mut();
    for flags in [
        CLONE_CLEAR_SIGHAND,
        CLONE_INTO_CGROUP,
        CLONE_NEWTIME,
        CloneFlags::from_bits_retain(1 << 40),
    ] {
        // SAFETY: refused before any syscall.
        let sigchld = Some(Signal::SIGCHLD);
        // SAFETY: refused before any syscall.
        let got = unsafe { clone(flags, sigchld, None, null, null, 0, exit_with_arg, 0) };
        assert_eq!(got, Err(Errno::EOPNOTSUPP), "flags {flags:?}");
    }
}

#[test]
fn clone_of_a_vm_sharing_process_with_its_own_stack_shares_memory() {
    let marker = AtomicI32::new(0);
    let mut stack = Stack::new(64 * 1024);
    let null = std::ptr::null_mut();
    let arg = &marker as *const AtomicI32 as usize;
    // SAFETY: the child runs on its own stack, which outlives it (we wait for it below).
    let result = unsafe {
        clone_process(
            CLONE_VM,
            Some(Signal::SIGCHLD),
            Some(stack.top()),
            null,
            null,
            write_marker,
            arg,
        )
    };
    if result == Err(Errno::EINVAL) && common::qemu_user_major().is_some() {
        skip!(
            "{} refuses CLONE_VM without CLONE_THREAD (measured, see the README); checked natively and in the VM",
            common::emulator().unwrap()
        );
    }
    let pid = result.expect("clone VM");
    assert_eq!(common::wait_child(pid).code(), Some(3));
    assert_eq!(marker.load(SeqCst), 0x600d);
    drop(stack);
}

#[test]
fn clone_flag_values_match_the_platform_libc() {
    let pairs = [
        (CLONE_VM, libc::CLONE_VM),
        (CLONE_FS, libc::CLONE_FS),
        (CLONE_FILES, libc::CLONE_FILES),
        (CLONE_SIGHAND, libc::CLONE_SIGHAND),
        (CLONE_PIDFD, libc::CLONE_PIDFD),
        (CLONE_PTRACE, libc::CLONE_PTRACE),
        (CLONE_VFORK, libc::CLONE_VFORK),
        (CLONE_PARENT, libc::CLONE_PARENT),
        (CLONE_THREAD, libc::CLONE_THREAD),
        (CLONE_NEWNS, libc::CLONE_NEWNS),
        (CLONE_SYSVSEM, libc::CLONE_SYSVSEM),
        (CLONE_SETTLS, libc::CLONE_SETTLS),
        (CLONE_PARENT_SETTID, libc::CLONE_PARENT_SETTID),
        (CLONE_CHILD_CLEARTID, libc::CLONE_CHILD_CLEARTID),
        (CLONE_UNTRACED, libc::CLONE_UNTRACED),
        (CLONE_CHILD_SETTID, libc::CLONE_CHILD_SETTID),
        (CLONE_NEWCGROUP, libc::CLONE_NEWCGROUP),
        (CLONE_NEWUTS, libc::CLONE_NEWUTS),
        (CLONE_NEWIPC, libc::CLONE_NEWIPC),
        (CLONE_NEWUSER, libc::CLONE_NEWUSER),
        (CLONE_NEWPID, libc::CLONE_NEWPID),
        (CLONE_NEWNET, libc::CLONE_NEWNET),
        (CLONE_IO, libc::CLONE_IO),
        (CLONE_NEWTIME, libc::CLONE_NEWTIME as _),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours.bits(), theirs as u32 as u64);
    }
    // The clone3-only bits do not fit libc's C int: the kernel's uapi values.
    assert_eq!(CLONE_CLEAR_SIGHAND.bits(), 0x1_0000_0000);
    assert_eq!(CLONE_INTO_CGROUP.bits(), 0x2_0000_0000);
}
