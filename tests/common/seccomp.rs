//! Seccomp filters for tests that need one system call to fail, or to stop at it, on purpose and
//! deterministically. A filter applies to the thread that installs it and to the children that
//! thread creates from then on, never to the other threads of the test binary.
//!
//! Real kernels only: under qemu-user a filter would see the host's syscall numbers.
//! Include with `#[path = "common/seccomp.rs"] mod seccomp;`.

#![allow(dead_code)]

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// What the filter does with a matched syscall.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Fail it with this errno.
    Errno(i32),
    /// Stop the caller until the listener answers (see [`Listener`]).
    Notify,
}

/// Installs on the calling thread a filter that applies `rules` (`(syscall number, action)`)
/// and allows everything else. Sets `no_new_privs` on the thread (required without
/// `CAP_SYS_ADMIN`). Returns the notification listener when a rule notifies.
pub fn install(rules: &[(i64, Action)]) -> std::io::Result<Option<Listener>> {
    let insn = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let mut program = vec![insn(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0)];
    let mut notify = false;
    for &(nr, action) in rules {
        let ret = match action {
            Action::Errno(errno) => libc::SECCOMP_RET_ERRNO | (errno as u32 & 0xffff),
            Action::Notify => {
                notify = true;
                libc::SECCOMP_RET_USER_NOTIF
            }
        };
        // Not this syscall: skip the return.
        program.push(insn(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            0,
            1,
            nr as u32,
        ));
        program.push(insn(libc::BPF_RET | libc::BPF_K, 0, 0, ret));
    }
    program.push(insn(
        libc::BPF_RET | libc::BPF_K,
        0,
        0,
        libc::SECCOMP_RET_ALLOW,
    ));
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    let flags = if notify {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    // SAFETY: plain prctl and seccomp calls; the kernel copies the program before returning.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let ret = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        );
        if ret < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(notify.then(|| Listener(OwnedFd::from_raw_fd(ret as RawFd))))
    }
}

/// The listener of a filter's notifications: each stopped syscall waits for an answer.
pub struct Listener(OwnedFd);

/// One stopped syscall.
#[derive(Clone, Copy, Debug)]
pub struct Notification {
    /// Its id, for the answer.
    pub id: u64,
    /// The thread that made it.
    pub tid: u32,
    /// The syscall number.
    pub nr: i32,
    /// Its arguments.
    pub args: [u64; 6],
}

impl Listener {
    /// The next stopped syscall, or `None` if none came within `ms` milliseconds.
    pub fn next(&self, ms: i32) -> std::io::Result<Option<Notification>> {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, valid for the call.
        let ready = unsafe { libc::poll(&mut poll, 1, ms) };
        if ready < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if ready == 0 || poll.revents & libc::POLLIN == 0 {
            return Ok(None);
        }
        // SAFETY: the kernel wants a zeroed struct and fills it.
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: RECV writes one seccomp_notif into `notif`.
        let ret = unsafe {
            libc::ioctl(
                self.0.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut notif as *mut libc::seccomp_notif,
            )
        };
        if ret < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Some(Notification {
            id: notif.id,
            tid: notif.pid,
            nr: notif.data.nr,
            args: notif.data.args,
        }))
    }

    /// Lets the stopped syscall `id` run as if nothing had stopped it.
    // libc's flag is an `unsigned long`: a cast on 64-bit targets, none on 32-bit ones.
    #[allow(clippy::unnecessary_cast)]
    pub fn resume(&self, id: u64) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut resp = libc::seccomp_notif_resp {
            id,
            val: 0,
            error: 0,
            flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
        };
        // SAFETY: SEND reads one seccomp_notif_resp.
        let ret = unsafe {
            libc::ioctl(
                self.0.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND,
                &mut resp as *mut libc::seccomp_notif_resp,
            )
        };
        if ret < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}
