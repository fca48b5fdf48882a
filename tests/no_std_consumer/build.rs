//! Links the program without libc and without the C start files, statically: any symbol only
//! libc (or std) could provide would be an undefined reference and fail the link.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for arg in [
        "-nostdlib",
        "-nostartfiles",
        "-static",
        "-no-pie",
        "-Wl,-z,norelro",
    ] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
}
