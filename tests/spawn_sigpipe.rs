//! A spawn never raises SIGPIPE in the parent, even with SIGPIPE at its default action (as in a
//! `#![no_std]` program, where nothing ignores it).
//!
//! The one place a spawn writes to its child is the go signal of the user-namespace path: the
//! child waits for its id maps, then for one byte. A child that died before reading it (killed,
//! or failed in an earlier step) made that write raise SIGPIPE, after the spawn had restored
//! our signal mask: the parent died with its child. To make the child die first every time, a
//! seccomp filter on the spawning thread (inherited by the child) fails the child's first
//! `rt_sigaction` (its `sigdefault` step, before it waits), and stops the parent at its first
//! `close` after the clone until that child is dead.
//!
//! Its own binary: the test sets this process's SIGPIPE to the default action.

#[macro_use]
mod common;
#[path = "common/seccomp.rs"]
mod seccomp;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{CHILD_PATH, spawn_with};
use seccomp::Action;
use vspawn::Errno;
use vspawn::signal::{self, SigAction, SigHandler, SigSet, Signal};
use vspawn::spawn::{Attributes, IdMaps, Namespaces};
use vspawn::wait::{WaitId, waitid, wflags::*};

/// An errno no step of a spawn returns by itself.
const INJECTED: Errno = Errno::EL2HLT;

#[test]
fn a_child_that_dies_before_the_go_signal_raises_no_sigpipe_in_the_parent() {
    if let Some(emulator) = common::emulator() {
        skip!(
            "{emulator}: refuses CLONE_NEWUSER and would filter host syscall numbers: run \
             natively and in the VM"
        );
    }
    // SAFETY: installing SIG_DFL runs no handler.
    unsafe { signal::rt_sigaction(Signal::SIGPIPE, Some(&SigAction::DEFAULT)) }.unwrap();

    use vspawn::sys::nr;
    let stopped_once = AtomicBool::new(false);
    let (spawned, child_was_dead) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let spawner = scope.spawn(move || {
            let rules = [
                (nr::RT_SIGACTION as i64, Action::Errno(INJECTED.raw())),
                (nr::CLOSE as i64, Action::Notify),
            ];
            match seccomp::install(&rules) {
                Ok(listener) => tx.send(Ok(listener.unwrap())).unwrap(),
                Err(e) => {
                    tx.send(Err(e.to_string())).unwrap();
                    return None;
                }
            }
            // No maps to write: the parent's next steps are closing the child's end of the
            // socket pair and sending the go byte.
            let attrs = Attributes::new()
                .namespaces(Namespaces::USER)
                .id_maps(IdMaps::default())
                .sigdefault(SigSet::EMPTY.with(Signal::SIGUSR1));
            Some(spawn_with(&["true"], &[CHILD_PATH], &[], attrs).map(|c| c.pid()))
        });
        let listener = match rx.recv().unwrap() {
            Ok(listener) => listener,
            Err(e) => return (None, Err(format!("seccomp filter refused: {e}"))),
        };
        let mut child_was_dead = Err("the parent never closed an fd after the clone".into());
        while !spawner.is_finished() {
            let Some(stopped) = listener.next(100).unwrap() else {
                continue;
            };
            if !stopped_once.swap(true, Ordering::SeqCst) {
                child_was_dead = wait_until_a_child_is_dead();
            }
            // The stopped thread may have gone on already (killed): nothing to answer then.
            let _ = listener.resume(stopped.id);
        }
        (spawner.join().unwrap(), child_was_dead)
    });
    if let Err(why) = &child_was_dead
        && why.starts_with("seccomp filter refused")
    {
        skip!("{why}: checked natively and in the VM");
    }
    assert_eq!(child_was_dead, Ok(()));
    // We are alive (a SIGPIPE would have ended this process), the child's failure came back,
    // and the disposition is unchanged.
    assert_eq!(spawned, Some(Err(INJECTED)));
    assert_eq!(
        signal::get_sigaction(Signal::SIGPIPE).unwrap().handler,
        SigHandler::Default
    );
    common::assert_no_children();
}

/// Waits (at most 10 s) until a child of this process is a zombie, without reaping it.
fn wait_until_a_child_is_dead() -> Result<(), String> {
    let dead = common::wait_until(10_000, || {
        let zombie = waitid(WaitId::All, WEXITED | WNOHANG | WNOWAIT | WALL, None);
        zombie.is_ok_and(|info| info.pid() != 0)
    });
    if dead {
        Ok(())
    } else {
        Err("the child did not die within 10 s".into())
    }
}
