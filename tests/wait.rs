//! Waiting: `wait4` and `waitid` (by pid, any child, pidfd), `WNOHANG`, `WNOWAIT`, stopped and
//! continued children, rusage, pidfds, and `ExitStatus` decoding and display compared with std's.
//!
//! The tests of one binary run in parallel and share one set of children, so "any child" waits
//! (`P_ALL`, pid -1) happen only inside a forked child of the test, which has children of its own
//! and nothing else. A forked child reports a failed check through its exit status (see
//! `common`).

#[macro_use]
mod common;

use std::os::unix::process::ExitStatusExt;

use vspawn::Errno;
use vspawn::clone::{Fork, fork};
use vspawn::fd;
use vspawn::fd::OFlags;
use vspawn::process::{Pid, exit_group, getpid, kill};
use vspawn::signal::Signal;
use vspawn::wait::PidFdFlags;
use vspawn::wait::WaitOptions;
use vspawn::wait::{
    ExitStatus, Rusage, SigInfo, WaitId, cld::*, pidfd_open, pidfd_send_signal, wait4, waitid,
    wflags::*,
};

/// A child that waits (bounded) to be signalled, then exits 99.
fn child_waiting_for_a_signal() -> Pid {
    common::fork_child(|| {
        common::sleep_ms(60_000);
        99
    })
}

/// In a child process: forks a grandchild exiting with `code`; its pid (or exits the child with
/// 90 if fork fails: no panic in a child).
fn grandchild_exiting(code: i32) -> Pid {
    // SAFETY: the grandchild only calls exit_group.
    match unsafe { fork() } {
        Ok(Fork::Child) => exit_group(code),
        Ok(Fork::Parent(pid)) => pid,
        Err(_) => exit_group(90),
    }
}

#[test]
fn wait4_returns_the_exit_code_of_a_child() {
    let pid = common::fork_child(|| 42);
    let (got, status) = wait4(pid, WaitOptions::empty(), None).expect("wait4");
    assert_eq!(got, pid);
    assert_eq!(status.code(), Some(42));
    assert_eq!(status.signal(), None);
    assert!(!status.success());
    assert!(!status.core_dumped());
    assert_eq!(status.stopped_signal(), None);
    assert!(!status.continued());
    assert_eq!(status.into_raw(), 42 << 8);
    assert_eq!(status.to_string(), "exit status: 42");
    assert_eq!(format!("{status:?}"), "ExitStatus(unix_wait_status(10752))");
    // Reaped: a second wait finds no such child.
    assert_eq!(
        wait4(pid, WaitOptions::empty(), None).map(drop),
        Err(Errno::ECHILD)
    );
}

#[test]
fn wait4_reports_death_by_sigkill() {
    let pid = common::fork_child(|| {
        let _ = kill(getpid(), Some(Signal::SIGKILL));
        99
    });
    let status = common::wait_child(pid);
    assert_eq!(status.signal(), Some(9));
    assert_eq!(status.code(), None);
    assert!(!status.success());
    assert!(!status.core_dumped());
    assert_eq!(status.into_raw(), 9);
    assert_eq!(status.to_string(), "signal: 9 (SIGKILL)");
}

#[test]
fn wait4_reports_sigabrt_death_without_core_dump() {
    let pid = common::fork_child(|| {
        common::disable_core_dumps();
        let _ = kill(getpid(), Some(Signal::SIGABRT));
        99
    });
    let status = common::wait_child(pid);
    assert_eq!(status.signal(), Some(6));
    assert_eq!(status.code(), None);
    assert!(!status.core_dumped());
    assert_eq!(status.to_string(), "signal: 6 (SIGABRT)");
}

