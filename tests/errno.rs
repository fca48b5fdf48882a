//! `Errno`: numbers, names, messages, formatting, the raw-result split and the std conversions.

#[macro_use]
mod common;

use std::io;

use vspawn::Errno;

#[test]
fn errno_numbers_match_the_platform_libc() {
    let pairs = [
        (Errno::EPERM, libc::EPERM),
        (Errno::ENOENT, libc::ENOENT),
        (Errno::ESRCH, libc::ESRCH),
        (Errno::EINTR, libc::EINTR),
        (Errno::ENOEXEC, libc::ENOEXEC),
        (Errno::EBADF, libc::EBADF),
        (Errno::ECHILD, libc::ECHILD),
        (Errno::EAGAIN, libc::EAGAIN),
        (Errno::EACCES, libc::EACCES),
        (Errno::EFAULT, libc::EFAULT),
        (Errno::ENOTDIR, libc::ENOTDIR),
        (Errno::EINVAL, libc::EINVAL),
        (Errno::EMFILE, libc::EMFILE),
        (Errno::EPIPE, libc::EPIPE),
        (Errno::ENOSYS, libc::ENOSYS),
        (Errno::ELOOP, libc::ELOOP),
        (Errno::EOPNOTSUPP, libc::EOPNOTSUPP),
        (Errno::ENOTSUP, libc::ENOTSUP),
        (Errno::EWOULDBLOCK, libc::EWOULDBLOCK),
        (Errno::EDEADLOCK, libc::EDEADLOCK),
        (Errno::EHWPOISON, libc::EHWPOISON),
    ];
    for (errno, raw) in pairs {
        assert_eq!(errno.raw(), raw, "{errno:?}");
        assert_eq!(Errno::from_raw(raw), errno);
    }
}

#[test]
fn errno_name_and_message_are_the_symbolic_ones() {
    assert_eq!(Errno::ENOENT.raw(), 2);
    assert_eq!(Errno::ENOENT.name(), Some("ENOENT"));
    assert_eq!(Errno::ENOENT.message(), Some("No such file or directory"));
    assert_eq!(Errno::EHWPOISON.name(), Some("EHWPOISON"));
    // Aliases are the same value, so they show the canonical name.
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::EWOULDBLOCK.name(), Some("EAGAIN"));
    assert_eq!(Errno::ENOTSUP.name(), Some("EOPNOTSUPP"));
    // powerpc alone gives EDEADLOCK a number of its own, 58.
    if cfg!(target_arch = "powerpc64") {
        assert_eq!(Errno::EDEADLOCK.raw(), 58);
        assert_eq!(Errno::EDEADLOCK.name(), Some("EDEADLOCK"));
    } else {
        assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    }
    // Numbers Linux does not define have neither.
    let unknown: &[i32] = if cfg!(target_arch = "powerpc64") {
        &[0, 41, 134, 4095, -1]
    } else {
        &[0, 41, 58, 134, 4095, -1]
    };
    for &raw in unknown {
        assert_eq!(Errno::from_raw(raw).name(), None, "{raw}");
        assert_eq!(Errno::from_raw(raw).message(), None, "{raw}");
    }
}

#[test]
fn errno_messages_match_the_c_library_strerror() {
    // std's io::Error renders an OS error with strerror_r: the C library's own table.
    let mut compared = 0;
    for raw in 1..=133 {
        let errno = Errno::from_raw(raw);
        let Some(message) = errno.message() else {
            continue;
        };
        // The one listed difference: glibc (2.36) has no text for powerpc's EDEADLOCK, 58
        // (strerror says "Unknown error 58"); the crate keeps the kernel header's.
        if cfg!(target_arch = "powerpc64") && raw == 58 {
            continue;
        }
        let libc_text = io::Error::from_raw_os_error(raw).to_string();
        let expected = format!("{message} (os error {raw})");
        assert_eq!(libc_text, expected, "{errno:?}");
        compared += 1;
    }
    assert_eq!(
        compared, 131,
        "every errno from 1 to 133 except 41 and 58 has a message"
    );
}

#[test]
fn errno_debug_is_the_name_and_display_adds_the_message() {
    assert_eq!(format!("{:?}", Errno::EBADF), "EBADF");
    assert_eq!(format!("{}", Errno::EBADF), "EBADF: Bad file descriptor");
    assert_eq!(format!("{:?}", Errno::from_raw(4000)), "Errno(4000)");
    assert_eq!(format!("{}", Errno::from_raw(4000)), "unknown error 4000");
    assert_eq!(format!("{:?}", Err::<(), _>(Errno::ECHILD)), "Err(ECHILD)");
}

