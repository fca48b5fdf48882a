//! The libc-free program entry (`vspawn::entry!`): the examples `nolibc_hello` and
//! `nolibc_memcheck`, built without std (static, no libc, our `_start` and memory functions) and,
//! for the fallback, with the `std` feature (a C `main` under glibc), then run and checked for
//! their exact output and status.
//!
//! The test builds the examples itself, with a nested `cargo build` into its own target
//! directory: the outer build may have the `std` feature on (which makes the examples ordinary
//! libc programs) or may not have built examples at all (`cargo test --test entry`). Where cargo
//! is not available (the test VM) the tests skip visibly. Under qemu-user the examples are for
//! the emulated architecture, so they are run through `qemu-<arch>` too: exec'ing them directly
//! from the emulated test would fail with ENOEXEC.

#[macro_use]
mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// How the examples are built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// `--no-default-features --features entry`: the libc-free binaries.
    NoLibc,
    /// `--no-default-features --features entry,std`: std linked, `entry!` defines a C `main`.
    Std,
    /// `--no-default-features --features entry,alloc`: libc-free with `Command` (and a global
    /// allocator of the program's); only the examples that need `alloc`.
    NoLibcAlloc,
}

impl Mode {
    fn features(self) -> &'static str {
        match self {
            Mode::NoLibc => "entry",
            Mode::Std => "entry,std",
            Mode::NoLibcAlloc => "entry,alloc",
        }
    }

    fn dir_name(self) -> &'static str {
        match self {
            Mode::NoLibc => "nolibc",
            Mode::Std => "std",
            Mode::NoLibcAlloc => "nolibc-alloc",
        }
    }
}

/// The examples built in `mode`: `Ok(dir holding them)`, or `Err(reason to skip)`. Built once per
/// test binary and mode.
fn examples(mode: Mode) -> Result<&'static Path, &'static str> {
    static NOLIBC: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static STD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static NOLIBC_ALLOC: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match mode {
        Mode::NoLibc => &NOLIBC,
        Mode::Std => &STD,
        Mode::NoLibcAlloc => &NOLIBC_ALLOC,
    };
    cell.get_or_init(|| build_examples(mode))
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(String::as_str)
}

fn build_examples(mode: Mode) -> Result<PathBuf, String> {
    let dir = format!("entry-test/{}", mode.dir_name());
    let examples: &[&str] = match mode {
        Mode::NoLibc => &["nolibc_hello", "nolibc_memcheck", "nolibc_tasks"],
        Mode::Std => &["nolibc_hello", "command_defaults"],
        Mode::NoLibcAlloc => &["command_defaults"],
    };
    let mut args = vec!["--no-default-features", "--features", mode.features()];
    for example in examples {
        args.extend(["--example", example]);
    }
    let what = format!("the examples ({mode:?}); checked natively and under qemu-user");
    let built = common::nested_cargo_build(&dir, &args, &what)?;
    Ok(built.join("debug").join("examples"))
}

/// Runs `program` with `args` and exactly the environment `env`: directly on a real kernel, through
/// `qemu-<arch>` under qemu-user.
fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command_for(program);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

/// The page size as this process sees it (the examples see the same one: same kernel, or the
/// same emulator).
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).expect("page size")
}

/// What the ELF headers of a binary say about how it is linked.
#[derive(Debug, PartialEq, Eq)]
struct Linking {
    /// `e_machine`.
    machine: u16,
    /// `e_type` is `ET_EXEC` (not position-independent).
    fixed_address: bool,
    /// A `PT_INTERP` header: needs a dynamic loader.
    interpreter: bool,
    /// A `PT_DYNAMIC` header: has dynamic linking information.
    dynamic: bool,
}

fn linking(path: &Path) -> Linking {
    const ET_EXEC: u16 = 2;
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    let elf = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert_eq!(&elf[..4], b"\x7fELF", "{} is not ELF", path.display());
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let phoff = u64_at(0x20) as usize;
    let phentsize = u16_at(0x36) as usize;
    let phnum = u16_at(0x38) as usize;
    let types: Vec<u32> = (0..phnum).map(|i| u32_at(phoff + i * phentsize)).collect();
    Linking {
        machine: u16_at(0x12),
        fixed_address: u16_at(0x10) == ET_EXEC,
        interpreter: types.contains(&PT_INTERP),
        dynamic: types.contains(&PT_DYNAMIC),
    }
}

