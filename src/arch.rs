//! Picks this target's file from `arch/`, where all of the crate's assembly lives.
//!
//! Every file there defines the same items: the `clone` and `clone3` trampolines, the
//! `_start` macro and the C memory functions (feature `entry`), `NO_THREAD_POINTER` (the TLS
//! value of a child that must have no thread pointer) and, where the kernel `sigaction` has the
//! field (all but riscv64), the signal restorer constant; the files of the architectures `sc`
//! cannot serve (i686, arm, s390x, powerpc64) also define the syscall functions and numbers (see
//! `crate::sys`). Adding an architecture means one file there and one
//! line here.

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
