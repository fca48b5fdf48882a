//! File descriptors: exact errors on closed fds, pipes, close-on-exec on everything the crate
//! creates, `dup3`, `close_range`, `openat`, and the owned-fd type.
//!
//! The tests of one binary run in parallel threads sharing one fd table, so a test that needs
//! "a closed fd" or "a range of fds" uses its own numbers far above the lowest free ones (which
//! the other tests get), placed there with `dup3`. That is also why the unsafe `close`, `dup3` and
//! `close_range` are sound here: each number belongs to one test, and nothing else owns it.

#[macro_use]
mod common;

use std::io::Write;

use vspawn::Errno;
use vspawn::fd::Mode;
use vspawn::fd::OFlags;
use vspawn::fd::{self, AT_FDCWD, CLOSE_RANGE_CLOEXEC, FD_CLOEXEC, OwnedFd, RawFd, oflags::*};

/// Puts a fresh inheritable copy of a pipe end at `at` (a number reserved for one test).
fn pipe_end_at(at: RawFd) -> OwnedFd {
    let (r, _w) = fd::pipe2(OFlags::empty()).expect("pipe2");
    // SAFETY: `at` is reserved for one test: nothing owns it.
    assert_eq!(
        unsafe { fd::dup3(r.as_raw_fd(), at, OFlags::empty()) },
        Ok(at)
    );
    // SAFETY: `at` was just created by dup3 and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(at) }
}

#[test]
fn read_write_close_dup3_on_a_closed_fd_give_ebadf() {
    let closed = pipe_end_at(700).into_raw_fd();
    // SAFETY (every unsafe call of this test): the numbers are this test's own (see the top).
    assert_eq!(unsafe { fd::close(closed) }, Ok(()));
    let mut buf = [0u8; 8];
    assert_eq!(fd::read(closed, &mut buf), Err(Errno::EBADF));
    assert_eq!(fd::write(closed, b"x"), Err(Errno::EBADF));
    assert_eq!(unsafe { fd::close(closed) }, Err(Errno::EBADF));
    assert_eq!(
        unsafe { fd::dup3(closed, 701, OFlags::empty()) },
        Err(Errno::EBADF)
    );
    assert_eq!(fd::get_fd_flags(closed), Err(Errno::EBADF));
    assert_eq!(fd::set_fd_flags(closed, FD_CLOEXEC), Err(Errno::EBADF));
    // dup3 onto a number past the fd limit is EBADF as well.
    let (r, _w) = fd::pipe2(OFlags::empty()).unwrap();
    assert_eq!(
        unsafe { fd::dup3(r.as_raw_fd(), i32::MAX, OFlags::empty()) },
        Err(Errno::EBADF)
    );
    // Negative numbers are never open.
    assert_eq!(fd::read(-1, &mut buf), Err(Errno::EBADF));
    assert_eq!(unsafe { fd::close(-1) }, Err(Errno::EBADF));
}

#[test]
fn pipe_round_trip_carries_bytes_then_end_of_file() {
    let (r, w) = fd::pipe2(OFlags::empty()).expect("pipe2");
    assert_eq!(fd::write(w.as_raw_fd(), b"hello"), Ok(5));
    fd::write_all(w.as_raw_fd(), b", world").unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(12));
    assert_eq!(&buf[..12], b"hello, world");
    drop(w);
    // No test in this binary forks, so no copy of the write end lives on: end of file.
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(0));
}

#[test]
fn nonblocking_pipe_read_with_no_data_is_eagain() {
    let (r, _w) = fd::pipe2(O_NONBLOCK).expect("pipe2");
    let mut buf = [0u8; 4];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Err(Errno::EAGAIN));
}

#[test]
fn write_to_a_pipe_without_reader_is_epipe() {
    // std ignores SIGPIPE in test binaries, so the write fails instead of killing us.
    let (r, w) = fd::pipe2(OFlags::empty()).expect("pipe2");
    drop(r);
    assert_eq!(fd::write(w.as_raw_fd(), b"x"), Err(Errno::EPIPE));
}

