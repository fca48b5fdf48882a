//! A `#![no_std]`, libc-free program using vspawn. Building it proves that vspawn (without its
//! `std` feature) pulls in no std and no libc, and running it proves the result works:
//!
//! 1. `#![no_std]` with our own `#[panic_handler]`: std defines the `panic_impl` lang item too,
//!    so if anything in the dependency graph linked std, this crate would not compile (error
//!    E0152, duplicate lang item). `cargo check` alone already shows it.
//! 2. Linked with `-nostdlib -nostartfiles -static` (build.rs): no libc, no C runtime; a single
//!    reference to a libc symbol would be an undefined reference at link time.
//! 3. Run (natively, or under qemu-user: the binary is static): it forks with vspawn, the child
//!    exits 42, the parent waits for it and checks the status, then exits 0.

#![no_std]
#![no_main]

use core::panic::PanicInfo;

use vspawn::clone::{Fork, fork};
use vspawn::process::exit_group;

vspawn::entry!(main);

/// Our own panic handler: the proof of step 1.
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    exit_group(101)
}

fn main(start: vspawn::entry::Start) -> i32 {
    // SAFETY: this program has one thread; the child only exits.
    let pid = match unsafe { fork() } {
        Ok(Fork::Child) => exit_group(42),
        Ok(Fork::Parent(pid)) => pid,
        Err(_) => return 1,
    };
    match vspawn::wait::wait4(pid, vspawn::wait::WaitOptions::empty(), None) {
        Ok((waited, status)) if waited == pid && status.code() == Some(42) => {}
        _ => return 2,
    }
    let name = start.args().next().map_or(&b"?"[..], |arg| arg.to_bytes());
    let _ = vspawn::fd::write_all(1, b"no_std consumer: child exited 42 as expected (argv[0] ");
    let _ = vspawn::fd::write_all(1, name);
    let _ = vspawn::fd::write_all(1, b")\n");
    0
}
