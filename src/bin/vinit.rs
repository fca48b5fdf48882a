//! `vinit`: a tiny init for containers and PID namespaces, with tini's command line, built on
//! vspawn without libc.
//!
//! ```text
//! vinit [-s] [-g] [-p SIGNAL] [-e CODE]... [-w] [-v]... [-t SECONDS] [--] PROGRAM [ARG]...
//! vinit --version | -h
//! ```
//!
//! It runs PROGRAM as its child, forwards the signals it receives to it (or to its process group
//! with `-g`), reaps every zombie that ends up with it, and exits with PROGRAM's status. See
//! `vinit -h` (the text is in `vinit/options.rs`) for every option and environment variable.
//!
//! The binary is static and links no libc: it starts at the `_start` of `vspawn::entry!`, with
//! its arguments and environment read straight from the initial stack, and PROGRAM's `argv` is
//! the tail of vinit's own (no copy). Messages go to standard error with raw `write` calls.
//!
//! Exit status: PROGRAM's (`128 + N` if signal N killed it; 0 for a code given to `-e`); 1 for a
//! command line vinit cannot run; 0 after `-h` or `--version`.

#![no_std]
#![no_main]

#[path = "vinit/options.rs"]
mod options;

use core::ffi::{CStr, c_char};
use core::fmt::{self, Write};

use vspawn::entry::{Args, Start};
use vspawn::fd::{self, RawFd};
use vspawn::process::{self, pr};

use options::{Options, Parsed};

vspawn::entry!(main);
vspawn::panic_handler!();

/// The exit status for a command line vinit cannot run (as tini).
const USAGE_EXIT: i32 = 1;

fn main(start: Start) -> i32 {
    let getenv = |name: &str| start.getenv(name).map(CStr::to_bytes);
    match options::parse(start.args().map(CStr::to_bytes), getenv) {
        Ok(Parsed::Help) => {
            let _ = fd::write_all(1, options::HELP.as_bytes());
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
            let mut line = Line::new();
            let _ = write!(
                line,
                "vinit: {error}\n{}\ntry 'vinit -h' for more information\n",
                options::SYNOPSIS
            );
            line.write_to(2);
            USAGE_EXIT
        }
    }
}

/// Runs PROGRAM (`program`: its name and arguments, a null-terminated `argv`) under vinit's
/// supervision, with the environment `envp`, and returns vinit's exit status.
fn run(options: &Options, program: Args, envp: *const *const c_char) -> i32 {
    let log = Log {
        verbosity: options.verbosity,
    };
    if let Err(status) = set_up_process(options, &log) {
        return status;
    }
    let _ = (program.as_ptr(), envp);
    // To come (the lead's part, on `vspawn::spawn`): block the signals vinit forwards, spawn
    // PROGRAM with `argv = program.as_ptr()` and `envp`, then loop on signals: forward them
    // (to the process group with `-g`), reap every child (warning for strays with `-w`), and
    // when PROGRAM has exited, give the others `-t` seconds and return its remapped status.
    log.error(format_args!("running PROGRAM is not implemented yet"));
    1
}

/// Applies the options that concern vinit itself: `-s` (child subreaper) and `-p` (parent-death
/// signal), and warns when vinit can reap nothing but its own child.
fn set_up_process(options: &Options, log: &Log) -> Result<(), i32> {
    if options.subreaper {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes a flag, no pointer.
        if let Err(e) = unsafe { process::prctl(pr::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } {
            log.error(format_args!("cannot register as a child subreaper: {e}"));
            return Err(1);
        }
        log.info(format_args!("registered as a child subreaper"));
    }
    if let Some(signal) = options.parent_death_signal {
        // SAFETY: PR_SET_PDEATHSIG takes a signal number, no pointer.
        let result =
            unsafe { process::prctl(pr::PR_SET_PDEATHSIG, signal.raw() as usize, 0, 0, 0) };
        if let Err(e) = result {
            log.error(format_args!(
                "cannot set the parent-death signal {signal}: {e}"
            ));
            return Err(1);
        }
        log.info(format_args!("parent-death signal set to {signal}"));
    }
    if process::getpid() != 1 && !options.subreaper {
        log.warn(format_args!(
            "not running as PID 1 and not a child subreaper (-s): orphaned processes will not \
             be reaped by vinit"
        ));
    }
    Ok(())
}

/// Messages on standard error, by level: errors always; warnings from verbosity 1 (the
/// default), information from 2, debugging from 3.
struct Log {
    verbosity: u32,
}

impl Log {
    fn error(&self, message: fmt::Arguments<'_>) {
        self.print(0, "error: ", message);
    }

    fn warn(&self, message: fmt::Arguments<'_>) {
        self.print(1, "warning: ", message);
    }

    fn info(&self, message: fmt::Arguments<'_>) {
        self.print(2, "", message);
    }

    fn print(&self, level: u32, prefix: &str, message: fmt::Arguments<'_>) {
        if level <= self.verbosity {
            let mut line = Line::new();
            let _ = writeln!(line, "vinit: {prefix}{message}");
            line.write_to(2);
        }
    }
}

/// One message, built in a fixed buffer and written with a single `write` so that it does not
/// interleave with PROGRAM's output. Longer messages are cut, ending with `...`.
struct Line {
    buf: [u8; 1024],
    len: usize,
    cut: bool,
}

impl Line {
    fn new() -> Line {
        Line {
            buf: [0; 1024],
            len: 0,
            cut: false,
        }
    }

    fn write_to(&mut self, fd: RawFd) {
        if self.cut {
            let end = self.buf.len() - 4;
            self.buf[end..].copy_from_slice(b"...\n");
            self.len = self.buf.len();
        }
        // Nothing better to do if standard error is gone.
        let _ = fd::write_all(fd, &self.buf[..self.len]);
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let taken = s.len().min(room);
        self.buf[self.len..self.len + taken].copy_from_slice(&s.as_bytes()[..taken]);
        self.len += taken;
        self.cut |= taken < s.len();
        Ok(())
    }
}
