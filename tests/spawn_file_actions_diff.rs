//! File actions against glibc's `posix_spawn` file actions, on random sequences.
//!
//! Each case is a random sequence of `dup2`, `close`, `open`, `chdir`, `fchdir` and `closefrom`
//! over the fds 0-2 and 40-48, swaps and cycles included, applied to the same starting fd table
//! (this process's: fds 40-46 opened on files, directories and a pipe, some close-on-exec) once
//! by `Spawn` and once by glibc (`posix_spawn_file_actions_add*`). The child, `head -c 1 FIFO`, is
//! looked at from outside while it waits on the FIFO: every fd with its target, flags and
//! offset, and its working directory. The two must be the same, or differ only as documented:
//!
//! - a run of consecutive `Dup2` is one simultaneous assignment in vspawn (see
//!   `FileAction::Dup2`), one `dup2` after the other in glibc. Where a `Dup2` of a run reads an
//!   fd an earlier one of the run replaced, vspawn's result is compared with glibc running the
//!   sequence rewritten to say the same thing sequentially (the sources copied away first), and
//!   vspawn running the sequence with its runs broken is compared with glibc running it as is;
//! - `Open` with `O_CLOEXEC` stays close-on-exec in vspawn; glibc loses the flag when the file
//!   was not opened at the wanted number directly (its `dup2` clears it), so the program may
//!   get the fd from glibc and never from vspawn (see `FileAction::Open`).
//!
//! A failing action fails both spawns with the same errno (under qemu-user glibc's
//! `posix_spawn` reports success and its child exits 127: there, only the failure is compared).
//!
//! Seeded with a small PRNG: the seed is printed on failure (`VSPAWN_FILE_ACTIONS_SEED` replays
//! it, `VSPAWN_FILE_ACTIONS_CASES` sets the count). 2000 cases natively; 400 under qemu-user,
//! where each of glibc's spawns is an emulated fork of the whole test process; 250 in the VM,
//! whose emulated CPU makes every spawn slow (about 15 s there).

#[macro_use]
mod common;

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vspawn::Errno;
use vspawn::fd::{Mode, OFlags, oflags};
use vspawn::spawn::{CStrArray, FileAction, Program, Spawn};

/// The fds the actions use: stdio and 40-48.
const FDS: [i32; 12] = [0, 1, 2, 40, 41, 42, 43, 44, 45, 46, 47, 48];
/// Never open: a `close` of it ends a run of `Dup2` and does nothing else.
const RUN_BREAK: i32 = 59;
/// Where the sequential rewrite keeps the sources of a run (above every fd in use).
const SAVED: i32 = 60;

/// The paths `open` and `chdir` use, relative to the case's starting directory or absolute
/// below it (`$D`): existing files and directories, and a missing name.
const PATHS: [&str; 9] = [
    "a", "b", "d0", "d0/a", "d1/b", "$D/d2/a", "$D/d1", "missing", "../a",
];
const DIRS: [&str; 6] = ["d0", "d1", "$D/d2", "..", "missing", "$D"];

/// Open flags, by name, as each side spells them.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Flags {
    Read,
    WriteAppend,
    ReadWrite,
    Directory,
    CreateExisting,
    ReadCloexec,
}

impl Flags {
    fn vspawn(self) -> OFlags {
        match self {
            Flags::Read => oflags::O_RDONLY,
            Flags::WriteAppend => oflags::O_WRONLY | oflags::O_APPEND,
            Flags::ReadWrite => oflags::O_RDWR,
            Flags::Directory => oflags::O_RDONLY | oflags::O_DIRECTORY,
            Flags::CreateExisting => oflags::O_WRONLY | oflags::O_CREAT,
            Flags::ReadCloexec => oflags::O_RDONLY | oflags::O_CLOEXEC,
        }
    }

    fn libc(self) -> i32 {
        match self {
            Flags::Read => libc::O_RDONLY,
            Flags::WriteAppend => libc::O_WRONLY | libc::O_APPEND,
            Flags::ReadWrite => libc::O_RDWR,
            Flags::Directory => libc::O_RDONLY | libc::O_DIRECTORY,
            Flags::CreateExisting => libc::O_WRONLY | libc::O_CREAT,
            Flags::ReadCloexec => libc::O_RDONLY | libc::O_CLOEXEC,
        }
    }
}

