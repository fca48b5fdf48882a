//! Signals: names and parsing, signal sets, `rt_sigprocmask`, `rt_sigaction` with the kernel's
//! per-architecture struct (read back exactly), and handlers that really run.
//!
//! Dispositions are process-wide and the tests of one binary run in parallel threads, so every
//! test here owns its own signal and no two tests touch the same one. Handlers only store into
//! atomics (async-signal-safe).

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use vspawn::Errno;
use vspawn::process::{getpid, gettid, kill, tgkill};
use vspawn::signal::{
    self, NSIG, SigAction, SigHandler, SigHow, SigSet, Signal, get_sigaction, rt_sigaction,
    rt_sigprocmask, saflags::*,
};
use vspawn::wait::SigInfo;

/// qemu-user before 10.0 uses a 32-byte `sigaction` on riscv64 (the kernel's has 24 bytes and no
/// restorer field): the mask we pass is not applied. See the README's notes on qemu.
fn sigaction_mask_broken_here() -> bool {
    cfg!(target_arch = "riscv64") && common::qemu_user_major().is_some_and(|major| major < 10)
}

const MASK_SKIP_REASON: &str = "qemu-user < 10 on riscv64 reads a 32-byte sigaction, so the \
                                sa_mask is not applied (measured, see the README); checked natively and in the VM";

/// Installs `act` for `sig`, asserting success; returns the previous action.
fn install(sig: Signal, act: &SigAction) -> SigAction {
    // SAFETY: every handler in this file only stores into atomics, which is async-signal-safe.
    unsafe { rt_sigaction(sig, Some(act)) }.expect("rt_sigaction")
}

extern "C" fn ignore_signal(_: i32) {}

#[test]
fn sigaction_handler_and_flags_read_back_exactly() {
    let sig = Signal::SIGXCPU;
    let act = SigAction {
        handler: SigHandler::Handler(ignore_signal),
        flags: SA_RESTART | SA_NODEFER,
        mask: SigSet::EMPTY,
    };
    assert_eq!(install(sig, &act), SigAction::DEFAULT);
    let back = get_sigaction(sig).unwrap();
    assert_eq!(back.handler, SigHandler::Handler(ignore_signal));
    assert_eq!(
        back.handler.to_raw(),
        ignore_signal as extern "C" fn(i32) as usize
    );
    // SA_RESTORER (x86_64) is the crate's business and not shown.
    assert_eq!(back.flags, SA_RESTART | SA_NODEFER);
    // Installing the default gives back what was there.
    let previous = install(sig, &SigAction::DEFAULT);
    assert_eq!(previous.handler, SigHandler::Handler(ignore_signal));
    assert_eq!(previous.flags, SA_RESTART | SA_NODEFER);
    assert_eq!(get_sigaction(sig).unwrap().handler, SigHandler::Default);
}

#[test]
fn sigaction_mask_reads_back_exactly() {
    let sig = Signal::SIGXFSZ;
    let mask = SigSet::EMPTY
        .with(Signal::SIGUSR2)
        .with(Signal::SIGTERM)
        .with(Signal::new(40).unwrap());
    let act = SigAction {
        handler: SigHandler::Handler(ignore_signal),
        flags: SA_RESTART,
        mask,
    };
    install(sig, &act);
    let back = get_sigaction(sig).unwrap();
    install(sig, &SigAction::DEFAULT);
    assert_eq!(back.handler, act.handler);
    assert_eq!(back.flags, act.flags);
    if back.mask != mask && sigaction_mask_broken_here() {
        skip!("{MASK_SKIP_REASON}");
    }
    assert_eq!(back.mask, mask);
}

#[test]
fn sigaction_ignore_reads_back_as_ignore() {
    let sig = Signal::SIGTTIN;
    assert_eq!(
        install(sig, &SigAction::IGNORE).handler,
        SigHandler::Default
    );
    assert_eq!(get_sigaction(sig).unwrap().handler, SigHandler::Ignore);
    assert_eq!(SigHandler::Ignore.to_raw(), 1);
    assert_eq!(SigHandler::Default.to_raw(), 0);
    install(sig, &SigAction::DEFAULT);
    assert_eq!(get_sigaction(sig).unwrap(), SigAction::DEFAULT);
}

#[test]
fn sigaction_of_sigkill_and_sigstop_is_einval() {
    for sig in [Signal::SIGKILL, Signal::SIGSTOP] {
        let act = SigAction::new(SigHandler::Handler(ignore_signal));
        // SAFETY: the kernel refuses the handler; nothing is installed.
        assert_eq!(unsafe { rt_sigaction(sig, Some(&act)) }, Err(Errno::EINVAL));
        // SAFETY: as above.
        assert_eq!(
            unsafe { rt_sigaction(sig, Some(&SigAction::IGNORE)) },
            Err(Errno::EINVAL)
        );
        assert_eq!(get_sigaction(sig).unwrap().handler, SigHandler::Default);
    }
}

