//! vinit's command line and environment, parsed the way tini parses its own: POSIX `getopt` with
//! parsing stopping at the first operand (`+` mode), so that everything from `PROGRAM` on belongs
//! to the program.
//!
//! Short options may be grouped (`-sg`, `-vvv`) and take their value attached or as the next
//! argument (`-e2`, `-e 2`); `--` ends the options; `--version` and `--help` are the only long
//! options. The parser works on bytes and allocates nothing; `tests/vinit.rs` includes this file
//! to test it on every target.
//!
//! The environment: tini's variables (`TINI_SUBREAPER`, `TINI_KILL_PROCESS_GROUP`,
//! `TINI_VERBOSITY`) mean what they mean to tini, so that an image written for tini keeps its
//! settings; vinit's own (`VINIT_*`) mean the same. A flag is on when any of its variables is set
//! (to anything, even empty) or its option given. The verbosity starts at `VINIT_VERBOSITY` if
//! set, else `TINI_VERBOSITY` if set, else 1, and each `-v` adds one (tini lets its variable
//! replace the `-v` count instead). An empty value is 0 for both; `TINI_VERBOSITY` is read as C's
//! `atoi` reads it (tini's way: leading digits, anything else 0), `VINIT_VERBOSITY` must be a
//! number.

use core::fmt;

use vspawn::signal::{SigSet, Signal};

/// The synopsis, two lines (a macro, for `concat!`).
macro_rules! usage {
    () => {
        "usage: vinit [-s] [-g] [-p SIGNAL] [-e CODE]... [-r FROM:TO]... [-w] [-v]... \
         [-t SECONDS]\n             [--] PROGRAM [ARG]...\n       vinit --version | -h | -l\n"
    };
}

/// The help, for `-h`: the synopsis, what vinit does, its exit status, one line per option.
pub const HELP: &str = concat!(
    usage!(),
    "
Runs PROGRAM (searched in PATH) in its own process group, forwards signals to it (but SIGCHLD
and faults), and reaps zombies. Exits with PROGRAM's exit code, or 128+N if signal N killed it;
127 if PROGRAM was not found, 126 if it could not run, 1 on vinit's own errors.

  -s          be a child subreaper (when not PID 1), to reap orphans
  -g          forward signals to PROGRAM's whole process group
  -p SIGNAL   the signal vinit gets when its parent dies (KILL, SIGKILL, 9)
  -e CODE     exit 0 instead of CODE (0-255); repeatable
  -r FROM:TO  forward signal FROM as signal TO (TERM:QUIT, 15:3; TO 0: drop FROM); repeatable
  -w          warn when reaping a process other than PROGRAM
  -v          more messages (-vv, -vvv)
  -t SECONDS  once PROGRAM has exited, SIGTERM the others (every process as PID 1, else
              vinit's descendants), then SIGKILL those left after SECONDS
  --version   print the version
  -h, --help  print this help
  -l          print the licence

Environment (tini's names work too): VINIT_SUBREAPER or TINI_SUBREAPER (-s),
VINIT_KILL_PROCESS_GROUP or TINI_KILL_PROCESS_GROUP (-g), VINIT_VERBOSITY=N or TINI_VERBOSITY=N
(default 1; each -v adds one)
"
);

/// What follows the reason of a usage error on standard error: the synopsis, which is the start
/// of [`HELP`] (a slice of it, so that the binary holds the text once).
pub const USAGE: &str = match HELP.split_at_checked(usage!().len()) {
    Some((usage, _)) => usage,
    None => panic!("HELP starts with the synopsis"),
};

/// The default verbosity: errors and warnings.
pub const DEFAULT_VERBOSITY: u32 = 1;

/// What vinit was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Print the help and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Print the licence and exit 0.
    Licence,
    /// Run the program at index `program` of `argv`, with the arguments after it.
    Run {
        /// The settings from the options and the environment.
        options: Options,
        /// Index of `PROGRAM` in `argv` (at least 1).
        program: usize,
    },
}

/// vinit's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-s`, `VINIT_SUBREAPER`: become a child subreaper.
    pub subreaper: bool,
    /// `-g`, `VINIT_KILL_PROCESS_GROUP`: signal the child's process group.
    pub kill_process_group: bool,
    /// `-p SIGNAL`: the parent-death signal to request.
    pub parent_death_signal: Option<Signal>,
    /// `-e CODE`: exit codes reported as 0.
    pub remap_exit: ExitCodes,
    /// `-r FROM:TO`: the signal forwarded for each signal received.
    pub rewrites: Rewrites,
    /// `-w`: warn when reaping a process other than the child.
    pub warn_on_reap: bool,
    /// `VINIT_VERBOSITY`, then one more per `-v`.
    pub verbosity: u32,
    /// `-t SECONDS`: how long to wait for the remaining processes once the child exited.
    pub grace_seconds: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            subreaper: false,
            kill_process_group: false,
            parent_death_signal: None,
            remap_exit: ExitCodes::EMPTY,
            rewrites: Rewrites::NONE,
            warn_on_reap: false,
            verbosity: DEFAULT_VERBOSITY,
            grace_seconds: None,
        }
    }
}

