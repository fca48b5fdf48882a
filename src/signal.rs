//! Signals: numbers and names, signal sets, `rt_sigprocmask`, `rt_sigtimedwait`, and
//! `rt_sigaction` with the per-architecture kernel `sigaction` layout (and the x86_64 restorer).

use core::ffi::c_void;
use core::fmt;
use core::mem::{offset_of, size_of};

use crate::errno::{Errno, Result};
use crate::process::Timespec;
use crate::wait::SigInfo;

/// A signal number, `1..=64`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Signal(i32);

/// The highest signal number Linux has.
pub const NSIG: i32 = 64;

macro_rules! signals {
    ($($name:ident = $num:literal,)*) => {
        impl Signal {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($num), ").")]
                pub const $name: Signal = Signal($num);
            )*
        }

        const NAMES: &[(&str, i32)] = &[$((stringify!($name), $num),)*];
    };
}

signals! {
    SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
    SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13,
    SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19,
    SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25,
    SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31,
}

impl Signal {
    /// The first real-time signal number the kernel has (glibc reserves 32..=34 for itself).
    pub const SIGRTMIN_KERNEL: i32 = 32;

    /// `Some` for `1..=64`.
    pub const fn new(num: i32) -> Option<Signal> {
        if num >= 1 && num <= NSIG {
            Some(Signal(num))
        } else {
            None
        }
    }

    /// The signal number.
    #[inline]
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// `"SIGTERM"` for the classic signals; `None` for the real-time ones.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|&&(_, n)| n == self.0)
            .map(|&(name, _)| name)
    }

    /// Parses `SIGTERM`, `TERM` (any case) or a number (`15`); `RTMIN+n`/`SIGRTMIN+n` are the
    /// kernel's real-time signals `32 + n`.
    pub fn parse(s: &str) -> Option<Signal> {
        if let Some(n) = parse_decimal(s) {
            return Signal::new(n);
        }
        let bare = strip_prefix_ignore_case(s, "SIG").unwrap_or(s);
        if let Some(rest) = strip_prefix_ignore_case(bare, "RTMIN") {
            let offset = match rest {
                "" => 0,
                _ => parse_decimal(rest.strip_prefix('+')?)?,
            };
            return Signal::new(Self::SIGRTMIN_KERNEL + offset);
        }
        NAMES
            .iter()
            .find(|(name, _)| name[3..].eq_ignore_ascii_case(bare))
            .map(|&(_, n)| Signal(n))
    }

    /// Iterates over every signal, `1..=64`.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=NSIG).map(Signal)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn parse_decimal(s: &str) -> Option<i32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0, |n, b| n * 10 + i32::from(b - b'0')))
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SIGRTMIN+{}", self.0 - Self::SIGRTMIN_KERNEL),
        }
    }
}

/// The kernel's signal set: one bit per signal, 64 bits on every supported architecture.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct SigSet(u64);

impl SigSet {
    /// No signal.
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal (the kernel ignores `SIGKILL` and `SIGSTOP` in masks).
    pub const FULL: SigSet = SigSet(!0);

