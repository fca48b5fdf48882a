//! A program without libc: it prints its arguments, one environment variable and the page size
//! with raw `write` calls, and exits with the number of its arguments as its status.
//!
//! ```text
//! $ NOLIBC_HELLO=hi cargo run --example nolibc_hello -- one 'two words'
//! argv[0] = "target/debug/examples/nolibc_hello"
//! argv[1] = "one"
//! argv[2] = "two words"
//! NOLIBC_HELLO = "hi"
//! page size = 4096
//! ```
//!
//! With `--panic` as its first argument it panics after printing, to show the panic handler of
//! `vspawn::panic_handler!` (the message on standard error, exit status 101).
//!
//! The binary is static and links no libc (`file`, `ldd` and `nm` confirm it); see
//! `vspawn::entry` for how it is built.

#![no_std]
#![no_main]

use core::fmt::{self, Write};

use vspawn::entry::Start;

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(start: Start) -> i32 {
    let mut out = Stdout;
    for (i, arg) in start.args().enumerate() {
        let _ = writeln!(out, "argv[{i}] = {arg:?}");
    }
    let _ = match start.getenv("NOLIBC_HELLO") {
        Some(value) => writeln!(out, "NOLIBC_HELLO = {value:?}"),
        None => writeln!(out, "NOLIBC_HELLO is not set"),
    };
    let _ = writeln!(out, "page size = {}", start.page_size().unwrap_or(0));
    let args = start.argc().saturating_sub(1);
    if start.arg(1).is_some_and(|arg| arg.to_bytes() == b"--panic") {
        panic!("asked to panic, with {args} arguments");
    }
    args as i32
}

/// Standard output, written with raw `write` calls: one per formatted piece.
struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        vspawn::fd::write_all(1, s.as_bytes()).map_err(|_| fmt::Error)
    }
}