/// A set of exit codes `0..=255`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCodes([u64; 4]);

impl ExitCodes {
    /// No code.
    pub const EMPTY: ExitCodes = ExitCodes([0; 4]);

    /// Adds `code`.
    pub fn insert(&mut self, code: u8) {
        self.0[usize::from(code / 64)] |= 1 << (code % 64);
    }

    /// Whether `code` is in the set.
    pub fn contains(&self, code: u8) -> bool {
        self.0[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }
}

/// What vinit forwards for each signal it receives: the same signal unless `-r` said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrites([u8; NSIG]);

/// The highest signal number.
const NSIG: usize = 64;

impl Rewrites {
    /// Every signal forwarded as itself.
    pub const NONE: Rewrites = {
        let mut table = [0u8; NSIG];
        let mut i = 0;
        while i < NSIG {
            table[i] = i as u8 + 1;
            i += 1;
        }
        Rewrites(table)
    };

    /// What to forward for `sig`: a signal, or `None` to drop it (`-r FROM:0`).
    pub fn get(&self, sig: Signal) -> Option<Signal> {
        let to = self.0.get(usize::try_from(sig.raw() - 1).ok()?)?;
        Signal::new(i32::from(*to))
    }

    /// Forwards `from` as `to` (`None`: drops it).
    pub fn set(&mut self, from: Signal, to: Option<Signal>) {
        if let Some(slot) = self
            .0
            .get_mut(usize::try_from(from.raw() - 1).unwrap_or(NSIG))
        {
            *slot = to.map_or(0, |to| to.raw() as u8);
        }
    }
}

/// Signals that report a fault of the process they are sent to: never forwarded (if one is sent
/// to vinit with `kill`, it is taken and dropped; a real fault in vinit kills it whatever the
/// mask).
pub const SYNCHRONOUS: SigSet = SigSet::EMPTY
    .with(Signal::SIGSEGV)
    .with(Signal::SIGBUS)
    .with(Signal::SIGILL)
    .with(Signal::SIGFPE)
    .with(Signal::SIGABRT)
    .with(Signal::SIGTRAP)
    .with(Signal::SIGSYS);

/// Signals vinit never forwards, which `-r` therefore cannot name as FROM: the faults,
/// `SIGCHLD` (vinit's own), `SIGKILL` and `SIGSTOP` (they never reach it).
pub const NOT_FORWARDED: SigSet = SYNCHRONOUS
    .with(Signal::SIGCHLD)
    .with(Signal::SIGKILL)
    .with(Signal::SIGSTOP);

/// A command line vinit cannot run: the message for standard error (exit status 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError<'a> {
    /// No `PROGRAM` after the options.
    MissingProgram,
    /// A short option vinit does not have: the byte after `-` or in a group (`x` of `-sx`).
    UnknownOption(&'a [u8]),
    /// A long option vinit does not have: the whole argument (`--verbose`).
    UnknownLongOption(&'a [u8]),
    /// An option that takes a value came last.
    MissingValue(u8),
    /// `-p` with something that names no signal.
    BadSignal(&'a [u8]),
    /// `-e` with something that is not `0..=255`.
    BadExitCode(&'a [u8]),
    /// `-t` with something that is not a number of seconds.
    BadSeconds(&'a [u8]),
    /// `-r` with something that is not `FROM:TO`, FROM a signal vinit forwards, TO a signal or 0.
    BadRewrite(&'a [u8]),
    /// `VINIT_VERBOSITY` is not a number.
    BadVerbosity(&'a [u8]),
}

impl UsageError<'_> {
    /// The message in three parts: text, the bytes at fault (to show as text), text. The binary
    /// writes them without `core::fmt`; `Display` joins them.
    pub fn parts(&self) -> (&'static str, &[u8], &'static str) {
        match self {
            UsageError::MissingProgram => ("no PROGRAM to run", b"", ""),
            UsageError::UnknownOption(option) => ("unknown option '-", option, "'"),
            UsageError::UnknownLongOption(option) => ("unknown option '", option, "'"),
            UsageError::MissingValue(option) => (
                "option '-",
                core::slice::from_ref(option),
                "' needs a value",
            ),
            UsageError::BadSignal(value) => ("'", value, "' is not a signal"),
            UsageError::BadExitCode(value) => ("'", value, "' is not an exit code (0-255)"),
            UsageError::BadSeconds(value) => ("'", value, "' is not a number of seconds"),
            UsageError::BadRewrite(value) => (
                "'",
                value,
                "' is not FROM:TO (FROM a signal vinit forwards, TO a signal or 0)",
            ),
            UsageError::BadVerbosity(value) => ("VINIT_VERBOSITY='", value, "' is not a number"),
        }
    }
}

impl fmt::Display for UsageError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, value, after) = self.parts();
        write!(f, "{before}{}{after}", Lossy(value))
    }
}

/// Shows bytes as text, with invalid UTF-8 as U+FFFD.
struct Lossy<'a>(&'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

/// Parses `argv` (`argv[0]` first, which is skipped) and the environment, read through `getenv`.
///
/// `-h`/`--help` and `--version` act as soon as they are reached, like tini's `getopt` loop: an
/// invalid option before them is still an error, anything after them is not looked at.
pub fn parse<'a>(
    argv: impl IntoIterator<Item = &'a [u8]>,
    getenv: impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<Parsed, UsageError<'a>> {
    let mut options = Options::default();
    let set = |vinit, tini| getenv(vinit).is_some() || getenv(tini).is_some();
    options.subreaper = set("VINIT_SUBREAPER", "TINI_SUBREAPER");
    options.kill_process_group = set("VINIT_KILL_PROCESS_GROUP", "TINI_KILL_PROCESS_GROUP");
    if let Some(value) = getenv("VINIT_VERBOSITY") {
        options.verbosity = match value {
            b"" => 0,
            _ => decimal(value).ok_or(UsageError::BadVerbosity(value))?,
        };
    } else if let Some(value) = getenv("TINI_VERBOSITY") {
        options.verbosity = atoi(value);
    }

    let mut args = argv.into_iter();
    // `argv[0]`; an index kept by hand (`enumerate().skip(1)` costs code).
    args.next();
    let mut index = 0;
    while let Some(arg) = args.next() {
        index += 1;
        match arg {
            [b'-', b'-', long @ ..] => {
                return match long {
                    b"" => match args.next() {
                        Some(_) => Ok(Parsed::Run {
                            options,
                            program: index + 1,
                        }),
                        None => Err(UsageError::MissingProgram),
                    },
                    b"version" => Ok(Parsed::Version),
                    b"help" => Ok(Parsed::Help),
                    _ => Err(UsageError::UnknownLongOption(arg)),
                };
            }
            // A lone `-` is an operand, as for getopt: the program's name.
            [b'-', cluster @ ..] if !cluster.is_empty() => {
                let mut rest = cluster;
                while let Some((&option, after)) = rest.split_first() {
                    rest = after;
                    match option {
                        b'h' => return Ok(Parsed::Help),
                        b'l' => return Ok(Parsed::Licence),
                        b's' => options.subreaper = true,
                        b'g' => options.kill_process_group = true,
                        b'w' => options.warn_on_reap = true,
                        b'v' => options.verbosity = options.verbosity.saturating_add(1),
                        b'p' | b'e' | b't' | b'r' => {
                            // The value: the rest of this argument, or the next one.
                            let value = if rest.is_empty() {
                                index += 1;
                                args.next().ok_or(UsageError::MissingValue(option))?
                            } else {
                                core::mem::take(&mut rest)
                            };
                            set_valued(&mut options, option, value)?;
                        }
                        _ => {
                            let at = arg.len() - rest.len() - 1;
                            let option = arg.get(at..=at).unwrap_or_default();
                            return Err(UsageError::UnknownOption(option));
                        }
                    }
                }
            }
            _ => {
                return Ok(Parsed::Run {
                    options,
                    program: index,
                });
            }
        }
    }
    Err(UsageError::MissingProgram)
}

/// Applies `-p`, `-e`, `-t` or `-r` with its value.
fn set_valued<'a>(
    options: &mut Options,
    option: u8,
    value: &'a [u8],
) -> Result<(), UsageError<'a>> {
    match option {
        b'p' => {
            let signal = parse_signal(value);
            options.parent_death_signal = Some(signal.ok_or(UsageError::BadSignal(value))?);
        }
        b'e' => {
            let code = decimal(value).and_then(|n| u8::try_from(n).ok());
            options
                .remap_exit
                .insert(code.ok_or(UsageError::BadExitCode(value))?);
        }
        b't' => {
            options.grace_seconds = Some(decimal(value).ok_or(UsageError::BadSeconds(value))?);
        }
        _ => {
            let (from, to) = parse_rewrite(value).ok_or(UsageError::BadRewrite(value))?;
            options.rewrites.set(from, to);
        }
    }
    Ok(())
}