#[test]
fn exit_status_decodes_and_displays_like_std() {
    let mut raws = vec![0, 1 << 8, 42 << 8, 127 << 8, 255 << 8, 0xffff];
    for sig in 1..=31 {
        if sig != 19 {
            raws.push(sig); // killed
        }
        raws.push(sig | 0x80); // killed, core dumped
        raws.push((sig << 8) | 0x7f); // stopped
    }
    for raw in raws {
        let ours = ExitStatus::from_raw(raw);
        let std = std::process::ExitStatus::from_raw(raw);
        // std leaves SIGSTKFLT (16) unnamed on some architectures (riscv64); the kernel has it on
        // all three, and so do we (checked below).
        if raw & 0x7f != 16 && (raw >> 8) & 0xff != 16 {
            assert_eq!(ours.to_string(), std.to_string(), "raw {raw:#x}");
        }
        assert_eq!(ours.code(), std.code(), "raw {raw:#x}");
        assert_eq!(ours.signal(), std.signal(), "raw {raw:#x}");
        assert_eq!(ours.core_dumped(), std.core_dumped(), "raw {raw:#x}");
        assert_eq!(ours.stopped_signal(), std.stopped_signal(), "raw {raw:#x}");
        assert_eq!(ours.continued(), std.continued(), "raw {raw:#x}");
        assert_eq!(ours.success(), std.success(), "raw {raw:#x}");
        assert_eq!(ours.into_raw(), raw);
    }
    assert_eq!(ExitStatus::from_raw(1 << 8).to_string(), "exit status: 1");
    assert_eq!(
        ExitStatus::from_raw(16).to_string(),
        "signal: 16 (SIGSTKFLT)"
    );
    assert_eq!(
        ExitStatus::from_raw(6 | 0x80).to_string(),
        "signal: 6 (SIGABRT) (core dumped)"
    );
    assert_eq!(
        ExitStatus::from_raw((19 << 8) | 0x7f).to_string(),
        "stopped (not terminated) by signal: 19 (SIGSTOP)"
    );
    assert_eq!(
        ExitStatus::from_raw(0xffff).to_string(),
        "continued (WIFCONTINUED)"
    );
}

#[test]
fn waitid_p_pid_fills_the_siginfo_of_an_exited_child() {
    let pid = common::fork_child(|| 7);
    let info = waitid(WaitId::Pid(pid), WEXITED, None).expect("waitid");
    assert_eq!(info.signo, 17, "SIGCHLD");
    assert_eq!(info.errno, 0);
    assert_eq!(info.code, CLD_EXITED);
    assert_eq!(info.pid(), pid);
    // SAFETY: getuid has no preconditions.
    assert_eq!(info.uid(), unsafe { libc::getuid() });
    assert_eq!(info.status(), 7);
    assert_eq!(info.exit_status(), Some(ExitStatus::from_raw(7 << 8)));
    assert_eq!(
        waitid(WaitId::Pid(pid), WEXITED, None).map(drop),
        Err(Errno::ECHILD)
    );
}

#[test]
fn waitid_p_pid_reports_a_child_killed_by_a_signal() {
    let pid = child_waiting_for_a_signal();
    kill(pid, Some(Signal::SIGTERM)).unwrap();
    let info = waitid(WaitId::Pid(pid), WEXITED, None).expect("waitid");
    assert_eq!(info.code, CLD_KILLED);
    assert_eq!(info.pid(), pid);
    assert_eq!(info.status(), 15);
    let status = info.exit_status().unwrap();
    assert_eq!(status.signal(), Some(15));
    assert_eq!(status.to_string(), "signal: 15 (SIGTERM)");
}

#[test]
fn waitid_p_all_and_wait4_any_reap_any_child_then_give_echild() {
    // In a child: its only children are the ones it makes here.
    let status = common::run_in_child(|| {
        if waitid(WaitId::All, WEXITED, None).map(drop) != Err(Errno::ECHILD) {
            return 1;
        }
        if wait4(-1, WaitOptions::empty(), None).map(drop) != Err(Errno::ECHILD) {
            return 2;
        }
        if waitid(WaitId::All, WEXITED | WNOHANG, None).map(drop) != Err(Errno::ECHILD) {
            return 3;
        }
        if wait4(-1, WNOHANG, None).map(drop) != Err(Errno::ECHILD) {
            return 4;
        }
        let first = grandchild_exiting(5);
        match waitid(WaitId::All, WEXITED, None) {
            Ok(info) if info.pid() == first && info.code == CLD_EXITED && info.status() == 5 => {}
            _ => return 5,
        }
        let second = grandchild_exiting(6);
        match wait4(-1, WaitOptions::empty(), None) {
            Ok((pid, status)) if pid == second && status.code() == Some(6) => {}
            _ => return 6,
        }
        if waitid(WaitId::All, WEXITED, None).map(drop) != Err(Errno::ECHILD) {
            return 7;
        }
        0
    });
    assert_eq!(status.code(), Some(0), "failed check number {status}");
}

