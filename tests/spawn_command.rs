//! `Command`: std's meaning for `arg`, `args`, `arg0`, `env`, `env_remove`, `env_clear`,
//! `current_dir`, `Stdio::{null, inherit, piped}`, `spawn`, `status` and `output`, checked with
//! exact bytes from the child (`/proc/self/environ`, `/proc/self/cmdline`, pipes).
//!
//! One test swaps our fd 0 to prove `Stdio::inherit`, so every test of this binary takes
//! `serial()`: no other spawn may inherit it meanwhile.

#[macro_use]
mod common;
#[path = "common/seccomp.rs"]
mod seccomp;

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;

use common::serial;
use vspawn::Errno;
use vspawn::fd::OFlags;
use vspawn::fd::{self, RawFd};
use vspawn::spawn::{Command, Stdio};

/// The stdout of `cmd.output()`, which must succeed with status 0 and an empty stderr.
fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("spawn");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        out.stderr,
        b"",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The NUL-separated entries of a `/proc/self/{environ,cmdline}` text.
fn nul_list(bytes: &[u8]) -> Vec<Vec<u8>> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

/// The environment a `cat /proc/self/environ` spawned by `cmd` got.
fn child_env(cmd: &mut Command) -> Vec<Vec<u8>> {
    nul_list(&stdout_of(cmd.arg("/proc/self/environ")))
}

fn cat() -> Command {
    Command::new("cat")
}

/// `KEY=value` entries of our own environment, sorted as the child gets them (by key).
fn our_env() -> Vec<Vec<u8>> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    vars.sort();
    vars.into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect()
}

