//! Thread stacks are laid out in the kernel's real pages (`AT_PAGESZ`): the guard is one page,
//! and every byte of the requested size is usable. With 4 KiB assumed, a 16 KiB-page kernel
//! (Debian's `arm64-16k`, Asahi) turned the guard's `mprotect` into a 16 KiB hole at the bottom
//! of every stack, and a one-page stack into one with no usable byte. Checked natively, under
//! qemu-user and in the VMs, the 16 KiB-page aarch64 VM among them.

#[macro_use]
mod common;

use std::hint::black_box;

use vspawn::thread::{self, DEFAULT_STACK_SIZE, MIN_STACK_SIZE};

/// Recurses `depth` times with 4 KiB of locals per frame; returns `depth + 1`.
#[inline(never)]
fn recurse(depth: u32) -> u32 {
    let mut frame = [0u8; 4096];
    for (i, byte) in frame.iter_mut().enumerate() {
        // SAFETY: a plain write to a local.
        unsafe { std::ptr::write_volatile(byte, i as u8 ^ depth as u8) };
    }
    black_box(&mut frame);
    if depth == 0 {
        1
    } else {
        recurse(depth - 1) + u32::from(frame[1] == 1 ^ depth as u8)
    }
}

#[test]
fn page_size_is_the_kernels() {
    // SAFETY: sysconf has no preconditions.
    let expected = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    assert_eq!(vspawn::sys::page_size(), expected);
    // The VM with a 16 KiB-page kernel says so (scripts/vm/run puts it on the command line).
    if let Ok(vm_page) = std::env::var("VSPAWN_VM_PAGE_SIZE") {
        assert_eq!(vspawn::sys::page_size().to_string(), vm_page);
    }
}

#[test]
fn the_default_stack_holds_its_whole_size() {
    // 15 frames of 4 KiB and a little: 61 KiB of the 64 KiB asked for.
    assert_eq!(DEFAULT_STACK_SIZE, 64 * 1024);
    // SAFETY: the closure only recurses on its own stack.
    let handle = unsafe { thread::spawn(|| recurse(black_box(14)) as i32) }.expect("spawn");
    assert_eq!(handle.join(), 15);
}

#[test]
fn a_stack_of_the_minimum_size_runs_a_thread() {
    for size in [1, MIN_STACK_SIZE, MIN_STACK_SIZE + 1] {
        // SAFETY: the closure only returns a value.
        let handle = unsafe { thread::spawn_with_stack_size(size, || 7) }.expect("spawn");
        assert_eq!(handle.join(), 7, "stack of {size} bytes");
    }
    // A requested size is usable whole: 3 frames of 4 KiB in 16 KiB.
    // SAFETY: the closure only recurses on its own stack.
    let handle = unsafe { thread::spawn_with_stack_size(16 * 1024, || recurse(2) as i32) };
    assert_eq!(handle.expect("spawn").join(), 3);
}

#[test]
fn overflowing_a_thread_stack_hits_the_guard_page() {
    if common::qemu_user_major().is_some() {
        skip!(
            "qemu-user cannot start threads in a fork child of a threaded process (measured, see the README): checked natively and in the VMs"
        );
    }
    // In a child process: the overflow kills it with SIGSEGV instead of writing below the stack.
    let status = common::run_in_child(|| {
        // SAFETY: the closure recurses until the guard page stops it.
        match unsafe {
            thread::spawn_with_stack_size(64 * 1024, || recurse(black_box(1000)) as i32)
        } {
            Ok(handle) => handle.join(),
            Err(_) => 100,
        }
    });
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
}
