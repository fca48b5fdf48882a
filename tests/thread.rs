//! Raw threads (`vspawn::thread`): results through join, a thousand of them, caller-provided and
//! sized stacks, shared memory and fd table, and a thread's end leaving the process running.
//!
//! These threads share the spawning thread's thread-local storage, so their closures touch only
//! atomics, raw syscalls and memory they were given: no std I/O, no allocation.

#[macro_use]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering::SeqCst};

use vspawn::Errno;
use vspawn::fd::OFlags;
use vspawn::process::{getpid, gettid, kill, tgkill};
use vspawn::signal::{SigHow, SigSet, Signal, rt_sigprocmask};
use vspawn::thread::{self, DEFAULT_STACK_SIZE, MIN_STACK_SIZE, spawn, spawn_on};

/// Recurses `depth` times with 1 KiB of locals per frame.
#[inline(never)]
fn recurse(depth: u32) -> u64 {
    let mut frame = [0u8; 1024];
    for (i, byte) in frame.iter_mut().enumerate() {
        // SAFETY: a plain write to a local.
        unsafe { std::ptr::write_volatile(byte, i as u8 ^ depth as u8) };
    }
    black_box(&mut frame);
    if depth == 0 {
        1
    } else {
        recurse(depth - 1) + u64::from(frame[0] == depth as u8)
    }
}

#[test]
fn thread_result_comes_back_through_join() {
    static TID: AtomicI32 = AtomicI32::new(0);
    static PID: AtomicI32 = AtomicI32::new(0);
    // SAFETY: the closure only makes raw syscalls and stores into atomics.
    let handle = unsafe {
        spawn(|| {
            TID.store(gettid(), SeqCst);
            PID.store(getpid(), SeqCst);
            7
        })
    }
    .expect("spawn");
    let tid = handle.tid();
    assert_eq!(handle.join(), 7);
    assert_eq!(
        TID.load(SeqCst),
        tid,
        "the handle's tid is the thread's gettid"
    );
    assert_eq!(PID.load(SeqCst), getpid(), "same process");
    assert_ne!(tid, gettid());
}

#[test]
fn a_thread_returning_ends_only_itself() {
    // SAFETY: the closure does nothing but return.
    let handle = unsafe { spawn(|| 0) }.expect("spawn");
    let tid = handle.tid();
    assert_eq!(handle.join(), 0);
    // Its task goes away (the kernel clears the tid a moment before releasing it) ...
    assert!(common::wait_until(5000, || tgkill(getpid(), tid, None) == Err(Errno::ESRCH)));
    // ... and the process lives on: still signalable, still able to make threads.
    assert_eq!(kill(getpid(), None), Ok(()));
    // SAFETY: as above.
    assert_eq!(unsafe { spawn(|| 1) }.expect("spawn again").join(), 1);
}

#[test]
fn a_thousand_threads_spawn_and_join() {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let handles: Vec<_> = (0..1000)
        .map(|i: i32| {
            // SAFETY: the closure only touches an atomic.
            unsafe {
                spawn(move || {
                    STARTED.fetch_add(1, SeqCst);
                    i % 200
                })
            }
            .unwrap_or_else(|e| panic!("spawn #{i}: {e}"))
        })
        .collect();
    let mut tids: Vec<_> = handles.iter().map(|h| h.tid()).collect();
    let results: Vec<i32> = handles.into_iter().map(|h| h.join()).collect();
    assert_eq!(STARTED.load(SeqCst), 1000);
    assert_eq!(results, (0..1000).map(|i| i % 200).collect::<Vec<_>>());
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), 1000, "every thread had its own tid");
}

