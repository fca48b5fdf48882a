//! `clone3`'s fallback to `clone`: the same requests give the same observable results with the
//! real clone3 and with clone3 disabled (`set_clone3_disabled`), and what only clone3 can do is
//! refused with `EOPNOTSUPP` instead of being dropped.
//!
//! Disabling clone3 is process-wide, so this binary has a single test that runs every scenario in
//! both modes one after the other. Under qemu-user clone3 is ENOSYS: the "real" mode is the
//! fallback too, which the test checks (`clone3_available()` turns false at the first call).

#[macro_use]
mod common;

use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

use common::{Stack, THREAD_FLAGS, ThreadProbe, exit_with_arg, probe_thread};
use vspawn::Errno;
use vspawn::clone::CloneFlags;
use vspawn::clone::{Clone3, clone3, clone3_available, flags::*, set_clone3_disabled};
use vspawn::fd;
use vspawn::process::gettid;
use vspawn::signal::{SigAction, SigHandler, Signal, rt_sigaction};
use vspawn::wait::{WaitId, wait4, waitid, wflags::*};

/// What one scenario showed, as text that must match between the two modes.
type Observation = String;

fn describe<T>(result: &vspawn::Result<T>) -> Option<Observation> {
    result.as_ref().err().map(|e| format!("error {e:?}"))
}

extern "C" fn write_marker(arg: usize) -> i32 {
    // SAFETY: the parent passes the address of an AtomicI32 that outlives this child.
    unsafe { &*(arg as *const AtomicI32) }.store(0x600d, SeqCst);
    3
}

extern "C" fn child_checks_its_ctid(arg: usize) -> i32 {
    // SAFETY: the parent passes the address of an AtomicI32; the child reads its own copy.
    let ctid = unsafe { &*(arg as *const AtomicI32) };
    if ctid.load(SeqCst) == gettid() { 0 } else { 1 }
}

extern "C" fn ignore_signal(_: i32) {}

/// Runs `f(arg)` in a clone3 child described by `req`.
fn run(req: &Clone3<'_>, f: extern "C" fn(usize) -> i32, arg: usize) -> vspawn::Result<Pid3> {
    // SAFETY: every request of this file is a fork-like child, a vfork-like child that only
    // writes an atomic, or a thread on its own stack that touches only atomics; pointers in the
    // requests outlive the children.
    unsafe { clone3(req, f, arg) }.map(|c| Pid3 {
        pid: c.pid,
        pidfd: c.pidfd,
    })
}

struct Pid3 {
    pid: vspawn::process::Pid,
    pidfd: Option<vspawn::wait::PidFd>,
}

