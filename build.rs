//! Refuses targets vspawn does not support, with one clear message, and declares the cfgs and
//! link arguments the package needs.

use std::env;
use std::fs;
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
    // No `.note.gnu.build-id` (and its program header): the ID names a build for finding its
    // separate debug information, which these small stripped programs are not shipped with.
    "-Wl,--build-id=none",
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
    let mut args: Vec<String> = LIBC_FREE_LINK_ARGS.iter().map(|&arg| arg.into()).collect();
    // Debuggers and profilers walk the stack with the unwind tables: a profile with debug
    // information (`dev`) keeps them.
    if env::var("DEBUG").as_deref() == Ok("false") {
        let out_dir = env::var_os("OUT_DIR").unwrap_or_default();
        let script = Path::new(&out_dir).join(NO_UNWIND_TABLES);
        if let Err(e) = fs::write(&script, NO_UNWIND_TABLES_SCRIPT) {
            println!("cargo::error=cannot write {}: {e}", script.display());
            return;
        }
        args.push(format!("-Wl,-T,{}", script.display()));
    }
    for arg in &args {
        println!("cargo::rustc-link-arg-bin=vinit={arg}");
    }
    // The published package leaves the examples out, and Cargo rejects link arguments for a
    // kind of target the package does not have.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    if Path::new(&manifest_dir).join("examples").is_dir() {
        for arg in &args {
            println!("cargo::rustc-link-arg-examples={arg}");
        }
    }
}

/// The linker script, written to `OUT_DIR`, that [`NO_UNWIND_TABLES_SCRIPT`] is.
const NO_UNWIND_TABLES: &str = "no-unwind-tables.ld";

/// For profiles without debug information: discards the unwind tables (`.eh_frame`,
/// `.eh_frame_hdr`) and the toolchain's version strings (`.comment`). A `panic = "abort"`
/// binary never unwinds, and without libc nothing else reads the tables; they come mostly from
/// the precompiled `core`, built with unwind tables whatever the binary's own
/// `-C force-unwind-tables` says, and were a fifth of stripped `vinit`. `INSERT AFTER .text`
/// makes this an addition to the linker's default script rather than a replacement, for GNU ld
/// and lld alike.
const NO_UNWIND_TABLES_SCRIPT: &str = "\
SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) *(.comment) } } INSERT AFTER .text;
";