#[test]
fn waitid_p_pgid_waits_for_the_group() {
    let status = common::run_in_child(|| {
        let own_group = vspawn::process::getpid();
        // SAFETY: setpgid takes no pointers.
        if unsafe { vspawn::sys::syscall!(SETPGID, 0usize, 0usize) } != 0 {
            return 1;
        }
        let child = grandchild_exiting(8);
        match waitid(WaitId::Pgid(own_group), WEXITED, None) {
            Ok(info) if info.pid() == child && info.status() == 8 => 0,
            _ => 2,
        }
    });
    assert_eq!(status.code(), Some(0), "failed check number {status}");
}

#[test]
fn wnohang_returns_nothing_while_the_child_runs() {
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let read_end = r.as_raw_fd();
    let pid = common::fork_child(|| {
        let mut byte = [0u8; 1];
        match fd::read(read_end, &mut byte) {
            Ok(1) => i32::from(byte[0]),
            _ => 98,
        }
    });
    let (got, status) = wait4(pid, WNOHANG, None).expect("wait4 WNOHANG");
    assert_eq!(got, 0);
    assert_eq!(status.into_raw(), 0);
    let info = waitid(WaitId::Pid(pid), WEXITED | WNOHANG, None).expect("waitid WNOHANG");
    assert_eq!(info.pid(), 0);
    assert_eq!(info.signo, 0);
    assert_eq!(info.exit_status(), None);
    fd::write_all(w.as_raw_fd(), &[3]).unwrap();
    // Once it has exited, WNOHANG returns it.
    let mut reaped = None;
    assert!(common::wait_until(5000, || {
        let (got, status) = wait4(pid, WNOHANG, None).expect("wait4 WNOHANG");
        if got == pid {
            reaped = Some(status);
        }
        got == pid
    }));
    assert_eq!(reaped.unwrap().code(), Some(3));
}

#[test]
fn waitid_wnowait_leaves_the_child_waitable() {
    let pid = common::fork_child(|| 9);
    let info = waitid(WaitId::Pid(pid), WEXITED | WNOWAIT, None).unwrap();
    assert_eq!((info.pid(), info.code, info.status()), (pid, CLD_EXITED, 9));
    let info = waitid(WaitId::Pid(pid), WEXITED | WNOWAIT, None).unwrap();
    assert_eq!(info.pid(), pid);
    assert_eq!(common::wait_child(pid).code(), Some(9));
}

#[test]
fn wait_reports_stopped_and_continued_children() {
    let pid = child_waiting_for_a_signal();
    kill(pid, Some(Signal::SIGSTOP)).unwrap();
    let (got, status) = wait4(pid, WUNTRACED, None).unwrap();
    assert_eq!(got, pid);
    assert_eq!(status.stopped_signal(), Some(19));
    assert_eq!(status.signal(), None);
    assert_eq!(status.code(), None);
    assert_eq!(
        status.to_string(),
        "stopped (not terminated) by signal: 19 (SIGSTOP)"
    );

    kill(pid, Some(Signal::SIGCONT)).unwrap();
    let (got, status) = wait4(pid, WCONTINUED, None).unwrap();
    assert_eq!(got, pid);
    assert!(status.continued());
    assert_eq!(status.to_string(), "continued (WIFCONTINUED)");

    // The same through waitid.
    kill(pid, Some(Signal::SIGSTOP)).unwrap();
    let info = waitid(WaitId::Pid(pid), WSTOPPED, None).unwrap();
    assert_eq!(
        (info.pid(), info.code, info.status()),
        (pid, CLD_STOPPED, 19)
    );
    assert_eq!(info.exit_status().unwrap().stopped_signal(), Some(19));
    kill(pid, Some(Signal::SIGCONT)).unwrap();
    let info = waitid(WaitId::Pid(pid), WCONTINUED, None).unwrap();
    assert_eq!(
        (info.pid(), info.code, info.status()),
        (pid, CLD_CONTINUED, 18)
    );
    assert!(info.exit_status().unwrap().continued());

    kill(pid, Some(Signal::SIGKILL)).unwrap();
    assert_eq!(common::wait_child(pid).signal(), Some(9));
}

