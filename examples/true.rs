//! `true` without libc: a static program whose whole life is `execve` and `exit_group(0)`.
//!
//! The spawn benchmarks (`benches/spawn.rs`) run it so that what they time is the spawn, not
//! the dynamic loader and libc start-up of `/bin/true` (which add about as many system calls as
//! the spawn itself). Built like every example of this package: statically, without the C start
//! files or libc (see `vspawn::entry`).
//!
//! ```text
//! $ cargo build --release --example true && target/release/examples/true; echo $?
//! 0
//! ```

#![no_std]
#![no_main]

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(_start: vspawn::entry::Start) -> i32 {
    0
}