    /// The set from its raw bits (bit `n - 1` is signal `n`).
    pub const fn from_bits(bits: u64) -> SigSet {
        SigSet(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// This set with `sig` added.
    #[must_use]
    pub const fn with(self, sig: Signal) -> SigSet {
        SigSet(self.0 | 1 << (sig.0 - 1))
    }

    /// This set with `sig` removed.
    #[must_use]
    pub const fn without(self, sig: Signal) -> SigSet {
        SigSet(self.0 & !(1 << (sig.0 - 1)))
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: Signal) -> bool {
        self.0 & (1 << (sig.0 - 1)) != 0
    }

    /// Adds `sig`.
    pub fn insert(&mut self, sig: Signal) {
        *self = self.with(sig);
    }

    /// Removes `sig`.
    pub fn remove(&mut self, sig: Signal) {
        *self = self.without(sig);
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signals in the set, in increasing order.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        Signal::all().filter(move |&s| self.contains(s))
    }
}

impl fmt::Debug for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Signal> for SigSet {
    fn from_iter<I: IntoIterator<Item = Signal>>(iter: I) -> Self {
        iter.into_iter().fold(SigSet::EMPTY, SigSet::with)
    }
}

/// How [`rt_sigprocmask`] combines the set with the current mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum SigHow {
    /// Add the set to the mask.
    Block = 0,
    /// Remove the set from the mask.
    Unblock = 1,
    /// Replace the mask.
    SetMask = 2,
}

/// Changes the calling thread's signal mask (if `set` is given) and returns the previous mask.
pub fn rt_sigprocmask(how: SigHow, set: Option<&SigSet>) -> Result<SigSet> {
    let mut old = SigSet::EMPTY;
    let set_ptr = set.map_or(core::ptr::null(), |s| s as *const SigSet);
    // SAFETY: `set_ptr` is null or points to 8 readable bytes; the kernel writes 8 bytes to
    // `old`; the size argument is the kernel's sigset size.
    let ret = unsafe {
        crate::sys::syscall!(
            RT_SIGPROCMASK,
            how as i32,
            set_ptr,
            &mut old as *mut SigSet,
            size_of::<SigSet>()
        )
    };
    Errno::result(ret).map(|_| old)
}

/// Every signal blocked on this thread until the guard drops, which restores the mask it found:
/// the window in which a clone child (a spawn's, a thread) is created, so that it starts with
/// every signal blocked and no handler of the caller can run in it.
pub(crate) struct AllBlocked(SigSet);

impl AllBlocked {
    pub(crate) fn new() -> Result<AllBlocked> {
        rt_sigprocmask(SigHow::SetMask, Some(&SigSet::FULL)).map(AllBlocked)
    }

