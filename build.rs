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

/// Link arguments for the package's libc-free binaries (`vinit`, every example): `#![no_std]`
/// programs entered through `vspawn::entry!`, which defines `_start` and the C memory functions.
/// The cross gcc drivers and rustc's own lld accept the same arguments; they come after rustc's
/// own, so `-no-pie` and `-z norelro` override the `-pie` and `-z relro` it passes.
const LIBC_FREE_LINK_ARGS: &[&str] = &[
    // No C start files (whose `_start` would clash with ours) and no libc.
    "-nostdlib",
    // Static, and not position-independent: there is no dynamic loader to relocate anything.
    "-static",
    "-no-pie",
    // RELRO is applied by a loader or libc's start-up; with neither it only costs padding to a
    // page boundary (30 KiB of the 64 KiB pages aarch64 binaries are laid out for).
    "-Wl,-z,norelro",
];

/// Emits [`LIBC_FREE_LINK_ARGS`] for `vinit` and the examples, unless the `std` feature is on: std
/// needs libc, and `entry!` then defines the C `main` instead, so those binaries link as ordinary
/// programs with nothing added here.
fn libc_free_link_args() {
    let entry = env::var_os("CARGO_FEATURE_ENTRY").is_some();
    let std = env::var_os("CARGO_FEATURE_STD").is_some();
    if !entry || std {
        return;
    }
    for arg in LIBC_FREE_LINK_ARGS {
        println!("cargo::rustc-link-arg-bin=vinit={arg}");
    }
    // The published package leaves the examples out, and Cargo rejects link arguments for a
    // kind of target the package does not have.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    if Path::new(&manifest_dir).join("examples").is_dir() {
        for arg in LIBC_FREE_LINK_ARGS {
            println!("cargo::rustc-link-arg-examples={arg}");
        }
    }
}
