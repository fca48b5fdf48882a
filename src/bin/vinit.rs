//! `vinit`: a tiny init for containers and PID namespaces, with tini's command line, built on
//! vspawn without libc.
//!
//! ```text
//! vinit [-s] [-g] [-p SIGNAL] [-e CODE]... [-r FROM:TO]... [-w] [-v]... [-t SECONDS]
//!       [--] PROGRAM [ARG]...
//! vinit --version | -h | -l
//! ```
//!
//! It runs PROGRAM as its child, forwards the signals it receives to it (or to its process group
//! with `-g`), reaps every zombie that ends up with it, and exits with PROGRAM's status. See
//! `vinit -h` (the text is in `vinit/options.rs`) for every option and environment variable.
//!
//! How (the modules): `options` reads the command line; [`run`] blocks every signal, takes
//! `SIGCHLD` for itself, spawns PROGRAM with vspawn's zero-allocation `Spawn` (PATH search, its
//! own process group, the terminal's foreground if vinit's group had it, vinit's original signal
//! mask and dispositions), closes vinit's own files and leaves its directory; `supervise` waits for signals with `rt_sigtimedwait` (no polling), forwards them,
//! reaps, and runs the `-t` grace period, finding vinit's descendants with `descendants`; `out`
//! writes the messages.
//!
//! The binary is static and links no libc: it starts at the `_start` of `vspawn::entry!`, with
//! its arguments and environment read straight from the initial stack, and PROGRAM's `argv` is
//! the tail of vinit's own (no copy). It is kept small by leaving `core::fmt` out entirely:
//! messages are assembled by `out`, no code of vinit's can panic, and the panic handler reads
//! nothing of the panic (which lets the compiler drop the formatting of every panic message).
//!
//! Exit status: PROGRAM's exit code, or `128 + N` if signal N killed it (0 for a value given to
//! `-e`); 127 if PROGRAM was not found, 126 if it could not be run; 1 for a command line vinit
//! cannot run or a failure of its own; 0 after `-h`, `-l` or `--version`.

#![no_std]
#![no_main]

#[path = "vinit/descendants.rs"]
mod descendants;
#[path = "vinit/options.rs"]
mod options;
#[path = "vinit/out.rs"]
mod out;
#[path = "vinit/supervise.rs"]
mod supervise;

use core::ffi::{CStr, c_char};

use vspawn::Errno;
use vspawn::entry::{Args, Start};
use vspawn::fd;
use vspawn::process::{self, pr};
use vspawn::signal::{SigAction, SigHandler, SigHow, SigSet, Signal, rt_sigaction, rt_sigprocmask};
use vspawn::spawn::{Attributes, CStrArray, Program, Spawn};
use vspawn::wait::ExitStatus;

use options::{ExitCodes, Options, Parsed};
use out::{Line, Log};

vspawn::entry!(main);

/// What `-l` prints: vinit's licences, with the MIT text (the Apache text, 10 KB, would be most of
/// the binary: it is named).
const LICENCE: &str = concat!(
    "vinit is part of vspawn, licensed under the MIT License or the Apache License, Version 2.0\n\
     (https://www.apache.org/licenses/LICENSE-2.0), at your option. The MIT License:\n\n",
    include_str!("../../LICENSE-MIT")
);

/// With vspawn's `alloc` feature on (`cargo install vspawn --features alloc`), the `alloc` crate
/// is linked, and a binary without std must name a global allocator. vinit allocates nothing:
/// its allocator refuses every request.
#[cfg(all(feature = "alloc", not(feature = "std")))]
#[global_allocator]
static NO_HEAP: vspawn::entry::NoHeap = vspawn::entry::NoHeap;

/// The exit status for a command line vinit cannot run, or a failure of its own (as tini).
const FAILURE_EXIT: i32 = 1;
/// PROGRAM was not found (as the shells).
const NOT_FOUND_EXIT: i32 = 127;
/// PROGRAM was found but could not be run (as the shells).
const CANNOT_RUN_EXIT: i32 = 126;