fn kv(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn args_reach_the_child_exactly() {
    let _serial = serial();
    let args = [
        "plain",
        "with space",
        "",
        "quote\"d",
        "new\nline",
        "ünïcödé",
    ];
    // The shell prints its own command line, which holds the arguments after `$0`.
    // (`; exit` keeps `cat` from being exec'd in place of the shell, as a last command may be.)
    let script = "cat /proc/$$/cmdline; exit";
    let out = stdout_of(Command::new("sh").args(["-c", script, "sh"]).args(args));
    let mut expected = vec![kv("sh"), kv("-c"), kv(script), kv("sh")];
    expected.extend(args.iter().map(|a| kv(a)));
    assert_eq!(nul_list(&out), expected);
}

#[test]
fn arg0_replaces_argv0_only() {
    let _serial = serial();
    // busybox (the VM's `cat`) picks its applet by the base name of argv[0]: keep it `cat`.
    let arg0 = "/renamed/by-arg0/cat";
    let out = stdout_of(Command::new("cat").arg0(arg0).arg("/proc/self/cmdline"));
    assert_eq!(nul_list(&out), [kv(arg0), kv("/proc/self/cmdline")]);
    // Without it argv[0] is the program as given.
    let out = stdout_of(Command::new("cat").arg("/proc/self/cmdline"));
    assert_eq!(nul_list(&out), [kv("cat"), kv("/proc/self/cmdline")]);
}

#[test]
fn env_is_inherited_by_default() {
    let _serial = serial();
    // As it is, in its own order (std passes `environ` itself when nothing changed).
    let in_order: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect();
    assert_eq!(child_env(&mut cat()), in_order);
}

#[test]
fn env_adds_and_overrides() {
    let _serial = serial();
    let mut expected: Vec<Vec<u8>> = our_env()
        .into_iter()
        .filter(|e| !e.starts_with(b"PATH="))
        .collect();
    expected.push(kv("PATH=/bin:/usr/bin"));
    expected.push(kv("VSPAWN_TEST_A=one"));
    expected.push(kv("VSPAWN_TEST_B=two=2"));
    expected.sort_by(|a, b| {
        let key = |e: &[u8]| e.split(|&c| c == b'=').next().unwrap().to_vec();
        key(a).cmp(&key(b))
    });
    let got = child_env(
        cat()
            .env("VSPAWN_TEST_A", "zero")
            .env("VSPAWN_TEST_A", "one")
            .env("VSPAWN_TEST_B", "two=2")
            .env("PATH", "/bin:/usr/bin"),
    );
    assert_eq!(got, expected);
}

#[test]
fn env_clear_starts_empty_and_later_env_still_applies() {
    let _serial = serial();
    // `cat` is found without a PATH: the search falls back to /bin:/usr/bin, as glibc.
    assert_eq!(child_env(cat().env_clear()), Vec::<Vec<u8>>::new());
    let got = child_env(cat().env("DROPPED", "1").env_clear().env("KEPT", "2"));
    assert_eq!(got, [kv("KEPT=2")]);
}

#[test]
fn env_remove_removes_inherited_and_set_variables() {
    let _serial = serial();
    let ours = our_env();
    let (first_key, _) = std::env::vars_os().next().expect("we have an environment");
    let got = child_env(
        cat()
            .env("VSPAWN_TEST_GONE", "x")
            .env_remove("VSPAWN_TEST_GONE")
            .env_remove(&first_key),
    );
    let mut prefix = first_key.into_vec();
    prefix.push(b'=');
    let expected: Vec<Vec<u8>> = ours
        .into_iter()
        .filter(|e| !e.starts_with(&prefix))
        .collect();
    assert_eq!(got, expected);
    // A variable removed then set again is set.
    let got = child_env(cat().env_clear().env_remove("X").env("X", "back"));
    assert_eq!(got, [kv("X=back")]);
}

/// A directory with an executable script `name` printing `text`.
fn dir_with_script(dir: &str, name: &str, text: &str) -> std::path::PathBuf {
    let dir = common::scratch_dir("command").join(dir);
    fs::create_dir_all(&dir).unwrap();
    let prog = dir.join(name);
    fs::write(&prog, format!("#!/bin/sh\necho {text}\n")).unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn program_search_uses_the_childs_path() {
    let _serial = serial();
    let dir = dir_with_script("search", "vspawn-cmd-prog", "found-by-child-path");
    // Our PATH does not have `dir`; the child's does.
    let out = stdout_of(Command::new("vspawn-cmd-prog").env("PATH", &dir));
    assert_eq!(out, b"found-by-child-path\n");
    // Without a PATH the default one is searched, which does not have it.
    let err = Command::new("vspawn-cmd-prog").env_remove("PATH").status();
    assert_eq!(err, Err(Errno::ENOENT));
    // A name with a slash is not searched.
    let err = Command::new("./vspawn-cmd-prog").env("PATH", &dir).status();
    assert_eq!(err, Err(Errno::ENOENT));
}

#[test]
fn current_dir_sets_the_working_directory_and_resolves_a_relative_program() {
    let _serial = serial();
    let dir = dir_with_script("cwd", "prog", "relative-in-new-dir");
    let real = fs::canonicalize(&dir).unwrap();
    let out = stdout_of(Command::new("sh").args(["-c", "pwd -P"]).current_dir(&dir));
    assert_eq!(out, format!("{}\n", real.display()).as_bytes());
    let out = stdout_of(Command::new("./prog").current_dir(&dir));
    assert_eq!(out, b"relative-in-new-dir\n");
    // A missing directory is the child's chdir error.
    let err = Command::new("/bin/true")
        .current_dir("/nonexistent/dir")
        .status();
    assert_eq!(err, Err(Errno::ENOENT));
}

#[test]
fn output_captures_stdout_and_stderr_exactly() {
    let _serial = serial();
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; exit 4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");

    // More than a pipe holds on both streams at once: read together, no deadlock.
    let script = "i=0; while [ $i -lt 10000 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done";
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    let expected = |tag: &str| -> Vec<u8> {
        (0..10000)
            .flat_map(|i| format!("{tag}-{i}\n").into_bytes())
            .collect()
    };
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == expected("out"), "stdout differs");
    assert!(out.stderr == expected("err"), "stderr differs");
}

#[test]
fn status_returns_the_exit_code_or_signal() {
    let _serial = serial();
    for code in [0, 1, 77, 255] {
        let status = Command::new("sh")
            .args(["-c", &format!("exit {code}")])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code));
    }
    let status = Command::new("sh")
        .args(["-c", "kill -9 $$"])
        .status()
        .unwrap();
    assert_eq!((status.code(), status.signal()), (None, Some(9)));
}

#[test]
fn output_gives_the_child_a_null_stdin_by_default() {
    let _serial = serial();
    // `cat` reads its stdin to the end: /dev/null ends at once.
    let out = Command::new("cat").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"");
    let out = stdout_of(Command::new("sh").args(["-c", "readlink /proc/self/fd/0"]));
    assert_eq!(out, b"/dev/null\n");
}

#[test]
fn stdio_null_discards_and_reads_nothing() {
    let _serial = serial();
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; readlink /proc/self/fd/0 >&2"])
        .stdout(Stdio::null())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"");
    assert_eq!(out.stderr, b"err\n/dev/null\n");
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice()),
        (&b"out\n"[..], &b""[..])
    );
}