#[test]
fn errno_result_splits_the_kernel_error_range() {
    let neg = |e: i32| (-(e as isize)) as usize;
    assert_eq!(Errno::result(0), Ok(0));
    assert_eq!(Errno::result(42), Ok(42));
    assert_eq!(Errno::result(neg(2)), Err(Errno::ENOENT));
    assert_eq!(Errno::result(neg(1)), Err(Errno::EPERM));
    assert_eq!(Errno::result(neg(4095)), Err(Errno::from_raw(4095)));
    // Just past the error range: a (huge) success value, e.g. an mmap address.
    assert_eq!(Errno::result(neg(4096)), Ok(neg(4096)));
    assert_eq!(Errno::result(usize::MAX / 2), Ok(usize::MAX / 2));
}

#[test]
fn errno_converts_to_io_error_and_back() {
    let err: io::Error = Errno::ENOENT.into();
    assert_eq!(err.raw_os_error(), Some(2));
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(
        Errno::try_from(err).map_err(|e| e.to_string()),
        Ok(Errno::ENOENT)
    );

    let err: io::Error = Errno::EACCES.into();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);

    // A non-OS io::Error is given back unchanged.
    let custom = io::Error::other("not an OS error");
    let back = Errno::try_from(custom).expect_err("no errno in a custom error");
    assert_eq!(back.to_string(), "not an OS error");
    assert_eq!(back.raw_os_error(), None);

    // `?` works across the two: a real failing call surfaces as io::Error.
    fn read_closed() -> io::Result<usize> {
        let mut buf = [0u8; 1];
        Ok(vspawn::fd::read(-1, &mut buf)?)
    }
    assert_eq!(read_closed().unwrap_err().raw_os_error(), Some(libc::EBADF));
}

#[test]
fn errno_is_a_std_error() {
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Errno::EPIPE);
    assert_eq!(boxed.to_string(), "EPIPE: Broken pipe");
    assert!(boxed.source().is_none());
    assert_eq!(boxed.downcast_ref::<Errno>(), Some(&Errno::EPIPE));
}

#[test]
fn errno_orders_and_hashes_by_number() {
    use std::collections::HashSet;
    assert!(Errno::EPERM < Errno::ENOENT);
    let set: HashSet<Errno> = [Errno::EAGAIN, Errno::EWOULDBLOCK, Errno::EINTR].into();
    assert_eq!(set.len(), 2);
}

#[test]
fn errno_kind_and_raw_os_error_answer_as_an_io_error_does() {
    use io::ErrorKind::*;
    // The kinds std users test for, exactly.
    let kinds = [
        (Errno::ENOENT, NotFound),
        (Errno::EACCES, PermissionDenied),
        (Errno::EPERM, PermissionDenied),
        (Errno::EEXIST, AlreadyExists),
        (Errno::EINVAL, InvalidInput),
        (Errno::EINTR, Interrupted),
        (Errno::EAGAIN, WouldBlock),
        (Errno::EPIPE, BrokenPipe),
        (Errno::ENOTDIR, NotADirectory),
        (Errno::EISDIR, IsADirectory),
        (Errno::ETIMEDOUT, TimedOut),
        (Errno::ENOMEM, OutOfMemory),
        (Errno::ENOSYS, Unsupported),
        (Errno::ENAMETOOLONG, InvalidFilename),
    ];
    for (errno, kind) in kinds {
        assert_eq!(errno.kind(), kind, "{errno:?}");
    }
    // Every number: the same kind and number as the io::Error made from it.
    for raw in 1..=133 {
        let errno = Errno::from_raw(raw);
        let error = io::Error::from_raw_os_error(raw);
        assert_eq!(errno.kind(), error.kind(), "{errno:?}");
        assert_eq!(errno.raw_os_error(), error.raw_os_error(), "{errno:?}");
        assert_eq!(io::Error::from(errno).kind(), errno.kind());
    }
    // Code written for io::Error reads the same with an Errno.
    let e = vspawn::spawn::Command::new("/nonexistent")
        .status()
        .unwrap_err();
    assert_eq!(e.kind(), NotFound);
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
}