#[test]
fn wait4_and_waitid_fill_rusage() {
    // The child writes 4 MiB it had not touched: its peak RSS is at least that, whatever the page
    // size. (A child that touches a few pages may report a maxrss of 0: since Linux 6.2 the RSS
    // counters are per-CPU, and small deltas are not summed into what maxrss reads. The 16 KiB-page
    // aarch64 VM showed it, with 4 faults.)
    let ballast = vec![0u8; 4 << 20];
    let burn = || {
        let page = vspawn::sys::page_size();
        for offset in (0..ballast.len()).step_by(page) {
            // SAFETY: a write inside the child's copy of the buffer.
            unsafe { std::ptr::write_volatile(ballast.as_ptr().add(offset).cast_mut(), 1) };
        }
        let start = common::process_cpu_time_ns();
        while common::process_cpu_time_ns() - start < 30_000_000 {}
        0
    };
    let pid = common::fork_child(burn);
    let mut usage = Rusage::default();
    let (got, status) = wait4(pid, WaitOptions::empty(), Some(&mut usage)).unwrap();
    assert_eq!((got, status.code()), (pid, Some(0)));
    let cpu_us = |u: &Rusage| (u.utime.sec + u.stime.sec) * 1_000_000 + u.utime.usec + u.stime.usec;
    assert!(cpu_us(&usage) >= 20_000, "{usage:?}");
    // In KiB; the per-CPU counters may still hold back a few pages of the 4 MiB.
    assert!(usage.maxrss >= 2048, "{usage:?}");
    assert!(usage.utime.usec < 1_000_000 && usage.stime.usec < 1_000_000);

    let pid = common::fork_child(burn);
    let mut usage = Rusage::default();
    let info = waitid(WaitId::Pid(pid), WEXITED, Some(&mut usage)).unwrap();
    assert_eq!((info.pid(), info.status()), (pid, 0));
    assert!(cpu_us(&usage) >= 20_000, "{usage:?}");
    assert!(usage.maxrss >= 2048, "{usage:?}");
}

#[test]
fn pidfd_open_then_waitid_p_pidfd_and_pidfd_send_signal() {
    let pid = child_waiting_for_a_signal();
    let pidfd = pidfd_open(pid, PidFdFlags::empty()).expect("pidfd_open");
    assert_eq!(fd::get_fd_flags(pidfd.as_raw_fd()), Ok(fd::FD_CLOEXEC));
    // Signal 0 only checks that the process is there.
    assert_eq!(pidfd_send_signal(&pidfd, None), Ok(()));
    let info = waitid(WaitId::PidFd(&pidfd), WEXITED | WNOHANG, None).unwrap();
    assert_eq!(info.pid(), 0);

    pidfd_send_signal(&pidfd, Some(Signal::SIGTERM)).expect("pidfd_send_signal");
    let info = waitid(WaitId::PidFd(&pidfd), WEXITED, None).expect("waitid P_PIDFD");
    assert_eq!(info.pid(), pid);
    assert_eq!(info.code, CLD_KILLED);
    assert_eq!(info.status(), 15);
    // Reaped: the pidfd now refers to a process that is gone.
    assert_eq!(pidfd_send_signal(&pidfd, None), Err(Errno::ESRCH));
    assert_eq!(
        waitid(WaitId::PidFd(&pidfd), WEXITED, None).map(drop),
        Err(Errno::ECHILD)
    );
}