/// Puts `fd` at our fd 0 for the duration of `f` (under `serial()`: no other spawn meanwhile).
fn with_our_stdin<T>(fd: RawFd, f: impl FnOnce() -> T) -> T {
    let saved = fd::dup_above(0, 10).expect("save fd 0");
    // SAFETY: under `serial()` nothing else uses fd 0 meanwhile; the original is restored below.
    unsafe { fd::dup3(fd, 0, OFlags::empty()) }.unwrap();
    let result = f();
    // SAFETY: as above; `saved` is this function's own descriptor.
    unsafe { fd::dup3(saved, 0, OFlags::empty()) }.unwrap();
    // SAFETY: `saved` was made above and nothing else owns it.
    unsafe { fd::close(saved) }.unwrap();
    result
}

#[test]
fn stdio_inherit_gives_the_child_our_fd() {
    let _serial = serial();
    let (r, w) = fd::pipe2(OFlags::empty()).unwrap();
    fd::write_all(w.as_raw_fd(), b"through our stdin\n").unwrap();
    drop(w);
    // `spawn` inherits stdin by default; `output` would give /dev/null unless told to inherit.
    let (spawned, explicit) = with_our_stdin(r.as_raw_fd(), || {
        let mut child = Command::new("cat").stdout(Stdio::piped()).spawn().unwrap();
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0));
        let out = Command::new("sh")
            .args(["-c", "readlink /proc/self/fd/0"])
            .stdin(Stdio::inherit())
            .output()
            .unwrap();
        (text, out.stdout)
    });
    assert_eq!(spawned, "through our stdin\n");
    let pipe_name = fs::read_link(format!("/proc/self/fd/{}", r.as_raw_fd())).unwrap();
    assert_eq!(explicit, format!("{}\n", pipe_name.display()).as_bytes());
}