/// `e_machine` of this architecture.
fn this_machine() -> u16 {
    match std::env::consts::ARCH {
        "x86_64" => 62,
        "aarch64" => 183,
        "riscv64" => 243,
        other => panic!("unsupported architecture {other}"),
    }
}

/// The examples' directory in `mode`, or a visible skip.
macro_rules! examples_or_skip {
    ($mode:expr) => {
        match examples($mode) {
            Ok(dir) => dir,
            Err(reason) => skip!("{reason}"),
        }
    };
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

/// `nolibc_hello`'s expected standard output for `args` and `NOLIBC_HELLO`.
fn hello_output(program: &Path, args: &[&str], hello: Option<&str>) -> String {
    let mut expected = format!("argv[0] = {:?}\n", program.to_str().unwrap());
    for (i, arg) in args.iter().enumerate() {
        expected += &format!("argv[{}] = {arg:?}\n", i + 1);
    }
    match hello {
        Some(value) => expected += &format!("NOLIBC_HELLO = {value:?}\n"),
        None => expected += "NOLIBC_HELLO is not set\n",
    }
    expected + &format!("page size = {}\n", page_size())
}

#[test]
fn nolibc_example_is_static_with_no_loader_and_not_pie() {
    let dir = examples_or_skip!(Mode::NoLibc);
    for name in ["nolibc_hello", "nolibc_memcheck"] {
        let expected = Linking {
            machine: this_machine(),
            fixed_address: true,
            interpreter: false,
            dynamic: false,
        };
        assert_eq!(linking(&dir.join(name)), expected, "{name}");
    }
}

#[test]
fn nolibc_hello_prints_argv_and_env_and_exits_with_its_argument_count() {
    let dir = examples_or_skip!(Mode::NoLibc);
    let program = dir.join("nolibc_hello");
    let args = ["one", "two words", "", "x=y"];
    let output = run(
        &program,
        &args,
        &[("NOLIBC_HELLO", "hello, world"), ("OTHER", "1")],
    );
    assert_eq!(
        text(&output.stdout),
        hello_output(&program, &args, Some("hello, world"))
    );
    assert_eq!(text(&output.stderr), "");
    assert_eq!(output.status.code(), Some(4));
}

#[test]
fn nolibc_hello_without_arguments_or_variable_exits_zero() {
    let dir = examples_or_skip!(Mode::NoLibc);
    let program = dir.join("nolibc_hello");
    // A variable whose name only starts like the wanted one must not match.
    let output = run(
        &program,
        &[],
        &[("NOLIBC_HELLOX", "no"), ("NOLIBC_HELL", "no")],
    );
    assert_eq!(text(&output.stdout), hello_output(&program, &[], None));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn nolibc_panic_prints_the_message_and_exits_101() {
    let dir = examples_or_skip!(Mode::NoLibc);
    let program = dir.join("nolibc_hello");
    let output = run(&program, &["--panic"], &[]);
    assert_eq!(
        text(&output.stdout),
        hello_output(&program, &["--panic"], None)
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("panicked at examples/nolibc_hello.rs:")
            && stderr.ends_with(":\nasked to panic, with 1 arguments\n")
            && stderr.lines().count() == 2,
        "unexpected panic report: {stderr:?}"
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn nolibc_panics_in_child_tasks_end_only_them_and_leave_the_parent_as_it_was() {
    let dir = examples_or_skip!(Mode::NoLibc);
    let output = run(&dir.join("nolibc_tasks"), &[], &[]);
    // The thread's join reports 127; the vfork child ends with 101 (under qemu-user a fork's
    // child: the same); the parent goes on to its own panic, whose message is not silenced.
    assert_eq!(
        text(&output.stdout),
        "thread ended with 127\nvfork child ended with 101\n"
    );
    let messages: Vec<&str> = text(&output.stderr)
        .lines()
        .filter(|line| !line.starts_with("panicked at "))
        .collect();
    assert_eq!(
        messages,
        [
            "panic in a thread",
            "panic in a vfork child",
            "panic in the main thread"
        ]
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn command_defaults_are_the_same_with_and_without_std() {
    // Features only add: a child of `Command::new` sees the same environment (the process's),
    // signal mask and ignored signals (SIGPIPE back at its default, as std's Command does)
    // whether the program is libc-free or has std. Both programs run in the same situation: this
    // environment, SIGPIPE ignored (as a std program's runtime does), SIGUSR1 blocked.
    let nolibc = examples_or_skip!(Mode::NoLibcAlloc).join("command_defaults");
    let with_std = examples_or_skip!(Mode::Std).join("command_defaults");
    let env = [
        ("PATH", "/usr/bin:/bin"),
        ("VSPAWN_DEFAULTS", "same everywhere"),
    ];
    let seen: Vec<String> = [&nolibc, &with_std]
        .into_iter()
        .map(|program| {
            let output = run_with_signals(program, &env);
            assert_eq!(output.status.code(), Some(0), "{output:?}");
            classic_signals_only_when_emulated(text(&output.stdout))
        })
        .collect();
    // SIGUSR1 (10) blocked: bit 9; nothing ignored.
    let expected = "PATH=/usr/bin:/bin\nPWD=/\nVSPAWN_DEFAULTS=same everywhere\n\
                    SigBlk:\t0000000000000200\nSigIgn:\t0000000000000000\n";
    assert_eq!(seen[0], expected, "libc-free");
    assert_eq!(seen[1], expected, "with std");
}

/// Under qemu-user the real-time signals belong to the emulator (it renumbers the guest's and
/// keeps the host's for itself), so the `SigBlk`/`SigIgn` masks of a host program it starts are
/// compared for the classic signals (1 to 31) only; on a real kernel, whole.
fn classic_signals_only_when_emulated(status: &str) -> String {
    if common::emulator().is_none() {
        return status.to_string();
    }
    status
        .lines()
        .map(|line| match line.split_once(":\t") {
            Some((name @ ("SigBlk" | "SigIgn"), mask)) => {
                let bits = u64::from_str_radix(mask, 16).expect("a hex mask");
                format!("{name}:\t{:016x}\n", bits & 0x7fff_ffff)
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// A command that runs `program`: directly on a real kernel, through `qemu-<arch>` under
/// qemu-user.
fn command_for(program: &Path) -> Command {
    match common::emulator() {
        None => Command::new(program),
        Some(_) => {
            let arch = std::env::consts::ARCH;
            let mut qemu = Command::new(format!("qemu-{arch}"));
            // The sysroot matters only for the dynamically linked std build.
            qemu.arg("-L")
                .arg(format!("/usr/{arch}-linux-gnu"))
                .arg(program);
            qemu
        }
    }
}

/// Runs `program` like [`run`], from `/`, with SIGPIPE ignored and SIGUSR1 blocked, and the
/// first two real-time signals at their defaults: glibc reserves them for itself (it installs its
/// own handlers in a libc program), so a libc-free program would otherwise see whatever our test
/// harness left there (ignored, here) while the std program sees glibc's.
fn run_with_signals(program: &Path, env: &[(&str, &str)]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = command_for(program);
    command
        .env_clear()
        .envs(env.iter().copied())
        .current_dir("/");
    // SAFETY: the pre-exec hook only makes two async-signal-safe syscalls.
    unsafe {
        command.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            for reserved in [32, 33] {
                // glibc refuses these numbers; the kernel takes a raw SIG_DFL (a null handler,
                // no flags, empty mask: 32 bytes of zeros, the kernel's sigaction on x86_64
                // and the largest of the three layouts).
                let default = [0u64; 4];
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    reserved,
                    default.as_ptr(),
                    0usize,
                    8usize,
                );
            }
            Ok(())
        });
    }
    command.output().expect("run the example")
}

#[test]
fn nolibc_memory_functions_match_byte_references() {
    let dir = examples_or_skip!(Mode::NoLibc);
    let output = run(&dir.join("nolibc_memcheck"), &[], &[]);
    assert_eq!(text(&output.stdout), "memcheck: 52824 checks passed\n");
    assert_eq!(text(&output.stderr), "");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn with_std_the_entry_becomes_a_c_main_under_libc() {
    let dir = examples_or_skip!(Mode::Std);
    let program = dir.join("nolibc_hello");
    let linked = linking(&program);
    assert!(
        linked.interpreter && linked.dynamic,
        "expected a dynamically linked binary: {linked:?}"
    );
    let args = ["one", "two words"];
    let output = run(&program, &args, &[("NOLIBC_HELLO", "std")]);
    assert_eq!(
        text(&output.stdout),
        hello_output(&program, &args, Some("std"))
    );
    assert_eq!(output.status.code(), Some(2));
    // std's own panic handler, with panic = "abort": the report, then SIGABRT.
    let output = run(&program, &["--panic"], &[("RUST_BACKTRACE", "0")]);
    assert!(
        text(&output.stderr).contains("asked to panic, with 1 arguments"),
        "unexpected panic report: {:?}",
        text(&output.stderr)
    );
    assert_eq!(output.status.signal(), Some(libc::SIGABRT));
}
