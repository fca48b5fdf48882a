//! Checks the C memory functions that `vspawn::entry!` defines in a libc-free binary (`memcpy`,
//! `memmove`, `memset`, `memcmp`, `bcmp`, `strlen`, all assembly in `arch/`) against plain
//! byte-by-byte references, over every length up to 70 and every alignment up to 8, overlaps in
//! both directions included. Prints `memcheck: N checks passed` and exits 0, or prints the first
//! failure and exits 1. `tests/entry.rs` runs it on every target.
//!
//! The functions are called through their C symbols, so that the compiler cannot replace a call
//! with inline code; the references read and write through volatile accesses, so that the
//! compiler cannot turn them into calls to the functions under test.

#![no_std]
#![no_main]

use core::ffi::c_char;
use core::fmt::{self, Write};
use core::ptr::{read_volatile, write_volatile};

use vspawn::entry::Start;

vspawn::entry!(main);
vspawn::panic_handler!();

unsafe extern "C" {
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8;
    fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
    fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32;
    fn strlen(s: *const c_char) -> usize;
}

const MAX_LEN: usize = 70;
const MAX_ALIGN: usize = 8;
const MOVE_OFFSETS: usize = 24;
const BUF: usize = MAX_LEN + MOVE_OFFSETS + MAX_ALIGN;

fn main(_: Start) -> i32 {
    let mut checks = 0u32;
    let result = check_memcpy(&mut checks)
        .and_then(|()| check_memmove(&mut checks))
        .and_then(|()| check_memset(&mut checks))
        .and_then(|()| check_memcmp(&mut checks))
        .and_then(|()| check_strlen(&mut checks));
    let mut out = Stdout;
    match result {
        Ok(()) => {
            let _ = writeln!(out, "memcheck: {checks} checks passed");
            0
        }
        Err(failure) => {
            let _ = writeln!(out, "memcheck: FAILED {failure}");
            1
        }
    }
}

/// What failed, for the report.
struct Failure {
    function: &'static str,
    len: usize,
    dst: usize,
    src: usize,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Failure {
            function,
            len,
            dst,
            src,
        } = self;
        write!(
            f,
            "{function}: len {len}, destination offset {dst}, source offset {src}"
        )
    }
}

fn fail(function: &'static str, len: usize, dst: usize, src: usize) -> Result<(), Failure> {
    Err(Failure {
        function,
        len,
        dst,
        src,
    })
}

/// A recognisable byte for position `i` of buffer number `seed`, never 0.
fn pattern(seed: usize, i: usize) -> u8 {
    ((seed * 31 + i * 7) % 251 + 1) as u8
}

fn fill(buf: &mut [u8; BUF], seed: usize) {
    for i in 0..BUF {
        set(buf, i, pattern(seed, i));
    }
}

fn byte(buf: &[u8; BUF], i: usize) -> u8 {
    assert!(i < BUF);
    // SAFETY: `i` is in bounds.
    unsafe { read_volatile(buf.as_ptr().add(i)) }
}

fn set(buf: &mut [u8; BUF], i: usize, value: u8) {
    assert!(i < BUF);
    // SAFETY: `i` is in bounds.
    unsafe { write_volatile(buf.as_mut_ptr().add(i), value) };
}

fn check_memcpy(checks: &mut u32) -> Result<(), Failure> {
    let (mut src, mut dst) = ([0u8; BUF], [0u8; BUF]);
    for len in 0..=MAX_LEN {
        for s in 0..MAX_ALIGN {
            for d in 0..MAX_ALIGN {
                fill(&mut src, 1);
                fill(&mut dst, 2);
                // SAFETY: both ranges lie inside their buffers, which do not overlap.
                let ret = unsafe { memcpy(dst.as_mut_ptr().add(d), src.as_ptr().add(s), len) };
                let copied = (0..len).all(|i| byte(&dst, d + i) == pattern(1, s + i));
                let rest = (0..BUF)
                    .filter(|&i| i < d || i >= d + len)
                    .all(|i| byte(&dst, i) == pattern(2, i));
                if ret != dst.as_mut_ptr().wrapping_add(d) || !copied || !rest {
                    return fail("memcpy", len, d, s);
                }
                *checks += 1;
            }
        }
    }
    Ok(())
}

