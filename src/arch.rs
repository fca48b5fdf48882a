//! Picks this target's file from `arch/`, where all of the crate's assembly lives.
//!
//! Every file there defines the same items: the `clone` and `clone3` trampolines, the
//! `_start` macro (feature `entry`), `NO_THREAD_POINTER` (the TLS value of a child that must have
//! no thread pointer) and, where the kernel `sigaction` has the field (x86_64,
//! aarch64), the signal restorer constant. Adding an architecture means one file there and one
//! line here.

cfg_if::cfg_if! {
    if #[cfg(target_arch = "x86_64")] {
        #[path = "../arch/x86_64.rs"]
        mod imp;
    } else if #[cfg(target_arch = "aarch64")] {
        #[path = "../arch/aarch64.rs"]
        mod imp;
    } else if #[cfg(target_arch = "riscv64")] {
        #[path = "../arch/riscv64.rs"]
        mod imp;
    }
}

pub(crate) use imp::*;