#[test]
fn pipe2_ends_are_close_on_exec() {
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(FD_CLOEXEC));
    assert_eq!(fd::get_fd_flags(w.as_raw_fd()), Ok(FD_CLOEXEC));
    let (r, w) = fd::pipe2(O_NONBLOCK).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(FD_CLOEXEC));
    assert_eq!(fd::get_fd_flags(w.as_raw_fd()), Ok(FD_CLOEXEC));
}

#[test]
fn pipe2_inheritable_ends_are_not_close_on_exec_unless_asked() {
    let (r, w) = fd::pipe2_inheritable(OFlags::empty()).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(0));
    assert_eq!(fd::get_fd_flags(w.as_raw_fd()), Ok(0));
    let (r, w) = fd::pipe2_inheritable(O_CLOEXEC).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(FD_CLOEXEC));
    assert_eq!(fd::get_fd_flags(w.as_raw_fd()), Ok(FD_CLOEXEC));
}

#[test]
fn openat_fd_is_close_on_exec_and_inheritable_variant_is_not() {
    let f = fd::openat(AT_FDCWD, c"/dev/null", O_RDONLY, Mode::empty()).expect("open /dev/null");
    assert_eq!(fd::get_fd_flags(f.as_raw_fd()), Ok(FD_CLOEXEC));
    let f = fd::openat_inheritable(AT_FDCWD, c"/dev/null", O_WRONLY, Mode::empty()).unwrap();
    assert_eq!(fd::get_fd_flags(f.as_raw_fd()), Ok(0));
    assert_eq!(fd::write(f.as_raw_fd(), b"discarded"), Ok(9));
}

#[test]
fn pidfd_open_fd_is_close_on_exec() {
    let pidfd =
        vspawn::wait::pidfd_open(vspawn::process::getpid(), vspawn::wait::PidFdFlags::empty())
            .expect("pidfd_open");
    assert_eq!(fd::get_fd_flags(pidfd.as_raw_fd()), Ok(FD_CLOEXEC));
}

#[test]
fn set_fd_flags_round_trips_close_on_exec() {
    let (r, _w) = fd::pipe2(OFlags::empty()).unwrap();
    fd::set_fd_flags(r.as_raw_fd(), 0).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(0));
    fd::set_fd_flags(r.as_raw_fd(), FD_CLOEXEC).unwrap();
    assert_eq!(fd::get_fd_flags(r.as_raw_fd()), Ok(FD_CLOEXEC));
}

#[test]
fn openat_errors_are_exact() {
    assert_eq!(
        fd::openat(
            AT_FDCWD,
            c"/nonexistent-vspawn/file",
            O_RDONLY,
            Mode::empty()
        )
        .map(drop),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fd::openat(
            AT_FDCWD,
            c"/dev/null",
            O_RDONLY | O_DIRECTORY,
            Mode::empty()
        )
        .map(drop),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        fd::openat(AT_FDCWD, c"/dev/null/x", O_RDONLY, Mode::empty()).map(drop),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        fd::openat(
            AT_FDCWD,
            c"/dev/null",
            O_WRONLY | O_CREAT | O_EXCL,
            Mode::from_bits_retain(0o600)
        )
        .map(drop),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        fd::openat(-1, c"relative", O_RDONLY, Mode::empty()).map(drop),
        Err(Errno::EBADF)
    );
}

