//! Refuses targets vspawn does not support, with one clear message, and declares the cfgs and
//! link arguments the package needs. (`tests/build_targets.rs` includes this file to test
//! [`unsupported`].)

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // The planted fault of scripts/fault-proof (a clone child clobbering its parent's stack,
    // `fault_clobber!` in arch/): a cfg that only that script sets, through RUSTFLAGS, so that no
    // crate of a build can turn it on the way it could a feature.
    println!("cargo::rustc-check-cfg=cfg(vspawn_fault_clobber)");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let target = Target {
        os: &var("CARGO_CFG_TARGET_OS"),
        arch: &var("CARGO_CFG_TARGET_ARCH"),
        endian: &var("CARGO_CFG_TARGET_ENDIAN"),
        pointer_width: &var("CARGO_CFG_TARGET_POINTER_WIDTH"),
        features: &var("CARGO_CFG_TARGET_FEATURE"),
    };
    if let Some(why) = unsupported(&target) {
        println!(
            "cargo::error=vspawn supports Linux on x86_64, i686, aarch64, armv7, riscv64, s390x and \
             powerpc64le only; target `{}` is not one of them: {why}",
            var("TARGET")
        );
    }
    libc_free_link_args();
}

/// What `unsupported` looks at: the target's `cfg` values as Cargo gives them to build scripts.
pub(crate) struct Target<'a> {
    pub(crate) os: &'a str,
    pub(crate) arch: &'a str,
    pub(crate) endian: &'a str,
    pub(crate) pointer_width: &'a str,
    /// The enabled target features, comma-separated.
    pub(crate) features: &'a str,
}

/// Why the crate cannot serve `target`, or `None` if it can. The assembly in `arch/` is written
/// for one ABI per architecture; a target of the same `target_arch` with another byte order or
/// pointer width (`aarch64_be`, the x32 ABI `x86_64-*-gnux32`, 64-bit ELFv1 big-endian
/// `powerpc64`) or instruction set (Thumb, whose frame pointer is the syscall-number register r7)
/// would compile into wrong code, so it is refused here.
pub(crate) fn unsupported(target: &Target<'_>) -> Option<String> {
    if target.os != "linux" {
        return Some(format!("the OS is {}, not linux", target.os));
    }
    // (architecture, byte order, pointer width) of each supported ABI.
    const SUPPORTED: &[(&str, &str, &str)] = &[
        ("x86_64", "little", "64"),
        ("x86", "little", "32"),
        ("aarch64", "little", "64"),
        ("arm", "little", "32"),
        ("riscv64", "little", "64"),
        ("s390x", "big", "64"),
        ("powerpc64", "little", "64"),
    ];
    let Some(&(_, endian, width)) = SUPPORTED.iter().find(|(arch, ..)| *arch == target.arch) else {
        return Some(format!("no assembly for the architecture {}", target.arch));
    };
    if target.endian != endian {
        return Some(format!(
            "{} is supported {endian}-endian only, this target is {}-endian",
            target.arch, target.endian
        ));
    }
    if target.pointer_width != width {
        return Some(format!(
            "{} is supported with {width}-bit pointers only, this target has {}-bit ones",
            target.arch, target.pointer_width
        ));
    }
    if target.arch == "arm" && target.features.split(',').any(|f| f == "thumb-mode") {
        return Some(
            "arm code in Thumb mode is not supported (r7, the syscall number \
                     register, is its frame pointer)"
                .into(),
        );
    }
    None
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
