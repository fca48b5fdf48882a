//! vinit's command line and exit status: the option parser (its source file is included here,
//! since the libc-free binary has no unit-test build), the signal wait it is built on, then the
//! binary itself (see `vinit/runner.rs` for which one and how it runs): `--version`, `-h`, usage
//! errors, every exit code, deaths by signal, `-e`, and exec failures, with exact output and
//! status. The supervision itself is tested in `vinit_supervise.rs`.

#[macro_use]
mod common;

#[path = "../src/bin/vinit/options.rs"]
#[allow(dead_code)]
mod options;

#[path = "vinit/runner.rs"]
mod runner;

use std::process::Stdio;
use std::time::{Duration, Instant};

use options::{
    DEFAULT_VERBOSITY, ExitCodes, HELP, NOT_FORWARDED, Options, Parsed, Rewrites, USAGE,
    UsageError, atoi, parse, parse_signal, signal_name,
};
use runner::{Mode, run};
use vspawn::Errno;
use vspawn::process::Timespec;
use vspawn::signal::{SigHow, SigSet, Signal, rt_sigprocmask, rt_sigtimedwait};

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

fn rewrites(list: &[(Signal, Option<Signal>)]) -> Rewrites {
    let mut table = Rewrites::NONE;
    list.iter().for_each(|&(from, to)| table.set(from, to));
    table
}

fn codes(list: &[u8]) -> ExitCodes {
    let mut set = ExitCodes::EMPTY;
    list.iter().for_each(|&code| set.insert(code));
    set
}

