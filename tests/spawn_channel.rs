//! The adaptive error channel, from the first spawn of a process on.
//!
//! One test in its own binary, so that its first spawn is the first of the process (the one
//! that learns whether vfork children share memory here) and so that it may lower the fd limit
//! of the whole process.
//!
//! Which channel was learned is seen from outside: with no fd left to allocate, a spawn that
//! needs a pipe fails with EMFILE, while the shared-memory channel needs no fd at all.

#[macro_use]
mod common;

use vspawn::Errno;
use vspawn::fd::Mode;
use vspawn::fd::{self, oflags::O_RDONLY};
use vspawn::process::{self, Rlimit, rlimit::RLIMIT_NOFILE};
use vspawn::spawn::{Attributes, CStrArray, Program, Spawn};

fn spawn(program: &std::ffi::CStr, attrs: Attributes<'_>) -> vspawn::Result<Option<i32>> {
    let mut slots = [std::ptr::null(); 2];
    let argv = CStrArray::new(&[program], &mut slots).unwrap();
    Spawn::new(Program::Path(program), argv, CStrArray::empty())
        .attrs(attrs)
        .spawn()
        .and_then(|mut child| child.wait().map(|s| s.code()))
}

#[test]
fn first_spawn_learns_the_channel_and_every_spawn_reports_its_exact_errno() {
    let none = Attributes::default();
    // A regular file that is no program (EACCES).
    let plain = common::scratch_dir("channel").join("plain-file");
    std::fs::write(&plain, "just data\n").unwrap();
    let plain = common::cstring(&plain);
    // The very first spawn of the process fails: its errno arrives all the same.
    assert_eq!(spawn(c"/nonexistent/first", none), Err(Errno::ENOENT));
    for i in 0..100 {
        assert_eq!(
            spawn(c"/nonexistent/x", none),
            Err(Errno::ENOENT),
            "spawn #{i}"
        );
        assert_eq!(spawn(&plain, none), Err(Errno::EACCES), "spawn #{i}");
    }
    assert_eq!(spawn(c"/bin/true", none), Ok(Some(0)));
    common::assert_no_children();

    // No fd can be allocated any more: the soft limit is the lowest free number.
    let lowest_free = fd::openat(fd::AT_FDCWD, c"/dev/null", O_RDONLY, Mode::empty())
        .unwrap()
        .as_raw_fd();
    let ours = process::prlimit(0, RLIMIT_NOFILE, None).unwrap();
    let starved = Rlimit {
        cur: lowest_free as u64,
        max: ours.max,
    };
    // The child gets its limit back before it execs.
    let restore = [(RLIMIT_NOFILE, ours)];
    let attrs = Attributes::new().rlimits(&restore);
    process::prlimit(0, RLIMIT_NOFILE, Some(&starved)).unwrap();
    let proof = fd::openat(fd::AT_FDCWD, c"/dev/null", O_RDONLY, Mode::empty()).map(drop);
    let ok = spawn(c"/bin/true", attrs);
    let failed = spawn(c"/nonexistent/x", attrs);
    process::prlimit(0, RLIMIT_NOFILE, Some(&ours)).unwrap();

    assert_eq!(proof, Err(Errno::EMFILE), "the limit does not starve us");
    if common::vfork_shares_memory() {
        // Shared memory: the spawn needs no fd, and the errno still arrives.
        assert_eq!(ok, Ok(Some(0)));
        assert_eq!(failed, Err(Errno::ENOENT));
    } else {
        // A pipe per spawn (qemu-user): without an fd for it there is no spawn.
        assert_eq!(ok, Err(Errno::EMFILE));
        assert_eq!(failed, Err(Errno::EMFILE));
    }
    common::assert_no_children();
}
