//! Signal hygiene of a spawn: none of the parent's handlers ever runs in a child, ignored signals
//! stay ignored unless reset, and the child's mask is exactly the one asked for (by default the
//! spawning thread's). The child's view is read from `/proc/self/status` of the exec'd program.
//!
//! These tests change process-wide signal state (actions, the process group), so each takes
//! `serial()`.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use common::{serial, spawn_capture, spawn_with, status_field};
use vspawn::fd::{self, oflags::O_NONBLOCK};
use vspawn::process;
use vspawn::signal::{
    SigAction, SigHandler, SigHow, SigSet, Signal, get_sigaction, rt_sigaction, rt_sigprocmask,
    saflags::SA_RESTART,
};
use vspawn::spawn::Attributes;

/// The `/proc/self/status` of a spawned `cat`.
fn child_status(attrs: Attributes<'_>) -> String {
    let out = spawn_capture(&["cat", "/proc/self/status"], &[], attrs).expect("spawn cat");
    assert_eq!(out.status.code(), Some(0));
    out.stdout
}

/// A hexadecimal signal-set field (`SigBlk`, `SigIgn`) of a status text.
fn sigset_field(status: &str, key: &str) -> u64 {
    u64::from_str_radix(status_field(status, key), 16).expect("hex signal set")
}

/// Our own `/proc/self/status` (the real process's: under qemu-user, the emulator's, whose
/// ignored signals are the guest's, as qemu mirrors `SIG_IGN` to the host for exec's sake).
fn own_status() -> String {
    std::fs::read_to_string("/proc/self/status").unwrap()
}

fn bit(sig: Signal) -> u64 {
    1 << (sig.raw() - 1)
}