/// `-r`'s value: `FROM:TO`, both as `-p` reads a signal, TO possibly `0` (drop FROM).
fn parse_rewrite(value: &[u8]) -> Option<(Signal, Option<Signal>)> {
    let colon = value.iter().position(|&b| b == b':')?;
    let from = parse_signal(value.get(..colon)?)?;
    let to = value.get(colon + 1..)?;
    let to = match to {
        b"0" => None,
        _ => Some(parse_signal(to)?),
    };
    (!NOT_FORWARDED.contains(from)).then_some((from, to))
}

/// The number C's `atoi` reads from `bytes`, as tini reads `TINI_VERBOSITY` into an unsigned
/// value: blanks, a sign, then the digits up to the first other byte (none: 0). glibc's `atoi` is
/// `(int)strtol(s, NULL, 10)`: the value saturates at the range of C's `long` (64 bits, or 32 on
/// i686 and armv7) and is then cut to an `int`, so a negative value wraps around (`-1` shows
/// everything, as in tini) and `4294967295` is `-1` on a 64-bit target but `INT_MAX` on a 32-bit
/// one.
pub fn atoi(bytes: &[u8]) -> u32 {
    let mut rest = bytes;
    while let [b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r', tail @ ..] = rest {
        rest = tail;
    }
    let negative = rest.first() == Some(&b'-');
    if let [b'+' | b'-', tail @ ..] = rest {
        rest = tail;
    }
    // strtol's magnitude, saturated at what a `long` of that sign can hold.
    let long_max = (1u64 << (core::ffi::c_long::BITS - 1)) - 1;
    let limit = if negative { long_max + 1 } else { long_max };
    let mut magnitude: u64 = 0;
    for &digit in rest.iter().take_while(|b| b.is_ascii_digit()) {
        magnitude = magnitude
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
            .min(limit);
    }
    // The `long` in two's complement, cut to an `int`: its low 32 bits.
    let long = if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    long as u32
}