fn main(start: Start) -> i32 {
    match options::parse(start.args().map(CStr::to_bytes), |name| {
        getenv(&start, name)
    }) {
        Ok(Parsed::Help) => {
            let _ = fd::write_all(1, options::HELP.as_bytes());
            0
        }
        Ok(Parsed::Licence) => {
            let _ = fd::write_all(1, LICENCE.as_bytes());
            0
        }
        Ok(Parsed::Version) => {
            let _ = fd::write_all(
                1,
                concat!("vinit ", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
            );
            0
        }
        Ok(Parsed::Run { options, program }) => {
            let mut args = start.args();
            // Skip vinit's own name and options: what is left is PROGRAM's argv.
            args.by_ref().take(program).for_each(drop);
            run(&options, args, start.envp())
        }
        Err(error) => {
            let (before, value, after) = error.parts();
            Line::new().str(before).bytes(value).str(after).print();
            let _ = fd::write_all(2, options::USAGE.as_bytes());
            FAILURE_EXIT
        }
    }
}

/// The value of the environment variable `name` (`Start::getenv` without making a `CStr` of the
/// value, which costs a `memchr` in the binary).
fn getenv(start: &Start, name: &str) -> Option<&'static [u8]> {
    start.env().find_map(
        |entry| match entry.to_bytes().strip_prefix(name.as_bytes()) {
            Some([b'=', value @ ..]) => Some(value),
            _ => None,
        },
    )
}

/// Runs PROGRAM (`program`: its name and arguments, the tail of vinit's own `argv`) under
/// vinit's supervision, with the environment `envp`, and returns vinit's exit status.
fn run(options: &Options, program: Args, envp: *const *const c_char) -> i32 {
    let log = Log {
        verbosity: options.verbosity,
    };
    if let Err(status) = set_up_process(options, &log) {
        return status;
    }
    // Every signal is blocked from here on and taken by `rt_sigtimedwait` (SIGTTIN and SIGTTOU
    // too, so that vinit never stops for them). PROGRAM gets the mask vinit started with, and its
    // dispositions: vinit installs no handler, and the spawn keeps ignored signals ignored.
    let Ok(original_mask) = rt_sigprocmask(SigHow::SetMask, Some(&SigSet::FULL)) else {
        Line::new().str("cannot block signals").print();
        return FAILURE_EXIT;
    };
    // vinit's SIGCHLD must not be ignored, as a parent may have left it: the kernel would then
    // reap every child itself, PROGRAM's status would be lost, and no SIGCHLD would ever come
    // (vinit would wait for ever). PROGRAM gets it ignored as vinit got it.
    // SAFETY: SIG_DFL runs no handler.
    let chld_ignored = match unsafe { rt_sigaction(Signal::SIGCHLD, Some(&SigAction::DEFAULT)) } {
        Ok(old) => old.handler == SigHandler::Ignore,
        Err(_) => false,
    };
    let Some(name) = program.clone().next() else {
        return FAILURE_EXIT;
    };
    // SAFETY: both arrays come from the initial stack (`Start`): null-terminated arrays of
    // NUL-terminated strings, there and unchanged for the whole process.
    let (argv, envp) = unsafe {
        (
            CStrArray::from_raw(program.as_ptr()),
            CStrArray::from_raw(envp),
        )
    };
    // Its own process group, which `-g` signals as a whole. A constant (the methods are `const`):
    // the compiler sees every field it does not set below as one too (no file actions, no
    // ids...) and leaves out what the spawn would do for them.
    const ATTRS: Attributes<'static> = Attributes::new().process_group(0);
    let mut attrs = ATTRS;
    attrs.sigmask = Some(original_mask);
    // ... in the terminal's foreground when vinit's group has it: not when vinit runs in the
    // background of a shell (the shell would lose its terminal).
    attrs.foreground = holds_foreground().then_some(0);
    if chld_ignored {
        attrs.sigignore = SigSet::EMPTY.with(Signal::SIGCHLD);
    }
    let mut spawn = Spawn::new(Program::Search(name), argv, envp);
    spawn.attrs = attrs;
    let child = match spawn.spawn() {
        Ok(child) => child.pid(),
        Err(e) => {
            let mut line = Line::new();
            line.str("cannot run '").bytes(name.to_bytes());
            line.str("': ").errno(e).print();
            return spawn_failure_exit(e);
        }
    };
    if let Some(line) = &mut log.info() {
        line.str("started PROGRAM as process ")
            .int(child as u32)
            .print();
    }
    // PROGRAM has what it needs; vinit keeps no file open and no directory busy.
    // SAFETY: vinit is the program: every descriptor of its fd table is its own, and none of
    // them is wrapped in an owner that would use it later.
    match unsafe { fd::close_range(3, !0, 0) } {
        // ENOSYS: before Linux 5.9; vinit then keeps what it inherited.
        Ok(()) | Err(Errno::ENOSYS) => {}
        Err(e) => {
            if let Some(line) = &mut log.warn() {
                line.str("cannot close inherited files: ").errno(e).print();
            }
        }
    }
    let _ = fd::chdir(c"/");
    let status = supervise::Supervisor::new(options, &log, child).run();
    exit_code(status, &options.remap_exit)
}

