//! A program without libc whose child tasks panic: shows (and tests/entry.rs checks) that a panic
//! in a child task ends that task alone and leaves the parent's state as it was.
//!
//! 1. A `vspawn::thread` panics: the panic handler prints its message and ends that thread
//!    alone; `join` returns 127 and the program goes on.
//! 2. A `vfork` child panics: the handler ends the child (a process of its own) with 101; the
//!    parent, whose memory the child shared, goes on.
//! 3. The main thread panics last: its message is printed (the children's panics left nothing
//!    behind that would silence it) and the process exits with 101.
//!
//! Each step prints one line to standard output; the panic messages go to standard error.

#![no_std]
#![no_main]

use vspawn::entry::Start;
use vspawn::fd::write_all;

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(_start: Start) -> i32 {
    // SAFETY: the closure touches no thread-locals (this program has none) and panics, which in a
    // libc-free program ends only the thread.
    let thread = unsafe { vspawn::thread::spawn(|| panic!("panic in a thread")) };
    match thread {
        Ok(handle) => say("thread", handle.join()),
        Err(_) => return 1,
    }
    let mut child = || -> i32 { panic!("panic in a vfork child") };
    // SAFETY: the child makes no allocation, takes no lock and uses no thread-local; its panic
    // ends it through the panic handler's exit_group.
    let Ok(pid) = (unsafe { vspawn::clone::vfork(&mut child) }) else {
        return 2;
    };
    match vspawn::wait::wait4(pid, vspawn::wait::WaitOptions::empty(), None) {
        Ok((_, status)) => say("vfork child", status.code().unwrap_or(-1)),
        Err(_) => return 3,
    }
    panic!("panic in the main thread");
}

/// Writes `<what> ended with <status>` and a newline to standard output.
fn say(what: &str, status: i32) {
    let mut digits = [0u8; 11];
    let mut n = status.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if status < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    for piece in [what.as_bytes(), b" ended with ", &digits[at..], b"\n"] {
        let _ = write_all(1, piece);
    }
}