/// One action, over paths given as indices into [`PATHS`] / [`DIRS`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Dup2(i32, i32),
    Close(i32),
    Open(i32, usize, Flags),
    Chdir(usize),
    Fchdir(i32),
    CloseFrom(i32),
}

/// splitmix64: small, seedable, good enough to pick actions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn fd(&mut self) -> i32 {
        FDS[self.below(FDS.len())]
    }
}

/// A random sequence of 1 to 6 actions. dup2 is the most frequent, so that runs, swaps and
/// cycles come often, and the sources and directories are mostly ones that exist, so that most
/// cases reach the exec (a failing case compares only the errno).
fn random_case(rng: &mut Rng) -> Vec<Action> {
    let len = 1 + rng.below(6);
    // Mostly fds that are open at the start (0-2, 40-46), sometimes any.
    let source = |rng: &mut Rng| {
        if rng.below(8) == 0 {
            rng.fd()
        } else {
            FDS[rng.below(FDS.len() - 2)]
        }
    };
    let mut actions = Vec::new();
    while actions.len() < len {
        if rng.below(4) == 0 {
            // A run of 2 to 4 dup2 among 3 fds: swaps and cycles.
            let pool = [rng.fd(), source(rng), source(rng)];
            for _ in 0..2 + rng.below(3) {
                actions.push(Action::Dup2(pool[rng.below(3)], pool[rng.below(3)]));
            }
            continue;
        }
        actions.push(match rng.below(16) {
            0..=7 => Action::Dup2(source(rng), rng.fd()),
            8 | 9 => Action::Close(rng.fd()),
            10..=12 => {
                let flags = [
                    Flags::Read,
                    Flags::WriteAppend,
                    Flags::ReadWrite,
                    Flags::Directory,
                    Flags::CreateExisting,
                    Flags::ReadCloexec,
                ][rng.below(6)];
                let path = match flags {
                    // O_CREAT only on names that exist: the two spawns must see the same files.
                    Flags::CreateExisting => [0, 1, 3, 4][rng.below(4)],
                    // Mostly directories.
                    Flags::Directory if rng.below(4) != 0 => [2, 6][rng.below(2)],
                    _ => rng.below(PATHS.len()),
                };
                Action::Open(rng.fd(), path, flags)
            }
            13 => Action::Chdir(rng.below(DIRS.len())),
            // Mostly the two directories of the starting table.
            14 => Action::Fchdir(if rng.below(3) == 0 {
                rng.fd()
            } else {
                42 + rng.below(2) as i32
            }),
            _ => Action::CloseFrom([0, 2, 41, 44, 47][rng.below(5)]),
        });
    }
    actions
}

/// The indices of the `Dup2` of `actions` that read an fd an earlier `Dup2` of the same run
/// replaced: where simultaneous and sequential assignment differ.
fn cycle_sources(actions: &[Action]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut run_start = 0;
    for (i, action) in actions.iter().enumerate() {
        match *action {
            Action::Dup2(src, _) => {
                let replaced = actions[run_start..i]
                    .iter()
                    .any(|a| matches!(*a, Action::Dup2(_, dst) if dst == src));
                if replaced {
                    found.push(i);
                }
            }
            _ => run_start = i + 1,
        }
    }
    found
}

/// `actions` with every run of `Dup2` broken into single ones: sequential assignment.
fn runs_broken(actions: &[Action]) -> Vec<Action> {
    let mut out = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        if i > 0 && matches!(action, Action::Dup2(..)) && matches!(actions[i - 1], Action::Dup2(..))
        {
            out.push(Action::Close(RUN_BREAK));
        }
        out.push(*action);
    }
    out
}