    /// The mask in force before the guard.
    pub(crate) fn previous(&self) -> SigSet {
        self.0
    }
}

impl Drop for AllBlocked {
    fn drop(&mut self) {
        // Restoring a mask we read ourselves cannot fail.
        let _ = rt_sigprocmask(SigHow::SetMask, Some(&self.0));
    }
}

/// Waits for a signal of `set` to be pending, takes it off the pending set, and returns it with
/// its `siginfo` (`sigtimedwait`). The signals of `set` should be blocked, or they may be
/// delivered (to a handler, or to their default action) instead of returned.
///
/// With a `timeout` (relative), gives up after it with `EAGAIN`; without one, waits as long as it
/// takes. `EINTR` when a handler for a signal outside `set` ran meanwhile. The kernel leaves
/// `SIGKILL` and `SIGSTOP` out of `set`: they can never be waited for.
pub fn rt_sigtimedwait(set: &SigSet, timeout: Option<&Timespec>) -> Result<(Signal, SigInfo)> {
    let mut info = SigInfo::zeroed();
    let timeout = timeout.map_or(core::ptr::null(), |t| t as *const Timespec);
    // SAFETY: `set` points to 8 readable bytes and the size argument says so; the kernel writes
    // one siginfo (128 bytes) into `info`; `timeout` is null or a valid timespec.
    let ret = unsafe {
        crate::sys::syscall!(
            RT_SIGTIMEDWAIT,
            set as *const SigSet,
            &mut info as *mut SigInfo,
            timeout,
            size_of::<SigSet>()
        )
    };
    // The kernel returns the number of a signal of `set`: `1..=64`.
    Errno::result(ret).map(|num| (Signal(num as i32), info))
}

/// Flags of a signal action (`SA_*`).
pub mod saflags {
    /// `SIGCHLD` is not sent when children stop or continue.
    pub const SA_NOCLDSTOP: u64 = 0x1;
    /// Children do not become zombies.
    pub const SA_NOCLDWAIT: u64 = 0x2;
    /// The handler takes `(sig, *siginfo, *ucontext)`.
    pub const SA_SIGINFO: u64 = 0x4;
    /// The handler has a restorer (x86_64 requires it; set by this crate).
    pub const SA_RESTORER: u64 = 0x0400_0000;
    /// Run the handler on the alternate signal stack.
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    /// Restart interrupted syscalls.
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// Do not block the signal while its handler runs.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// Reset to the default action on entry to the handler.
    pub const SA_RESETHAND: u64 = 0x8000_0000;
}
use saflags::{SA_RESTORER, SA_SIGINFO};

/// What a signal does. Handlers compare by address.
///
/// The handlers are `unsafe` function pointers: one read back with [`get_sigaction`] is
/// whatever address the kernel holds (installed by libc, std or any library), and calling it is
/// only sound in the situation it was written for (a signal being delivered, with a real
/// `siginfo` and context). A safe `extern "C" fn` converts to one implicitly.
///
/// ```compile_fail,E0133
/// #![forbid(unsafe_code)]
/// use vspawn::signal::{SigHandler, Signal, get_sigaction};
///
/// if let SigHandler::Handler(f) = get_sigaction(Signal::SIGSEGV).unwrap().handler {
///     f(11); // an unsafe fn pointer: cannot be called from safe code
/// }
/// ```
///
/// With the caller's promise it builds; a safe handler converts implicitly:
///
/// ```no_run
/// use vspawn::signal::{SigHandler, Signal, get_sigaction};
///
/// extern "C" fn on_signal(_: i32) {}
/// let mine = SigHandler::Handler(on_signal);
/// if let SigHandler::Handler(f) = get_sigaction(Signal::SIGSEGV).unwrap().handler {
///     // SAFETY: (in a real program) a SIGSEGV is being delivered to this thread right now.
///     unsafe { f(11) };
/// }
/// # let _ = mine;
/// ```
#[derive(Clone, Copy, Debug)]
pub enum SigHandler {
    /// The default action (`SIG_DFL`).
    Default,
    /// Ignored (`SIG_IGN`).
    Ignore,
    /// A handler taking the signal number.
    Handler(unsafe extern "C" fn(i32)),
    /// A handler taking `(signal, info, ucontext)`; implies `SA_SIGINFO`.
    Action(unsafe extern "C" fn(i32, *mut SigInfo, *mut c_void)),
}

impl PartialEq for SigHandler {
    fn eq(&self, other: &Self) -> bool {
        let kind = |h: &Self| core::mem::discriminant(h);
        kind(self) == kind(other) && self.to_raw() == other.to_raw()
    }
}

impl Eq for SigHandler {}

impl SigHandler {
    /// The value the kernel stores: 0 (`SIG_DFL`), 1 (`SIG_IGN`) or the handler's address.
    pub fn to_raw(self) -> usize {
        match self {
            SigHandler::Default => 0,
            SigHandler::Ignore => 1,
            SigHandler::Handler(f) => f as usize,
            SigHandler::Action(f) => f as usize,
        }
    }
}

/// A signal action: the handler, its flags and the signals blocked while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigAction {
    /// What the signal does.
    pub handler: SigHandler,
    /// `SA_*` flags (see [`saflags`]); `SA_SIGINFO` and `SA_RESTORER` are managed by this crate.
    pub flags: u64,
    /// Signals blocked while the handler runs.
    pub mask: SigSet,
}

impl SigAction {
    /// The default action, no flags, empty mask.
    pub const DEFAULT: SigAction = SigAction::new(SigHandler::Default);
    /// Ignore the signal.
    pub const IGNORE: SigAction = SigAction::new(SigHandler::Ignore);

    /// `handler` with no flags and an empty mask.
    pub const fn new(handler: SigHandler) -> SigAction {
        SigAction {
            handler,
            flags: 0,
            mask: SigSet::EMPTY,
        }
    }
}

/// The kernel's `struct sigaction` on x86_64 and aarch64: handler, flags, restorer, mask.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: SigSet,
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert_eq!(size_of::<KernelSigaction>(), 32);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert_eq!(offset_of!(KernelSigaction, restorer), 16);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert_eq!(offset_of!(KernelSigaction, mask), 24);

