//! Spawns a program the way `vinit` does — through vspawn's zero-allocation core, without libc —
//! and prints what happened and how long it took.
//!
//! ```text
//! $ cargo run --release --example spawn -- echo hello
//! hello
//! spawned "echo" as pid 4242 in 96 µs
//! "echo" ended with exit status: 0 after 0.41 ms
//! $ cargo run --release --example spawn -- /nonexistent
//! could not spawn "/nonexistent": ENOENT: No such file or directory (after 71 µs)
//! ```
//!
//! The program is looked up in `PATH` like `execvpe` does. The example exits with the
//! program's exit code (128 + the signal if it was killed), or 127 if it could not be spawned.

#![no_std]
#![no_main]

use core::fmt::{self, Write};

use vspawn::entry::Start;
use vspawn::process::{clock::CLOCK_MONOTONIC, clock_gettime};
use vspawn::spawn::{CStrArray, Program, Spawn};

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(start: Start) -> i32 {
    let mut out = Stderr;
    let Some(program) = start.arg(1) else {
        let _ = writeln!(out, "usage: spawn PROGRAM [ARG]...");
        return 2;
    };
    // SAFETY: the kernel's argv and envp arrays are null-terminated, valid and never change;
    // argv[1] exists, so argv + 1 is the program's own argument list.
    let (argv, envp) = unsafe {
        (
            CStrArray::from_raw(start.argv().add(1)),
            CStrArray::from_raw(start.envp()),
        )
    };
    let request = Spawn::new(Program::Search(program), argv, envp);

    let began = now();
    let spawned = request.spawn();
    let spawn_took = now() - began;
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let _ = writeln!(
                out,
                "could not spawn {program:?}: {e} (after {} µs)",
                spawn_took / 1000
            );
            return 127;
        }
    };
    let _ = writeln!(
        out,
        "spawned {program:?} as pid {} in {} µs",
        child.pid(),
        spawn_took / 1000
    );
    match child.wait() {
        Ok(status) => {
            let total = now() - began;
            let _ = writeln!(
                out,
                "{program:?} ended with {status} after {}.{:02} ms",
                total / 1_000_000,
                total / 10_000 % 100
            );
            status
                .code()
                .or(status.signal().map(|s| 128 + s))
                .unwrap_or(1)
        }
        Err(e) => {
            let _ = writeln!(out, "waiting for pid {} failed: {e}", child.pid());
            1
        }
    }
}

/// Nanoseconds on the monotonic clock.
fn now() -> u64 {
    clock_gettime(CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos())
}

/// Standard error, written with raw `write` calls.
struct Stderr;

impl Write for Stderr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        vspawn::fd::write_all(2, s.as_bytes()).map_err(|_| fmt::Error)
    }
}
