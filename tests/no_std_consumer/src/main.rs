//! A program without std and without libc: it runs `echo` with its own environment and exits
//! with echo's status. Built with no std in the graph (a second panic handler would not even
//! compile), linked with no libc (build.rs), run natively and under qemu-user by tests/no_std.rs.

#![no_std]
#![no_main]

use vspawn::entry::Start;
use vspawn::spawn::{CStrArray, Program, Spawn};

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(start: Start) -> i32 {
    let mut slots = [core::ptr::null(); 3];
    let Ok(argv) = CStrArray::new(&[c"echo", c"hello from a libc-free program"], &mut slots) else {
        return 125;
    };
    // Nothing allocated: the request borrows the arguments and the environment.
    let spawned = Spawn::new(Program::Search(c"echo"), argv, start.environ()).spawn();
    match spawned.and_then(|mut child| child.wait()) {
        Ok(status) => status.code().unwrap_or(128),
        Err(errno) => errno.raw(),
    }
}