fn check_memmove(checks: &mut u32) -> Result<(), Failure> {
    // Source and destination in one buffer, up to MOVE_OFFSETS apart in either direction:
    // disjoint, overlapping with the destination below the source, above it, and identical.
    let mut buf = [0u8; BUF];
    for len in 0..=MAX_LEN {
        for s in 0..MOVE_OFFSETS {
            for d in 0..MOVE_OFFSETS {
                fill(&mut buf, 3);
                // SAFETY: both ranges lie inside `buf`; memmove allows them to overlap.
                let ret = unsafe { memmove(buf.as_mut_ptr().add(d), buf.as_ptr().add(s), len) };
                let moved = (0..len).all(|i| byte(&buf, d + i) == pattern(3, s + i));
                let rest = (0..BUF)
                    .filter(|&i| i < d || i >= d + len)
                    .all(|i| byte(&buf, i) == pattern(3, i));
                if ret != buf.as_mut_ptr().wrapping_add(d) || !moved || !rest {
                    return fail("memmove", len, d, s);
                }
                *checks += 1;
            }
        }
    }
    Ok(())
}

fn check_memset(checks: &mut u32) -> Result<(), Failure> {
    let mut buf = [0u8; BUF];
    // Only the low byte of `c` counts: 0x1A5 fills with 0xA5, -1 with 0xFF.
    for (c, expected) in [(0, 0u8), (0x5A, 0x5A), (0x1A5, 0xA5), (-1, 0xFF)] {
        for len in 0..=MAX_LEN {
            for d in 0..MAX_ALIGN {
                fill(&mut buf, 4);
                // SAFETY: the range lies inside `buf`.
                let ret = unsafe { memset(buf.as_mut_ptr().add(d), c, len) };
                let set = (0..len).all(|i| byte(&buf, d + i) == expected);
                let rest = (0..BUF)
                    .filter(|&i| i < d || i >= d + len)
                    .all(|i| byte(&buf, i) == pattern(4, i));
                if ret != buf.as_mut_ptr().wrapping_add(d) || !set || !rest {
                    return fail("memset", len, d, 0);
                }
                *checks += 1;
            }
        }
    }
    Ok(())
}

fn check_memcmp(checks: &mut u32) -> Result<(), Failure> {
    let (mut a, mut b) = ([0u8; BUF], [0u8; BUF]);
    for len in 0..=MAX_LEN {
        for s in 0..MAX_ALIGN {
            for d in 0..MAX_ALIGN {
                fill(&mut a, 5);
                for i in 0..BUF {
                    // `b` holds `a`'s bytes shifted so that the compared ranges are equal.
                    let shifted = if i + s >= d {
                        pattern(5, i + s - d)
                    } else {
                        0xEE
                    };
                    set(&mut b, i, shifted);
                }
                let compare = |a: &[u8; BUF], b: &[u8; BUF]| {
                    let (pa, pb) = (a.as_ptr().wrapping_add(s), b.as_ptr().wrapping_add(d));
                    // SAFETY: both ranges lie inside their buffers.
                    unsafe { (memcmp(pa, pb, len), bcmp(pa, pb, len)) }
                };
                if compare(&a, &b) != (0, 0) {
                    return fail("memcmp/bcmp (equal)", len, d, s);
                }
                if len > 0 {
                    // A difference at the last position, compared as unsigned chars: 0x80 is
                    // above every byte below it.
                    let last = d + len - 1;
                    set(&mut b, last, 0x80);
                    let expected = (byte(&a, s + len - 1) as i32 - 0x80).signum();
                    let (cmp, bcmp_result) = compare(&a, &b);
                    if cmp.signum() != expected || (bcmp_result == 0) != (expected == 0) {
                        return fail("memcmp/bcmp (differ at the end)", len, d, s);
                    }
                    set(&mut b, last, 0x00);
                    if compare(&a, &b).0 <= 0 {
                        return fail("memcmp (greater)", len, d, s);
                    }
                    // A difference at the first byte decides, whatever follows.
                    set(&mut b, d, 0xFF);
                    if compare(&a, &b).0 >= 0 {
                        return fail("memcmp (less, first byte)", len, d, s);
                    }
                }
                *checks += 1;
            }
        }
    }
    Ok(())
}

fn check_strlen(checks: &mut u32) -> Result<(), Failure> {
    let mut buf = [0u8; BUF];
    for len in 0..=MAX_LEN {
        for s in 0..MAX_ALIGN {
            fill(&mut buf, 6);
            set(&mut buf, s + len, 0); // The pattern has no other 0.
            // SAFETY: a NUL-terminated string inside `buf`.
            if unsafe { strlen(buf.as_ptr().add(s).cast()) } != len {
                return fail("strlen", len, 0, s);
            }
            *checks += 1;
        }
    }
    Ok(())
}

/// Standard output, written with raw `write` calls.
struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        vspawn::fd::write_all(1, s.as_bytes()).map_err(|_| fmt::Error)
    }
}