static KILL_HANDLED: AtomicBool = AtomicBool::new(false);
static KILL_SIGNO: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_kill(sig: i32) {
    KILL_SIGNO.store(sig, Ordering::SeqCst);
    KILL_HANDLED.store(true, Ordering::SeqCst);
}

#[test]
fn handler_runs_when_the_process_is_killed_with_its_signal() {
    let sig = Signal::SIGUSR1;
    install(sig, &SigAction::new(SigHandler::Handler(on_kill)));
    kill(getpid(), Some(sig)).expect("kill self");
    // Any thread that does not block it may take a process-directed signal.
    assert!(common::wait_until(5000, || KILL_HANDLED.load(Ordering::SeqCst)));
    assert_eq!(KILL_SIGNO.load(Ordering::SeqCst), 10);
    // We are still alive: the handler returned through the restorer (x86_64) or the vDSO.
    install(sig, &SigAction::DEFAULT);
}

static MASK_IN_HANDLER: AtomicU64 = AtomicU64::new(u64::MAX);
static TID_IN_HANDLER: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_mask(_: i32) {
    let mask = rt_sigprocmask(SigHow::Block, None).map_or(0, SigSet::bits);
    TID_IN_HANDLER.store(gettid(), Ordering::SeqCst);
    MASK_IN_HANDLER.store(mask, Ordering::SeqCst);
}

#[test]
fn handler_runs_on_tgkill_with_its_mask_and_signal_blocked() {
    let sig = Signal::SIGPROF;
    let mask = SigSet::EMPTY.with(Signal::SIGWINCH).with(Signal::SIGALRM);
    install(
        sig,
        &SigAction {
            handler: SigHandler::Handler(record_mask),
            flags: 0,
            mask,
        },
    );
    let before = rt_sigprocmask(SigHow::Block, None).unwrap();
    tgkill(getpid(), gettid(), Some(sig)).expect("tgkill self");
    assert!(common::wait_until(5000, || TID_IN_HANDLER
        .load(Ordering::SeqCst)
        != 0));
    install(sig, &SigAction::DEFAULT);
    // A thread-directed signal runs on this very thread.
    assert_eq!(TID_IN_HANDLER.load(Ordering::SeqCst), gettid());
    // After the handler the mask is what it was.
    assert_eq!(rt_sigprocmask(SigHow::Block, None).unwrap(), before);
    let in_handler = SigSet::from_bits(MASK_IN_HANDLER.load(Ordering::SeqCst));
    let expected = SigSet::from_bits(before.bits() | mask.bits()).with(sig);
    if in_handler != expected && sigaction_mask_broken_here() {
        // The signal itself is still blocked by qemu while its handler runs.
        assert!(in_handler.contains(sig));
        skip!("{MASK_SKIP_REASON}");
    }
    assert_eq!(in_handler, expected);
}

static INFO_SIGNO: AtomicI32 = AtomicI32::new(0);
static INFO_CODE: AtomicI32 = AtomicI32::new(-1);
static INFO_PID: AtomicI32 = AtomicI32::new(0);
static INFO_UID: AtomicI32 = AtomicI32::new(-1);

extern "C" fn record_info(sig: i32, info: *mut SigInfo, _ucontext: *mut core::ffi::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo for the handler's duration.
    let info = unsafe { &*info };
    INFO_CODE.store(info.code, Ordering::SeqCst);
    INFO_PID.store(info.pid(), Ordering::SeqCst);
    INFO_UID.store(info.uid() as i32, Ordering::SeqCst);
    INFO_SIGNO.store(info.signo.min(sig), Ordering::SeqCst);
}

#[test]
fn siginfo_handler_gets_signal_code_and_sender() {
    let sig = Signal::SIGVTALRM;
    let act = SigAction {
        handler: SigHandler::Action(record_info),
        flags: SA_RESTART,
        mask: SigSet::EMPTY,
    };
    install(sig, &act);
    let back = get_sigaction(sig).unwrap();
    assert_eq!(back.handler, SigHandler::Action(record_info));
    // SA_SIGINFO comes with an Action handler and shows in what the kernel has.
    assert_eq!(back.flags, SA_RESTART | SA_SIGINFO);
    kill(getpid(), Some(sig)).unwrap();
    assert!(common::wait_until(5000, || INFO_SIGNO
        .load(Ordering::SeqCst)
        != 0));
    install(sig, &SigAction::DEFAULT);
    assert_eq!(INFO_SIGNO.load(Ordering::SeqCst), 26);
    assert_eq!(INFO_CODE.load(Ordering::SeqCst), 0, "SI_USER");
    assert_eq!(INFO_PID.load(Ordering::SeqCst), getpid());
    // SAFETY: getuid has no preconditions.
    assert_eq!(INFO_UID.load(Ordering::SeqCst) as u32, unsafe {
        libc::getuid()
    });
}

