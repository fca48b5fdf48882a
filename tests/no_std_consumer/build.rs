//! Links the binaries of this package without libc and without the C start files, statically.

fn main() {
    for arg in ["-nostdlib", "-nostartfiles", "-static", "-no-pie", "-Wl,-z,norelro"] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
}
