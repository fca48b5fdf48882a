//! vspawn inside a std program that did not turn on its `std` feature (so vspawn cannot catch a
//! panic), in both unwinding and `panic = "abort"` builds: a panicking vfork child must leave its
//! parent's std panic state as it was (`tests/std_consumer`, built here and run).
//!
//! Only where vfork shares memory does the check mean something: natively. Under qemu-user the
//! child is a fork's (it panics in its own copy) and in the VM there is no cargo: both skip, and
//! the same truth for the crate's own test build is checked by tests/clone.rs there.

#[macro_use]
mod common;

use std::path::Path;
use std::process::Command;

fn build_and_run(profile: &str) {
    if let Some(emulator) = common::emulator() {
        skip!("{emulator} turns vfork into fork (no shared memory); checked natively");
    }
    let Some(cargo) = option_env!("CARGO").filter(|c| Path::new(c).exists()) else {
        skip!("no cargo here (the VM): built and run natively");
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target").join("std-consumer");
    let built = Command::new(cargo)
        .args(["build", "--quiet", "--offline", "--profile", profile])
        .current_dir(root.join("tests").join("std_consumer"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        built.status.success(),
        "building the std consumer ({profile}) failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let dir = if profile == "dev" { "debug" } else { profile };
    let binary = target_dir.join(dir).join("vspawn-std-consumer");
    let out = Command::new(&binary)
        .output()
        .expect("run the std consumer");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "child: signal: 11 (SIGSEGV)\nparent panicking: false\nmutex poisoned: false\n",
        "{profile}: {out:?}"
    );
    assert_eq!(out.status.code(), Some(0), "{profile}: {out:?}");
}

#[test]
fn vfork_child_panic_leaves_the_parent_unpanicked_without_the_std_feature() {
    build_and_run("dev");
}

#[test]
fn vfork_child_panic_leaves_the_parent_unpanicked_with_panic_abort() {
    build_and_run("abort");
}