/// Every scenario, in order; each gives a name and what it showed.
fn observe() -> Vec<(&'static str, Observation)> {
    let mut seen = Vec::new();

    let plain = run(&Clone3::default(), exit_with_arg, 23);
    seen.push((
        "plain child",
        describe(&plain).unwrap_or_else(|| format!("{}", common::wait_child(plain.unwrap().pid))),
    ));

    let marker = AtomicI32::new(0);
    let req = Clone3::new().flags(CLONE_VM | CLONE_VFORK);
    let vforked = run(&req, write_marker, &marker as *const _ as usize);
    let shared = common::vfork_shares_memory();
    seen.push((
        "vfork-like child",
        describe(&vforked).unwrap_or_else(|| {
            let status = common::wait_child(vforked.unwrap().pid);
            // Natively both modes share memory; under qemu-user neither does.
            format!(
                "{status}, marker {:#x}, shared {shared}",
                marker.load(SeqCst)
            )
        }),
    ));

    let req = Clone3::new().exit_signal(Some(Signal::SIGUSR1));
    let usr1 = run(&req, exit_with_arg, 5);
    seen.push((
        "exit signal SIGUSR1",
        describe(&usr1).unwrap_or_else(|| {
            let pid = usr1.unwrap().pid;
            let plain_wait = wait4(pid, WNOHANG, None).map(|(p, _)| p);
            format!(
                "plain wait {plain_wait:?}, {}",
                common::wait_with(pid, WALL)
            )
        }),
    ));

    let req = Clone3::new().exit_signal(None);
    let silent = run(&req, exit_with_arg, 6);
    seen.push((
        "no exit signal",
        describe(&silent)
            .unwrap_or_else(|| format!("{}", common::wait_with(silent.unwrap().pid, WCLONE))),
    ));

    let req = Clone3::new().flags(CLONE_PIDFD);
    let with_pidfd = run(&req, exit_with_arg, 31);
    seen.push((
        "CLONE_PIDFD",
        describe(&with_pidfd).unwrap_or_else(|| {
            let cloned = with_pidfd.unwrap();
            let pidfd = cloned.pidfd.expect("a pidfd");
            let cloexec = fd::get_fd_flags(pidfd.as_raw_fd());
            let info = waitid(WaitId::PidFd(&pidfd), WEXITED, None).unwrap();
            format!(
                "cloexec {cloexec:?}, waitid pid matches {}, status {}",
                info.pid() == cloned.pid,
                info.status()
            )
        }),
    ));

    let ptid = AtomicI32::new(0);
    let req = Clone3::new()
        .flags(CLONE_PARENT_SETTID)
        .parent_tid(ptid.as_ptr());
    let parent_settid = run(&req, exit_with_arg, 0);
    seen.push((
        "CLONE_PARENT_SETTID, fork path",
        describe(&parent_settid).unwrap_or_else(|| {
            let pid = parent_settid.unwrap().pid;
            let written = ptid.load(SeqCst);
            let status = common::wait_child(pid);
            // qemu-user 7.2 writes it only in the child: then in both modes.
            format!("{status}, parent_tid is the pid: {}", written == pid)
        }),
    ));

    let ctid = AtomicI32::new(0);
    let req = Clone3::new()
        .flags(CLONE_CHILD_SETTID)
        .child_tid(ctid.as_ptr());
    let child_settid = run(&req, child_checks_its_ctid, &ctid as *const _ as usize);
    seen.push((
        "CLONE_CHILD_SETTID, fork path",
        describe(&child_settid).unwrap_or_else(|| {
            let status = common::wait_child(child_settid.unwrap().pid);
            format!(
                "{status} (0: the child saw its tid), ours {}",
                ctid.load(SeqCst)
            )
        }),
    ));

    let mut stack = Stack::new(64 * 1024);
    let probe = ThreadProbe::new();
    let ptid = AtomicI32::new(0);
    let tls = &common::TLS_BLOCK as *const _ as usize + 16;
    let (lowest, size) = stack.range();
    let req = Clone3::new()
        .flags(
            THREAD_FLAGS
                | CLONE_SETTLS
                | CLONE_PARENT_SETTID
                | CLONE_CHILD_SETTID
                | CLONE_CHILD_CLEARTID,
        )
        .exit_signal(None)
        .child_tid(probe.ctid.as_ptr())
        .parent_tid(ptid.as_ptr())
        .stack(lowest, size)
        .tls(tls);
    let thread = run(&req, probe_thread, &probe as *const ThreadProbe as usize);
    seen.push((
        "thread with tids and TLS",
        describe(&thread).unwrap_or_else(|| {
            let tid = thread.unwrap().pid;
            common::wait_cleared(&probe.ctid);
            format!(
                "parent_tid {}, child_tid {}, gettid {}, tls {}",
                ptid.load(SeqCst) == tid,
                probe.ctid_seen.load(SeqCst) == tid,
                probe.tid.load(SeqCst) == tid,
                probe.tp.load(SeqCst) == tls
            )
        }),
    ));

    // What the kernel refuses: the same refusal in both modes.
    let mut spare = Stack::new(16 * 1024);
    let (spare_low, spare_size) = spare.range();
    let invalid: [(&str, Clone3<'_>); 5] = [
        (
            "CLONE_SIGHAND without CLONE_VM",
            Clone3::new()
                .flags(CLONE_SIGHAND)
                .stack(spare_low, spare_size),
        ),
        (
            "CLONE_THREAD without CLONE_SIGHAND",
            Clone3::new()
                .flags(CLONE_VM | CLONE_THREAD)
                .exit_signal(None)
                .stack(spare_low, spare_size),
        ),
        (
            "CLONE_THREAD with an exit signal",
            Clone3::new()
                .flags(THREAD_FLAGS)
                .exit_signal(Some(Signal::SIGCHLD))
                .stack(spare_low, spare_size),
        ),
        (
            "an exit signal inside the flags",
            Clone3::new().flags(CloneFlags::from_bits_retain(Signal::SIGCHLD.raw() as u64)),
        ),
        ("a stack of size 0", Clone3::new().stack(spare_low, 0)),
    ];
    for (name, req) in invalid {
        let result = run(&req, exit_with_arg, 0);
        seen.push((
            name,
            describe(&result).unwrap_or_else(|| {
                let cloned = result.unwrap();
                // Accepted: reap what was made (a thread ends by itself).
                if !req.flags.contains(CLONE_THREAD) {
                    format!("accepted: {}", common::wait_with(cloned.pid, WALL))
                } else {
                    common::sleep_ms(50);
                    "accepted: a thread".to_string()
                }
            }),
        ));
    }
    seen
}

#[test]
fn clone3_fallback_gives_the_same_results_as_clone3() {
    // SAFETY: the handler does nothing; SIGUSR1 must not kill us when a child sends it.
    unsafe {
        rt_sigaction(
            Signal::SIGUSR1,
            Some(&SigAction::new(SigHandler::Handler(ignore_signal))),
        )
    }
    .unwrap();

    assert!(clone3_available(), "nothing has tried clone3 yet");
    let real = observe();
    let emulated = common::emulator();
    // Natively clone3 served everything; under qemu-user its ENOSYS was remembered at once.
    assert_eq!(clone3_available(), emulated.is_none());

    set_clone3_disabled(true);
    assert!(!clone3_available());
    let fallback = observe();

    // What only clone3 can do is refused, not silently dropped.
    let mut stack = Stack::new(16 * 1024);
    let (stack_low, stack_size) = stack.range();
    let ptid = AtomicI32::new(0);
    let set_tid = [12345];
    let only_clone3: [(&str, Clone3<'_>); 5] = [
        (
            "CLONE_CLEAR_SIGHAND",
            Clone3::new().flags(CLONE_CLEAR_SIGHAND),
        ),
        ("CLONE_NEWTIME", Clone3::new().flags(CLONE_NEWTIME)),
        ("a cgroup", Clone3::new().cgroup(0)),
        ("set_tid", Clone3::new().set_tid(&set_tid)),
        (
            "CLONE_PIDFD with CLONE_PARENT_SETTID",
            Clone3::new()
                .flags(CLONE_PIDFD | CLONE_PARENT_SETTID)
                .parent_tid(ptid.as_ptr())
                .stack(stack_low, stack_size),
        ),
    ];
    let refusals: Vec<_> = only_clone3
        .iter()
        .map(|(name, req)| (*name, run(req, exit_with_arg, 0).map(|c| c.pid)))
        .collect();

    set_clone3_disabled(false);
    assert!(clone3_available(), "re-enabled");

    assert_eq!(real.len(), fallback.len());
    let differences: Vec<String> = real
        .iter()
        .zip(&fallback)
        .filter(|((_, in_real), (_, in_fallback))| in_real != in_fallback)
        .map(|((name, in_real), (_, in_fallback))| {
            format!("{name}: clone3 {in_real:?}, fallback {in_fallback:?}")
        })
        .collect();
    assert!(
        differences.is_empty(),
        "clone3 and its fallback differ:\n{}",
        differences.join("\n")
    );
    for (name, result) in refusals {
        assert_eq!(result, Err(Errno::EOPNOTSUPP), "{name} without clone3");
    }
    if emulated.is_none() {
        // The observations themselves, natively (the VM runs this too).
        let get = |name: &str| real.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("plain child"), "exit status: 23");
        assert_eq!(
            get("exit signal SIGUSR1"),
            "plain wait Err(ECHILD), exit status: 5"
        );
        assert_eq!(get("no exit signal"), "exit status: 6");
        assert_eq!(
            get("CLONE_PIDFD"),
            "cloexec Ok(1), waitid pid matches true, status 31"
        );
        assert_eq!(
            get("CLONE_PARENT_SETTID, fork path"),
            "exit status: 0, parent_tid is the pid: true"
        );
        assert_eq!(
            get("thread with tids and TLS"),
            "parent_tid true, child_tid true, gettid true, tls true"
        );
        assert_eq!(get("CLONE_THREAD with an exit signal"), "error EINVAL");
    }
    assert_eq!(
        real.iter()
            .find(|(n, _)| *n == "CLONE_CHILD_SETTID, fork path")
            .unwrap()
            .1,
        "exit status: 0 (0: the child saw its tid), ours 0"
    );
}