static PARENT_PID: AtomicI32 = AtomicI32::new(0);
static PARENT_RUNS: AtomicUsize = AtomicUsize::new(0);
static CHILD_RUNS: AtomicUsize = AtomicUsize::new(0);
static CHILD_RUN_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The SIGUSR1 handler: counts runs in the parent; in any other process (a child before its
/// exec) it counts in memory (seen by the parent where vfork shares it) and writes a byte to a
/// pipe (seen by the parent everywhere: the child's fd table holds the pipe until exec).
extern "C" fn count_usr1(_sig: i32) {
    if process::getpid() == PARENT_PID.load(Ordering::Relaxed) {
        PARENT_RUNS.fetch_add(1, Ordering::Relaxed);
    } else {
        CHILD_RUNS.fetch_add(1, Ordering::Relaxed);
        let _ = fd::write(CHILD_RUN_PIPE.load(Ordering::Relaxed), b"!");
    }
}

/// Spawns `/bin/true` 1,000 times while another thread sends SIGUSR1 to our process group
/// (this process and every child between its clone and its exec) without pause; returns how
/// many times the handler ran in the parent and in children.
fn spawn_under_usr1_flood() -> (usize, usize) {
    let me = process::getpid();
    if process::getpgid(0) != Ok(me) {
        // Our own group, so the flood reaches only us and our children.
        process::setpgid(0, 0).expect("setpgid(0, 0)");
    }
    PARENT_PID.store(me, Ordering::Relaxed);
    PARENT_RUNS.store(0, Ordering::Relaxed);
    CHILD_RUNS.store(0, Ordering::Relaxed);
    let (runs_r, runs_w) = fd::pipe2(O_NONBLOCK).unwrap();
    CHILD_RUN_PIPE.store(runs_w.as_raw_fd(), Ordering::Relaxed);
    let handler = SigAction {
        flags: SA_RESTART,
        ..SigAction::new(SigHandler::Handler(count_usr1))
    };
    // SAFETY: the handler only makes raw syscalls and updates atomics: async-signal-safe.
    unsafe { rt_sigaction(Signal::SIGUSR1, Some(&handler)) }.unwrap();

    let stop = AtomicBool::new(false);
    let sent = AtomicUsize::new(0);
    let killed_by_usr1 = std::thread::scope(|s| {
        s.spawn(|| {
            let usr1 = SigSet::EMPTY.with(Signal::SIGUSR1);
            rt_sigprocmask(SigHow::Block, Some(&usr1)).unwrap();
            while !stop.load(Ordering::Relaxed) {
                process::kill(-me, Some(Signal::SIGUSR1)).unwrap();
                sent.fetch_add(1, Ordering::Relaxed);
            }
        });
        let mut killed_by_usr1 = 0;
        for i in 0..1000 {
            let mut child = spawn_with(&["/bin/true"], &[], &[], Attributes::default())
                .unwrap_or_else(|e| panic!("spawn #{i}: {e}"));
            let status = child.wait().unwrap();
            // The flood reaches the exec'd child too, where SIGUSR1 has its default action.
            match (status.code(), status.signal()) {
                (Some(0), None) => {}
                (None, Some(10)) => killed_by_usr1 += 1,
                _ => panic!("spawn #{i}: unexpected {status}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        killed_by_usr1
    });
    // Ignoring discards what is still pending; then back to the default.
    // SAFETY: SIG_IGN and SIG_DFL run no handler.
    unsafe { rt_sigaction(Signal::SIGUSR1, Some(&SigAction::IGNORE)) }.unwrap();
    // SAFETY: as above.
    unsafe { rt_sigaction(Signal::SIGUSR1, Some(&SigAction::DEFAULT)) }.unwrap();
    CHILD_RUN_PIPE.store(-1, Ordering::Relaxed);
    drop(runs_w);
    let from_pipe = common::read_to_end(runs_r.as_raw_fd());
    eprintln!(
        "{} SIGUSR1 sent, {} handled by the parent, {killed_by_usr1} children killed by it",
        sent.load(Ordering::Relaxed),
        PARENT_RUNS.load(Ordering::Relaxed)
    );
    let in_children = CHILD_RUNS.load(Ordering::Relaxed).max(from_pipe.len());
    (PARENT_RUNS.load(Ordering::Relaxed), in_children)
}

/// Skips a flood test under qemu-user, which delivers a guest's signals itself: there a SIGUSR1
/// the emulator queued for the flooding thread (which blocks it) outlived the `SIG_IGN` that
/// ends the flood and killed the test process once the default action was back (qemu-user 7.2
/// and 10.0, about once in ten runs beside two busy CPUs), and one flood ran past the 120 s limit
/// (10.0). Both are the emulator's; the property is the kernel's, checked natively and in the VMs.
macro_rules! require_kernel_signal_delivery {
    () => {
        if let Some(emulator) = common::emulator() {
            skip!(
                "{emulator} delivers signals itself and loses track of a flood's (a SIGUSR1 \
                 outlives SIG_IGN, or the spawn hangs): checked natively and in the VMs"
            );
        }
    };
}

#[test]
fn parent_handler_never_runs_in_a_child_during_a_signal_flood() {
    require_kernel_signal_delivery!();
    let _serial = serial();
    let (parent, children) = spawn_under_usr1_flood();
    assert_eq!(children, 0, "the parent's SIGUSR1 handler ran in a child");
    assert!(
        parent > 0,
        "the flood never reached the parent: the test proved nothing"
    );
}

#[test]
fn parent_handler_never_runs_in_a_child_with_clone_and_the_child_side_reset() {
    require_kernel_signal_delivery!();
    let _serial = serial();
    // Without clone3 there is no CLONE_CLEAR_SIGHAND: the child resets the handlers itself,
    // with every signal blocked (qemu-user always takes this path).
    vspawn::clone::set_clone3_disabled(true);
    let (parent, children) = spawn_under_usr1_flood();
    vspawn::clone::set_clone3_disabled(false);
    assert_eq!(children, 0, "the parent's SIGUSR1 handler ran in a child");
    assert!(
        parent > 0,
        "the flood never reached the parent: the test proved nothing"
    );
}

/// Sets `sig`'s action for the duration of `f`, then restores it.
fn with_action<T>(sig: Signal, action: SigAction, f: impl FnOnce() -> T) -> T {
    // SAFETY: the tests only install SIG_IGN or SIG_DFL here, which run no handler.
    let old = unsafe { rt_sigaction(sig, Some(&action)) }.unwrap();
    let result = f();
    // SAFETY: restores the action we read.
    unsafe { rt_sigaction(sig, Some(&old)) }.unwrap();
    result
}

/// The signals our own actions say are ignored.
fn ignored_as_we_see_them() -> u64 {
    Signal::all()
        .filter(|&sig| matches!(get_sigaction(sig), Ok(a) if a.handler == SigHandler::Ignore))
        .fold(0, |bits, sig| bits | bit(sig))
}

#[test]
fn ignored_signals_stay_ignored_in_the_child_unless_reset() {
    let _serial = serial();
    // Ignored at the kernel's level but not among our signals: nothing natively; under
    // qemu-user, host signals no guest number reaches (glibc's 32), inherited by the emulator
    // and by every program it execs, and out of any guest's reach.
    let invisible = sigset_field(&own_status(), "SigIgn") & !ignored_as_we_see_them();
    if common::emulator().is_none() {
        assert_eq!(
            invisible, 0,
            "the kernel and we disagree on what is ignored"
        );
    }
    with_action(Signal::SIGUSR2, SigAction::IGNORE, || {
        let ours = sigset_field(&own_status(), "SigIgn");
        assert_eq!(ours, ignored_as_we_see_them() | invisible);
        assert_ne!(ours & bit(Signal::SIGUSR2), 0, "our SIGUSR2 is not ignored");
        let kept = sigset_field(&child_status(Attributes::default()), "SigIgn");
        assert_eq!(kept, ours, "the child's ignored set is not ours");

        let attrs = Attributes::new().sigdefault(SigSet::EMPTY.with(Signal::SIGUSR2));
        let reset = sigset_field(&child_status(attrs), "SigIgn");
        assert_eq!(reset, ours & !bit(Signal::SIGUSR2));
    });
    // Everything reset (SIGKILL and SIGSTOP are passed over, not an error).
    let attrs = Attributes::new().sigdefault(SigSet::FULL);
    assert_eq!(sigset_field(&child_status(attrs), "SigIgn"), invisible);
    // And our own actions were not touched by any of it.
    assert_eq!(
        get_sigaction(Signal::SIGUSR2).unwrap().handler,
        SigHandler::Default
    );
}

#[test]
fn sigignore_ignores_signals_in_the_child_only() {
    let _serial = serial();
    let ours = sigset_field(&own_status(), "SigIgn");
    // SIGCHLD (an init's case: it needs it, its child gets it ignored) and SIGUSR1, after a
    // sigdefault that names SIGUSR1 too: ignoring comes second.
    let attrs = Attributes::new()
        .sigdefault(SigSet::EMPTY.with(Signal::SIGUSR1))
        .sigignore(SigSet::EMPTY.with(Signal::SIGCHLD).with(Signal::SIGUSR1));
    let seen = sigset_field(&child_status(attrs), "SigIgn");
    assert_eq!(
        seen,
        ours | bit(Signal::SIGCHLD) | bit(Signal::SIGUSR1),
        "the child's SigIgn"
    );
    // Ours are untouched.
    for sig in [Signal::SIGCHLD, Signal::SIGUSR1] {
        assert_eq!(get_sigaction(sig).unwrap().handler, SigHandler::Default);
    }
    // SIGKILL and SIGSTOP cannot be ignored: refused before any clone.
    for sig in [Signal::SIGKILL, Signal::SIGSTOP] {
        let attrs = Attributes::new().sigignore(SigSet::EMPTY.with(sig));
        let got = spawn_with(&["/bin/true"], &[], &[], attrs).map(|c| c.pid());
        assert_eq!(got, Err(vspawn::Errno::EINVAL), "{sig}");
    }
    common::assert_no_children();
}

#[test]
fn child_mask_is_exactly_the_one_asked_for() {
    let _serial = serial();
    let wanted: SigSet = [
        Signal::SIGUSR1,
        Signal::SIGTERM,
        Signal::SIGCHLD,
        Signal::SIGWINCH,
    ]
    .into_iter()
    .collect();
    let attrs = Attributes::new().sigmask(wanted);
    assert_eq!(sigset_field(&child_status(attrs), "SigBlk"), wanted.bits());

    // An empty mask while we block something.
    let ours = SigSet::EMPTY.with(Signal::SIGHUP);
    let old = rt_sigprocmask(SigHow::SetMask, Some(&ours)).unwrap();
    let attrs = Attributes::new().sigmask(SigSet::EMPTY);
    let got = sigset_field(&child_status(attrs), "SigBlk");
    rt_sigprocmask(SigHow::SetMask, Some(&old)).unwrap();
    assert_eq!(got, 0);
}

#[test]
fn child_mask_holds_real_time_signals_by_their_kernel_numbers() {
    let _serial = serial();
    if let Some(emulator) = common::emulator() {
        skip!(
            "{emulator}: qemu-user gives the guest's real-time signals other host numbers (guest \
             37 is host 39), and the exec'd program is a host one; checked natively and in the VM"
        );
    }
    let wanted: SigSet = [32, 37, 64]
        .into_iter()
        .map(|n| Signal::new(n).unwrap())
        .collect();
    let attrs = Attributes::new().sigmask(wanted.with(Signal::SIGQUIT));
    let expected = wanted.bits() | bit(Signal::SIGQUIT);
    assert_eq!(sigset_field(&child_status(attrs), "SigBlk"), expected);
}

#[test]
fn child_mask_can_block_everything_blockable() {
    let _serial = serial();
    if let Some(emulator) = common::emulator() {
        skip!(
            "{emulator}: qemu-user keeps SIGBUS, SIGSEGV and glibc's signals 32 and 33 unblocked \
             on the host, so a program it execs never starts with them blocked; checked natively \
             and in the VM"
        );
    }
    let attrs = Attributes::new().sigmask(SigSet::FULL);
    let unblockable = bit(Signal::SIGKILL) | bit(Signal::SIGSTOP);
    assert_eq!(sigset_field(&child_status(attrs), "SigBlk"), !unblockable);
}

#[test]
fn child_mask_defaults_to_the_spawning_threads_mask() {
    let _serial = serial();
    let ours: SigSet = [Signal::SIGUSR2, Signal::SIGWINCH, Signal::SIGALRM]
        .into_iter()
        .collect();
    let old = rt_sigprocmask(SigHow::SetMask, Some(&ours)).unwrap();
    let got = sigset_field(&child_status(Attributes::default()), "SigBlk");
    // The spawn gave us back our mask, not its all-blocked one.
    let after = rt_sigprocmask(SigHow::SetMask, Some(&old)).unwrap();
    assert_eq!(got, ours.bits());
    assert_eq!(after, ours);
}

#[test]
fn spawn_restores_the_callers_mask_even_when_it_fails() {
    let _serial = serial();
    let ours = SigSet::EMPTY.with(Signal::SIGURG);
    let old = rt_sigprocmask(SigHow::SetMask, Some(&ours)).unwrap();
    let err = spawn_with(&["/nonexistent/x"], &[], &[], Attributes::default()).unwrap_err();
    let after = rt_sigprocmask(SigHow::SetMask, Some(&old)).unwrap();
    assert_eq!(err, vspawn::Errno::ENOENT);
    assert_eq!(after, ours);
}