static URG_HANDLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_urg(_: i32) {
    URG_HANDLED.store(true, Ordering::SeqCst);
}

#[test]
fn rt_sigprocmask_round_trips_and_defers_a_blocked_signal() {
    let sig = Signal::SIGURG; // Default action: ignore, so nothing dies if it goes astray.
    install(sig, &SigAction::new(SigHandler::Handler(on_urg)));
    let two = SigSet::EMPTY.with(Signal::SIGWINCH).with(sig);
    let original = rt_sigprocmask(SigHow::Block, Some(&two)).unwrap();
    assert!(!original.contains(sig));
    let now = rt_sigprocmask(SigHow::Block, None).unwrap();
    assert_eq!(now, SigSet::from_bits(original.bits() | two.bits()));

    // Blocked: the signal stays pending.
    tgkill(getpid(), gettid(), Some(sig)).unwrap();
    common::sleep_ms(20);
    assert!(!URG_HANDLED.load(Ordering::SeqCst));

    // Unblocking delivers it; the old mask comes back from each call.
    let prev = rt_sigprocmask(SigHow::Unblock, Some(&SigSet::EMPTY.with(sig))).unwrap();
    assert_eq!(prev, now);
    assert!(common::wait_until(5000, || URG_HANDLED.load(Ordering::SeqCst)));
    let now = rt_sigprocmask(SigHow::Block, None).unwrap();
    assert_eq!(now, original.with(Signal::SIGWINCH));

    let prev = rt_sigprocmask(SigHow::SetMask, Some(&original)).unwrap();
    assert_eq!(prev, original.with(Signal::SIGWINCH));
    assert_eq!(rt_sigprocmask(SigHow::Block, None).unwrap(), original);
    install(sig, &SigAction::DEFAULT);
}

#[test]
fn sigkill_and_sigstop_cannot_be_blocked() {
    let original = rt_sigprocmask(SigHow::SetMask, Some(&SigSet::FULL)).unwrap();
    let full = rt_sigprocmask(SigHow::SetMask, Some(&original)).unwrap();
    assert!(!full.contains(Signal::SIGKILL));
    assert!(!full.contains(Signal::SIGSTOP));
    for sig in Signal::all().take(31) {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            assert!(full.contains(sig), "{sig} blockable");
        }
    }
    assert_eq!(rt_sigprocmask(SigHow::Block, None).unwrap(), original);
}

