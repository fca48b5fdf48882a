//! Picks this target's file from `arch/`, where all of the crate's assembly lives.
//!
//! Every file there defines the same items: the `clone` and `clone3` trampolines, the
//! `_start` macro and the C memory functions (feature `entry`), `NO_THREAD_POINTER` (the TLS
//! value of a child that must have no thread pointer) and, where the kernel `sigaction` has the
//! field (all but riscv64), the signal restorer constant; the files of the architectures `sc`
//! cannot serve (i686, arm, s390x, powerpc64) also define the syscall functions and numbers (see
//! `crate::sys`). Adding an architecture means one file there and one
//! line here.

/// `fault_clobber!("INSTRUCTIONS\n")` in a clone child's path, before it calls its function:
/// the instructions with the test-only cfg `vspawn_fault_clobber` (set by scripts/fault-proof
/// alone, in RUSTFLAGS), nothing otherwise. Each architecture's instructions overwrite the word at
/// the stack pointer the child inherited (on i686, the top of the caller's stack, 16 bytes above:
/// the trampoline's own block lies below it): for a vfork child, the bottom of the parent's live
/// frame. They prove that the stack-bounds tests can fail; only a child sharing memory can do this
/// damage.
#[cfg(vspawn_fault_clobber)]
macro_rules! fault_clobber {
    ($instructions:literal) => {
        $instructions
    };
}
#[cfg(not(vspawn_fault_clobber))]
macro_rules! fault_clobber {
    ($instructions:literal) => {
        ""
    };
}

cfg_if::cfg_if! {
    if #[cfg(target_arch = "x86_64")] {
        #[path = "../arch/x86_64.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "aarch64")] {
        #[path = "../arch/aarch64.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "riscv64")] {
        #[path = "../arch/riscv64.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "x86")] {
        #[path = "../arch/i686.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "arm")] {
        #[path = "../arch/arm.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "s390x")] {
        #[path = "../arch/s390x.rs"]
        pub(crate) mod imp;
    } else if #[cfg(target_arch = "powerpc64")] {
        #[path = "../arch/powerpc64.rs"]
        pub(crate) mod imp;
    }
}

pub(crate) use imp::*;
