//! vinit's command line: the option parser (its source file is included here, since the
//! libc-free binary has no unit-test build), then the binary itself for `--version`, `-h` and
//! usage errors, with exact output and status.

#[macro_use]
mod common;

#[path = "../src/bin/vinit/options.rs"]
#[allow(dead_code)]
mod options;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use options::{DEFAULT_VERBOSITY, ExitCodes, HELP, Options, Parsed, SYNOPSIS, UsageError, parse};
use vspawn::signal::Signal;

/// Parses `args` (after an implicit `argv[0]` of `vinit`) with the environment `env`.
fn parse_with<'a>(args: &[&'a str], env: &[(&str, &'a str)]) -> Result<Parsed, UsageError<'a>> {
    let argv = std::iter::once(&b"vinit"[..]).chain(args.iter().map(|a| a.as_bytes()));
    let env = env.to_vec();
    parse(argv, move |name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|&(_, v)| v.as_bytes())
    })
}

fn run_of(parsed: Result<Parsed, UsageError<'_>>) -> (Options, usize) {
    match parsed {
        Ok(Parsed::Run { options, program }) => (options, program),
        other => panic!("expected Run, got {other:?}"),
    }
}

fn codes(list: &[u8]) -> ExitCodes {
    let mut set = ExitCodes::EMPTY;
    list.iter().for_each(|&code| set.insert(code));
    set
}

#[test]
fn every_option_separately_sets_its_field() {
    let args = [
        "-s", "-g", "-w", "-v", "-v", "-p", "SIGKILL", "-e", "2", "-e", "255", "-t", "5", "prog",
        "a", "b",
    ];
    let (options, program) = run_of(parse_with(&args, &[]));
    let expected = Options {
        subreaper: true,
        kill_process_group: true,
        parent_death_signal: Some(Signal::SIGKILL),
        remap_exit: codes(&[2, 255]),
        warn_on_reap: true,
        verbosity: DEFAULT_VERBOSITY + 2,
        grace_seconds: Some(5),
    };
    assert_eq!(options, expected);
    assert_eq!(program, 14, "index of `prog` in argv");
}

#[test]
fn grouped_options_and_attached_values_parse_like_getopt() {
    let (options, program) = run_of(parse_with(
        &["-sgwvvv", "-e2", "-pTERM", "-t0", "prog"],
        &[],
    ));
    assert!(options.subreaper && options.kill_process_group && options.warn_on_reap);
    assert_eq!(options.verbosity, DEFAULT_VERBOSITY + 3);
    assert_eq!(options.remap_exit, codes(&[2]));
    assert_eq!(options.parent_death_signal, Some(Signal::SIGTERM));
    assert_eq!(options.grace_seconds, Some(0));
    assert_eq!(program, 5);
    // A value-taking option inside a group takes the rest of the group as its value.
    let (options, _) = run_of(parse_with(&["-se9", "prog"], &[]));
    assert!(options.subreaper);
    assert_eq!(options.remap_exit, codes(&[9]));
    assert_eq!(options.grace_seconds, None);
    assert_eq!(options.parent_death_signal, None);
    // Signals by number too.
    let (options, _) = run_of(parse_with(&["-p", "9", "prog"], &[]));
    assert_eq!(options.parent_death_signal, Some(Signal::SIGKILL));
}

#[test]
fn parsing_stops_at_the_program_and_after_double_dash() {
    // Options after PROGRAM are PROGRAM's.
    let (options, program) = run_of(parse_with(&["prog", "-s", "-h"], &[]));
    assert_eq!((options, program), (Options::default(), 1));
    // `--`: the next argument is PROGRAM even if it looks like an option.
    let (options, program) = run_of(parse_with(&["-g", "--", "-s", "x"], &[]));
    assert!(options.kill_process_group && !options.subreaper);
    assert_eq!(program, 3);
    // A lone `-` is an operand.
    assert_eq!(run_of(parse_with(&["-", "x"], &[])).1, 1);
}

#[test]
fn help_and_version_act_when_reached() {
    assert_eq!(parse_with(&["-h"], &[]), Ok(Parsed::Help));
    assert_eq!(parse_with(&["--help", "-x"], &[]), Ok(Parsed::Help));
    assert_eq!(parse_with(&["-sh", "-x"], &[]), Ok(Parsed::Help));
    assert_eq!(parse_with(&["--version"], &[]), Ok(Parsed::Version));
    assert_eq!(
        parse_with(&["-s", "--version", "--bogus"], &[]),
        Ok(Parsed::Version)
    );
    // An error before them is still an error.
    assert_eq!(
        parse_with(&["-x", "-h"], &[]),
        Err(UsageError::UnknownOption(b"x"))
    );
}

#[test]
fn usage_errors_are_exact() {
    assert_eq!(parse_with(&[], &[]), Err(UsageError::MissingProgram));
    assert_eq!(
        parse_with(&["-s", "-v"], &[]),
        Err(UsageError::MissingProgram)
    );
    assert_eq!(parse_with(&["--"], &[]), Err(UsageError::MissingProgram));
    assert_eq!(
        parse_with(&["-sx", "p"], &[]),
        Err(UsageError::UnknownOption(b"x"))
    );
    assert_eq!(
        parse_with(&["--verbose", "p"], &[]),
        Err(UsageError::UnknownLongOption(b"--verbose"))
    );
    assert_eq!(
        parse_with(&["-e"], &[]),
        Err(UsageError::MissingValue(b'e'))
    );
    assert_eq!(
        parse_with(&["-s", "-p"], &[]),
        Err(UsageError::MissingValue(b'p'))
    );
    assert_eq!(
        parse_with(&["-t"], &[]),
        Err(UsageError::MissingValue(b't'))
    );
    for bad in ["256", "-1", "", "1x", "99999999999"] {
        assert_eq!(
            parse_with(&["-e", bad, "p"], &[]),
            Err(UsageError::BadExitCode(bad.as_bytes()))
        );
    }
    for bad in ["NOPE", "0", "65", "SIG", ""] {
        assert_eq!(
            parse_with(&["-p", bad, "p"], &[]),
            Err(UsageError::BadSignal(bad.as_bytes()))
        );
    }
    for bad in ["x", "-1", "", "4294967296"] {
        assert_eq!(
            parse_with(&["-t", bad, "p"], &[]),
            Err(UsageError::BadSeconds(bad.as_bytes()))
        );
    }
}