/// Whether standard input is a terminal whose foreground process group is vinit's own.
fn holds_foreground() -> bool {
    match (process::tcgetpgrp(0), process::getpgid(0)) {
        (Ok(foreground), Ok(ours)) => foreground == ours,
        _ => false,
    }
}

/// vinit's status for PROGRAM's: its exit code, or `128 + N` if signal N killed it; then 0
/// if `-e` named that value.
fn exit_code(status: ExitStatus, remap: &ExitCodes) -> i32 {
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => FAILURE_EXIT,
    };
    let code = (code & 0xff) as u8;
    if remap.contains(code) {
        0
    } else {
        i32::from(code)
    }
}

/// vinit's status when PROGRAM could not be started: 127 when it is not there (`ENOENT`,
/// `ENOTDIR`: no such file; `ENAMETOOLONG`, `ELOOP`: the name leads to no file), 126 for every
/// other error (found but not runnable: `EACCES`, `EPERM`, `ENOEXEC`, `ETXTBSY`, `EISDIR`,
/// `ELIBBAD`, ...; or the process could not be made: `EAGAIN`, `ENOMEM`).
fn spawn_failure_exit(e: Errno) -> i32 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => NOT_FOUND_EXIT,
        _ => CANNOT_RUN_EXIT,
    }
}

/// Applies the options that concern vinit itself: `-s` (child subreaper) and `-p` (parent-death
/// signal), and warns when vinit can reap nothing but its own child.
fn set_up_process(options: &Options, log: &Log) -> Result<(), i32> {
    if options.subreaper {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes a flag, no pointer.
        if let Err(e) = unsafe { process::prctl(pr::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } {
            Line::new()
                .str("cannot register as a child subreaper: ")
                .errno(e)
                .print();
            return Err(FAILURE_EXIT);
        }
        if let Some(line) = &mut log.info() {
            line.str("registered as a child subreaper").print();
        }
    }
    if let Some(signal) = options.parent_death_signal {
        // SAFETY: PR_SET_PDEATHSIG takes a signal number, no pointer.
        let result =
            unsafe { process::prctl(pr::PR_SET_PDEATHSIG, signal.raw() as usize, 0, 0, 0) };
        if let Err(e) = result {
            let mut line = Line::new();
            line.str("cannot set the parent-death signal ")
                .signal(signal);
            line.str(": ").errno(e).print();
            return Err(FAILURE_EXIT);
        }
        if let Some(line) = &mut log.info() {
            line.str("parent-death signal set to ")
                .signal(signal)
                .print();
        }
    }
    if process::getpid() != 1
        && !options.subreaper
        && let Some(line) = &mut log.warn()
    {
        line.str("not running as PID 1 and not a child subreaper (-s): orphaned processes ");
        line.str("will not be reaped by vinit").print();
    }
    Ok(())
}

/// A panic cannot happen by design (vinit's own code has no panicking path); should one come
/// from a library, say so and exit like a panicking std program. Neither the message nor the
/// location is read: the compiler then drops the panics' arguments, and with them the whole of
/// `core::fmt` they would bring into the binary.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    let _ = fd::write_all(2, b"vinit: panicked\n");
    process::exit_group(vspawn::entry::PANIC_EXIT_STATUS)
}