#[test]
fn piped_stdin_round_trips_through_cat() {
    let _serial = serial();
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let got = std::thread::scope(|s| {
        s.spawn(|| {
            stdin.write_all(&data).unwrap();
            drop(stdin);
        });
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).unwrap();
        got
    });
    assert!(
        got == data,
        "cat gave back {} bytes, not the same",
        got.len()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn wait_closes_our_end_of_a_piped_stdin() {
    let _serial = serial();
    // `cat` ends only at EOF on its stdin: `wait` must close our end first.
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(child.stdin.is_some());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn stdio_from_a_file_and_from_another_childs_pipe() {
    let _serial = serial();
    let path = common::scratch_dir("command").join("stdout-file");
    let file = fs::File::create(&path).unwrap();
    let status = Command::new("sh")
        .args(["-c", "echo into-the-file"])
        .stdout(file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(fs::read_to_string(&path).unwrap(), "into-the-file\n");

    // echo | tr: the first child's stdout pipe is the second one's stdin.
    let mut first = Command::new("sh")
        .args(["-c", "echo piped between children"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let between = first.stdout.take().unwrap();
    let out = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(between)
        .output()
        .unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(0));
    assert_eq!(out.stdout, b"PIPED BETWEEN CHILDREN\n");
}

#[test]
fn fd_and_close_fds_from_leave_exactly_the_given_fds() {
    let _serial = serial();
    let (_r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let out = Command::new("ls")
        .arg("/proc/self/fd")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .fd(3, w)
        .close_fds_from(4)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // 0-2 stdio, 3 ours, 4 the directory `ls` reads.
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "0\n1\n2\n3\n4\n");
}

#[test]
fn dropping_a_child_neither_kills_nor_waits() {
    let _serial = serial();
    let child = Command::new("sleep").arg("10").spawn().unwrap();
    let pid = child.pid();
    drop(child);
    assert_eq!(
        vspawn::process::kill(pid, None),
        Ok(()),
        "the child is gone"
    );
    vspawn::process::kill(pid, Some(vspawn::signal::Signal::SIGKILL)).unwrap();
    assert_eq!(common::wait_child(pid).signal(), Some(9));
}

/// Bit of `sig` in a `/proc` signal-set field.
fn sig_bit(sig: vspawn::signal::Signal) -> u64 {
    1 << (sig.raw() - 1)
}

#[test]
fn sigpipe_is_reset_for_the_child_as_std_does_unless_asked_otherwise() {
    use vspawn::signal::{SigHandler, SigSet, Signal, get_sigaction};
    // The Rust runtime ignores SIGPIPE in this test process.
    assert_eq!(
        get_sigaction(Signal::SIGPIPE).unwrap().handler,
        SigHandler::Ignore
    );
    let ignored_in = |cmd: &mut Command| {
        let status = String::from_utf8(stdout_of(cmd)).unwrap();
        u64::from_str_radix(common::status_field(&status, "SigIgn"), 16).unwrap()
            & sig_bit(Signal::SIGPIPE)
    };
    let mut cmd = Command::new("cat");
    cmd.arg("/proc/self/status");
    assert_eq!(
        ignored_in(&mut cmd),
        0,
        "SIGPIPE still ignored in the child"
    );
    cmd.signals_default(SigSet::EMPTY);
    assert_eq!(
        ignored_in(&mut cmd),
        sig_bit(Signal::SIGPIPE),
        "SIGPIPE reset anyway"
    );
}

/// Runs `f` on a thread and waits at most 60 s for it: a test of a call that used to hang
/// fails instead of hanging the run. (A hung call's thread is left behind.)
fn within_a_minute<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not return within 60 s"))
}

#[test]
fn output_with_a_piped_stdin_closes_it_first_as_std_does() {
    let _serial = serial();
    // `cat` reads its stdin to the end: output() used to keep our end open and wait forever.
    let out = within_a_minute("output() with a piped stdin", || {
        Command::new("cat").stdin(Stdio::piped()).output()
    })
    .unwrap();
    assert_eq!(
        (out.status.code(), out.stdout, out.stderr),
        (Some(0), vec![], vec![])
    );
    let std = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!((std.status.code(), std.stdout), (Some(0), vec![]));
}

#[test]
fn wait_with_output_closes_stdin_reads_both_and_waits() {
    let _serial = serial();
    let mut child = Command::new("sh")
        .args(["-c", "read line; echo \"got $line\"; echo err >&2; exit 4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(b"hello\n").unwrap();
    let out = within_a_minute("wait_with_output", move || child.wait_with_output()).unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout, b"got hello\n");
    assert_eq!(out.stderr, b"err\n");
    // Streams that were not piped are empty; a stdin left open is closed first.
    let child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let out = within_a_minute("wait_with_output", move || child.wait_with_output()).unwrap();
    assert_eq!(
        (out.status.code(), out.stdout, out.stderr),
        (Some(0), vec![], vec![])
    );
    common::assert_no_children();
}

#[test]
fn output_reaps_the_child_even_when_reading_fails() {
    if let Some(emulator) = common::emulator() {
        skip!(
            "{emulator}: a seccomp filter would see host syscall numbers: run natively and in the VM"
        );
    }
    let _serial = serial();
    // The thread's ppoll fails (a seccomp filter): reading the pipes fails, and output() must
    // still wait for the child. It used to return at once, leaving a zombie.
    let got = std::thread::spawn(|| {
        // The crate's ppoll (ppoll_time64 on the 32-bit targets), by its own number.
        let ppoll = vspawn::sys::nr::PPOLL as i64;
        let rules = [(ppoll, seccomp::Action::Errno(libc::EL2HLT))];
        seccomp::install(&rules).map_err(|e| e.to_string())?;
        Ok::<_, String>(Command::new("sh").args(["-c", "echo out; exit 2"]).output())
    })
    .join()
    .unwrap();
    let got = match got {
        Ok(got) => got,
        Err(e) => skip!("seccomp filter refused ({e}): checked natively and in the VM"),
    };
    assert_eq!(got, Err(Errno::EL2HLT));
    common::assert_no_children();
}

#[test]
fn pipe_ends_convert_as_std_pipe_ends_do() {
    use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
    use vspawn::spawn::{ChildStderr, ChildStdin, ChildStdout};
    let _serial = serial();
    let mut child = Command::new("sh")
        .args(["-c", "cat; echo err >&2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    assert_eq!(stdin.as_fd().as_raw_fd(), AsRawFd::as_raw_fd(&stdin));
    // Into a raw fd and back through std's OwnedFd.
    let raw = stdin.into_raw_fd();
    // SAFETY: `raw` was just given up by the pipe end; we own it now.
    let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    let mut stdin = ChildStdin::from(owned);
    stdin.write_all(b"through\n").unwrap();
    drop(stdin);
    // From an OwnedFd to the std type, and back.
    let mut stdout = ChildStdout::from(OwnedFd::from(stdout));
    let mut stderr = ChildStderr::from(vspawn::fd::OwnedFd::from(stderr));
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    assert_eq!(text, "through\n");
    text.clear();
    stderr.read_to_string(&mut text).unwrap();
    assert_eq!(text, "err\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn stdio_takes_our_stdout_and_stderr_a_file_and_an_owned_fd() {
    let _serial = serial();
    let dir = common::scratch_dir("spawn_command_stdio_from");
    let path = dir.join("out");
    let file = fs::File::create(&path).unwrap();
    let fd: std::os::fd::OwnedFd = fs::File::create(dir.join("err")).unwrap().into();
    let status = Command::new("sh")
        .args(["-c", "echo to-file; echo to-fd >&2"])
        .stdout(file)
        .stderr(fd)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(fs::read_to_string(&path).unwrap(), "to-file\n");
    assert_eq!(fs::read_to_string(dir.join("err")).unwrap(), "to-fd\n");
    // Our stdout and stderr as the child's: the child's fds are copies of ours (the same open
    // file), whatever the other streams are. The child tells where its fd 2 leads in a file.
    let seen = dir.join("fd2");
    let script = format!("readlink /proc/self/fd/2 > {}", seen.display());
    for (stdout, stderr, ours) in [
        (Stdio::piped(), Stdio::from(std::io::stderr()), 2),
        // Replacing stdout does not touch the copy of it that becomes stderr.
        (Stdio::null(), Stdio::from(std::io::stdout()), 1),
    ] {
        let status = Command::new("sh")
            .args(["-c", &script])
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0));
        let ours = fs::read_link(format!("/proc/self/fd/{ours}")).unwrap();
        let seen = fs::read_to_string(&seen).unwrap();
        assert_eq!(seen.trim_end(), ours.to_str().unwrap());
    }
}

#[test]
fn arguments_of_every_std_string_type_are_taken() {
    use std::borrow::Cow;
    use std::ffi::{CStr, CString, OsStr};
    use std::path::{Path, PathBuf};
    use std::rc::Rc;
    use std::sync::Arc;
    let _serial = serial();
    let path = Path::new("/a/b");
    let mut mutable = String::from("mut-ref");
    let mut cmd = Command::new("echo");
    cmd.arg("str")
        .arg(String::from("String"))
        .arg(Cow::Borrowed("cow"))
        .arg(Box::<str>::from("box"))
        .arg(Rc::<str>::from("rc"))
        .arg(Arc::<str>::from("arc"))
        .arg(OsStr::new("osstr"))
        .arg(OsString::from("osstring"))
        .arg(Cow::Borrowed(OsStr::new("cow-os")))
        .arg(Box::<OsStr>::from(OsStr::new("box-os")))
        .arg(Arc::<OsStr>::from(OsStr::new("arc-os")))
        .arg(Path::new("path"))
        .arg(PathBuf::from("pathbuf"))
        .arg(Cow::Borrowed(Path::new("cow-path")))
        .arg(Rc::<Path>::from(Path::new("rc-path")))
        .args(path.components())
        .arg(path.components())
        .arg(path.iter())
        .arg(&b"bytes"[..])
        .arg(b"vec".to_vec())
        .arg(c"cstr")
        .arg(CString::new("cstring").unwrap())
        .arg(Box::<CStr>::from(c"box-cstr"))
        .arg(&mut mutable);
    let out = cmd.output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "str String cow box rc arc osstr osstring cow-os box-os arc-os path pathbuf cow-path \
         rc-path / a b /a/b /a/b bytes vec cstr cstring box-cstr mut-ref\n"
    );
    mutable.push('!');
    assert_eq!(mutable, "mut-ref!");
}

#[test]
fn exec_refuses_what_needs_a_new_process_and_bad_input_without_side_effects() {
    use vspawn::spawn::Namespaces;
    let _serial = serial();
    // Refused before anything is applied to this process (it goes on running this test).
    let sigpipe = || vspawn::signal::get_sigaction(vspawn::signal::Signal::SIGPIPE).unwrap();
    let before = (sigpipe().handler, std::env::current_dir().unwrap());
    assert_eq!(
        Command::new("true").namespaces(Namespaces::UTS).exec(),
        Errno::EINVAL
    );
    assert_eq!(Command::new("true").pidfd(true).exec(), Errno::EINVAL);
    assert_eq!(Command::new("true").cgroup(0).exec(), Errno::EINVAL);
    assert_eq!(Command::new("true").arg("a\0b").exec(), Errno::EINVAL);
    assert_eq!(
        Command::new("true").current_dir("/").uid(u32::MAX).exec(),
        Errno::EINVAL
    );
    assert_eq!(
        before,
        (sigpipe().handler, std::env::current_dir().unwrap())
    );
}