#[test]
fn usage_error_messages_read_well() {
    let cases: [(UsageError<'_>, &str); 8] = [
        (UsageError::MissingProgram, "no PROGRAM to run"),
        (UsageError::UnknownOption(b"x"), "unknown option '-x'"),
        (
            UsageError::UnknownOption(b"\xff"),
            "unknown option '-\u{FFFD}'",
        ),
        (
            UsageError::UnknownLongOption(b"--verbose"),
            "unknown option '--verbose'",
        ),
        (UsageError::MissingValue(b'p'), "option '-p' needs a value"),
        (UsageError::BadSignal(b"NOPE"), "'NOPE' is not a signal"),
        (
            UsageError::BadExitCode(b"256"),
            "'256' is not an exit code (0-255)",
        ),
        (
            UsageError::BadVerbosity(b"lots"),
            "VINIT_VERBOSITY='lots' is not a number",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn environment_sets_the_defaults_and_options_add_to_them() {
    // Any value, even empty, turns the flags on (as tini's TINI_* variables).
    let env = [
        ("VINIT_SUBREAPER", ""),
        ("VINIT_KILL_PROCESS_GROUP", "0"),
        ("VINIT_VERBOSITY", "3"),
    ];
    let (options, _) = run_of(parse_with(&["-v", "prog"], &env));
    assert!(options.subreaper && options.kill_process_group);
    assert_eq!(options.verbosity, 4);
    let (options, _) = run_of(parse_with(&["prog"], &[("VINIT_VERBOSITY", "0")]));
    assert_eq!(options.verbosity, 0);
    assert_eq!(
        parse_with(&["prog"], &[("VINIT_VERBOSITY", "lots")]),
        Err(UsageError::BadVerbosity(b"lots"))
    );
    // Unset: the defaults.
    assert_eq!(run_of(parse_with(&["prog"], &[])).0, Options::default());
}

#[test]
fn exit_code_set_holds_exactly_what_was_inserted() {
    let set = codes(&[0, 63, 64, 127, 128, 255]);
    for code in 0..=255u8 {
        assert_eq!(
            set.contains(code),
            [0, 63, 64, 127, 128, 255].contains(&code),
            "{code}"
        );
    }
}

// --- The binary --------------------------------------------------------------------------------

/// Runs the vinit binary with `args`: directly on a real kernel, through `qemu-<arch>` under
/// qemu-user (the binary is for the emulated architecture). `None` when it is not here (built
/// without the `entry` feature, or tests copied into the VM without it).
fn vinit(args: &[&str]) -> Option<Output> {
    // Cargo names the binary even when it skipped building it for want of `entry`: a stale one
    // may be there.
    let path = Path::new(option_env!("CARGO_BIN_EXE_vinit")?);
    if !cfg!(feature = "entry") || !path.exists() {
        return None;
    }
    let mut command = match common::emulator() {
        None => Command::new(path),
        Some(_) => {
            let arch = std::env::consts::ARCH;
            let mut qemu = Command::new(format!("qemu-{arch}"));
            // The sysroot matters only for a build with `std` (dynamically linked).
            qemu.arg("-L")
                .arg(format!("/usr/{arch}-linux-gnu"))
                .arg(path);
            qemu
        }
    };
    let output = command.args(args).env_clear().stdin(Stdio::null()).output();
    Some(output.unwrap_or_else(|e| panic!("running vinit: {e}")))
}

macro_rules! vinit_or_skip {
    ($($arg:expr),* $(,)?) => {
        match vinit(&[$($arg),*]) {
            Some(output) => output,
            None => skip!("the vinit binary is not available here (built without `entry`, or in the VM)"),
        }
    };
}

#[test]
fn version_prints_name_and_version_and_exits_zero() {
    let output = vinit_or_skip!("--version");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("vinit {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(output.stderr, b"");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn help_prints_the_help_on_stdout_and_exits_zero() {
    let output = vinit_or_skip!("-h");
    assert_eq!(String::from_utf8_lossy(&output.stdout), HELP);
    assert_eq!(output.stderr, b"");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn usage_errors_print_the_reason_and_synopsis_and_exit_one() {
    let cases: [(&[&str], &str); 3] = [
        (&[], "no PROGRAM to run"),
        (&["-e", "300", "true"], "'300' is not an exit code (0-255)"),
        (&["-z", "true"], "unknown option '-z'"),
    ];
    for (args, reason) in cases {
        let Some(output) = vinit(args) else {
            skip!("the vinit binary is not available here (built without `entry`, or in the VM)");
        };
        let expected =
            format!("vinit: {reason}\n{SYNOPSIS}\ntry 'vinit -h' for more information\n");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            expected,
            "{args:?}"
        );
        assert_eq!(output.stdout, b"", "{args:?}");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
}