/// `actions` with each run of `Dup2` rewritten as a sequential program with the same meaning as
/// the simultaneous assignment: the sources a run replaces are copied to [`SAVED`]`+k` first,
/// read from there, and closed after the run.
fn runs_made_sequential(actions: &[Action]) -> Vec<Action> {
    let cycles = cycle_sources(actions);
    let mut out = Vec::new();
    let mut i = 0;
    while i < actions.len() {
        if !matches!(actions[i], Action::Dup2(..)) {
            out.push(actions[i]);
            i += 1;
            continue;
        }
        let end = (i..actions.len())
            .find(|&j| !matches!(actions[j], Action::Dup2(..)))
            .unwrap_or(actions.len());
        let saved: Vec<usize> = cycles
            .iter()
            .copied()
            .filter(|&c| c >= i && c < end)
            .collect();
        for (k, &c) in saved.iter().enumerate() {
            let Action::Dup2(src, _) = actions[c] else {
                unreachable!()
            };
            out.push(Action::Dup2(src, SAVED + k as i32));
        }
        for (j, action) in actions.iter().enumerate().take(end).skip(i) {
            let Action::Dup2(src, dst) = *action else {
                unreachable!()
            };
            match saved.iter().position(|&c| c == j) {
                Some(k) => out.push(Action::Dup2(SAVED + k as i32, dst)),
                None => out.push(Action::Dup2(src, dst)),
            }
        }
        for k in 0..saved.len() {
            out.push(Action::Close(SAVED + k as i32));
        }
        i = end;
    }
    out
}

/// The fds that may legitimately be present after glibc and absent after vspawn: those whose
/// last writer, following `actions` sequentially, was an `Open` with `O_CLOEXEC` at that number.
fn cloexec_opens(actions: &[Action]) -> Vec<i32> {
    let mut from_cloexec_open: Vec<i32> = Vec::new();
    for action in actions {
        match *action {
            Action::Dup2(src, dst) => {
                // A copy is never close-on-exec (and dup2 onto itself clears the flag).
                let _ = src;
                from_cloexec_open.retain(|&fd| fd != dst);
            }
            Action::Close(fd) => from_cloexec_open.retain(|&f| f != fd),
            Action::Open(fd, _, flags) => {
                from_cloexec_open.retain(|&f| f != fd);
                if flags == Flags::ReadCloexec {
                    from_cloexec_open.push(fd);
                }
            }
            Action::CloseFrom(first) => from_cloexec_open.retain(|&f| f < first),
            Action::Chdir(_) | Action::Fchdir(_) => {}
        }
    }
    from_cloexec_open
}

// ---- Running a case -------------------------------------------------------------------------

/// The starting fd table and the files and directories of the cases.
struct Fixture {
    dir: PathBuf,
    fifo: CString,
    /// `head`, which opens its file before it touches its stdio (cat checks its stdout first,
    /// and a table without fd 1 would end it before it opens the FIFO), and, given nothing to
    /// read, writes nothing (the files the table shares with us must not move).
    head: CString,
    /// Our fds 40-46, kept open for the whole test.
    _fds: Vec<OwnedFd>,
    /// Our stdio, /dev/null for the test's duration (the programs write to whatever fd 1 they
    /// get: not the test's output), restored when dropped.
    _stdio: StdioOnNull,
}

/// Our fds 0-2 moved away and /dev/null in their place, until dropped.
struct StdioOnNull([OwnedFd; 3]);

impl StdioOnNull {
    fn new() -> StdioOnNull {
        use std::os::fd::FromRawFd;
        let keep = |fd: i32| {
            // SAFETY: a close-on-exec copy of our fd, owned by the guard.
            let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100) };
            assert!(copy >= 0);
            // SAFETY: just made.
            unsafe { OwnedFd::from_raw_fd(copy) }
        };
        let saved = [keep(0), keep(1), keep(2)];
        for (fd, flags) in [
            (0, libc::O_RDONLY),
            (1, libc::O_WRONLY),
            (2, libc::O_WRONLY),
        ] {
            // SAFETY: /dev/null onto our own stdio, which the guard gives back.
            unsafe {
                let null = libc::open(c"/dev/null".as_ptr(), flags | libc::O_CLOEXEC);
                assert!(null >= 0);
                assert_eq!(libc::dup2(null, fd), fd);
                libc::close(null);
            }
        }
        StdioOnNull(saved)
    }
}

impl Drop for StdioOnNull {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        for (fd, saved) in self.0.iter().enumerate() {
            // SAFETY: our original stdio back in place.
            unsafe { libc::dup2(saved.as_raw_fd(), fd as i32) };
        }
    }
}

