//! A clone child that shares our memory must never write at or above the stack pointer it
//! starts with: that memory is the parent's (its live frames, for a vfork child on the parent's
//! own stack). Checked with a child given a stack inside a buffer we watch, with canary words just
//! above the top. Only a child sharing memory could damage them, so this runs natively and in the
//! VMs; under qemu-user vfork is a fork and the check would be empty.

#[macro_use]
mod common;

use vspawn::clone::{clone, flags::CLONE_VFORK, flags::CLONE_VM};
use vspawn::signal::Signal;

/// Words of the buffer the child uses as its stack, and canary words above it.
const STACK_WORDS: usize = 4096;
const CANARY_WORDS: usize = 8;

extern "C" fn child_returns_5(_: usize) -> i32 {
    5
}

fn canary(i: usize) -> u128 {
    0xc0de_0000_0000_0000_0000_0000_0000_0000 | i as u128
}

#[test]
fn vfork_child_writes_nothing_at_or_above_its_initial_stack_pointer() {
    require_shared_vfork!();
    let mut area = vec![0u128; STACK_WORDS + CANARY_WORDS];
    for i in 0..CANARY_WORDS {
        area[STACK_WORDS + i] = canary(i);
    }
    let top = area.as_mut_ptr().wrapping_add(STACK_WORDS).cast::<u8>();
    let null = std::ptr::null_mut();
    let flags = CLONE_VM | CLONE_VFORK;
    // SAFETY: CLONE_VFORK keeps us suspended while the child runs on `area`, below `top`; `area`
    // outlives it; the child only returns a constant.
    let pid = unsafe {
        clone(
            flags,
            Some(Signal::SIGCHLD),
            Some(top),
            null,
            null,
            0,
            child_returns_5,
            0,
        )
    }
    .expect("clone");
    assert_eq!(common::wait_child(pid).code(), Some(5));
    for i in 0..CANARY_WORDS {
        // SAFETY: a plain read; volatile so the check cannot be folded into the writes above.
        let word = unsafe { std::ptr::read_volatile(&area[STACK_WORDS + i]) };
        assert_eq!(
            word,
            canary(i),
            "canary word {i} above the child's stack top was written"
        );
    }
}