#[test]
fn pidfd_nonblock_waitid_on_a_running_child_is_eagain() {
    let pid = child_waiting_for_a_signal();
    let pidfd = pidfd_open(pid, PidFdFlags::PIDFD_NONBLOCK).expect("pidfd_open NONBLOCK");
    let result = waitid(WaitId::PidFd(&pidfd), WEXITED, None).map(|i| i.pid());
    kill(pid, Some(Signal::SIGKILL)).unwrap();
    assert_eq!(result, Err(Errno::EAGAIN));
    let info = waitid(WaitId::PidFd(&pidfd), WEXITED, None);
    // A non-blocking pidfd keeps answering EAGAIN until the child is a zombie.
    let info = match info {
        Err(Errno::EAGAIN) => {
            let mut last = Err(Errno::EAGAIN);
            common::wait_until(5000, || {
                last = waitid(WaitId::PidFd(&pidfd), WEXITED, None);
                !matches!(last, Err(Errno::EAGAIN))
            });
            last
        }
        other => other,
    }
    .expect("waitid after kill");
    assert_eq!((info.pid(), info.code, info.status()), (pid, CLD_KILLED, 9));
}

#[test]
fn pidfd_errors_are_exact() {
    assert_eq!(
        pidfd_open(i32::MAX, PidFdFlags::empty()).map(drop),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        pidfd_open(-1, PidFdFlags::empty()).map(drop),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        pidfd_open(getpid(), PidFdFlags::from_bits_retain(0xdead)).map(drop),
        Err(Errno::EINVAL)
    );
    // A pidfd that is not one (a pipe, -1) can no longer be passed: `PidFd` is a type of its
    // own, made only by pidfd_open, clone3 or the unsafe `from_raw_fd`.
}

#[test]
fn wait_for_a_process_that_is_not_our_child_is_echild() {
    let parent = vspawn::process::getppid();
    assert_eq!(wait4(parent, WNOHANG, None).map(drop), Err(Errno::ECHILD));
    assert_eq!(
        waitid(WaitId::Pid(parent), WEXITED | WNOHANG, None).map(drop),
        Err(Errno::ECHILD)
    );
    assert_eq!(
        wait4(i32::MAX, WaitOptions::empty(), None).map(drop),
        Err(Errno::ECHILD)
    );
}

#[test]
fn waitid_without_a_state_to_wait_for_is_einval() {
    let pid = common::fork_child(|| 0);
    assert_eq!(
        waitid(WaitId::Pid(pid), WaitOptions::empty(), None).map(drop),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        waitid(WaitId::Pid(pid), WNOHANG, None).map(drop),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        wait4(pid, WaitOptions::from_bits_retain(0x10), None).map(drop),
        Err(Errno::EINVAL)
    );
    assert_eq!(common::wait_child(pid).code(), Some(0));
}

#[test]
fn wait_flags_and_siginfo_codes_match_the_platform_libc() {
    assert_eq!(WNOHANG.bits(), libc::WNOHANG as u32);
    assert_eq!(WUNTRACED.bits(), libc::WUNTRACED as u32);
    assert_eq!(WSTOPPED.bits(), libc::WSTOPPED as u32);
    assert_eq!(WEXITED.bits(), libc::WEXITED as u32);
    assert_eq!(WCONTINUED.bits(), libc::WCONTINUED as u32);
    assert_eq!(WNOWAIT.bits(), libc::WNOWAIT as u32);
    assert_eq!(WALL.bits(), libc::__WALL as u32);
    assert_eq!(WCLONE.bits(), libc::__WCLONE as u32);
    assert_eq!(CLD_EXITED, libc::CLD_EXITED);
    assert_eq!(CLD_KILLED, libc::CLD_KILLED);
    assert_eq!(CLD_DUMPED, libc::CLD_DUMPED);
    assert_eq!(CLD_TRAPPED, libc::CLD_TRAPPED);
    assert_eq!(CLD_STOPPED, libc::CLD_STOPPED);
    assert_eq!(CLD_CONTINUED, libc::CLD_CONTINUED);
    assert_eq!(PidFdFlags::PIDFD_NONBLOCK.bits(), libc::O_NONBLOCK as u32);
    assert_eq!(
        std::mem::size_of::<SigInfo>(),
        std::mem::size_of::<libc::siginfo_t>()
    );
    assert_eq!(
        std::mem::size_of::<Rusage>(),
        std::mem::size_of::<libc::rusage>()
    );
    let zero = SigInfo::zeroed();
    assert_eq!(
        (zero.signo, zero.code, zero.pid(), zero.status()),
        (0, 0, 0, 0)
    );
    assert_eq!(zero.exit_status(), None);
}