#[test]
fn every_option_separately_sets_its_field() {
    let args = [
        "-s",
        "-g",
        "-w",
        "-v",
        "-v",
        "-p",
        "SIGKILL",
        "-e",
        "2",
        "-e",
        "255",
        "-t",
        "5",
        "-r",
        "TERM:QUIT",
        "prog",
        "a",
        "b",
    ];
    let (options, program) = run_of(parse_with(&args, &[]));
    let expected = Options {
        subreaper: true,
        kill_process_group: true,
        parent_death_signal: Some(Signal::SIGKILL),
        remap_exit: codes(&[2, 255]),
        rewrites: rewrites(&[(Signal::SIGTERM, Some(Signal::SIGQUIT))]),
        warn_on_reap: true,
        verbosity: DEFAULT_VERBOSITY + 2,
        grace_seconds: Some(5),
    };
    assert_eq!(options, expected);
    assert_eq!(program, 16, "index of `prog` in argv");
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
fn help_licence_and_version_act_when_reached() {
    assert_eq!(parse_with(&["-h"], &[]), Ok(Parsed::Help));
    assert_eq!(parse_with(&["-l"], &[]), Ok(Parsed::Licence));
    assert_eq!(parse_with(&["-sl", "-x"], &[]), Ok(Parsed::Licence));
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
    let cases: [(UsageError<'_>, &str); 9] = [
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
            UsageError::BadRewrite(b"TERM"),
            "'TERM' is not FROM:TO (FROM a signal vinit forwards, TO a signal or 0)",
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
fn empty_vinit_verbosity_is_zero_as_with_tini() {
    let (options, _) = run_of(parse_with(&["prog"], &[("VINIT_VERBOSITY", "")]));
    assert_eq!(options.verbosity, 0);
    let (options, _) = run_of(parse_with(&["-vv", "prog"], &[("VINIT_VERBOSITY", "")]));
    assert_eq!(options.verbosity, 2);
}

#[test]
fn tini_variables_mean_what_they_mean_to_tini() {
    // Set to anything, even empty, as tini's `getenv(...) != NULL`.
    for value in ["", "0", "1", "no"] {
        let (options, _) = run_of(parse_with(&["prog"], &[("TINI_SUBREAPER", value)]));
        assert!(
            options.subreaper && !options.kill_process_group,
            "{value:?}"
        );
        let env = [("TINI_KILL_PROCESS_GROUP", value)];
        let (options, _) = run_of(parse_with(&["prog"], &env));
        assert!(
            options.kill_process_group && !options.subreaper,
            "{value:?}"
        );
    }
    // TINI_VERBOSITY as tini's atoi reads it; never a usage error.
    for (value, verbosity) in [("0", 0), ("", 0), ("3", 3), (" 2x", 2), ("lots", 0)] {
        let (options, _) = run_of(parse_with(&["prog"], &[("TINI_VERBOSITY", value)]));
        assert_eq!(options.verbosity, verbosity, "TINI_VERBOSITY={value:?}");
    }
}

#[test]
fn verbosity_precedence_vinit_variable_then_tini_variable_then_each_v_adds_one() {
    let both = [("TINI_VERBOSITY", "3"), ("VINIT_VERBOSITY", "0")];
    assert_eq!(run_of(parse_with(&["prog"], &both)).0.verbosity, 0);
    assert_eq!(run_of(parse_with(&["-v", "prog"], &both)).0.verbosity, 1);
    let tini = [("TINI_VERBOSITY", "0")];
    assert_eq!(run_of(parse_with(&["-vv", "prog"], &tini)).0.verbosity, 2);
    // A bad VINIT_VERBOSITY is an error even with a TINI_VERBOSITY.
    let bad = [("TINI_VERBOSITY", "1"), ("VINIT_VERBOSITY", "x")];
    assert_eq!(
        parse_with(&["prog"], &bad),
        Err(UsageError::BadVerbosity(b"x"))
    );
}

#[test]
fn atoi_reads_what_c_atoi_reads() {
    let inputs = [
        "",
        "0",
        "7",
        "42",
        "007",
        " 3",
        "\t\n 5",
        "+4",
        "-1",
        "-0",
        "2x",
        "x2",
        "1 2",
        "- 1",
        "+",
        "-",
        " ",
        "4294967295",
        "2147483647",
        "12abc",
    ];
    for input in inputs {
        let c = std::ffi::CString::new(input).unwrap();
        // SAFETY: a NUL-terminated string.
        let expected = unsafe { libc::atoi(c.as_ptr()) } as u32;
        assert_eq!(atoi(input.as_bytes()), expected, "{input:?}");
    }
}

#[test]
fn r_rewrites_signals_by_name_or_number_and_0_drops() {
    let (options, _) = run_of(parse_with(
        &[
            "-r",
            "TERM:QUIT",
            "-r15:3",
            "-rSIGUSR1:0",
            "-r",
            "rtmin+2:hup",
            "prog",
        ],
        &[],
    ));
    let expected = rewrites(&[
        (Signal::SIGTERM, Some(Signal::SIGQUIT)),
        (Signal::SIGUSR1, None),
        (Signal::new(34).unwrap(), Some(Signal::SIGHUP)),
    ]);
    assert_eq!(options.rewrites, expected);
    assert_eq!(expected.get(Signal::SIGTERM), Some(Signal::SIGQUIT));
    assert_eq!(expected.get(Signal::SIGUSR1), None);
    assert_eq!(expected.get(Signal::SIGUSR2), Some(Signal::SIGUSR2));
    assert_eq!(expected.get(Signal::new(64).unwrap()), Signal::new(64));
    // The last rewrite of a signal wins; a rewrite back to itself undoes one.
    let (options, _) = run_of(parse_with(
        &["-r", "TERM:QUIT", "-r", "TERM:TERM", "p"],
        &[],
    ));
    assert_eq!(options.rewrites, Rewrites::NONE);
    // FROM must be a signal vinit forwards; TO a signal or 0.
    for sig in NOT_FORWARDED.iter() {
        let bad = format!("{}:HUP", sig.raw());
        assert_eq!(
            parse_with(&["-r", &bad, "p"], &[]),
            Err(UsageError::BadRewrite(bad.as_bytes())),
            "{sig}"
        );
    }
    for bad in [
        "TERM",
        "TERM:",
        ":QUIT",
        "TERM:NOPE",
        "0:1",
        "TERM:65",
        "TERM:-1",
        "",
    ] {
        assert_eq!(
            parse_with(&["-r", bad, "p"], &[]),
            Err(UsageError::BadRewrite(bad.as_bytes())),
            "{bad}"
        );
    }
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

#[test]
fn signal_values_parse_like_signal_parse() {
    let mut inputs: Vec<String> = [
        "",
        "SIG",
        "sig",
        "TERM",
        "term",
        "SIGTERM",
        "sigTerm",
        "SIGSIGTERM",
        "TERMX",
        "9",
        "09",
        "0",
        "64",
        "65",
        "-1",
        "RTMIN",
        "SIGRTMIN",
        "rtmin+0",
        "RTMIN+1",
        "SIGRTMIN+32",
        "RTMIN+33",
        "RTMIN-1",
        "RTMIN+",
        "RTMAX",
        "IO",
        "POLL",
        "CLD",
        "4294967297",
        "+9",
        " 9",
    ]
    .map(String::from)
    .to_vec();
    for sig in Signal::all() {
        inputs.push(sig.raw().to_string());
        if let Some(name) = sig.name() {
            inputs.push(name.to_string());
            inputs.push(name[3..].to_lowercase());
        }
    }
    for input in &inputs {
        assert_eq!(
            parse_signal(input.as_bytes()),
            Signal::parse(input),
            "{input:?}"
        );
    }
}

#[test]
fn signal_names_are_those_of_signal_name() {
    for sig in Signal::all() {
        let expected = sig.name().map(|name| &name.as_bytes()[3..]);
        assert_eq!(signal_name(sig), expected, "{sig}");
    }
}

// --- rt_sigtimedwait, vinit's only way of receiving signals ----------------------------------------

/// Runs `f` in a forked child with every signal blocked (the test threads must not see the
/// signals involved); the child reports a failed check through its exit status.
fn in_blocked_child(f: impl FnOnce() -> i32) -> i32 {
    let status = common::run_in_child(|| {
        if rt_sigprocmask(SigHow::SetMask, Some(&SigSet::FULL)).is_err() {
            return 90;
        }
        f()
    });
    status.code().expect("the child exited")
}

#[test]
fn rt_sigtimedwait_takes_a_pending_signal_with_its_sender() {
    let code = in_blocked_child(|| {
        let me = vspawn::process::getpid();
        if vspawn::process::kill(me, Some(Signal::SIGUSR2)).is_err() {
            return 91;
        }
        let set = SigSet::EMPTY.with(Signal::SIGUSR2);
        match rt_sigtimedwait(&set, None) {
            Ok((sig, info)) if sig != Signal::SIGUSR2 || info.signo != 12 => 92,
            // SI_USER: sent by kill, from us.
            Ok((_, info)) if info.code != 0 || info.pid() != me => 93,
            Ok(_) => 0,
            Err(_) => 94,
        }
    });
    assert_eq!(code, 0);
}

#[test]
fn rt_sigtimedwait_times_out_with_eagain_and_leaves_other_signals_pending() {
    let code = in_blocked_child(|| {
        let me = vspawn::process::getpid();
        // SIGUSR1 is pending but not in the set: it must stay pending.
        if vspawn::process::kill(me, Some(Signal::SIGUSR1)).is_err() {
            return 91;
        }
        let set = SigSet::EMPTY.with(Signal::SIGUSR2);
        let timeout = Timespec {
            sec: 0,
            nsec: 50_000_000,
        };
        let started = Instant::now();
        if rt_sigtimedwait(&set, Some(&timeout)).map(|(s, _)| s) != Err(Errno::EAGAIN) {
            return 92;
        }
        if started.elapsed() < Duration::from_millis(40) {
            return 93;
        }
        let zero = Timespec::default();
        match rt_sigtimedwait(&SigSet::FULL, Some(&zero)) {
            Ok((sig, _)) if sig == Signal::SIGUSR1 => 0,
            _ => 94,
        }
    });
    assert_eq!(code, 0);
}

// --- The binary --------------------------------------------------------------------------------

/// vinit run with exactly `args`, no stdin, and its output; skips the test if there is no vinit.
macro_rules! vinit_or_skip {
    ($($arg:expr),* $(,)?) => {
        match runner::raw_command(&[$($arg),*]) {
            Ok(mut command) => runner::output(command.stdin(Stdio::null())),
            Err(reason) => skip!("{reason}"),
        }
    };
}

/// Unwraps a runner result, or skips the test with the reason.
macro_rules! or_skip {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(reason) => skip!("{reason}"),
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
fn l_prints_the_licence_and_exits_zero() {
    let output = vinit_or_skip!("-l");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mit = include_str!("../LICENSE-MIT");
    assert!(stdout.ends_with(mit), "{stdout}");
    assert!(
        stdout.starts_with(
            "vinit is part of vspawn, licensed under the MIT License or the Apache License, \
             Version 2.0\n(https://www.apache.org/licenses/LICENSE-2.0), at your option. The \
             MIT License:\n\n"
        ),
        "{stdout}"
    );
    assert_eq!(output.stderr, b"");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn usage_errors_print_the_reason_and_synopsis_and_exit_one() {
    let cases: [(&[&str], &str); 4] = [
        (&[], "no PROGRAM to run"),
        (&["-e", "300", "true"], "'300' is not an exit code (0-255)"),
        (&["-z", "true"], "unknown option '-z'"),
        (
            &["-p", "NO\u{e9}\u{20ac}", "true"],
            "'NO\u{e9}\u{20ac}' is not a signal",
        ),
    ];
    for (args, reason) in cases {
        let mut command = or_skip!(runner::raw_command(args));
        let output = runner::output(command.stdin(Stdio::null()));
        let expected = format!("vinit: {reason}\n{USAGE}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            expected,
            "{args:?}"
        );
        assert_eq!(output.stdout, b"", "{args:?}");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
}

#[test]
fn libc_free_build_is_static_with_no_loader() {
    if std::env::var_os("VSPAWN_VINIT").is_some() {
        skip!("VSPAWN_VINIT names the binary: checked where cargo builds it");
    }
    let path = or_skip!(runner::vinit_path());
    let linked = common::elf_linking(path);
    assert_eq!(linked.machine, common::elf_machine());
    assert!(linked.fixed_address, "ET_EXEC: not position-independent");
    // No loader, no dynamic linking.
    assert!(!linked.interpreter && !linked.dynamic, "{linked:?}");
}

/// Runs `vinit ARGS -- sh -c SCRIPT` (plain mode) and returns its exit code.
fn exit_code_of(args: &[&str], script: &str) -> Result<Option<i32>, String> {
    let finished = run(
        Mode::Plain,
        args,
        &["sh", "-c", script],
        Duration::from_secs(20),
    )?;
    Ok(finished.code)
}

#[test]
fn every_exit_code_passes_through() {
    or_skip!(Mode::Plain.check());
    // Eight at a time: 256 runs take about a second natively. One at a time under qemu-user
    // (see `runner::spawn`).
    let codes: Vec<i32> = (0..=255).collect();
    let per_thread = if runner::emulated() { 256 } else { 32 };
    std::thread::scope(|scope| {
        for chunk in codes.chunks(per_thread) {
            scope.spawn(move || {
                for &code in chunk {
                    let got = exit_code_of(&[], &format!("exit {code}"));
                    assert_eq!(got, Ok(Some(code)), "exit {code}");
                }
            });
        }
    });
}

#[test]
fn every_exit_code_passes_through_as_pid1() {
    or_skip!(Mode::Pid1.check());
    for code in [0, 1, 2, 126, 127, 128, 143, 255] {
        let finished = or_skip!(run(
            Mode::Pid1,
            &[],
            &["sh", "-c", &format!("exit {code}")],
            Duration::from_secs(20),
        ));
        assert_eq!(finished.code, Some(code), "{finished:?}");
        assert_eq!(finished.stderr, "");
    }
}

/// Signals a shell can kill itself with (not SIGSTOP and the job-control ones, which stop it).
const DEADLY: [i32; 13] = [1, 2, 3, 4, 6, 8, 9, 10, 11, 13, 14, 15, 24];

/// The same among the real-time signals (not 32 and 33, which glibc keeps for itself).
const DEADLY_REAL_TIME: [i32; 3] = [34, 50, 64];

fn deaths_by_signal_give_128_plus_n(signals: &[i32]) {
    for &sig in signals {
        // No core file for the dumping signals. The shell becomes `kill`, which signals its own
        // process group (PROGRAM's, with nothing else in it): a shell may ignore some signals
        // for itself (busybox's ash, like bash, ignores SIGQUIT), a plain program does not.
        let script = format!("ulimit -c 0; exec kill -{sig} 0");
        let got = exit_code_of(&[], &script);
        assert_eq!(got, Ok(Some(128 + sig)), "signal {sig}");
    }
}

#[test]
fn death_by_signal_n_gives_128_plus_n() {
    or_skip!(Mode::Plain.check());
    deaths_by_signal_give_128_plus_n(&DEADLY);
}

#[test]
fn death_by_real_time_signal_n_gives_128_plus_n() {
    or_skip!(Mode::Plain.check());
    if let Some(emulator) = common::emulator() {
        // Measured: a host child killed by signal 34 is reported to the guest as killed by 32.
        skip!(
            "{emulator} renumbers the real-time signals of a host child's wait status: checked \
             natively and in the VM"
        );
    }
    deaths_by_signal_give_128_plus_n(&DEADLY_REAL_TIME);
}

#[test]
fn e_maps_exit_codes_and_signal_deaths_to_zero() {
    or_skip!(Mode::Plain.check());
    let args = ["-e", "3", "-e4", "-e", "143", "-e", "0"];
    let cases = [
        ("exit 3", 0),
        ("exit 4", 0),
        ("exit 5", 5),
        ("exit 0", 0),
        ("kill -TERM $$; sleep 10", 0),
        ("kill -INT $$; sleep 10", 130),
    ];
    for (script, expected) in cases {
        assert_eq!(exit_code_of(&args, script), Ok(Some(expected)), "{script}");
    }
}

#[test]
fn exec_failures_exit_127_or_126_with_the_reason() {
    or_skip!(Mode::Plain.check());
    let dir = common::scratch_dir("vinit-exec");
    let not_executable = dir.join("not-executable");
    std::fs::write(&not_executable, "#!/bin/sh\nexit 0\n").unwrap();
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, [0u8; 64]).unwrap();
    let mode = |path: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(&not_executable, 0o644);
    mode(&garbage, 0o755);
    let dir_str = dir.to_str().unwrap().to_string();
    let not_executable = not_executable.to_str().unwrap().to_string();
    let garbage = garbage.to_str().unwrap().to_string();
    let cases: [(&str, i32, &str); 6] = [
        (
            "/nonexistent/program",
            127,
            "ENOENT: No such file or directory",
        ),
        (
            "no-such-program-in-path",
            127,
            "ENOENT: No such file or directory",
        ),
        ("/etc/passwd/x", 127, "ENOTDIR: Not a directory"),
        (&not_executable, 126, "EACCES: Permission denied"),
        (&dir_str, 126, "EACCES: Permission denied"),
        (&garbage, 126, "ENOEXEC: Exec format error"),
    ];
    for (program, status, reason) in cases {
        let finished = or_skip!(run(Mode::Plain, &[], &[program], Duration::from_secs(20)));
        assert_eq!(
            finished.stderr,
            format!(
                "vinit: warning: not running as PID 1 and not a child subreaper (-s): orphaned \
                 processes will not be reaped by vinit\nvinit: cannot run '{program}': {reason}\n"
            ),
            "{program}"
        );
        assert_eq!(finished.code, Some(status), "{program}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verbosity_zero_silences_warnings_but_not_errors() {
    let mut command = or_skip!(runner::command(Mode::Plain, &["-w"], &["/nonexistent"]));
    let output = runner::output(command.env("VINIT_VERBOSITY", "0").stdin(Stdio::null()));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "vinit: cannot run '/nonexistent': ENOENT: No such file or directory\n"
    );
    assert_eq!(output.status.code(), Some(127));
}

#[test]
fn empty_verbosity_silences_warnings_like_zero() {
    // The same run as above with VINIT_VERBOSITY empty, then with TINI_VERBOSITY=0 (tini's
    // variable, read the same way).
    for (variable, value) in [("VINIT_VERBOSITY", ""), ("TINI_VERBOSITY", "0")] {
        let mut command = or_skip!(runner::command(Mode::Plain, &["-w"], &["/nonexistent"]));
        let output = runner::output(command.env(variable, value).stdin(Stdio::null()));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "vinit: cannot run '/nonexistent': ENOENT: No such file or directory\n",
            "{variable}={value:?}"
        );
        assert_eq!(output.status.code(), Some(127), "{variable}={value:?}");
    }
}

#[test]
fn messages_show_arguments_byte_for_byte() {
    // The binary writes what it was given, invalid UTF-8 included (converting would cost code);
    // `Display` (above) shows U+FFFD instead.
    use std::os::unix::ffi::OsStrExt;
    let mut command = or_skip!(runner::raw_command(&["-p"]));
    let output = runner::output(
        command
            .arg(std::ffi::OsStr::from_bytes(b"NO\xffPE"))
            .arg("true")
            .stdin(Stdio::null()),
    );
    let expected = [b"vinit: 'NO\xffPE' is not a signal\n", USAGE.as_bytes()].concat();
    assert_eq!(output.stderr, expected);
    assert_eq!(output.status.code(), Some(1));
}
