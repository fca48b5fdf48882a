//! vspawn without `std` pulls in neither std nor libc: `tests/no_std_consumer` is a downstream
//! `#![no_std]` program with vspawn's panic handler (a second one, std's, would not compile),
//! linked with `-nostdlib -nostartfiles -static`; it is the crate front page's example. Here it is built for each target with the
//! cargo that runs these tests, checked to be a static executable with no program interpreter
//! and no dynamic section, and run (natively, or under qemu-user for the other architectures).
//!
//! These tests drive cargo, so they run where the tests are built (natively); elsewhere (under
//! qemu-user, in the VM) they skip visibly.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

/// Builds the consumer for `triple`; its path, or the reason it cannot be built here.
fn build(triple: &str, linker: Option<&str>) -> Result<PathBuf, String> {
    let Some(cargo) = option_env!("CARGO").filter(|c| Path::new(c).exists()) else {
        return Err("no cargo here (the VM): built and run natively".into());
    };
    if let Some(linker) = linker {
        let found = Command::new(linker).arg("--version").output();
        if !found.is_ok_and(|out| out.status.success()) {
            return Err(format!("no {linker} here (scripts/setup installs it)"));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target").join("no-std-consumer");
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--target", triple])
        .current_dir(root.join("tests").join("no_std_consumer"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the no_std consumer for {triple} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(target_dir
        .join(triple)
        .join("debug")
        .join("vspawn-no-std-consumer"))
}

/// The program header types of a 64-bit little-endian ELF executable.
fn program_header_types(elf: &[u8]) -> Vec<u32> {
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit");
    assert_eq!(
        u16::from_le_bytes([elf[16], elf[17]]),
        2,
        "ET_EXEC: not a PIE"
    );
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes([elf[0x36], elf[0x37]]) as usize;
    let phnum = u16::from_le_bytes([elf[0x38], elf[0x39]]) as usize;
    (0..phnum)
        .map(|i| {
            let at = phoff + i * phentsize;
            u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
        })
        .collect()
}

/// Builds, inspects and runs the consumer for one target.
fn check(triple: &str, linker: Option<&str>, runner: Option<&str>) {
    if let Some(emulator) = common::emulator() {
        skip!("drives cargo: built and run natively, not under {emulator}");
    }
    let binary = match build(triple, linker) {
        Ok(binary) => binary,
        Err(reason) => skip!("{reason}"),
    };
    let elf = std::fs::read(&binary).unwrap();
    let types = program_header_types(&elf);
    assert!(
        !types.contains(&PT_INTERP),
        "{triple}: has a program interpreter"
    );
    assert!(
        !types.contains(&PT_DYNAMIC),
        "{triple}: has a dynamic section"
    );

    let mut command = match runner {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.arg(&binary);
            command
        }
        None => Command::new(&binary),
    };
    let out = match command.output() {
        Ok(out) => out,
        Err(e) if runner.is_some() => skip!("cannot run {}: {e}", runner.unwrap()),
        Err(e) => panic!("run {}: {e}", binary.display()),
    };
    assert_eq!(out.status.code(), Some(0), "{triple}: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from a libc-free program\n"
    );
}

/// The code blocks of the crate's front page (src/lib.rs) that show a libc-free binary: each must
/// be the text of the consumer file this test builds and runs, so the documented program is a
/// tested one.
#[test]
fn the_front_page_shows_the_tested_consumer_word_for_word() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(lib) = std::fs::read_to_string(root.join("src/lib.rs")) else {
        skip!("no source tree here (the VM): checked where the tests are built");
    };
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match (&mut current, doc) {
            (None, "```rust,ignore") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    let consumer = root.join("tests/no_std_consumer");
    let files =
        ["src/main.rs", "build.rs"].map(|f| std::fs::read_to_string(consumer.join(f)).unwrap());
    assert_eq!(blocks, files, "src/lib.rs and tests/no_std_consumer differ");
}

#[test]
fn no_std_consumer_links_without_libc_and_runs_on_x86_64() {
    check("x86_64-unknown-linux-gnu", None, None);
}

#[test]
fn no_std_consumer_links_without_libc_and_runs_on_aarch64() {
    check(
        "aarch64-unknown-linux-gnu",
        Some("aarch64-linux-gnu-gcc"),
        Some("qemu-aarch64"),
    );
}

#[test]
fn no_std_consumer_links_without_libc_and_runs_on_riscv64() {
    check(
        "riscv64gc-unknown-linux-gnu",
        Some("riscv64-linux-gnu-gcc"),
        Some("qemu-riscv64"),
    );
}