#[test]
fn openat_relative_to_a_directory_fd_creates_and_reads_back() {
    let dir = common::scratch_dir("openat");
    let dirfd = fd::openat(
        AT_FDCWD,
        &common::cstring(&dir),
        O_RDONLY | O_DIRECTORY,
        Mode::empty(),
    )
    .unwrap();
    let f = fd::openat(
        dirfd.as_raw_fd(),
        c"data",
        O_RDWR | O_CREAT | O_EXCL | O_TRUNC,
        Mode::from_bits_retain(0o600),
    )
    .expect("create in dir");
    fd::write_all(f.as_raw_fd(), b"abc").unwrap();
    drop(f);
    assert_eq!(std::fs::read(dir.join("data")).unwrap(), b"abc");
    let f = fd::openat(dirfd.as_raw_fd(), c"data", O_RDONLY, Mode::empty()).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(fd::read(f.as_raw_fd(), &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dup3_copies_onto_the_given_number_with_only_the_asked_flags() {
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    // SAFETY (every unsafe call of this test): 710 and 711 are this test's own numbers.
    // Onto a free number: returns it, not close-on-exec although the original is.
    assert_eq!(
        unsafe { fd::dup3(w.as_raw_fd(), 710, OFlags::empty()) },
        Ok(710)
    );
    assert_eq!(fd::get_fd_flags(710), Ok(0));
    // With O_CLOEXEC, onto a number that is open: it is replaced silently.
    assert_eq!(unsafe { fd::dup3(w.as_raw_fd(), 710, O_CLOEXEC) }, Ok(710));
    assert_eq!(fd::get_fd_flags(710), Ok(FD_CLOEXEC));
    // The copy writes into the same pipe.
    assert_eq!(fd::write(710, b"via dup"), Ok(7));
    let mut buf = [0u8; 16];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(7));
    assert_eq!(&buf[..7], b"via dup");
    unsafe { fd::close(710) }.unwrap();
    // Same old and new, or a flag other than O_CLOEXEC: EINVAL.
    assert_eq!(
        unsafe { fd::dup3(w.as_raw_fd(), w.as_raw_fd(), OFlags::empty()) },
        Err(Errno::EINVAL)
    );
    assert_eq!(
        unsafe { fd::dup3(w.as_raw_fd(), 711, O_NONBLOCK) },
        Err(Errno::EINVAL)
    );
    assert_eq!(fd::get_fd_flags(711), Err(Errno::EBADF));
}

#[test]
fn close_range_closes_exactly_the_range() {
    let fds: Vec<RawFd> = (720..=725).map(|n| pipe_end_at(n).into_raw_fd()).collect();
    // SAFETY (every unsafe call of this test): 720..=731 are this test's own numbers.
    unsafe { fd::close_range(721, 724, 0) }.expect("close_range");
    assert_eq!(fd::get_fd_flags(720), Ok(0));
    for n in 721..=724 {
        assert_eq!(fd::get_fd_flags(n), Err(Errno::EBADF), "fd {n}");
    }
    assert_eq!(fd::get_fd_flags(725), Ok(0));
    unsafe { fd::close(720) }.unwrap();
    unsafe { fd::close(725) }.unwrap();
    assert_eq!(fds, (720..=725).collect::<Vec<_>>());
    // first > last is EINVAL (nothing is closed); an unknown flag too.
    assert_eq!(unsafe { fd::close_range(5, 4, 0) }, Err(Errno::EINVAL));
    assert_eq!(
        unsafe { fd::close_range(730, 731, 1 << 30) },
        Err(Errno::EINVAL)
    );
}

#[test]
fn close_range_cloexec_marks_exactly_the_range_and_closes_nothing() {
    for n in 740..=745 {
        let _ = pipe_end_at(n).into_raw_fd();
        assert_eq!(fd::get_fd_flags(n), Ok(0));
    }
    // SAFETY (every unsafe call of this test): 740..=745 are this test's own numbers.
    unsafe { fd::close_range(741, 744, CLOSE_RANGE_CLOEXEC) }.expect("close_range CLOEXEC");
    assert_eq!(fd::get_fd_flags(740), Ok(0));
    for n in 741..=744 {
        assert_eq!(fd::get_fd_flags(n), Ok(FD_CLOEXEC), "fd {n}");
    }
    assert_eq!(fd::get_fd_flags(745), Ok(0));
    unsafe { fd::close_range(740, 745, 0) }.unwrap();
    for n in 740..=745 {
        assert_eq!(fd::get_fd_flags(n), Err(Errno::EBADF), "fd {n}");
    }
}

#[test]
fn owned_fd_closes_on_drop_and_into_raw_keeps_it_open() {
    let owned = pipe_end_at(750);
    assert_eq!(owned.as_raw_fd(), 750);
    assert_eq!(format!("{owned:?}"), "OwnedFd(750)");
    drop(owned);
    assert_eq!(fd::get_fd_flags(750), Err(Errno::EBADF));

    let raw = pipe_end_at(751).into_raw_fd();
    assert_eq!(raw, 751);
    assert_eq!(fd::get_fd_flags(751), Ok(0));
    // SAFETY: `into_raw_fd` gave us the ownership of 751.
    unsafe { fd::close(751) }.unwrap();
}

#[test]
fn owned_fd_close_reports_and_dup_from_replaces_in_place() {
    // The safe forms of close and dup3: ownership proves that no one else uses the number.
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let mut target = pipe_end_at(755);
    target
        .dup_from(w.as_raw_fd(), OFlags::empty())
        .expect("dup_from");
    assert_eq!(target.as_raw_fd(), 755, "the number stays");
    assert_eq!(fd::get_fd_flags(755), Ok(0));
    assert_eq!(
        fd::write(755, b"dup"),
        Ok(3),
        "755 is now the pipe's write end"
    );
    let mut buf = [0u8; 4];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(3));
    target
        .dup_from(w.as_raw_fd(), O_CLOEXEC)
        .expect("dup_from O_CLOEXEC");
    assert_eq!(fd::get_fd_flags(755), Ok(FD_CLOEXEC));
    assert_eq!(
        target.dup_from(755, OFlags::empty()),
        Err(Errno::EINVAL),
        "onto itself"
    );
    assert_eq!(target.close(), Ok(()));
    assert_eq!(fd::get_fd_flags(755), Err(Errno::EBADF));
}

#[test]
fn owned_fd_converts_to_and_from_std() {
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let raw_w = w.as_raw_fd();
    let std_w: std::os::fd::OwnedFd = w.into();
    let mut file = std::fs::File::from(std_w);
    file.write_all(b"from std").unwrap();
    let back: OwnedFd = std::os::fd::OwnedFd::from(file).into();
    assert_eq!(back.as_raw_fd(), raw_w);
    {
        use std::os::fd::{AsFd, AsRawFd};
        assert_eq!(AsRawFd::as_raw_fd(&back), raw_w);
        assert_eq!(back.as_fd().as_raw_fd(), raw_w);
    }
    let mut buf = [0u8; 16];
    assert_eq!(fd::read(r.as_raw_fd(), &mut buf), Ok(8));
    assert_eq!(&buf[..8], b"from std");
}

#[test]
fn open_flags_match_the_platform_libc() {
    let pairs = [
        ("O_RDONLY", O_RDONLY, libc::O_RDONLY),
        ("O_WRONLY", O_WRONLY, libc::O_WRONLY),
        ("O_RDWR", O_RDWR, libc::O_RDWR),
        ("O_CREAT", O_CREAT, libc::O_CREAT),
        ("O_EXCL", O_EXCL, libc::O_EXCL),
        ("O_NOCTTY", O_NOCTTY, libc::O_NOCTTY),
        ("O_TRUNC", O_TRUNC, libc::O_TRUNC),
        ("O_APPEND", O_APPEND, libc::O_APPEND),
        ("O_NONBLOCK", O_NONBLOCK, libc::O_NONBLOCK),
        ("O_DIRECTORY", O_DIRECTORY, libc::O_DIRECTORY),
        ("O_NOFOLLOW", O_NOFOLLOW, libc::O_NOFOLLOW),
        ("O_CLOEXEC", O_CLOEXEC, libc::O_CLOEXEC),
        ("O_PATH", O_PATH, libc::O_PATH),
    ];
    for (name, ours, theirs) in pairs {
        assert_eq!(ours.bits(), theirs as u32, "{name}");
    }
    assert_eq!(FD_CLOEXEC, libc::FD_CLOEXEC as u32);
    assert_eq!(CLOSE_RANGE_CLOEXEC, libc::CLOSE_RANGE_CLOEXEC);
    assert_eq!(fd::CLOSE_RANGE_UNSHARE, libc::CLOSE_RANGE_UNSHARE);
    assert_eq!(AT_FDCWD, libc::AT_FDCWD);
}

#[test]
fn o_nofollow_refuses_a_final_symlink_with_eloop() {
    let dir = common::scratch_dir("nofollow");
    let link = dir.join("link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let link = common::cstring(&link);
    assert_eq!(
        fd::openat(AT_FDCWD, &link, O_RDONLY | O_NOFOLLOW, Mode::empty()).map(drop),
        Err(Errno::ELOOP)
    );
    // Followed, it opens /dev/null; and O_PATH|O_NOFOLLOW opens the link itself.
    assert!(fd::openat(AT_FDCWD, &link, O_RDONLY, Mode::empty()).is_ok());
    assert!(fd::openat(AT_FDCWD, &link, O_PATH | O_NOFOLLOW, Mode::empty()).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