#[test]
fn signal_parse_accepts_names_numbers_and_realtime_offsets() {
    let term = Some(Signal::SIGTERM);
    assert_eq!(Signal::parse("TERM"), term);
    assert_eq!(Signal::parse("SIGTERM"), term);
    assert_eq!(Signal::parse("sigterm"), term);
    assert_eq!(Signal::parse("term"), term);
    assert_eq!(Signal::parse("15"), term);
    assert_eq!(Signal::parse("KILL"), Some(Signal::SIGKILL));
    assert_eq!(Signal::parse("9"), Some(Signal::SIGKILL));
    assert_eq!(Signal::parse("RTMIN"), Signal::new(32));
    assert_eq!(Signal::parse("RTMIN+2"), Signal::new(34));
    assert_eq!(Signal::parse("SIGRTMIN+2"), Signal::new(34));
    assert_eq!(Signal::parse("rtmin+32"), Signal::new(64));
    assert_eq!(Signal::parse("64"), Signal::new(64));
    for bad in [
        "", "0", "65", "-1", "+1", "SIG", "TERMX", "RTMIN+33", "RTMIN-1", "RTMIN+", "1.5", " 15",
    ] {
        assert_eq!(Signal::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn signal_names_and_display() {
    assert_eq!(Signal::SIGTERM.raw(), 15);
    assert_eq!(Signal::SIGTERM.name(), Some("SIGTERM"));
    assert_eq!(Signal::SIGTERM.to_string(), "SIGTERM");
    assert_eq!(format!("{:?}", Signal::SIGKILL), "SIGKILL");
    let rt = Signal::new(34).unwrap();
    assert_eq!(rt.name(), None);
    assert_eq!(rt.to_string(), "SIGRTMIN+2");
    assert_eq!(Signal::new(0), None);
    assert_eq!(Signal::new(NSIG + 1), None);
    assert_eq!(Signal::new(NSIG).map(Signal::raw), Some(64));
    assert_eq!(Signal::all().count(), 64);
    assert_eq!(
        Signal::all().map(Signal::raw).collect::<Vec<_>>(),
        (1..=64).collect::<Vec<_>>()
    );
    // Every named signal parses back from its name and its number.
    for sig in Signal::all().filter(|s| s.name().is_some()) {
        assert_eq!(Signal::parse(sig.name().unwrap()), Some(sig));
        assert_eq!(Signal::parse(&sig.raw().to_string()), Some(sig));
    }
}

#[test]
fn signal_numbers_and_action_flags_match_the_platform_libc() {
    let pairs = [
        (Signal::SIGHUP, libc::SIGHUP),
        (Signal::SIGINT, libc::SIGINT),
        (Signal::SIGQUIT, libc::SIGQUIT),
        (Signal::SIGABRT, libc::SIGABRT),
        (Signal::SIGBUS, libc::SIGBUS),
        (Signal::SIGKILL, libc::SIGKILL),
        (Signal::SIGUSR1, libc::SIGUSR1),
        (Signal::SIGSEGV, libc::SIGSEGV),
        (Signal::SIGUSR2, libc::SIGUSR2),
        (Signal::SIGPIPE, libc::SIGPIPE),
        (Signal::SIGTERM, libc::SIGTERM),
        (Signal::SIGSTKFLT, libc::SIGSTKFLT),
        (Signal::SIGCHLD, libc::SIGCHLD),
        (Signal::SIGCONT, libc::SIGCONT),
        (Signal::SIGSTOP, libc::SIGSTOP),
        (Signal::SIGTSTP, libc::SIGTSTP),
        (Signal::SIGURG, libc::SIGURG),
        (Signal::SIGWINCH, libc::SIGWINCH),
        (Signal::SIGIO, libc::SIGIO),
        (Signal::SIGPWR, libc::SIGPWR),
        (Signal::SIGSYS, libc::SIGSYS),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours.raw(), theirs, "{ours}");
    }
    let flags = [
        (SA_NOCLDSTOP, libc::SA_NOCLDSTOP),
        (SA_NOCLDWAIT, libc::SA_NOCLDWAIT),
        (SA_SIGINFO, libc::SA_SIGINFO),
        (SA_ONSTACK, libc::SA_ONSTACK),
        (SA_RESTART, libc::SA_RESTART),
        (SA_NODEFER, libc::SA_NODEFER),
        (SA_RESETHAND, libc::SA_RESETHAND),
    ];
    for (ours, theirs) in flags {
        assert_eq!(ours, theirs as u32 as u64);
    }
    assert_eq!(SigHow::Block as i32, libc::SIG_BLOCK);
    assert_eq!(SigHow::Unblock as i32, libc::SIG_UNBLOCK);
    assert_eq!(SigHow::SetMask as i32, libc::SIG_SETMASK);
}

#[test]
fn sigset_adds_removes_and_iterates_in_order() {
    let mut set = SigSet::EMPTY;
    assert!(set.is_empty());
    set.insert(Signal::SIGTERM);
    set.insert(Signal::SIGHUP);
    set.insert(Signal::new(64).unwrap());
    assert_eq!(set.bits(), 1 << 0 | 1 << 14 | 1 << 63);
    assert!(set.contains(Signal::SIGHUP) && set.contains(Signal::SIGTERM));
    assert!(!set.contains(Signal::SIGINT));
    assert_eq!(
        set.iter().map(Signal::raw).collect::<Vec<_>>(),
        vec![1, 15, 64]
    );
    set.remove(Signal::SIGTERM);
    assert_eq!(set, SigSet::from_bits(1 | 1 << 63));
    assert_eq!(format!("{set:?}"), "{SIGHUP, SIGRTMIN+32}");
    let collected: SigSet = [Signal::SIGINT, Signal::SIGQUIT].into_iter().collect();
    assert_eq!(
        collected,
        SigSet::EMPTY.with(Signal::SIGINT).with(Signal::SIGQUIT)
    );
    assert_eq!(collected.without(Signal::SIGINT).bits(), 1 << 2);
    assert_eq!(SigSet::FULL.iter().count(), 64);
    assert_eq!(SigSet::default(), SigSet::EMPTY);
    let _ = signal::SigAction::IGNORE;
}
