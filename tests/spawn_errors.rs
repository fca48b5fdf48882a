//! Spawn errors: every exec failure comes back from `spawn` as its exact errno, on every target
//! (qemu-user included, where glibc's `posix_spawn` "succeeds" and the child exits 127), through
//! the no-alloc core `Spawn` and through `Command`; `Program::Search` follows `execvp` without
//! its `/bin/sh` fallback; bad input is refused before any clone. After each failure this
//! process has no child (not even a zombie) and exactly the fds it had before.
//!
//! Every test takes `serial()`: the checks of the fd table and of the children are process-wide.

#[macro_use]
mod common;

use std::ffi::{CStr, CString};
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use common::{CHILD_PATH, assert_no_children, cstring, open_fds, serial, spawn_with};
use vspawn::Errno;
use vspawn::fd::Mode;
use vspawn::fd::oflags::O_RDONLY;
use vspawn::process::Resource;
use vspawn::spawn::Namespaces;
use vspawn::spawn::{Attributes, CStrArray, Command, FileAction, IdMaps, Program, Spawn};

/// Spawns `program` with `argv` and an environment of `[CHILD_PATH]` through the core, and
/// returns the error (panics if it succeeded).
fn core_error(program: Program<'_>, argv: &[&CStr]) -> Errno {
    core_error_with(program, argv, &[], Attributes::default())
}

