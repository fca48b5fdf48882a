//! The supervision loop: wait for signals (never polling), forward them to PROGRAM, reap every
//! child, and once PROGRAM has exited, end the others (`-t`).
//!
//! Every signal is blocked in vinit and taken with `rt_sigtimedwait`, with no timeout except the
//! single deadline of `-t`. A `SIGCHLD` only says "reap": signals of the same number coalesce, so
//! each one is answered by `wait4(-1, WNOHANG)` until nothing is left to reap, and that loop also
//! runs once before the first wait (PROGRAM may have exited before it). PROGRAM's exit can
//! therefore never be missed, whatever merged with it.

use vspawn::Errno;
use vspawn::process::{self, Pid, Timespec, clock};
use vspawn::signal::{SigSet, Signal, rt_sigtimedwait};
use vspawn::wait::{ExitStatus, wait4, wflags};

use crate::descendants::signal_descendants;
use crate::options::{Options, SYNCHRONOUS};
use crate::out::{Line, Log};

/// vinit's state while PROGRAM runs and after.
pub struct Supervisor<'a> {
    options: &'a Options,
    log: &'a Log,
    /// PROGRAM's pid (also its process group's id).
    child: Pid,
    /// PROGRAM's status once reaped.
    status: Option<ExitStatus>,
    /// Cleared when `wait4` says vinit has no child left at all.
    children_left: bool,
}

impl<'a> Supervisor<'a> {
    /// Supervises `child`, PROGRAM, just spawned.
    pub fn new(options: &'a Options, log: &'a Log, child: Pid) -> Supervisor<'a> {
        Supervisor {
            options,
            log,
            child,
            status: None,
            children_left: true,
        }
    }

    /// Runs until PROGRAM has exited (and, with `-t`, the other processes have been ended);
    /// returns PROGRAM's status.
    pub fn run(mut self) -> ExitStatus {
        self.reap();
        let status = loop {
            if let Some(status) = self.status {
                break status;
            }
            // An error is EINTR (after a stop and continue): wait again.
            if let Ok((sig, _)) = rt_sigtimedwait(&SigSet::FULL, None) {
                self.on_signal(sig);
            }
        };
        if let Some(seconds) = self.options.grace_seconds {
            self.end_the_others(seconds);
        }
        status
    }

    /// Answers a signal while PROGRAM runs.
    fn on_signal(&mut self, sig: Signal) {
        if sig == Signal::SIGCHLD {
            self.reap();
        } else if SYNCHRONOUS.contains(sig) {
            if let Some(line) = &mut self.log.debug() {
                line.str("dropped ")
                    .signal(sig)
                    .str(" (not forwarded)")
                    .print();
            }
        } else if let Some(forwarded) = self.options.rewrites.get(sig) {
            let (target, what) = if self.options.kill_process_group {
                (-self.child, "process group ")
            } else {
                (self.child, "process ")
            };
            let sent = process::kill(target, Some(forwarded));
            if let Some(line) = &mut self.log.debug() {
                line.str("forwarded ").signal(sig);
                if forwarded != sig {
                    line.str(" as ").signal(forwarded);
                }
                line.str(" to ").str(what).int(self.child as u32);
                if let Err(e) = sent {
                    line.str(": ").errno(e);
                }
                line.print();
            }
        } else if let Some(line) = &mut self.log.debug() {
            line.str("dropped ").signal(sig).str(" (-r)").print();
        }
    }

    /// Reaps every child that has exited, PROGRAM or not, without blocking.
    fn reap(&mut self) {
        loop {
            match wait4(-1, wflags::WNOHANG | wflags::WALL, None) {
                Ok((0, _)) => return,
                Ok((pid, status)) => self.reaped(pid, status),
                Err(Errno::EINTR) => {}
                Err(Errno::ECHILD) => {
                    self.children_left = false;
                    return;
                }
                Err(_) => return,
            }
        }
    }

    fn reaped(&mut self, pid: Pid, status: ExitStatus) {
        if pid == self.child {
            self.status = Some(status);
            if let Some(line) = &mut self.log.info() {
                line.str("PROGRAM (process ").int(pid as u32).str(") ");
                describe_status(line, status).print();
            }
            return;
        }
        let mut line = if self.options.warn_on_reap {
            self.log.warn()
        } else {
            self.log.debug()
        };
        if let Some(line) = &mut line {
            line.str("reaped zombie process ").int(pid as u32).str(" (");
            describe_status(line, status).str(")").print();
        }
    }

    /// `-t`: asks the remaining processes to end (`SIGTERM`), reaping them for up to `seconds`,
    /// then kills those still there (`SIGKILL`) and reaps them. Only children can be waited for:
    /// with nothing left to reap (no child ever, when vinit is neither PID 1 nor a subreaper),
    /// there is nothing to do.
    fn end_the_others(&mut self, seconds: u32) {
        self.reap();
        if !self.children_left {
            return;
        }
        self.signal_the_others(Signal::SIGTERM);
        let deadline = now().saturating_add(u64::from(seconds) * NANOS_PER_SECOND);
        loop {
            self.reap();
            if !self.children_left {
                return;
            }
            let left = deadline.saturating_sub(now());
            if left == 0 {
                break;
            }
            let timeout = Timespec {
                sec: (left / NANOS_PER_SECOND) as i64,
                nsec: (left % NANOS_PER_SECOND) as i64,
            };
            match rt_sigtimedwait(&SigSet::FULL, Some(&timeout)) {
                Ok((sig, _)) => self.after_program(sig),
                Err(Errno::EAGAIN) => break,
                Err(_) => {}
            }
        }
        // Killed processes become zombies of ours (orphans, reparented to vinit), each bringing a
        // SIGCHLD; one forked since the last look is found by the next.
        loop {
            self.signal_the_others(Signal::SIGKILL);
            self.reap();
            if !self.children_left {
                return;
            }
            if let Ok((sig, _)) = rt_sigtimedwait(&SigSet::FULL, None) {
                self.after_program(sig);
            }
        }
    }

    /// Answers a signal once PROGRAM has exited: nothing is forwarded any more.
    fn after_program(&mut self, sig: Signal) {
        if sig == Signal::SIGCHLD {
            self.reap();
        } else if let Some(line) = &mut self.log.debug() {
            line.str("dropped ")
                .signal(sig)
                .str(" (PROGRAM has exited)")
                .print();
        }
    }

    /// Sends `sig` to every process but vinit (as PID 1) or to vinit's descendants.
    fn signal_the_others(&self, sig: Signal) {
        let me = process::getpid();
        if me == 1 {
            let _ = process::kill(-1, Some(sig));
            if let Some(line) = &mut self.log.info() {
                line.str("sent ")
                    .signal(sig)
                    .str(" to every process")
                    .print();
            }
        } else {
            let count = signal_descendants(me, sig);
            if let Some(line) = &mut self.log.info() {
                line.str("sent ").signal(sig).str(" to ").int(count);
                line.str(" remaining descendant(s)").print();
            }
        }
    }
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// The monotonic clock, in nanoseconds.
fn now() -> u64 {
    process::clock_gettime(clock::CLOCK_MONOTONIC).map_or(0, Timespec::as_nanos)
}

/// Appends `exited with status N` or `was killed by SIGX`.
fn describe_status(line: &mut Line, status: ExitStatus) -> &mut Line {
    match (status.code(), status.signal().and_then(Signal::new)) {
        (Some(code), _) => line.str("exited with status ").int(code as u32),
        (None, Some(sig)) => line.str("was killed by ").signal(sig),
        (None, None) => line
            .str("ended with wait status ")
            .int(status.into_raw() as u32),
    }
}