impl Fixture {
    fn new() -> Fixture {
        let dir = common::scratch_dir("spawn_file_actions_diff");
        for sub in ["d0", "d1", "d2"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for file in ["a", "b"] {
                std::fs::write(dir.join(sub).join(file), "").unwrap();
            }
        }
        for file in ["a", "b"] {
            std::fs::write(dir.join(file), "").unwrap();
        }
        let fifo = dir.join("fifo");
        let fifo = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        let _ = std::fs::remove_file(dir.join("fifo"));
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
        // The relative paths of the cases start here.
        std::env::set_current_dir(&dir).unwrap();
        let open = |path: &Path, flags: i32, at: i32| -> OwnedFd {
            use std::os::fd::FromRawFd;
            let c = CString::new(path.as_os_str().as_bytes()).unwrap();
            // SAFETY: plain open, then dup3 onto a number this test owns (checked free below).
            unsafe {
                let fd = libc::open(c.as_ptr(), flags | libc::O_CLOEXEC);
                assert!(fd >= 0, "open {path:?}");
                assert_eq!(
                    libc::fcntl(at, libc::F_GETFD),
                    -1,
                    "fd {at} is already open"
                );
                let cloexec = flags & libc::O_CLOEXEC;
                assert_eq!(libc::dup3(fd, at, cloexec), at);
                libc::close(fd);
                OwnedFd::from_raw_fd(at)
            }
        };
        let mut fds = vec![
            open(&dir.join("d0/a"), libc::O_RDONLY, 40),
            open(&dir.join("d1/b"), libc::O_WRONLY | libc::O_APPEND, 41),
            open(&dir.join("d1"), libc::O_RDONLY | libc::O_DIRECTORY, 42),
            open(&dir.join("d2"), libc::O_RDONLY | libc::O_DIRECTORY, 43),
            open(&dir.join("d0/b"), libc::O_RDWR | libc::O_CLOEXEC, 44),
            open(&dir.join("d2/a"), libc::O_RDONLY | libc::O_CLOEXEC, 45),
        ];
        // 46: the read end of a pipe, inheritable.
        let mut pipe = [0; 2];
        // SAFETY: pipe2 writes two fds.
        assert_eq!(
            unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: we own both ends; 46 is checked free.
        unsafe {
            use std::os::fd::FromRawFd;
            assert_eq!(libc::fcntl(46, libc::F_GETFD), -1, "fd 46 is already open");
            assert_eq!(libc::dup3(pipe[0], 46, 0), 46);
            libc::close(pipe[0]);
            fds.push(OwnedFd::from_raw_fd(46));
            fds.push(OwnedFd::from_raw_fd(pipe[1]));
        }
        for fd in [47, 48, RUN_BREAK] {
            // SAFETY: F_GETFD on a number, no other effect.
            assert_eq!(
                unsafe { libc::fcntl(fd, libc::F_GETFD) },
                -1,
                "fd {fd} is open"
            );
        }
        let head = ["/bin/head", "/usr/bin/head"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("no head");
        Fixture {
            _stdio: StdioOnNull::new(),
            dir,
            fifo,
            head: CString::new(head).unwrap(),
            _fds: fds,
        }
    }

    /// A path of [`PATHS`]/[`DIRS`] with `$D` replaced.
    fn path(&self, path: &str) -> CString {
        let d = self.dir.to_str().unwrap();
        CString::new(path.replace("$D", d)).unwrap()
    }
}

/// What a spawn did: the errno it failed with (`Some(None)` when only the failure is known),
/// or the child's fd table and directory.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Failed(Option<i32>),
    /// The program ran but ended without opening the FIFO: its wait status.
    Ended(i32),
    Ran {
        fds: Vec<(i32, String)>,
        cwd: String,
    },
}

/// Runs `actions` through vspawn.
fn run_vspawn(fx: &Fixture, actions: &[Action]) -> Outcome {
    let paths: Vec<CString> = PATHS.iter().map(|p| fx.path(p)).collect();
    let dirs: Vec<CString> = DIRS.iter().map(|p| fx.path(p)).collect();
    let actions: Vec<FileAction<'_>> = actions
        .iter()
        .map(|a| match *a {
            Action::Dup2(src, dst) => FileAction::Dup2 { src, dst },
            Action::Close(fd) => FileAction::Close(fd),
            Action::Open(fd, path, flags) => FileAction::Open {
                fd,
                path: &paths[path],
                flags: flags.vspawn(),
                mode: Mode::from_bits_retain(0o644),
            },
            Action::Chdir(dir) => FileAction::Chdir(&dirs[dir]),
            Action::Fchdir(fd) => FileAction::Fchdir(fd),
            Action::CloseFrom(fd) => FileAction::CloseFrom(fd),
        })
        .collect();
    let argv_strings = [fx.head.as_c_str(), c"-c1", fx.fifo.as_c_str()];
    let mut slots = [std::ptr::null(); 4];
    let argv = CStrArray::new(&argv_strings, &mut slots).unwrap();
    let spawned = Spawn::new(Program::Path(&fx.head), argv, CStrArray::empty())
        .actions(&actions)
        .spawn();
    match spawned {
        Err(e) => Outcome::Failed(Some(e.raw())),
        Ok(child) => look_at(fx, child.pid()),
    }
}

/// Runs `actions` through glibc's posix_spawn.
fn run_glibc(fx: &Fixture, actions: &[Action]) -> Outcome {
    let paths: Vec<CString> = PATHS.iter().map(|p| fx.path(p)).collect();
    let dirs: Vec<CString> = DIRS.iter().map(|p| fx.path(p)).collect();
    // SAFETY: the file actions object is initialized, filled with valid strings that outlive
    // the spawn, used once and destroyed; argv and envp are null-terminated arrays.
    unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        assert_eq!(libc::posix_spawn_file_actions_init(&mut fa), 0);
        for action in actions {
            let ret = match *action {
                Action::Dup2(src, dst) => libc::posix_spawn_file_actions_adddup2(&mut fa, src, dst),
                Action::Close(fd) => libc::posix_spawn_file_actions_addclose(&mut fa, fd),
                Action::Open(fd, path, flags) => libc::posix_spawn_file_actions_addopen(
                    &mut fa,
                    fd,
                    paths[path].as_ptr(),
                    flags.libc(),
                    0o644,
                ),
                Action::Chdir(dir) => {
                    libc::posix_spawn_file_actions_addchdir_np(&mut fa, dirs[dir].as_ptr())
                }
                Action::Fchdir(fd) => libc::posix_spawn_file_actions_addfchdir_np(&mut fa, fd),
                Action::CloseFrom(fd) => {
                    libc::posix_spawn_file_actions_addclosefrom_np(&mut fa, fd)
                }
            };
            assert_eq!(ret, 0, "adding {action:?}");
        }
        let argv = [
            fx.head.as_ptr() as *mut libc::c_char,
            c"-c1".as_ptr() as *mut libc::c_char,
            fx.fifo.as_ptr() as *mut _,
            std::ptr::null_mut(),
        ];
        let envp: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
        let mut pid = 0;
        let ret = libc::posix_spawn(
            &mut pid,
            fx.head.as_ptr(),
            &fa,
            std::ptr::null(),
            argv.as_ptr(),
            envp.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut fa);
        if ret != 0 {
            return Outcome::Failed(Some(ret));
        }
        look_at(fx, pid)
    }
}