#[test]
fn thread_on_a_caller_provided_stack_runs_on_it() {
    let mut stack = vec![0u8; 64 * 1024];
    let (low, high) = (
        stack.as_ptr() as usize,
        stack.as_ptr() as usize + stack.len(),
    );
    let local_address = AtomicUsize::new(0);
    let seen = &local_address;
    // SAFETY: the closure only touches an atomic it borrows and its own locals; the handle is
    // joined before the stack is used again.
    let handle = unsafe {
        spawn_on(&mut stack, move || {
            let marker = black_box(0u8);
            seen.store(&marker as *const u8 as usize, SeqCst);
            (recurse(black_box(16)) as i32) - 6
        })
    }
    .expect("spawn_on");
    assert_eq!(handle.join(), 11);
    let address = local_address.load(SeqCst);
    assert!(
        (low..high).contains(&address),
        "a local at {address:#x}, outside the stack {low:#x}..{high:#x}"
    );
    drop(stack);
}

#[test]
fn spawn_on_refuses_a_stack_below_the_minimum_with_einval() {
    let mut small = vec![0u8; MIN_STACK_SIZE - 1];
    // SAFETY: refused before any thread exists.
    let result = unsafe { spawn_on(&mut small, || 0) };
    assert_eq!(result.map(|h| h.join()), Err(Errno::EINVAL));
    // With room for its start block, the minimum works.
    let mut enough = vec![0u8; MIN_STACK_SIZE + 256];
    // SAFETY: the closure does nothing but return.
    assert_eq!(unsafe { spawn_on(&mut enough, || 5) }.unwrap().join(), 5);
}

#[test]
fn spawn_with_stack_size_gives_that_much_stack() {
    assert_eq!(DEFAULT_STACK_SIZE, 64 * 1024);
    // About 200 KiB of frames: more than the default stack holds.
    // SAFETY: the closure only recurses on its own stack.
    let handle =
        unsafe { thread::spawn_with_stack_size(512 * 1024, || recurse(black_box(200)) as i32) }
            .expect("spawn_with_stack_size");
    assert_eq!(handle.join(), 201);
}

#[test]
fn is_finished_turns_true_when_the_thread_ends() {
    static RELEASE: AtomicBool = AtomicBool::new(false);
    // SAFETY: the closure only reads an atomic and sleeps with a raw syscall.
    let handle = unsafe {
        spawn(|| {
            while !RELEASE.load(SeqCst) {
                common::sleep_ms(1);
            }
            3
        })
    }
    .expect("spawn");
    common::sleep_ms(20);
    assert!(!handle.is_finished());
    RELEASE.store(true, SeqCst);
    assert!(common::wait_until(5000, || handle.is_finished()));
    assert_eq!(handle.join(), 3);
}

#[test]
fn dropping_the_handle_waits_for_the_thread() {
    static DONE: AtomicBool = AtomicBool::new(false);
    // SAFETY: the closure only sleeps with a raw syscall and stores into an atomic.
    let handle = unsafe {
        spawn(|| {
            common::sleep_ms(50);
            DONE.store(true, SeqCst);
            0
        })
    }
    .expect("spawn");
    drop(handle);
    assert!(DONE.load(SeqCst), "drop returned before the thread ended");
}

#[test]
fn threads_share_memory_and_the_fd_table() {
    let (r, w) = vspawn::fd::pipe2(OFlags::empty()).unwrap();
    let write_end = w.as_raw_fd();
    // SAFETY: the closure makes raw syscalls on an fd the parent keeps open until the join.
    let handle = unsafe {
        spawn(move || {
            // A descriptor made by the thread is ours too.
            // (dup3 is unsafe: 760 is free, nothing owns it; the test closes it below.)
            match vspawn::fd::dup3(write_end, 760, OFlags::empty()) {
                Ok(760) => {}
                _ => return 1,
            }
            match vspawn::fd::write(760, b"from the thread") {
                Ok(15) => 0,
                _ => 2,
            }
        })
    }
    .expect("spawn");
    assert_eq!(handle.join(), 0);
    assert_eq!(vspawn::fd::get_fd_flags(760), Ok(0));
    // SAFETY: the thread made fd 760 for this test alone.
    unsafe { vspawn::fd::close(760) }.unwrap();
    let mut buf = [0u8; 32];
    assert_eq!(vspawn::fd::read(r.as_raw_fd(), &mut buf), Ok(15));
    assert_eq!(&buf[..15], b"from the thread");
}

