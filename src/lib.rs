//! # vspawn: process creation for Linux without libc
//!
//! `vspawn` creates processes and threads with raw system calls: [`clone::fork`],
//! [`clone::vfork`], [`clone::clone`] and [`clone::clone3`] are issued by hand-written assembly
//! for x86_64, aarch64 and riscv64, and the vfork child runs on the parent's own stack, below
//! its live frames. Around them are the typed syscall wrappers a spawner needs: file
//! descriptors ([`fd`]), signals ([`signal`]), waiting and pidfds ([`wait`]), exec ([`exec`]),
//! and identity and exit ([`process`]); threads on raw clone ([`thread`]).
//!
//! The crate is `#![no_std]` and its only runtime dependencies are `sc` (syscall numbers and
//! functions, on x86_64, aarch64 and riscv64: see [`sys`] for the others), `cfg-if` and
//! `static_assertions`.
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
//! ## Features
//!
//! - `std`: `std::error::Error` for [`Errno`], `From<Errno> for std::io::Error`, and
//!   conversions between [`fd::OwnedFd`] and `std::os::fd::OwnedFd`.
//! - `alloc`: conveniences that need a heap.
//! - `entry` (default): [`entry!`], [`panic_handler!`] and the [`entry`](mod@entry) module, the
//!   program entry for `#![no_std]` binaries without libc (`vinit` is one). Inert for everything
//!   else: it only defines symbols in a binary that invokes `entry!`.
//!
//! ## Supported targets
//!
//! Linux on x86_64, aarch64 and riscv64 (`build.rs` refuses anything else).

#![no_std]
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
