//! Refuses targets vspawn does not support, with one clear message, and declares the cfgs and
//! link arguments the package needs.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let supported_arch = matches!(arch.as_str(), "x86_64" | "aarch64" | "riscv64");
    if os != "linux" || !supported_arch {
        let target = env::var("TARGET").unwrap_or_default();
        println!(
            "cargo::error=vspawn supports Linux on x86_64, aarch64 and riscv64 only; \
             target `{target}` is {os}/{arch}"
        );
    }
    libc_free_link_args();
}

/// Link arguments for the package's libc-free binaries (every example; `vinit`): `#![no_std]`
/// programs entered through `vspawn::entry!`, which defines `_start` and the C memory functions.
/// They are linked statically and not position-independent (nothing would relocate them: there
/// is no dynamic loader), without the C start files (whose `_start` would clash with ours) and
/// without libc (`-nostdlib` drops both). The cross gcc drivers and rustc's own lld accept the
/// same arguments; `-no-pie` overrides the `-pie` rustc passes.
///
/// With the `std` feature, std needs libc and `entry!` defines the C `main` instead: those
/// binaries then link as ordinary programs, with nothing added here.
fn libc_free_link_args() {
    let entry = env::var_os("CARGO_FEATURE_ENTRY").is_some();
    let std = env::var_os("CARGO_FEATURE_STD").is_some();
    if !entry || std {
        return;
    }
    // The published package leaves the examples out, and Cargo rejects link arguments for a
    // kind of target the package does not have.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    if Path::new(&manifest_dir).join("examples").is_dir() {
        for arg in ["-nostdlib", "-static", "-no-pie"] {
            println!("cargo::rustc-link-arg-examples={arg}");
        }
    }
}
