//! # vspawn: process creation for Linux without libc
//!
//! `vspawn` creates processes and threads with raw system calls: [`clone::fork`],
//! [`clone::vfork`], [`clone::clone`] and [`clone::clone3`] are issued by hand-written assembly for
//! each architecture, and the vfork child runs on the parent's own stack, below its live frames. On
//! top: [`spawn::Spawn`], a posix_spawn-grade spawner that allocates nothing and returns the exact
//! errno of a failed exec on every platform; [`Command`][command-page], std's process builder on
//! it; threads ([`thread`]); waiting and pidfds ([`wait`]); typed wrappers of the other syscalls a
//! spawner needs ([`fd`], [`signal`], [`process`], [`exec`]); and [`entry!`][entry-page], the
//! program entry of a binary without libc.
//!
//! The crate is `#![no_std]`; its runtime dependencies are `sc` (syscall numbers and instructions,
//! on x86_64, aarch64 and riscv64: see [`sys`] for the others), `cfg-if` and `static_assertions`.
//!
//! # Three ways in
//!
//! **std's `Command`**, with std's names and meaning (feature `alloc`; `std` for the conversions
//! from std's types). Its differences from std are listed on its page.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use vspawn::spawn::{Command, Stdio};
//!
//! let out = Command::new("sh").args(["-c", "echo hi; exit 3"]).stdout(Stdio::piped()).output()?;
//! assert_eq!(out.status.code(), Some(3));
//! assert_eq!(out.stdout, b"hi\n");
//! // A missing program is an error of spawn, with its errno, on every platform.
//! assert_eq!(Command::new("/nonexistent").status().unwrap_err(), vspawn::Errno::ENOENT);
//! # }
//! # Ok::<(), vspawn::Errno>(())
//! ```
//!
//! **The zero-allocation [`Spawn`](spawn::Spawn)**, for `#![no_std]` code with or without an
//! allocator: everything is borrowed, and the vfork-style child runs on the caller's stack.
//!
//! ```
//! use vspawn::fd::{Mode, oflags::*};
//! use vspawn::spawn::{Attributes, CStrArray, FileAction, Program, Spawn};
//!
//! let mut slots = [core::ptr::null(); 4];
//! let argv = CStrArray::new(&[c"sh", c"-c", c"echo quiet; exit 4"], &mut slots)?;
//! // stdout to /dev/null, in a new session, with an empty environment.
//! let null = FileAction::Open { fd: 1, path: c"/dev/null", flags: O_WRONLY, mode: Mode::empty() };
//! let mut child = Spawn::new(Program::Search(c"sh"), argv, CStrArray::empty())
//!     .actions(&[null])
//!     .attrs(Attributes::new().setsid(true))
//!     .spawn()?;
//! assert_eq!(child.wait()?.code(), Some(4));
//! # Ok::<(), vspawn::Errno>(())
//! ```
//!
//! **A binary without libc**, entered through [`entry!`][entry-page]: `_start`, the C memory
//! functions and the panic handler come from vspawn. This program (`tests/no_std_consumer` in the
//! repository, built and run by the test suite on every architecture) runs `echo` and exits with
//! its status:
//!
//! ```rust,ignore
//! //! A program without std and without libc: it runs `echo` with its own environment and exits
//! //! with echo's status. Built with no std in the graph (a second panic handler would not even
//! //! compile), linked with no libc (build.rs), run natively and under qemu-user by tests/no_std.rs.
//!
//! #![no_std]
//! #![no_main]
//!
//! use vspawn::entry::Start;
//! use vspawn::spawn::{CStrArray, Program, Spawn};
//!
//! vspawn::entry!(main);
//! vspawn::panic_handler!();
//!
//! fn main(start: Start) -> i32 {
//!     let mut slots = [core::ptr::null(); 3];
//!     let Ok(argv) = CStrArray::new(&[c"echo", c"hello from a libc-free program"], &mut slots) else {
//!         return 125;
//!     };
//!     // Nothing allocated: the request borrows the arguments and the environment.
//!     let spawned = Spawn::new(Program::Search(c"echo"), argv, start.environ()).spawn();
//!     match spawned.and_then(|mut child| child.wait()) {
//!         Ok(status) => status.code().unwrap_or(128),
//!         Err(errno) => errno.raw(),
//!     }
//! }
//! ```
//!
//! It needs `panic = "abort"` in its profiles and these link arguments, from its `build.rs` (without
//! them the C start files' `_start` clashes with vspawn's: `duplicate symbol: _start`):
//!
//! ```rust,ignore
//! //! Links the binaries of this package without libc and without the C start files, statically.
//!
//! fn main() {
//!     for arg in ["-nostdlib", "-nostartfiles", "-static", "-no-pie", "-Wl,-z,norelro"] {
//!         println!("cargo::rustc-link-arg-bins={arg}");
//!     }
//! }
//! ```
//!
//! # Errors
//!
//! Every fallible call returns [`Result`], whose error is an [`Errno`]:
//!
//! ```
//! use vspawn::{Errno, fd};
//!
//! let mut buf = [0u8; 4];
//! assert_eq!(fd::read(-1, &mut buf), Err(Errno::EBADF));
//! ```
//!
//! # Features
//!
//! - `alloc`: [`Command`][command-page] and the other conveniences that need a heap.
//! - `std` (implies `alloc`): `std::error::Error` and `std::io::Error` for [`Errno`], conversions
//!   between this crate's fds and std's, `Command` arguments from `OsStr`, `Path` and friends.
//! - `entry` (default): [`entry!`][entry-page], [`panic_handler!`][panic-page] and the `entry`
//!   module. Inert for everything else: it only defines symbols in a binary that invokes `entry!`.
//!
//! Features only add: code that compiles without one means the same with it (the test suite runs
//! every combination, and checks that `Command`'s defaults are the same with and without std).
//! What `std` must change, it changes here: std brings libc, its start-up and its panic handler,
//! so a binary cannot be libc-free once std is anywhere in its dependency graph; `entry!` then
//! defines the C `main` instead of `_start` (the program runs the same, under libc) and
//! `panic_handler!` expands to nothing (std's handler is used).
//!
//! # Supported targets
//!
//! Linux on x86_64, aarch64, riscv64 and the other architectures `build.rs` accepts; it refuses any
//! other target with one message.
//!
//! [command-page]: https://docs.rs/vspawn/latest/vspawn/spawn/struct.Command.html
//! [entry-page]: https://docs.rs/vspawn/latest/vspawn/macro.entry.html
//! [panic-page]: https://docs.rs/vspawn/latest/vspawn/macro.panic_handler.html

// The front page links to `Command`, `entry!`, `panic_handler!` and the `entry` module on docs.rs
// (built with `std`): a feature combination without them would have no link target here.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod arch;
mod bits;
pub mod clone;
#[cfg(feature = "entry")]
#[cfg_attr(docsrs, doc(cfg(feature = "entry")))]
pub mod entry;
pub mod errno;
pub mod exec;
pub mod fd;
pub mod process;
pub mod signal;
pub mod spawn;
pub mod sys;
pub mod thread;
pub mod wait;

pub use errno::{Errno, Result};