/// `-p`'s value, as `Signal::parse` reads it (`SIGTERM`, `TERM` in any case, `15`, `RTMIN+n`),
/// on bytes: `Signal::parse` slices strings, whose panic path would bring `core::fmt` into the
/// binary (`tests/vinit.rs` checks that both agree).
pub fn parse_signal(value: &[u8]) -> Option<Signal> {
    if let Some(n) = decimal(value) {
        return Signal::new(i32::try_from(n).ok()?);
    }
    let bare = strip_prefix_ignore_case(value, b"SIG").unwrap_or(value);
    if let Some(rest) = strip_prefix_ignore_case(bare, b"RTMIN") {
        let offset = match rest {
            [] => 0,
            [b'+', digits @ ..] => i32::try_from(decimal(digits)?).ok()?,
            _ => return None,
        };
        return Signal::new(Signal::SIGRTMIN_KERNEL.checked_add(offset)?);
    }
    let index = SIGNAL_NAMES
        .split(|&b| b == b' ')
        .position(|name| strip_prefix_ignore_case(bare, name) == Some(b""))?;
    Signal::new(i32::try_from(index).ok()? + 1)
}

/// `s` without `upper_prefix` (in upper case), compared ignoring ASCII case. A plain loop:
/// `<[u8]>::eq_ignore_ascii_case` is unrolled into 300 bytes of code on x86_64.
fn strip_prefix_ignore_case<'a>(s: &'a [u8], upper_prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = s.split_at_checked(upper_prefix.len())?;
    let same = head
        .iter()
        .zip(upper_prefix)
        .all(|(a, b)| a.to_ascii_uppercase() == *b);
    same.then_some(rest)
}

/// The names of signals 1 to 31 without `SIG`, in order (`Signal::name` has them in a table of
/// pointers, three times as large; `tests/vinit.rs` checks that both agree).
const SIGNAL_NAMES: &[u8] = b"HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM \
                              STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR \
                              SYS";

/// The name of `sig` without `SIG` (`TERM`); `None` for the real-time signals.
pub fn signal_name(sig: Signal) -> Option<&'static [u8]> {
    let index = usize::try_from(sig.raw() - 1).ok()?;
    SIGNAL_NAMES.split(|&b| b == b' ').nth(index)
}

/// A non-empty run of ASCII digits that fits in a `u32`.
pub fn decimal(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        let digit = char::from(b).to_digit(10)?;
        n.checked_mul(10)?.checked_add(digit)
    })
}