#[test]
fn a_thread_starts_with_every_signal_blocked_and_the_creator_keeps_its_mask() {
    // No handler of the process (which may use thread-locals) can run on a thread that has none.
    static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let before = rt_sigprocmask(SigHow::Block, None).unwrap();
    // SAFETY: the closure makes one raw syscall and stores into an atomic.
    let handle = unsafe {
        spawn(|| match rt_sigprocmask(SigHow::Block, None) {
            Ok(mask) => {
                SEEN.store(mask.bits(), SeqCst);
                0
            }
            Err(e) => e.raw(),
        })
    }
    .expect("spawn");
    assert_eq!(handle.join(), 0);
    // Every signal this platform lets a thread block: what blocking them all here gives.
    let all = rt_sigprocmask(SigHow::SetMask, Some(&SigSet::FULL)).unwrap();
    let everything = rt_sigprocmask(SigHow::SetMask, Some(&all)).unwrap();
    assert_eq!(SigSet::from_bits(SEEN.load(SeqCst)), everything);
    assert_eq!(rt_sigprocmask(SigHow::Block, None).unwrap(), before);
    if common::emulator().is_none() {
        // A real kernel never blocks SIGKILL and SIGSTOP, and blocks every other signal (qemu-user
        // 7.2 cannot represent the last two real-time signals, which it renumbers).
        let expected = SigSet::FULL
            .without(Signal::SIGKILL)
            .without(Signal::SIGSTOP);
        assert_eq!(everything, expected);
    }
}

/// Runs `f` on a thread of a forked child process (a fault there takes only the child down) and
/// returns how the child ended: its exit status is 10 + the join's result if the thread ended by
/// itself. `None` under qemu-user, which cannot start a thread in a child forked from a
/// multi-threaded process.
fn thread_in_a_child(f: fn() -> i32) -> Option<vspawn::wait::ExitStatus> {
    if common::emulator().is_some() {
        return None;
    }
    Some(common::run_in_child(move || {
        // SAFETY: `f` may break the thread contract: that is what the callers show, in a child.
        match unsafe { spawn(f) } {
            Ok(handle) => 10 + handle.join(),
            Err(_) => 1,
        }
    }))
}

const NO_THREAD_IN_A_FORK: &str = "cannot start a thread in a child forked from a \
                                   multi-threaded process; checked natively and in the VM";

#[test]
fn a_thread_has_no_thread_pointer_and_a_thread_local_access_ends_the_process_by_sigsegv() {
    thread_local! {
        static CREATOR_ONLY: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
    }
    // The fault takes the whole process down, by design: the thread would otherwise race with
    // its creator on the creator's thread-locals.
    let Some(status) = thread_in_a_child(|| {
        CREATOR_ONLY.with(|v| v.set(black_box(3)));
        0
    }) else {
        skip!("{} {NO_THREAD_IN_A_FORK}", common::emulator().unwrap());
    };
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
}

#[test]
fn a_panicking_thread_in_a_program_with_std_ends_the_process_by_sigsegv_not_the_creators_state() {
    // std's panic machinery starts with a thread-local (the panic count): it faults there, before
    // the hook, the count or any lock of the creator's is touched. (In a libc-free program the
    // panic ends the thread alone with 127: tests/entry.rs.)
    let Some(status) = thread_in_a_child(|| {
        if black_box(true) {
            panic!("deliberate panic in a vspawn thread");
        }
        0
    }) else {
        skip!("{} {NO_THREAD_IN_A_FORK}", common::emulator().unwrap());
    };
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
}