fn core_error_with(
    program: Program<'_>,
    argv: &[&CStr],
    actions: &[FileAction<'_>],
    attrs: Attributes<'_>,
) -> Errno {
    let env = cstring(CHILD_PATH);
    let mut arg_slots = vec![std::ptr::null(); argv.len() + 1];
    let mut env_slots = [std::ptr::null(); 2];
    let argv = CStrArray::new(argv, &mut arg_slots).unwrap();
    let envp = CStrArray::new(&[&env], &mut env_slots).unwrap();
    match Spawn::new(program, argv, envp)
        .actions(actions)
        .attrs(attrs)
        .spawn()
    {
        Ok(mut child) => panic!("spawn succeeded: {child:?} exited {:?}", child.wait()),
        Err(e) => e,
    }
}

/// Checks that a failed spawn left nothing behind: no child, the same fds.
fn assert_clean(fds_before: &[i32]) {
    assert_no_children();
    let now = open_fds();
    let what: Vec<String> = now
        .iter()
        .filter(|fd| !fds_before.contains(fd))
        .map(|fd| {
            format!(
                "{fd} -> {:?}",
                std::fs::read_link(format!("/proc/self/fd/{fd}"))
            )
        })
        .collect();
    assert_eq!(now, fds_before, "the fd table changed; new: {what:?}");
}

/// Asserts that `path` fails with `expected` through `Spawn` (as a path, and as a searched name
/// when it has a slash) and through `Command` (`spawn`, `status` and `output`), leaving nothing
/// behind each time.
fn assert_exec_error(path: &Path, expected: Errno) {
    let fds = open_fds();
    let c_path = cstring(path);
    assert_eq!(core_error(Program::Path(&c_path), &[&c_path]), expected);
    assert_clean(&fds);
    // A name with a slash is used as is by the search as well.
    assert_eq!(core_error(Program::Search(&c_path), &[&c_path]), expected);
    assert_clean(&fds);
    assert_eq!(Command::new(path).spawn().unwrap_err(), expected);
    assert_clean(&fds);
    assert_eq!(Command::new(path).status().unwrap_err(), expected);
    assert_clean(&fds);
    assert_eq!(Command::new(path).output().unwrap_err(), expected);
    assert_clean(&fds);
}

/// A file with `contents` and `mode` in this binary's scratch directory.
fn file(name: &str, contents: &[u8], mode: u32) -> std::path::PathBuf {
    let path = common::scratch_dir("errors").join(name);
    let _ = fs::remove_file(&path);
    fs::write(&path, contents).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// A regular file that is no program (mode 0644) and no directory.
fn plain_file() -> std::path::PathBuf {
    file("plain-file", b"just data\n", 0o644)
}

#[test]
fn missing_program_is_enoent() {
    let _serial = serial();
    assert_exec_error(Path::new("/nonexistent/vspawn-test-program"), Errno::ENOENT);
}

#[test]
fn file_without_execute_bit_is_eacces() {
    let _serial = serial();
    // Even root needs one execute bit to exec a file.
    let path = file("not-executable", b"#!/bin/sh\nexit 0\n", 0o644);
    assert_exec_error(&path, Errno::EACCES);
}

#[test]
fn directory_is_eacces() {
    let _serial = serial();
    assert_exec_error(&common::scratch_dir("errors"), Errno::EACCES);
}

#[test]
fn empty_executable_file_is_enoexec() {
    let _serial = serial();
    let path = file("empty", b"", 0o755);
    assert_exec_error(&path, Errno::ENOEXEC);
}

#[test]
fn script_without_shebang_is_enoexec_and_never_run_by_sh() {
    let _serial = serial();
    let marker = common::scratch_dir("errors").join("no-shebang-ran");
    let _ = fs::remove_file(&marker);
    let script = format!("echo ran > {}\nexit 0\n", marker.display());
    let path = file("no-shebang", script.as_bytes(), 0o755);
    assert_exec_error(&path, Errno::ENOEXEC);

    // Found through PATH it is still ENOEXEC: no `/bin/sh` fallback as in execvp.
    let fds = open_fds();
    let dir = path.parent().unwrap();
    let mut cmd = Command::new("no-shebang");
    cmd.env_clear().env("PATH", dir);
    assert_eq!(cmd.status().unwrap_err(), Errno::ENOEXEC);
    assert_clean(&fds);
    assert!(!marker.exists(), "the script was run by a shell");
}

#[test]
fn path_through_a_regular_file_is_enotdir() {
    let _serial = serial();
    assert_exec_error(&plain_file().join("x"), Errno::ENOTDIR);
}

#[test]
fn symlink_loop_is_eloop() {
    let _serial = serial();
    let dir = common::scratch_dir("errors");
    let (a, b) = (dir.join("loop-a"), dir.join("loop-b"));
    let _ = fs::remove_file(&a);
    let _ = fs::remove_file(&b);
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    assert_exec_error(&a, Errno::ELOOP);
}

#[test]
fn path_longer_than_path_max_is_enametoolong() {
    let _serial = serial();
    // 5000 bytes of "/x/x/...": every component is short, the whole is over 4096.
    let long = "/x".repeat(2500);
    assert_exec_error(Path::new(&long), Errno::ENAMETOOLONG);
}

#[test]
fn name_component_longer_than_name_max_is_enametoolong() {
    let _serial = serial();
    let component = "n".repeat(300);
    assert_exec_error(&Path::new("/tmp").join(&component), Errno::ENAMETOOLONG);

    // A searched name of more than 255 bytes can name no file.
    let fds = open_fds();
    let name = cstring(&component);
    assert_eq!(
        core_error(Program::Search(&name), &[&name]),
        Errno::ENAMETOOLONG
    );
    assert_clean(&fds);
    assert_eq!(
        Command::new(&component).spawn().unwrap_err(),
        Errno::ENAMETOOLONG
    );
    assert_clean(&fds);
}

#[test]
fn argument_longer_than_max_arg_strlen_is_e2big() {
    let _serial = serial();
    let fds = open_fds();
    // MAX_ARG_STRLEN is 32 pages (128 KiB); this one argument is 200 KiB.
    let big = CString::new(vec![b'a'; 200 * 1024]).unwrap();
    assert_eq!(
        core_error(Program::Path(c"/bin/true"), &[c"true", &big]),
        Errno::E2BIG
    );
    assert_clean(&fds);
    assert_eq!(
        Command::new("/bin/true").arg(big.as_bytes()).status(),
        Err(Errno::E2BIG)
    );
    assert_clean(&fds);
}

#[test]
fn arguments_beyond_arg_max_are_e2big() {
    let _serial = serial();
    let fds = open_fds();
    // 100 arguments of 100 KiB: 10 MiB, over the limit for any stack rlimit (at most 3/4 of
    // the 8 MiB default stack, and never more than 6 MiB for an unlimited one).
    let one = CString::new(vec![b'a'; 100 * 1024]).unwrap();
    let mut argv: Vec<&CStr> = vec![c"true"];
    argv.extend(std::iter::repeat_n(one.as_c_str(), 100));
    assert_eq!(core_error(Program::Path(c"/bin/true"), &argv), Errno::E2BIG);
    assert_clean(&fds);
    let mut cmd = Command::new("/bin/true");
    cmd.args(std::iter::repeat_n(one.as_bytes(), 100));
    assert_eq!(cmd.spawn().unwrap_err(), Errno::E2BIG);
    assert_clean(&fds);
}

/// A directory holding `prog` with `mode` (and `contents`).
fn dir_with_prog(name: &str, contents: &str, mode: u32) -> std::path::PathBuf {
    let dir = common::scratch_dir("errors").join(name);
    fs::create_dir_all(&dir).unwrap();
    let prog = dir.join("prog");
    fs::write(&prog, contents).unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// Runs `prog` through `Command` with `PATH` set to `path` (and the working directory `cwd`):
/// its exit code, or the spawn error.
fn search_prog(path: &str, cwd: Option<&Path>) -> Result<Option<i32>, Errno> {
    let mut cmd = Command::new("prog");
    cmd.env_clear().env("PATH", path);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.status().map(|status| status.code())
}

#[test]
fn search_reports_eacces_when_a_candidate_exists_but_none_can_run() {
    let _serial = serial();
    let fds = open_fds();
    let no_x = dir_with_prog("search-no-x", "#!/bin/sh\nexit 3\n", 0o644);
    let empty = common::scratch_dir("errors").join("search-empty");
    fs::create_dir_all(&empty).unwrap();
    let path = format!("{}:{}:/nonexistent", empty.display(), no_x.display());
    assert_eq!(search_prog(&path, None), Err(Errno::EACCES));
    assert_clean(&fds);
    // The same through the core, with the PATH from the child's environment.
    let env = cstring(format!("PATH={path}"));
    let mut env_slots = [std::ptr::null(); 2];
    let mut arg_slots = [std::ptr::null(); 2];
    let argv = CStrArray::new(&[c"prog"], &mut arg_slots).unwrap();
    let envp = CStrArray::new(&[&env], &mut env_slots).unwrap();
    let err = Spawn::new(Program::Search(c"prog"), argv, envp)
        .spawn()
        .unwrap_err();
    assert_eq!(err, Errno::EACCES);
    assert_clean(&fds);
}

#[test]
fn search_reports_enoent_when_nothing_is_found() {
    let _serial = serial();
    let fds = open_fds();
    let empty = common::scratch_dir("errors").join("search-empty");
    fs::create_dir_all(&empty).unwrap();
    // `<file>/prog` is ENOTDIR, which the search passes over like ENOENT; the error is the last
    // candidate's, as in glibc and musl.
    let file = plain_file();
    let path = format!("{}:{}:/nonexistent", file.display(), empty.display());
    assert_eq!(search_prog(&path, None), Err(Errno::ENOENT));
    assert_clean(&fds);
    let path = format!("/nonexistent:{}:{}", empty.display(), file.display());
    assert_eq!(search_prog(&path, None), Err(Errno::ENOTDIR));
    assert_clean(&fds);
}

#[test]
fn search_runs_a_later_candidate_after_one_that_cannot_run() {
    let _serial = serial();
    let no_x = dir_with_prog("search-no-x", "#!/bin/sh\nexit 3\n", 0o644);
    let good = dir_with_prog("search-good", "#!/bin/sh\nexit 42\n", 0o755);
    let path = format!("{}:{}", no_x.display(), good.display());
    assert_eq!(search_prog(&path, None), Ok(Some(42)));
    assert_no_children();
}

#[test]
fn search_stops_at_enoexec_without_a_shell_fallback() {
    let _serial = serial();
    let fds = open_fds();
    let bad = dir_with_prog("search-enoexec", "exit 5\n", 0o755);
    let good = dir_with_prog("search-good", "#!/bin/sh\nexit 42\n", 0o755);
    let path = format!("{}:{}", bad.display(), good.display());
    assert_eq!(search_prog(&path, None), Err(Errno::ENOEXEC));
    assert_clean(&fds);
}

#[test]
fn search_uses_a_name_with_a_slash_as_is() {
    let _serial = serial();
    // `sub/prog` exists under a PATH directory (exit 7) and under the working directory
    // (exit 9): the name has a slash, so it is the working directory's that runs.
    let in_path = common::scratch_dir("errors").join("slash-in-path");
    let in_cwd = common::scratch_dir("errors").join("slash-in-cwd");
    for (dir, code) in [(&in_path, 7), (&in_cwd, 9)] {
        let sub = dir.join("sub");
        fs::create_dir_all(&sub).unwrap();
        let prog = sub.join("prog");
        fs::write(&prog, format!("#!/bin/sh\nexit {code}\n")).unwrap();
        fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let env = cstring(format!("PATH={}", in_path.display()));
    let cwd = cstring(&in_cwd);
    let mut env_slots = [std::ptr::null(); 2];
    let mut arg_slots = [std::ptr::null(); 2];
    let argv = CStrArray::new(&[c"sub/prog"], &mut arg_slots).unwrap();
    let envp = CStrArray::new(&[&env], &mut env_slots).unwrap();
    let actions = [FileAction::Chdir(&cwd)];
    let mut child = Spawn::new(Program::Search(c"sub/prog"), argv, envp)
        .actions(&actions)
        .spawn()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(9));
    // And a missing one is not looked for in PATH either.
    let fds = open_fds();
    let err = Spawn::new(Program::Search(c"sub/missing"), argv, envp)
        .actions(&actions)
        .spawn()
        .unwrap_err();
    assert_eq!(err, Errno::ENOENT);
    assert_clean(&fds);
}

#[test]
fn search_treats_an_empty_path_element_as_the_working_directory() {
    let _serial = serial();
    let here = dir_with_prog("search-cwd", "#!/bin/sh\nexit 21\n", 0o755);
    for path in [
        ":/nonexistent",
        "/nonexistent:",
        "/nonexistent::/nonexistent",
    ] {
        assert_eq!(search_prog(path, Some(&here)), Ok(Some(21)), "PATH={path}");
    }
    // Without the empty element the working directory is not searched.
    let fds = open_fds();
    assert_eq!(search_prog("/nonexistent", Some(&here)), Err(Errno::ENOENT));
    assert_clean(&fds);
}

#[test]
fn failing_file_actions_and_attributes_report_their_errno() {
    let _serial = serial();
    let file = cstring(plain_file());
    let fds = open_fds();
    let t = Program::Path(c"/bin/true");
    let argv: &[&CStr] = &[c"true"];
    let none = Attributes::default();
    let cases: [(&[FileAction<'_>], Errno); 5] = [
        (
            &[FileAction::Open {
                fd: 5,
                path: c"/nonexistent/file",
                flags: O_RDONLY,
                mode: Mode::empty(),
            }],
            Errno::ENOENT,
        ),
        (&[FileAction::Chdir(c"/nonexistent")], Errno::ENOENT),
        (&[FileAction::Chdir(&file)], Errno::ENOTDIR),
        // An fd number this process does not have open.
        (&[FileAction::Dup2 { src: 900, dst: 5 }], Errno::EBADF),
        (&[FileAction::Fchdir(901)], Errno::EBADF),
    ];
    for (actions, expected) in cases {
        assert_eq!(
            core_error_with(t, argv, actions, none),
            expected,
            "{actions:?}"
        );
        assert_clean(&fds);
    }
    // A process group that does not exist in our session.
    let attrs = Attributes::new().process_group(i32::MAX - 1);
    assert_eq!(core_error_with(t, argv, &[], attrs), Errno::EPERM);
    assert_clean(&fds);
    // A soft limit above the hard one. (A resource number the kernel does not know can no
    // longer be named: `Resource` is an enum of the kernel's.)
    let rlimits = [(Resource::Core, vspawn::process::Rlimit { cur: 2, max: 1 })];
    let attrs = Attributes::new().rlimits(&rlimits);
    assert_eq!(core_error_with(t, argv, &[], attrs), Errno::EINVAL);
    assert_clean(&fds);
}

#[test]
fn empty_program_is_enoent_before_any_clone() {
    let _serial = serial();
    let fds = open_fds();
    assert_eq!(core_error(Program::Path(c""), &[c"x"]), Errno::ENOENT);
    assert_eq!(core_error(Program::Search(c""), &[c"x"]), Errno::ENOENT);
    assert_eq!(Command::new("").spawn().unwrap_err(), Errno::ENOENT);
    assert_eq!(Command::new("").output().unwrap_err(), Errno::ENOENT);
    assert_clean(&fds);
}

#[test]
fn interior_nul_in_any_string_of_a_command_is_einval() {
    let _serial = serial();
    let fds = open_fds();
    let cases: [(&str, Command); 8] = [
        ("program", Command::new("/bin/tr\0ue")),
        ("arg", {
            let mut c = Command::new("/bin/true");
            c.arg("a\0b");
            c
        }),
        ("args", {
            let mut c = Command::new("/bin/true");
            c.args(["ok", "b\0"]);
            c
        }),
        ("arg0", {
            let mut c = Command::new("/bin/true");
            c.arg0("\0");
            c
        }),
        ("env key", {
            let mut c = Command::new("/bin/true");
            c.env("K\0EY", "v");
            c
        }),
        ("env value", {
            let mut c = Command::new("/bin/true");
            c.env("KEY", "v\0v");
            c
        }),
        ("env key with '='", {
            let mut c = Command::new("/bin/true");
            c.env("K=EY", "v");
            c
        }),
        ("current_dir", {
            let mut c = Command::new("/bin/true");
            c.current_dir("/tm\0p");
            c
        }),
    ];
    for (what, mut cmd) in cases {
        assert_eq!(cmd.spawn().map(|c| c.pid()), Err(Errno::EINVAL), "{what}");
        assert_eq!(cmd.status(), Err(Errno::EINVAL), "{what}");
        assert_eq!(cmd.output().map(|o| o.status), Err(Errno::EINVAL), "{what}");
        assert_clean(&fds);
    }
}

#[test]
fn negative_fd_in_a_file_action_is_ebadf_before_any_clone() {
    let _serial = serial();
    let fds = open_fds();
    let t = Program::Path(c"/bin/true");
    let argv: &[&CStr] = &[c"true"];
    let none = Attributes::default();
    let cases = [
        FileAction::Dup2 { src: -1, dst: 3 },
        FileAction::Dup2 { src: 0, dst: -2 },
        FileAction::Close(-1),
        FileAction::Open {
            fd: -1,
            path: c"/dev/null",
            flags: O_RDONLY,
            mode: Mode::empty(),
        },
        FileAction::Fchdir(-100),
        FileAction::CloseFrom(-1),
    ];
    for action in cases {
        // After a valid action too: the whole list is checked first.
        let actions = [FileAction::Close(800), action];
        assert_eq!(
            core_error_with(t, argv, &actions, none),
            Errno::EBADF,
            "{action:?}"
        );
        assert_clean(&fds);
    }
    for attrs in [
        Attributes::new().foreground(-1),
        Attributes::new().cgroup(-1),
    ] {
        assert_eq!(core_error_with(t, argv, &[], attrs), Errno::EBADF);
        assert_clean(&fds);
    }
    let mut cmd = Command::new("/bin/true");
    cmd.fd(
        -1,
        vspawn::fd::openat(-100, c"/dev/null", O_RDONLY, Mode::empty()).unwrap(),
    );
    assert_eq!(cmd.spawn().unwrap_err(), Errno::EBADF);
    drop(cmd);
    assert_clean(&fds);
}

#[test]
fn contradictory_attributes_are_einval_before_any_clone() {
    let _serial = serial();
    let fds = open_fds();
    let t = Program::Path(c"/bin/true");
    let argv: &[&CStr] = &[c"true"];
    let maps = IdMaps {
        uid_map: b"0 0 1\n",
        ..IdMaps::default()
    };
    let cases = [
        (
            "setsid with process_group",
            Attributes::new().setsid(true).process_group(0),
        ),
        (
            "id_maps without CLONE_NEWUSER",
            Attributes::new().id_maps(maps),
        ),
        (
            "negative process group",
            Attributes::new().process_group(-5),
        ),
        (
            "a flag that is not a namespace",
            Attributes::new().namespaces(Namespaces::from_bits_retain(
                vspawn::clone::flags::CLONE_VM.bits(),
            )),
        ),
    ];
    for (what, attrs) in cases {
        assert_eq!(
            core_error_with(t, argv, &[], attrs),
            Errno::EINVAL,
            "{what}"
        );
        assert_clean(&fds);
    }
    let mut cmd = Command::new("/bin/true");
    cmd.setsid(true).process_group(0);
    assert_eq!(cmd.spawn().unwrap_err(), Errno::EINVAL);
    let mut cmd = Command::new("/bin/true");
    cmd.id_maps(b"0 0 1\n", b"", false);
    assert_eq!(cmd.spawn().unwrap_err(), Errno::EINVAL);
    assert_clean(&fds);
}

#[test]
fn a_hundred_failing_spawns_in_a_row_each_report_enoent() {
    let _serial = serial();
    let plain = cstring(plain_file());
    let fds = open_fds();
    for i in 0..100 {
        let err = core_error(Program::Path(c"/nonexistent/x"), &[c"x"]);
        assert_eq!(err, Errno::ENOENT, "failed spawn #{i}");
    }
    assert_clean(&fds);
    // Interleaved with successes, each keeps its own result.
    for i in 0..20 {
        let mut ok = spawn_with(&["/bin/true"], &[CHILD_PATH], &[], Attributes::default())
            .unwrap_or_else(|e| panic!("spawn #{i} of /bin/true: {e}"));
        assert_eq!(ok.wait().unwrap().code(), Some(0));
        let err = Command::new("/nonexistent/y").status().unwrap_err();
        assert_eq!(err, Errno::ENOENT, "failed spawn #{i} after a success");
        let err = core_error(Program::Path(&plain), &[c"x"]);
        assert_eq!(err, Errno::EACCES, "EACCES #{i}");
    }
    assert_clean(&fds);
}
