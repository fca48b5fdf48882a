//! `Command`'s defaults, printed by a child: the environment it inherited and its signal mask and
//! ignored signals (`/proc/self/status`). tests/entry.rs builds this program twice, libc-free
//! (features `entry,alloc`) and as an ordinary std program (features `entry,std`), runs both in
//! the same situation and checks that their children saw the same: enabling `std` does not
//! change what `Command::new` means.
//!
//! A libc-free program that uses `Command` needs a global allocator: this one has a small bump
//! allocator over a static array (it never frees; a short-lived program can afford it).

#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use vspawn::entry::Start;
use vspawn::spawn::Command;

vspawn::entry!(main);
vspawn::panic_handler!();

fn main(_start: Start) -> i32 {
    let script = "env | LC_ALL=C sort; exec grep -E '^(SigBlk|SigIgn):' /proc/self/status";
    match Command::new("/bin/sh").args(["-c", script]).status() {
        Ok(status) => status.code().unwrap_or(128),
        Err(_) => 127,
    }
}

/// A bump allocator over 1 MiB of static memory.
struct Bump {
    heap: UnsafeCell<[u8; 1 << 20]>,
    used: AtomicUsize,
}

// SAFETY: `used` hands out each byte of `heap` once, atomically.
unsafe impl Sync for Bump {}

// SAFETY: every block returned lies in `heap`, is aligned as asked, and is never handed out twice.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.heap.get() as usize;
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let start = (base + used).next_multiple_of(layout.align()) - base;
            let end = start + layout.size();
            if end > 1 << 20 {
                return core::ptr::null_mut();
            }
            match self
                .used
                .compare_exchange(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (base + start) as *mut u8,
                Err(now) => used = now,
            }
        }
    }

    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static HEAP: Bump = Bump {
    heap: UnsafeCell::new([0; 1 << 20]),
    used: AtomicUsize::new(0),
};