/// Waits until the child has the FIFO open (it is past its exec, waiting on it), reads its fd
/// table and directory, lets it end and reaps it. A child that ends first failed (under
/// qemu-user, glibc's child of a failed action exits 127).
fn look_at(fx: &Fixture, pid: i32) -> Outcome {
    use std::os::fd::FromRawFd;
    let deadline = Instant::now() + Duration::from_secs(60);
    let writer = loop {
        // SAFETY: a valid path; a non-blocking open for writing fails with ENXIO until a
        // reader has the FIFO open.
        let fd = unsafe {
            libc::open(
                fx.fifo.as_ptr(),
                libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd >= 0 {
            // SAFETY: just opened.
            break unsafe { OwnedFd::from_raw_fd(fd) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child, without blocking.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            return if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 127 {
                Outcome::Failed(None)
            } else {
                Outcome::Ended(status)
            };
        }
        assert!(Instant::now() < deadline, "the child never opened the FIFO");
        std::thread::sleep(Duration::from_micros(200));
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let fifo = Path::new(std::ffi::OsStr::from_bytes(fx.fifo.as_bytes()));
    let fds = loop {
        let fds = fd_table(&proc_dir, &fx.dir);
        // Our open let the child's open return: wait until its fd is in place.
        if fds.iter().any(|(_, t)| t.starts_with("$D/fifo ")) {
            // That one is head's own, not the spawn's: where it lands depends on the rest.
            break fds
                .into_iter()
                .filter(|(_, t)| !t.starts_with("$D/fifo "))
                .collect::<Vec<_>>();
        }
        assert!(
            Instant::now() < deadline,
            "the child never had {fifo:?} open"
        );
        std::thread::sleep(Duration::from_micros(200));
    };
    let cwd = std::fs::read_link(proc_dir.join("cwd")).unwrap();
    let cwd = normalize(&cwd.to_string_lossy(), &fx.dir);
    drop(writer);
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "head: status {status:#x}");
    Outcome::Ran { fds, cwd }
}

fn normalize(path: &str, dir: &Path) -> String {
    path.replace(dir.to_str().unwrap(), "$D")
}

/// `(fd, "target (flags F, pos P)")` for every fd of the process.
fn fd_table(proc_dir: &Path, dir: &Path) -> Vec<(i32, String)> {
    let mut fds: Vec<(i32, String)> = std::fs::read_dir(proc_dir.join("fd"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let fd: i32 = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            let info = std::fs::read_to_string(proc_dir.join(format!("fdinfo/{fd}"))).ok()?;
            let field = |key: &str| common::status_field(&info, key).to_string();
            let shown = format!(
                "{} (flags {}, pos {})",
                normalize(&target.to_string_lossy(), dir),
                field("flags"),
                field("pos")
            );
            Some((fd, shown))
        })
        .collect();
    fds.sort();
    fds
}

// ---- Comparing ------------------------------------------------------------------------------

/// Compares a vspawn outcome with glibc's for the same meaning; `cloexec` are the fds glibc may
/// have that vspawn must not (see [`cloexec_opens`]). `Err(why)` on a difference.
fn agree(ours: &Outcome, glibc: &Outcome, cloexec: &[i32]) -> Result<(), String> {
    match (ours, glibc) {
        (Outcome::Ended(a), Outcome::Ended(b)) if a == b => Ok(()),
        (Outcome::Failed(a), Outcome::Failed(b)) => {
            if a.is_some() && b.is_some() && a != b {
                Err(format!(
                    "errno {} vs glibc's {}",
                    show_errno(*a),
                    show_errno(*b)
                ))
            } else {
                Ok(())
            }
        }
        (Outcome::Ran { fds: a, cwd: ca }, Outcome::Ran { fds: b, cwd: cb }) => {
            if ca != cb {
                return Err(format!("cwd {ca} vs glibc's {cb}"));
            }
            let b: Vec<(i32, String)> = b
                .iter()
                .filter(|(fd, _)| !cloexec.contains(fd) || a.iter().any(|(f, _)| f == fd))
                .cloned()
                .collect();
            if *a != b {
                return Err(format!("fds\n    vspawn: {a:?}\n    glibc:  {b:?}"));
            }
            if let Some(fd) = cloexec.iter().find(|fd| a.iter().any(|(f, _)| f == *fd)) {
                return Err(format!(
                    "fd {fd}, opened O_CLOEXEC, reached vspawn's program"
                ));
            }
            Ok(())
        }
        _ => Err(format!("vspawn {ours:?}\n    glibc  {glibc:?}")),
    }
}

fn show_errno(raw: Option<i32>) -> String {
    raw.map_or("?".into(), |r| format!("{:?}", Errno::from_raw(r)))
}

/// Runs one case; `Err(why)` if vspawn and glibc differ beyond the documented differences,
/// else whether the spawn failed.
fn check_case(fx: &Fixture, actions: &[Action]) -> Result<bool, String> {
    let cycles = cycle_sources(actions);
    let cloexec = cloexec_opens(actions);
    let ours = run_vspawn(fx, actions);
    let failed = matches!(ours, Outcome::Failed(_));
    if cycles.is_empty() {
        // Simultaneous and sequential assignment mean the same here.
        let glibc = run_glibc(fx, actions);
        return agree(&ours, &glibc, &cloexec).map(|()| failed);
    }
    // vspawn's simultaneous runs, said sequentially for glibc.
    let sequential = runs_made_sequential(actions);
    let glibc = run_glibc(fx, &sequential);
    agree(&ours, &glibc, &cloexec_opens(&sequential))
        .map_err(|e| format!("as one simultaneous assignment ({sequential:?}): {e}"))?;
    // And glibc's sequential meaning, through vspawn with the runs broken.
    let broken = runs_broken(actions);
    let ours = run_vspawn(fx, &broken);
    let glibc = run_glibc(fx, actions);
    agree(&ours, &glibc, &cloexec).map_err(|e| format!("with the runs broken: {e}"))?;
    Ok(failed)
}

/// The two documented differences, shown: without them the comparisons above would be empty
/// promises.
fn documented_differences(fx: &Fixture) -> Result<(), String> {
    let fd_of = |outcome: &Outcome, fd: i32| match outcome {
        Outcome::Ran { fds, .. } => fds.iter().find(|(f, _)| *f == fd).map(|(_, t)| t.clone()),
        other => panic!("not run: {other:?}"),
    };
    // A swap in one run: vspawn swaps, glibc copies 40 onto 41 and back.
    let swap = [Action::Dup2(40, 41), Action::Dup2(41, 40)];
    let (ours, glibc) = (run_vspawn(fx, &swap), run_glibc(fx, &swap));
    // As our own fds 40 and 41 are (the flags' numbers differ between architectures).
    let start = fd_table(Path::new("/proc/self"), &fx.dir);
    let at = |fd: i32| start.iter().find(|(f, _)| *f == fd).map(|(_, t)| t.clone());
    let (d0a, d1b) = (at(40), at(41));
    assert!(
        d0a.as_ref().is_some_and(|t| t.starts_with("$D/d0/a ")),
        "{d0a:?}"
    );
    if (fd_of(&ours, 40), fd_of(&ours, 41)) != (d1b.clone(), d0a.clone()) {
        return Err(format!("vspawn did not swap 40 and 41: {ours:?}"));
    }
    if (fd_of(&glibc, 40), fd_of(&glibc, 41)) != (d0a.clone(), d0a) {
        return Err(format!("glibc swapped 40 and 41 after all: {glibc:?}"));
    }
    // O_CLOEXEC onto 1 while 0 is free: glibc's open lands on 0 and its dup2 onto 1 clears
    // the flag; vspawn's fd 1 stays close-on-exec.
    let open = [Action::Close(0), Action::Open(1, 0, Flags::ReadCloexec)];
    let (ours, glibc) = (run_vspawn(fx, &open), run_glibc(fx, &open));
    if fd_of(&ours, 1).is_some() || fd_of(&glibc, 1).is_none() {
        return Err(format!(
            "O_CLOEXEC open:\n    vspawn {ours:?}\n    glibc  {glibc:?}"
        ));
    }
    Ok(())
}

#[test]
fn random_file_actions_agree_with_glibc_posix_spawn() {
    let emulated = common::emulator();
    // Natively in seconds; in the test VM (an emulated CPU) and under qemu-user each spawn
    // costs ten times more.
    let in_vm = std::env::var_os("VSPAWN_VM").is_some();
    let default_cases = match (in_vm, emulated.is_some()) {
        (true, _) => 250,
        (false, true) => 400,
        (false, false) => 2000,
    };
    let cases: usize = std::env::var("VSPAWN_FILE_ACTIONS_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    let seed: u64 = std::env::var("VSPAWN_FILE_ACTIONS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let fx = Fixture::new();
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut with_cycles, mut failing) = (0, 0);
    let mut difference = None;
    for case in 0..cases {
        let actions = random_case(&mut rng);
        with_cycles += usize::from(!cycle_sources(&actions).is_empty());
        match check_case(&fx, &actions) {
            Ok(failed) => failing += usize::from(failed),
            Err(why) => {
                difference = Some(format!(
                    "case {case} of seed {seed} (replay: VSPAWN_FILE_ACTIONS_SEED={seed}): \
                     {actions:?}\n    {why}"
                ));
                break;
            }
        }
    }
    let documented = if difference.is_none() {
        documented_differences(&fx)
    } else {
        Ok(())
    };
    // Our stdio back before anything is said.
    drop(fx);
    documented.unwrap();
    if let Some(difference) = difference {
        panic!("{difference}");
    }
    common::assert_no_children();
    eprintln!(
        "{cases} cases of seed {seed} in {:.1} s ({with_cycles} with a cycle or swap, {failing} \
         failing by design)",
        started.elapsed().as_secs_f64()
    );
    if let Some(emulator) = emulated {
        eprintln!(
            "under {emulator} glibc's posix_spawn reports a failing action as a successful \
             spawn whose child exits 127: the failures were compared, not their errnos (those \
             are, natively and in the VM)"
        );
    }
}
