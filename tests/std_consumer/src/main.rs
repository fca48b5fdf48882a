//! A std program whose vfork child panics, with vspawn built without its `std` feature (so it
//! cannot catch the panic) and, in the `abort` profile, with `panic = "abort"`. std counts
//! panics in memory and thread-locals the vfork child shares with its suspended parent: the
//! child must not be able to leave them raised. It prints one line per check and exits 0 when
//! every check holds, else the number of the first failed check.

use std::hint::black_box;
use std::sync::Mutex;

fn main() {
    let mut child = || -> i32 {
        if black_box(true) {
            panic!("deliberate panic in a vfork child");
        }
        0
    };
    // SAFETY: the child allocates nothing and takes no lock before it panics; the panic is the
    // behaviour under test.
    let pid = unsafe { vspawn::clone::vfork(&mut child) }.expect("vfork");
    let (_, status) = vspawn::wait::wait4(pid, vspawn::wait::WaitOptions::empty(), None).expect("wait4");
    println!("child: {status}");
    if status.signal() != Some(vspawn::signal::Signal::SIGSEGV.raw()) {
        std::process::exit(1);
    }
    println!("parent panicking: {}", std::thread::panicking());
    if std::thread::panicking() {
        std::process::exit(2);
    }
    let mutex = Mutex::new(0);
    drop(mutex.lock().unwrap());
    println!("mutex poisoned: {}", mutex.is_poisoned());
    if mutex.is_poisoned() {
        std::process::exit(3);
    }
}