/// The kernel's `struct sigaction` on riscv64: handler, flags, mask (no restorer field).
#[cfg(target_arch = "riscv64")]
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct KernelSigaction {
    handler: usize,
    flags: u64,
    mask: SigSet,
}

#[cfg(target_arch = "riscv64")]
static_assertions::const_assert_eq!(size_of::<KernelSigaction>(), 24);
#[cfg(target_arch = "riscv64")]
static_assertions::const_assert_eq!(offset_of!(KernelSigaction, mask), 16);

static_assertions::const_assert_eq!(offset_of!(KernelSigaction, handler), 0);
static_assertions::const_assert_eq!(offset_of!(KernelSigaction, flags), 8);
static_assertions::const_assert_eq!(size_of::<SigSet>(), 8);

impl KernelSigaction {
    fn from_action(act: &SigAction) -> KernelSigaction {
        let mut flags = act.flags & !(SA_SIGINFO | SA_RESTORER);
        if let SigHandler::Action(_) = act.handler {
            flags |= SA_SIGINFO;
        }
        KernelSigaction {
            handler: act.handler.to_raw(),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            flags: flags | crate::arch::SIGACTION_RESTORER.map_or(0, |_| SA_RESTORER),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            restorer: crate::arch::SIGACTION_RESTORER.map_or(0, |r| r as usize),
            #[cfg(target_arch = "riscv64")]
            flags,
            mask: act.mask,
        }
    }

    fn to_action(self) -> SigAction {
        let handler = match self.handler {
            0 => SigHandler::Default,
            1 => SigHandler::Ignore,
            // SAFETY: a non-null address (0 and 1 are taken above) becomes an `unsafe` function
            // pointer: holding one is sound whatever it points to, and whoever calls it takes on
            // the contract of the handler some `sigaction` call installed there.
            raw if self.flags & SA_SIGINFO != 0 => SigHandler::Action(unsafe {
                core::mem::transmute::<usize, unsafe extern "C" fn(i32, *mut SigInfo, *mut c_void)>(
                    raw,
                )
            }),
            // SAFETY: as above, a plain handler.
            raw => SigHandler::Handler(unsafe {
                core::mem::transmute::<usize, unsafe extern "C" fn(i32)>(raw)
            }),
        };
        SigAction {
            handler,
            flags: self.flags & !SA_RESTORER,
            mask: self.mask,
        }
    }
}

/// The buffer the old action is read into. On riscv64 it has 8 spare bytes: qemu-user 7.2 uses a
/// 32-byte layout there and writes past a 24-byte struct (measured; fixed in qemu 10).
#[repr(C)]
#[derive(Default)]
struct OldActionBuf {
    act: KernelSigaction,
    #[cfg(target_arch = "riscv64")]
    _emulator_slack: u64,
}

/// Installs `act` for `sig` (if given) and returns the previous action.
///
/// On x86_64 the crate's own restorer is installed with `SA_RESTORER`, as the kernel requires.
///
/// # Safety
///
/// A handler runs asynchronously, interrupting arbitrary code: it must be async-signal-safe.
pub unsafe fn rt_sigaction(sig: Signal, act: Option<&SigAction>) -> Result<SigAction> {
    let new = act.map(KernelSigaction::from_action);
    let new_ptr = new
        .as_ref()
        .map_or(core::ptr::null(), |k| k as *const KernelSigaction);
    let mut old = OldActionBuf::default();
    // SAFETY: `new_ptr` is null or a valid kernel sigaction; `old` has room for one (plus
    // slack); the size argument is the kernel's sigset size.
    let ret = unsafe {
        crate::sys::syscall!(
            RT_SIGACTION,
            sig.0,
            new_ptr,
            &mut old.act as *mut KernelSigaction,
            size_of::<SigSet>()
        )
    };
    Errno::result(ret).map(|_| old.act.to_action())
}

/// Reads the current action of `sig` without changing it.
pub fn get_sigaction(sig: Signal) -> Result<SigAction> {
    // SAFETY: with no new action nothing is installed, so no handler contract applies.
    unsafe { rt_sigaction(sig, None) }
}
