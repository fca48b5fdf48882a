//! `build.rs` refuses every target whose ABI the assembly of `arch/` was not written for, and
//! accepts the seven it was. The values are those `rustc --print cfg --target T` gives for each
//! target (what Cargo hands a build script): `aarch64_be` and the x32 ABI share `target_arch` with
//! supported targets and were accepted before, though the code assumes their opposite byte order
//! and pointer width.

#[path = "../build.rs"]
#[allow(dead_code)]
mod build_script;

use build_script::{Target, unsupported};

fn linux<'a>(arch: &'a str, endian: &'a str, pointer_width: &'a str) -> Target<'a> {
    Target {
        os: "linux",
        arch,
        endian,
        pointer_width,
        features: "",
    }
}

#[test]
fn the_seven_supported_abis_are_accepted() {
    for (arch, endian, width) in [
        ("x86_64", "little", "64"),
        ("x86", "little", "32"),
        ("aarch64", "little", "64"),
        ("arm", "little", "32"),
        ("riscv64", "little", "64"),
        ("s390x", "big", "64"),
        ("powerpc64", "little", "64"),
    ] {
        assert_eq!(unsupported(&linux(arch, endian, width)), None, "{arch}");
    }
    // armv7-unknown-linux-gnueabihf's features, ARM mode.
    let armv7 = Target {
        features: "aclass,d32,dsp,neon,thumb2,v5te,v6,v6k,v6t2,v7,vfp2,vfp3",
        ..linux("arm", "little", "32")
    };
    assert_eq!(unsupported(&armv7), None);
}

#[test]
fn aarch64_be_is_refused_for_its_byte_order() {
    let why = unsupported(&linux("aarch64", "big", "64")).expect("aarch64_be refused");
    assert!(why.contains("little-endian only"), "{why}");
}

#[test]
fn x86_64_gnux32_is_refused_for_its_pointer_width() {
    let why = unsupported(&linux("x86_64", "little", "32")).expect("x86_64 gnux32 refused");
    assert!(why.contains("64-bit pointers only"), "{why}");
}

#[test]
fn big_endian_powerpc64_and_aarch64_ilp32_are_refused() {
    assert!(unsupported(&linux("powerpc64", "big", "64")).is_some());
    assert!(unsupported(&linux("aarch64", "little", "32")).is_some());
}

#[test]
fn arm_in_thumb_mode_is_refused() {
    // thumbv7neon-unknown-linux-gnueabihf: target_arch "arm" with the thumb-mode feature.
    let thumb = Target {
        features: "aclass,thumb-mode,thumb2,v7",
        ..linux("arm", "little", "32")
    };
    let why = unsupported(&thumb).expect("Thumb refused");
    assert!(why.contains("Thumb"), "{why}");
}

#[test]
fn other_architectures_and_systems_are_refused() {
    let why = unsupported(&linux("mips64", "little", "64")).expect("mips64 refused");
    assert!(
        why.contains("no assembly for the architecture mips64"),
        "{why}"
    );
    let freebsd = Target {
        os: "freebsd",
        ..linux("x86_64", "little", "64")
    };
    assert!(unsupported(&freebsd).unwrap().contains("not linux"));
}
