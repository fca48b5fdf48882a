//! vinit against real tini, the init it claims to replace, and against dumb-init: each scenario
//! runs through all three (as a plain child of the test, as a child subreaper and as PID 1 of a
//! new PID namespace, wherever the scenario means something; dumb-init has no subreaper mode and
//! runs as a plain child where the others run with `-s`), and what a user can observe (exit
//! status, what PROGRAM receives and inherits, what is reaped, what is printed where) is reduced
//! to a short phrase.
//!
//! The expected phrases live in one place: the table under "vinit, tini and dumb-init side by
//! side" in README.md, which this file reads. A scenario with a row must measure exactly its
//! row's tini, vinit and dumb-init cells; a row whose tini and vinit cells differ must say why
//! vinit differs; a scenario without a row must measure the same under all three. So an unlisted
//! difference fails, a listed one that is no longer true fails, and every row must name a
//! scenario of this file.
//!
//! tini and dumb-init are Debian's (`scripts/setup` installs them). There are none for the
//! emulated architectures: the suite runs natively and skips, visibly, under qemu-user and in the
//! VMs. Without dumb-init, each scenario checks tini and vinit and then skips, visibly, for
//! dumb-init's part.

#[macro_use]
mod common;

#[path = "vinit/runner.rs"]
mod runner;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use runner::{
    Finished, Init, Mode, Running, children_of, processes_running, start_of as start, wait_for,
};

/// Long enough for anything that should happen at once.
const SOON: Duration = Duration::from_secs(20);

// --- The table --------------------------------------------------------------------------------

/// The heading of README's table.
const TABLE_HEADING: &str = "### vinit, tini and dumb-init side by side";

/// A row of the table: what tini, vinit and dumb-init show, and why vinit differs from tini (if
/// it does).
#[derive(Debug)]
struct Row {
    tini: String,
    vinit: String,
    dumb_init: String,
    why: String,
}

/// README's table, by scenario: the rows of the section under [`TABLE_HEADING`] whose first
/// cell starts with the scenario in backquotes (`` | `exit-status` PROGRAM exits ... | ``), with
/// five cells: scenario, tini, vinit, dumb-init, why.
fn table() -> &'static BTreeMap<String, Row> {
    static TABLE: OnceLock<BTreeMap<String, Row>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let readme = include_str!("../README.md");
        let start = readme
            .find(TABLE_HEADING)
            .unwrap_or_else(|| panic!("README.md has no heading {TABLE_HEADING:?}"));
        let section = &readme[start + TABLE_HEADING.len()..];
        let section = &section[..section.find("\n#").unwrap_or(section.len())];
        let mut rows = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 5, "README table row: {line}");
            let id = cells[0]
                .strip_prefix('`')
                .and_then(|rest| rest.split('`').next())
                .expect("a scenario in backquotes");
            let row = Row {
                tini: cells[1].to_string(),
                vinit: cells[2].to_string(),
                dumb_init: cells[3].to_string(),
                why: cells[4].to_string(),
            };
            assert!(
                rows.insert(id.to_string(), row).is_none(),
                "two rows for `{id}`"
            );
        }
        assert!(!rows.is_empty(), "README's table has no rows");
        rows
    })
}

/// Runs `observe` for tini, vinit and dumb-init, and checks the three phrases against the table;
/// without dumb-init, checks the other two and skips dumb-init's part.
fn compare(id: &str, observe: fn(Init) -> Result<String, String>) {
    let tini = match observe(Init::Tini) {
        Ok(phrase) => phrase,
        Err(reason) => skip!("{reason}"),
    };
    let vinit = match observe(Init::Vinit) {
        Ok(phrase) => phrase,
        Err(reason) => skip!("{reason}"),
    };
    let dumb_init = observe(Init::DumbInit);
    eprintln!("measured `{id}`: tini {tini:?}, vinit {vinit:?}, dumb-init {dumb_init:?}");
    let row = table().get(id);
    match row {
        Some(row) => {
            assert_eq!(
                (tini.as_str(), vinit.as_str()),
                (row.tini.as_str(), row.vinit.as_str()),
                "`{id}`: measured (tini, vinit), then README's row"
            );
            assert!(
                tini == vinit || !row.why.is_empty(),
                "`{id}`: README's row shows a difference without saying why"
            );
        }
        None => assert_eq!(
            tini, vinit,
            "`{id}`: tini (left) and vinit (right) differ, and README's table has no row for it"
        ),
    }
    let dumb_init = match dumb_init {
        Ok(phrase) => phrase,
        Err(reason) => skip!("dumb-init's part (tini's and vinit's passed): {reason}"),
    };
    match row {
        Some(row) => assert_eq!(
            dumb_init, row.dumb_init,
            "`{id}`: measured dumb-init (left), then README's cell"
        ),
        None => assert_eq!(
            dumb_init, tini,
            "`{id}`: dumb-init (left) and tini (right) differ, and README's table has no row for it"
        ),
    }
}

/// Defines a `#[test]` per scenario and [`SCENARIOS`], the list of their ids.
macro_rules! scenarios {
    ($($test:ident: $id:literal => $observe:expr;)*) => {
        /// Every scenario's id.
        const SCENARIOS: &[&str] = &[$($id),*];
        $(
            #[test]
            fn $test() {
                compare($id, $observe);
            }
        )*
    };
}

#[test]
fn every_row_of_the_table_is_a_scenario() {
    for id in table().keys() {
        assert!(SCENARIOS.contains(&id.as_str()), "README row `{id}`");
    }
}

scenarios! {
    exit_status: "exit-status" => observe::exit_status;
    death_by_signal: "death-by-signal" => observe::death_by_signal;
    e_remaps_exit_codes: "e" => observe::e_remaps;
    signals_forwarded: "signals-forwarded" => observe::signals_forwarded;
    real_time_signals_forwarded: "real-time-signals-forwarded" => observe::real_time_signals_forwarded;
    sigttin_sigttou: "sigttin-sigttou" => observe::sigttin_sigttou;
    sigchld_sent_to_the_init: "sigchld-sent" => observe::sigchld_sent;
    fault_signals_sent_with_kill: "fault-signals-sent" => observe::fault_signals_sent;
    fault_signals_sent_to_pid1: "fault-signals-sent-to-pid-1" => observe::fault_signals_sent_to_pid1;
    g_signals_the_group: "g" => observe::g_signals_the_group;
    without_g_only_program: "without-g" => observe::without_g;
    tini_kill_process_group: "TINI_KILL_PROCESS_GROUP" => observe::tini_kill_process_group;
    program_leads_its_group: "process-group" => observe::process_group;
    foreground_of_the_terminal: "foreground" => observe::foreground;
    background_job_of_a_shell: "background-job" => observe::background_job;
    orphans_reaped: "orphans" => observe::orphans;
    tini_subreaper: "TINI_SUBREAPER" => observe::tini_subreaper;
    exits_with_program: "exits-with-program" => observe::exits_with_program;
    reaper_warning: "reaper-warning" => observe::reaper_warning;
    w_without_orphans: "w" => observe::w_without_orphans;
    p_parent_death_signal: "p" => observe::p_parent_death_signal;
    p_signal_names: "p-names" => observe::p_signal_names;
    v_names_the_pid: "v" => observe::v_names_the_pid;
    tini_verbosity: "TINI_VERBOSITY" => observe::tini_verbosity;
    tini_verbosity_and_v: "TINI_VERBOSITY-and-v" => observe::tini_verbosity_and_v;
    licence: "l" => observe::licence;
    help: "h" => observe::help;
    version: "version" => observe::version;
    no_program: "no-program" => observe::no_program;
    unknown_option: "unknown-option" => observe::unknown_option;
    t_grace_period: "t" => observe::t_grace_period;
    r_rewrites: "r" => observe::r_rewrites;
    exec_not_found: "exec-not-found" => observe::exec_not_found;
    exec_not_a_directory: "exec-not-a-directory" => observe::exec_not_a_directory;
    exec_permission_denied: "exec-permission-denied" => observe::exec_permission_denied;
    exec_format_error: "exec-format-error" => observe::exec_format_error;
    exec_script_without_shebang: "exec-script-without-shebang" => observe::exec_script_without_shebang;
    signal_state: "signal-state" => observe::signal_state;
    sigchld_ignored: "sigchld-ignored" => observe::sigchld_ignored;
    fds_and_directory: "fds-and-directory" => observe::fds_and_directory;
}

// --- Helpers ------------------------------------------------------------------------------------

type Observed = Result<String, String>;

const ALL_MODES: [Mode; 3] = [Mode::Plain, Mode::Subreaper, Mode::Pid1];

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Plain => "plain",
        Mode::Subreaper => "subreaper",
        Mode::Pid1 => "PID 1",
    }
}

/// `observe` in each of `modes`: its phrase if all agree, else `plain: ...; PID 1: ...`.
/// dumb-init, which has no subreaper mode, runs in the others and its phrase ends `; no subreaper
/// mode`.
fn per_mode(init: Init, modes: &[Mode], observe: impl Fn(Init, Mode) -> Observed) -> Observed {
    let no_subreaper = init == Init::DumbInit && modes.contains(&Mode::Subreaper);
    let phrase = per_mode_of(init, modes, observe)?;
    Ok(match no_subreaper {
        true => format!("{phrase}; no subreaper mode"),
        false => phrase,
    })
}

fn per_mode_of(init: Init, modes: &[Mode], observe: impl Fn(Init, Mode) -> Observed) -> Observed {
    let mut seen = Vec::new();
    for &mode in modes {
        if init == Init::DumbInit && mode == Mode::Subreaper {
            continue;
        }
        seen.push((mode, observe(init, mode)?));
    }
    if seen.iter().all(|(_, phrase)| *phrase == seen[0].1) {
        return Ok(seen.swap_remove(0).1);
    }
    // The modes that agree together: `plain: X; subreaper and PID 1: Y`.
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (mode, phrase) in &seen {
        match groups.iter_mut().find(|(_, p)| p == phrase) {
            Some((modes, _)) => modes.push(mode_name(*mode)),
            None => groups.push((vec![mode_name(*mode)], phrase)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(modes, phrase)| format!("{}: {phrase}", modes.join(" and ")))
        .collect();
    Ok(parts.join("; "))
}

/// `observe` for a scenario that runs the init as a child subreaper (`-s`); dumb-init, which has
/// none, runs as a plain child, and its phrase says so (unless it refused its command line).
fn as_subreaper(init: Init, observe: impl FnOnce(Mode) -> Observed) -> Observed {
    if init != Init::DumbInit {
        return observe(Mode::Subreaper);
    }
    let phrase = observe(Mode::Plain)?;
    Ok(match phrase.starts_with("refuse") {
        true => phrase,
        false => format!("as a plain child: {phrase}"),
    })
}

fn run(init: Init, mode: Mode, args: &[&str], program: &[&str]) -> Result<Finished, String> {
    runner::run_of(init, mode, args, program, SOON)
}

/// How a refused command line reads in the table.
const REFUSED: &str = "refused (exit 1)";

/// Whether the init refused its command line: exit 1, nothing on stdout, a message on stderr.
fn refused(finished: &Finished) -> bool {
    finished.code == Some(1) && finished.stdout.is_empty() && !finished.stderr.is_empty()
}

/// [`REFUSED`] if the init in `mode` refuses `args` (with `true` as PROGRAM), else `None`.
fn refuses(init: Init, mode: Mode, args: &[&str]) -> Result<Option<String>, String> {
    let finished = run(init, mode, args, &["true"])?;
    Ok(refused(&finished).then(|| REFUSED.to_string()))
}

/// The signal that ends [`marker_script`]: SIGRTMAX, the last one an init takes from its queue
/// when several are pending (the lowest-numbered comes first), so that it reaches PROGRAM after
/// the signals sent before it.
const MARKER: i32 = 64;

/// A `sh -c` script that traps `signals` (echoing each one's number as it comes) and [`MARKER`],
/// which ends it; it prints `ready PID SLEEPER` first (the shell and the sleeper it waits on, for
/// a test that has to kill them). The sleeper ignores those signals: dumb-init sends them to
/// PROGRAM's whole group, and a sleeper they killed would end the wait early and make a SIGCHLD
/// of its own for the shell.
fn marker_script(signals: &[i32]) -> String {
    let mut script = String::new();
    for sig in signals {
        script += &format!("trap 'echo {sig}' {sig}\n");
    }
    // The sleeper is killed with SIGKILL, then reaped: when the shell itself trapped SIGTERM,
    // a SIGTERM its trap sent the sleeper was lost now and then (dash 0.5.12, measured: 4 runs
    // in 40 left the sleeper running, none without the shell's TERM trap).
    script += &format!("done=0\ntrap 'echo {MARKER}; done=1; kill -9 $sleeper' {MARKER}\n");
    let numbers: Vec<String> = signals.iter().map(i32::to_string).collect();
    let ignored = format!("{} {MARKER}", numbers.join(" "));
    script += &format!("(trap '' {ignored}; exec sleep 1000 </dev/null >/dev/null 2>&1) & ");
    script += "sleeper=$!\necho ready $$ $sleeper\n";
    script += "while [ $done = 0 ]; do wait $sleeper; done\n";
    script += "kill -9 $sleeper 2>/dev/null\nwait $sleeper\nexit 0\n";
    script
}

/// The signals PROGRAM reported up to the marker; `None` if the init exited first (then
/// `orphans`, PROGRAM's processes, are killed).
fn signals_until_marker(run: &mut Running, orphans: &[i32]) -> Option<Vec<i32>> {
    let mut got = Vec::new();
    loop {
        let line = run.line_or_exit_killing(SOON, orphans)?;
        let sig: i32 = line
            .parse()
            .unwrap_or_else(|_| panic!("PROGRAM said {line:?}"));
        if sig == MARKER {
            return Some(got);
        }
        got.push(sig);
    }
}

/// The `ready PID SLEEPER` line of [`marker_script`]: the two pids.
fn ready(run: &mut Running) -> (i32, i32) {
    let line = run.line(SOON);
    let mut words = line.split(' ');
    assert_eq!(words.next(), Some("ready"), "{line}");
    let mut pid = || words.next().and_then(|w| w.parse().ok()).expect("a pid");
    (pid(), pid())
}

/// PROGRAM's first line, and the run; `Err` if the init exited first, with a phrase for how: `refused (exit
/// 1)` when it refused its command line (exit 1, nothing on stdout, a message on stderr).
fn first_line(mut run: Running) -> Result<(String, Running), String> {
    if let Some(line) = run.line_or_exit(SOON) {
        return Ok((line, run));
    }
    let finished = run.finish(SOON);
    Err(if refused(&finished) {
        REFUSED.into()
    } else {
        format!("{finished:?}")
    })
}

fn kill(pid: i32) {
    // SAFETY: kill has no memory arguments.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// A `sleep` argument no other test uses (`salt` below 64).
fn unique_sleep(salt: u32) -> String {
    format!("{}", 200_000 + std::process::id() % 50_000 * 64 + salt)
}

/// What ended the run: `exit N`, or `killed by signal N`.
fn ending(finished: &Finished) -> String {
    match (finished.code, finished.signal) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "no status".into(),
    }
}

/// Each scenario's observation: a phrase for README's table, or why it cannot run here.
mod observe {
    use super::*;

    // --- Exit status ------------------------------------------------------------------------------

    pub(super) fn exit_status(init: Init) -> Observed {
        per_mode(init, &ALL_MODES, |init, mode| {
            // Every code as a plain child (eight at a time), a sample in the other modes.
            let codes: Vec<i32> = match mode {
                Mode::Plain => (0..=255).collect(),
                _ => vec![0, 1, 2, 126, 127, 128, 143, 255],
            };
            let wrong = std::thread::scope(|scope| {
                let threads: Vec<_> = codes
                    .chunks(32)
                    .map(|chunk| {
                        scope.spawn(move || {
                            let mut wrong = Vec::new();
                            for &code in chunk {
                                let script = format!("exit {code}");
                                let finished = run(init, mode, &[], &["sh", "-c", &script])?;
                                if finished.code != Some(code) {
                                    wrong.push(format!("{code} gave {}", ending(&finished)));
                                }
                            }
                            Ok::<_, String>(wrong)
                        })
                    })
                    .collect();
                let mut wrong = Vec::new();
                for thread in threads {
                    wrong.extend(thread.join().expect("thread")?);
                }
                Ok::<_, String>(wrong)
            })?;
            Ok(if wrong.is_empty() {
                "PROGRAM's code".into()
            } else {
                wrong.join(", ")
            })
        })
    }

    pub(super) fn death_by_signal(init: Init) -> Observed {
        // Signals a program can die of by `kill` (no core file: `ulimit -c 0`), real-time ones too.
        let signals = [1, 2, 3, 4, 6, 8, 9, 10, 11, 13, 14, 15, 24, 34, 50, 64];
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            let mut wrong = Vec::new();
            for sig in signals {
                let script = format!("ulimit -c 0; exec kill -{sig} 0");
                let finished = run(init, mode, &[], &["sh", "-c", &script])?;
                if finished.code != Some(128 + sig) {
                    wrong.push(format!("signal {sig} gave {}", ending(&finished)));
                }
            }
            Ok(if wrong.is_empty() {
                "128 + N".into()
            } else {
                wrong.join(", ")
            })
        })
    }

    pub(super) fn e_remaps(init: Init) -> Observed {
        let args = ["-e", "3", "-e", "143"];
        if let Some(refused) = refuses(init, Mode::Plain, &args)? {
            return Ok(refused);
        }
        let cases = [
            ("exit 3", "exit 3"),
            ("exit 4", "exit 4"),
            ("SIGTERM", "kill -TERM $$; sleep 10"),
            ("SIGINT", "kill -INT $$; sleep 10"),
        ];
        let mut phrases = Vec::new();
        for (what, script) in cases {
            let finished = run(init, Mode::Plain, &args, &["sh", "-c", script])?;
            let code = finished.code.map_or(ending(&finished), |c| c.to_string());
            phrases.push(format!("{what} → {code}"));
        }
        Ok(format!("-e 3 -e 143: {}", phrases.join(", ")))
    }

    // --- Signals ----------------------------------------------------------------------------------

    /// The init running [`marker_script`] for `signals`, ready; and PROGRAM's pid here.
    fn marker_run(init: Init, mode: Mode, signals: &[i32]) -> Result<(Running, i32), String> {
        let script = marker_script(signals);
        let mut run = start(init, mode, &[], &["sh", "-c", &script], |_| {})?;
        ready(&mut run);
        let children = children_of(run.pid());
        assert_eq!(children.len(), 1, "the init's children: {children:?}");
        Ok((run, children[0].pid))
    }

    fn stopped(pid: i32) -> bool {
        runner::state_of(pid) == Some('T')
    }

    /// Until the init `pid` has stopped, waits for its next signal or has exited: done with the
    /// signals it had.
    fn init_settles(pid: i32) {
        let settled = wait_for(SOON, || {
            let exited = matches!(runner::state_of(pid), None | Some('Z'));
            (exited || stopped(pid) || runner::sleeps_in_signal_wait(pid)).then_some(())
        });
        assert!(
            settled.is_some(),
            "the init {pid} neither stopped nor waited for a signal"
        );
    }

    /// PROGRAM's next line; or, if PROGRAM (`program`, its pid here) stops instead (dumb-init
    /// turns SIGTSTP, SIGTTIN and SIGTTOU into SIGSTOP for PROGRAM's group), `Err` saying
    /// whether the init stopped too, once both are resumed by a SIGCONT to the init (which hands
    /// it on).
    fn line_or_stop(run: &mut Running, program: i32) -> Result<String, bool> {
        if let Some(line) = run.line_unless(SOON, || stopped(program)) {
            return Ok(line);
        }
        let init = run.pid();
        init_settles(init);
        let init_stopped = stopped(init);
        run.signal(libc::SIGCONT);
        init_settles(init);
        Err(init_stopped)
    }

    /// How a stop reads in the table.
    fn stop_phrase(init_stopped: bool) -> &'static str {
        match init_stopped {
            true => "PROGRAM stops, then the init",
            false => "PROGRAM stops",
        }
    }

    /// Sends each of `signals` to the init and checks that PROGRAM reports it.
    fn each_reaches_program(init: Init, mode: Mode, signals: &[i32]) -> Observed {
        let (mut run, program) = marker_run(init, mode, signals)?;
        let mut wrong = Vec::new();
        for &sig in signals {
            run.signal(sig);
            match line_or_stop(&mut run, program) {
                Ok(line) if line == sig.to_string() => {}
                Ok(line) => wrong.push(format!("{sig} (PROGRAM got {line})")),
                Err(init_stopped) => {
                    wrong.push(format!("{sig} ({})", stop_phrase(init_stopped)));
                    // The SIGCONT that resumed PROGRAM, if it traps it.
                    if signals.contains(&libc::SIGCONT) {
                        assert_eq!(run.line(SOON), libc::SIGCONT.to_string());
                    }
                }
            }
        }
        run.signal(MARKER);
        assert_eq!(run.line(SOON), MARKER.to_string());
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(0), "{finished:?}");
        Ok(if wrong.is_empty() {
            "each reaches PROGRAM".into()
        } else {
            format!("each reaches PROGRAM but {}", wrong.join(", "))
        })
    }

    pub(super) fn signals_forwarded(init: Init) -> Observed {
        // Every catchable signal but SIGCHLD, the faults and SIGTTIN/SIGTTOU (their own
        // scenarios).
        let excluded = [4, 5, 6, 7, 8, 9, 11, 17, 19, 21, 22, 31];
        let signals: Vec<i32> = (1..32).filter(|s| !excluded.contains(s)).collect();
        per_mode(init, &ALL_MODES, |init, mode| {
            each_reaches_program(init, mode, &signals)
        })
    }

    pub(super) fn real_time_signals_forwarded(init: Init) -> Observed {
        // All but 32 and 33, which glibc keeps for itself (the shell cannot trap them); the last,
        // SIGRTMAX, is the marker that ends the run, which must reach PROGRAM too.
        let signals: Vec<i32> = (34..MARKER).collect();
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            each_reaches_program(init, mode, &signals)
        })
    }

    /// Sends `signals` to the init, then the marker; what PROGRAM got of them (in any order:
    /// signals pending together are not taken in the order sent), or that it stopped.
    fn forwarded_of(init: Init, mode: Mode, signals: &[i32]) -> Observed {
        let (mut run, program) = marker_run(init, mode, signals)?;
        for &sig in signals {
            run.signal(sig);
        }
        run.signal(MARKER);
        let (mut got, mut stops) = (Vec::new(), None);
        loop {
            match line_or_stop(&mut run, program) {
                Ok(line) if line == MARKER.to_string() => break,
                Ok(line) => got.push(line.parse::<i32>().expect("a signal number")),
                Err(init_stopped) => stops = Some(stops.unwrap_or(false) | init_stopped),
            }
        }
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(0), "{finished:?}");
        got.sort();
        let mut sent = signals.to_vec();
        sent.sort();
        Ok(match stops {
            Some(init_stopped) if got.is_empty() => stop_phrase(init_stopped).into(),
            Some(init_stopped) => format!("{}; PROGRAM got {got:?}", stop_phrase(init_stopped)),
            None if got.is_empty() => "not forwarded".into(),
            None if got == sent => "forwarded".into(),
            None => format!("PROGRAM got {got:?}"),
        })
    }

    pub(super) fn sigttin_sigttou(init: Init) -> Observed {
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            // One at a time: the SIGCONT that resumes a stopped init discards the other.
            let ttin = forwarded_of(init, mode, &[libc::SIGTTIN])?;
            let ttou = forwarded_of(init, mode, &[libc::SIGTTOU])?;
            Ok(match ttin == ttou {
                true => ttin,
                false => format!("21: {ttin}, 22: {ttou}"),
            })
        })
    }

    pub(super) fn sigchld_sent(init: Init) -> Observed {
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            forwarded_of(init, mode, &[libc::SIGCHLD])
        })
    }

    /// The signals that report a fault, sent with `kill`.
    const FAULTS: [i32; 7] = [4, 5, 6, 7, 8, 11, 31];

    pub(super) fn fault_signals_sent(init: Init) -> Observed {
        let mut phrases = Vec::new();
        for sig in FAULTS {
            let mut run = start(
                init,
                Mode::Plain,
                &[],
                &["sh", "-c", &marker_script(&[sig])],
                |c| {
                    // No core file of the init.
                    // SAFETY: setrlimit is async-signal-safe and reads a struct we own.
                    unsafe {
                        std::os::unix::process::CommandExt::pre_exec(c, || {
                            let zero = libc::rlimit {
                                rlim_cur: 0,
                                rlim_max: 0,
                            };
                            libc::setrlimit(libc::RLIMIT_CORE, &zero);
                            Ok(())
                        });
                    }
                },
            )?;
            let (shell, sleeper) = ready(&mut run);
            run.signal(sig);
            run.try_signal(MARKER);
            let got = signals_until_marker(&mut run, &[shell, sleeper]);
            // PROGRAM is left without its init if the init died.
            kill(sleeper);
            kill(shell);
            let finished = run.finish(SOON);
            phrases.push(match got {
                Some(got) if got.is_empty() => "dropped".to_string(),
                Some(got) if got == [sig] => "forwarded".to_string(),
                Some(got) => format!("PROGRAM got {got:?}"),
                None if finished.signal == Some(sig) => "the init dies of it".to_string(),
                None => format!("the init ended: {}", ending(&finished)),
            });
        }
        if phrases.iter().all(|p| *p == phrases[0]) {
            return Ok(phrases.swap_remove(0));
        }
        let parts: Vec<String> = FAULTS
            .iter()
            .zip(&phrases)
            .map(|(sig, phrase)| format!("{sig}: {phrase}"))
            .collect();
        Ok(parts.join(", "))
    }

    pub(super) fn fault_signals_sent_to_pid1(init: Init) -> Observed {
        forwarded_of(init, Mode::Pid1, &FAULTS)
    }

    // --- Process groups, the terminal -----------------------------------------------------------

    /// Four `sleep TAG` in two pipelines under one `sh`; the init gets SIGTERM; which ones died.
    fn sigterm_to_pipelines(init: Init, mode: Mode, args: &[&str], env: Option<&str>) -> Observed {
        let salt = init as u32 * 12 + mode as u32 * 4 + args.len() as u32 * 2;
        let tag = unique_sleep(salt + env.is_some() as u32);
        let script = format!(
            "sleep {tag} 2>/dev/null | sleep {tag} >/dev/null 2>&1 & sleep {tag} 2>/dev/null | sleep {tag} >/dev/null 2>&1 & echo ready; wait"
        );
        let run = start(init, mode, args, &["sh", "-c", &script], |command| {
            if let Some(variable) = env {
                command.env(variable, "");
            }
        })?;
        let (line, run) = match first_line(run) {
            Ok(first) => first,
            Err(phrase) => return Ok(phrase),
        };
        assert_eq!(line, "ready");
        wait_for(SOON, || {
            let sleeps = processes_running(&["sleep", &tag]);
            (sleeps.len() == 4).then_some(sleeps)
        })
        .expect("the four sleeps did not start");
        run.signal(libc::SIGTERM);
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(143), "{finished:?}");
        let gone = wait_for(Duration::from_secs(1), || {
            processes_running(&["sleep", &tag]).is_empty().then_some(())
        });
        let left = processes_running(&["sleep", &tag]);
        left.iter().copied().for_each(kill);
        Ok(match (gone, left.len()) {
            (Some(()), _) => "the whole group gets it".into(),
            (None, 4) => "only PROGRAM gets it".into(),
            (None, n) => format!("{n} of 4 sleeps left"),
        })
    }

    pub(super) fn g_signals_the_group(init: Init) -> Observed {
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            sigterm_to_pipelines(init, mode, &["-g"], None)
        })
    }

    pub(super) fn without_g(init: Init) -> Observed {
        sigterm_to_pipelines(init, Mode::Plain, &[], None)
    }

    pub(super) fn tini_kill_process_group(init: Init) -> Observed {
        sigterm_to_pipelines(init, Mode::Plain, &[], Some("TINI_KILL_PROCESS_GROUP"))
    }

    pub(super) fn process_group(init: Init) -> Observed {
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            let script = "echo $$ $(cut -d' ' -f5 /proc/$$/stat)";
            let finished = run(init, mode, &[], &["sh", "-c", script])?;
            let line = finished.stdout.first().expect("PROGRAM's line");
            let (pid, pgid) = line.split_once(' ').expect("pid and pgid");
            Ok(if pid == pgid {
                "PROGRAM leads its own group".into()
            } else {
                "PROGRAM is in another group".into()
            })
        })
    }

    pub(super) fn foreground(init: Init) -> Observed {
        Ok(if runner::program_gets_the_foreground(init)? {
            "PROGRAM's group gets it".into()
        } else {
            "PROGRAM's group does not get it".into()
        })
    }

    pub(super) fn background_job(init: Init) -> Observed {
        let tag = unique_sleep(40 + init as u32);
        // dumb-init has no subreaper mode: it runs as a plain child.
        let subreaper: &[&str] = if init == Init::DumbInit { &[] } else { &["-s"] };
        let line = [subreaper, &["--", "sleep", &tag]].concat();
        let command = runner::raw_command_of(init, &line)?;
        let job = runner::background_job_of_interactive_shell(&command, &["sleep", &tag])?;
        Ok(match (job.shell_kept_foreground, job.shell_answered) {
            (true, true) => "the shell keeps its terminal".into(),
            (false, false) => "PROGRAM takes the terminal, the shell exits".into(),
            other => format!("{other:?}"),
        })
    }

    // --- Reaping and the warnings about it ----------------------------------------------------------

    /// The lines of -w's warnings (tini: `Reaped zombie process with pid=N`, vinit: `reaped zombie
    /// process N (...)`).
    fn reap_warnings(finished: &Finished) -> usize {
        let lines = finished.stderr.lines();
        lines.filter(|l| l.contains("eaped zombie process")).count()
    }

    /// PROGRAM makes 20 orphans (each `sleep` left by a subshell that exits at once) and waits for a
    /// line on stdin; they end within 50 ms. Who reaps them, with `-w`?
    fn twenty_orphans(init: Init, mode: Mode, env: Option<&str>) -> Observed {
        let salt = 1000 * (mode as u32 + 3 * init as u32);
        let tag = format!("0.05{}", std::process::id() % 1000 + salt);
        let script = format!(
            "i=0\nwhile [ $i -lt 20 ]; do (sleep {tag} </dev/null >/dev/null 2>&1 &); \
         i=$((i+1)); done\necho spawned\nread line\nexit 7"
        );
        let run = start(init, mode, &["-w"], &["sh", "-c", &script], |command| {
            if let Some(variable) = env {
                command.env(variable, "");
            }
        })?;
        let (line, mut run) = match first_line(run) {
            Ok(first) => first,
            Err(phrase) => return Ok(phrase),
        };
        assert_eq!(line, "spawned");
        let ended = wait_for(SOON, || {
            processes_running(&["sleep", &tag]).is_empty().then_some(())
        });
        assert!(ended.is_some(), "the orphans did not end");
        // Reaped ones leave nothing; wait a little for the last reaps.
        let init_pid = run.pid();
        let settled = wait_for(Duration::from_secs(5), || {
            let children = children_of(init_pid);
            (children.len() == 1 && children[0].state != 'Z').then_some(())
        });
        let zombies = children_of(init_pid)
            .iter()
            .filter(|p| p.state == 'Z')
            .count();
        run.write_stdin(b"go\n");
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(7), "{finished:?}");
        let warnings = reap_warnings(&finished);
        Ok(match (settled, zombies, warnings) {
            (Some(()), 0, 20) => "the init reaps all 20, -w warns for each".into(),
            (Some(()), 0, 0) => "not the init's to reap (-w: no warning)".into(),
            _ => format!("{zombies} zombies left, {warnings} -w warnings"),
        })
    }

    pub(super) fn orphans(init: Init) -> Observed {
        per_mode(init, &ALL_MODES, |init, mode| {
            twenty_orphans(init, mode, None)
        })
    }

    pub(super) fn tini_subreaper(init: Init) -> Observed {
        twenty_orphans(init, Mode::Plain, Some("TINI_SUBREAPER"))
    }

    pub(super) fn exits_with_program(init: Init) -> Observed {
        as_subreaper(init, |mode| {
            // PROGRAM exits at once, leaving an orphan asleep.
            let tag = unique_sleep(50 + init as u32);
            let script = format!("sleep {tag} </dev/null >/dev/null 2>&1 & exit 2");
            let finished = run(init, mode, &[], &["sh", "-c", &script])?;
            let found = processes_running(&["sleep", &tag]);
            // An orphan the init signalled before it exited may not have run since: it is on its
            // way out, not left running.
            let left = found.iter().filter(|&&pid| !dying(pid)).count();
            found.iter().copied().for_each(kill);
            let orphans = match left {
                1 => "1 orphan".to_string(),
                n => format!("{n} orphans"),
            };
            Ok(format!("{}, {orphans} left running", ending(&finished)))
        })
    }

    /// Whether `pid` is on its way out: a signal pending (for itself or its thread group; a
    /// fatal one is turned into SIGKILL), or exiting already (`PF_EXITING` in its stat flags).
    fn dying(pid: i32) -> bool {
        const PF_EXITING: u64 = 0x4;
        let read = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok();
        let (Some(status), Some(stat)) = (read("status"), read("stat")) else {
            return false;
        };
        let pending = ["SigPnd", "ShdPnd"].iter().any(|key| {
            let set = crate::common::status_field(&status, key);
            set.bytes().any(|b| b != b'0')
        });
        let (_, fields) = crate::common::proc_stat_fields(&stat);
        let flags: u64 = fields[6].parse().expect("flags in stat");
        pending || flags & PF_EXITING != 0
    }

    /// The warning that orphans will not be reaped, as both word it.
    fn warns(finished: &Finished) -> bool {
        finished.stderr.contains("not running as PID 1")
    }

    pub(super) fn reaper_warning(init: Init) -> Observed {
        per_mode(init, &ALL_MODES, |init, mode| {
            let finished = run(init, mode, &[], &["true"])?;
            Ok(if warns(&finished) { "warns" } else { "silent" }.into())
        })
    }

    pub(super) fn w_without_orphans(init: Init) -> Observed {
        as_subreaper(init, |mode| {
            // -w says nothing about PROGRAM itself.
            let finished = run(init, mode, &["-w"], &["true"])?;
            if refused(&finished) {
                return Ok(REFUSED.into());
            }
            Ok(format!(
                "{}, {} warnings",
                ending(&finished),
                reap_warnings(&finished)
            ))
        })
    }

    // --- Options ----------------------------------------------------------------------------------

    pub(super) fn p_parent_death_signal(init: Init) -> Observed {
        as_subreaper(init, |mode| p_parent_death_signal_in(init, mode))
    }

    fn p_parent_death_signal_in(init: Init, mode: Mode) -> Observed {
        if let Some(refused) = refuses(init, mode, &["-p", "SIGUSR1"])? {
            return Ok(refused);
        }
        // A parent shell starts the init with `-p SIGUSR1` and is killed: PROGRAM gets SIGUSR1?
        let script = "trap 'echo 10; kill $s; exit 0' USR1\nsleep 1000 </dev/null >/dev/null 2>&1 & \
                  s=$!\necho ready $$ $s\nwait $s";
        let init_command =
            runner::command_of(init, mode, &["-p", "SIGUSR1"], &["sh", "-c", script])?;
        let mut parent = Command::new("sh");
        parent
            .args(["-c", "\"$@\" & wait", "sh"])
            .arg(init_command.get_program())
            .args(init_command.get_args())
            .env_clear()
            .env("PATH", runner::PATH)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut parent = runner::spawn(&mut parent);
        let (send, lines) = std::sync::mpsc::channel();
        let stdout = parent.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line.expect("read")).is_err() {
                    return;
                }
            }
        });
        let ready = lines.recv_timeout(SOON).expect("PROGRAM's ready line");
        let program: Vec<i32> = match ready.strip_prefix("ready ") {
            Some(pids) => pids.split(' ').map(|p| p.parse().expect("a pid")).collect(),
            None => panic!("PROGRAM said {ready:?}"),
        };
        kill(parent.id() as i32);
        parent.wait().expect("wait for the parent");
        let got = lines.recv_timeout(SOON);
        // Gone if all went well; else not left behind (the init then exits too).
        program.into_iter().for_each(kill);
        Ok(match got {
            Ok(line) if line == "10" => "PROGRAM gets SIGUSR1 when the init's parent dies".into(),
            other => format!("PROGRAM said {other:?}"),
        })
    }

    pub(super) fn p_signal_names(init: Init) -> Observed {
        as_subreaper(init, |mode| {
            let names = ["SIGKILL", "KILL", "9", "sigkill", "SIGRTMIN+1"];
            let (mut accepted, mut refused) = (Vec::new(), Vec::new());
            for name in names {
                let finished = run(init, mode, &["-p", name], &["true"])?;
                match finished.code {
                    Some(0) => accepted.push(name),
                    Some(1) => refused.push(name),
                    _ => panic!("-p {name}: {finished:?}"),
                }
            }
            let (accepted, refused) = (accepted.join(", "), refused.join(", "));
            Ok(match (accepted.is_empty(), refused.is_empty()) {
                (_, true) => format!("accepts {accepted}"),
                (true, false) => format!("refuses {refused} (exit 1)"),
                (false, false) => format!("accepts {accepted}; refuses {refused} (exit 1)"),
            })
        })
    }

    pub(super) fn v_names_the_pid(init: Init) -> Observed {
        as_subreaper(init, |mode| v_names_the_pid_in(init, mode))
    }

    fn v_names_the_pid_in(init: Init, mode: Mode) -> Observed {
        let finished = run(init, mode, &["-v"], &["sh", "-c", "echo program $$"])?;
        let pid = finished
            .stdout
            .iter()
            .find_map(|l| l.strip_prefix("program "))
            .expect("PROGRAM's pid")
            .to_string();
        let names = |line: &str| line.split(|c: char| !c.is_ascii_digit()).any(|w| w == pid);
        let on_stdout = finished
            .stdout
            .iter()
            .any(|l| !l.starts_with("program ") && names(l));
        let on_stderr = finished.stderr.lines().any(names);
        Ok(match (on_stdout, on_stderr) {
            (true, false) => "names PROGRAM's pid on stdout".into(),
            (false, true) => "names PROGRAM's pid on stderr".into(),
            other => format!("(stdout, stderr) {other:?}"),
        })
    }

    fn with_env(
        init: Init,
        args: &[&str],
        variable: &str,
        value: &str,
    ) -> Result<Finished, String> {
        let run = start(init, Mode::Plain, args, &["true"], |command| {
            command.env(variable, value);
        })?;
        Ok(run.finish(SOON))
    }

    pub(super) fn tini_verbosity(init: Init) -> Observed {
        let mut phrases = Vec::new();
        for value in ["0", "", "1", "x", "2x"] {
            let finished = with_env(init, &[], "TINI_VERBOSITY", value)?;
            assert_eq!(finished.code, Some(0), "{finished:?}");
            let warned = if warns(&finished) { "warns" } else { "silent" };
            let value = match value {
                "" => "empty".to_string(),
                _ => format!("={value}"),
            };
            phrases.push(format!("{value} {warned}"));
        }
        Ok(phrases.join(", "))
    }

    pub(super) fn tini_verbosity_and_v(init: Init) -> Observed {
        let finished = with_env(init, &["-v"], "TINI_VERBOSITY", "0")?;
        Ok(if warns(&finished) {
            "TINI_VERBOSITY=0 -v: warns"
        } else {
            "TINI_VERBOSITY=0 -v: silent"
        }
        .into())
    }

    /// The init run with exactly `args` (no PROGRAM added): `{what} on stdout, exit N` (or on
    /// stderr) if it printed on one of the two what `is_what` accepts and nothing on the other;
    /// [`REFUSED`] if it printed something else on stderr only and exited 1; else what it did.
    fn bare(init: Init, args: &[&str], what: &str, is_what: fn(&str) -> bool) -> Observed {
        let mut command = runner::raw_command_of(init, args)?;
        let output = runner::output(command.stdin(Stdio::null()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        let (printed, place) = match (stdout.is_empty(), stderr.is_empty()) {
            (false, true) => (&stdout, "stdout"),
            (true, false) => (&stderr, "stderr"),
            _ => return Ok(format!("{output:?}")),
        };
        Ok(match code {
            Some(code) if is_what(printed) => format!("{what} on {place}, exit {code}"),
            Some(1) if place == "stderr" => REFUSED.into(),
            _ => format!("{output:?}"),
        })
    }

    pub(super) fn licence(init: Init) -> Observed {
        let mit = |out: &str| out.contains("Permission is hereby granted");
        bare(init, &["-l"], "the MIT licence", mit)
    }

    pub(super) fn help(init: Init) -> Observed {
        // Every init's help names its PROGRAM and the help option.
        let help = |out: &str| out.to_lowercase().contains("usage: ") && out.contains("-h");
        bare(init, &["-h"], "help", help)
    }

    pub(super) fn version(init: Init) -> Observed {
        // One line holding a version number (`tini version 0.19.0`, `vinit 0.1.0`,
        // `dumb-init v1.2.5`).
        let version = |out: &str| {
            let number = |w: &str| {
                let w = w.strip_prefix('v').unwrap_or(w);
                w.split('.').filter(|n| n.parse::<u32>().is_ok()).count() == 3
            };
            out.lines().count() == 1 && out.trim_end().split(' ').any(number)
        };
        bare(init, &["--version"], "one line", version)
    }

    pub(super) fn no_program(init: Init) -> Observed {
        let usage = |out: &str| out.to_lowercase().contains("usage: ");
        bare(init, &[], "usage", usage)
    }

    pub(super) fn unknown_option(init: Init) -> Observed {
        // A message naming the option.
        let error = |out: &str| out.contains("'z'") || out.contains("'-z'");
        bare(init, &["-z", "true"], "error", error)
    }

    pub(super) fn t_grace_period(init: Init) -> Observed {
        as_subreaper(init, |mode| t_grace_period_in(init, mode))
    }

    fn t_grace_period_in(init: Init, mode: Mode) -> Observed {
        // A descendant that ignores SIGTERM outlives PROGRAM.
        let script = "sh -c 'trap \"\" TERM; echo stubborn; while :; do sleep 1; done' </dev/null \
                  2>&1 & read line; exit 6";
        let args = ["-vv", "-t", "1"];
        let run = start(init, mode, &args, &["sh", "-c", script], |_| {})?;
        let (line, mut run) = match first_line(run) {
            Ok(first) => first,
            Err(phrase) => return Ok(phrase),
        };
        assert_eq!(line, "stubborn");
        let exited = std::time::Instant::now();
        run.write_stdin(b"go\n");
        let finished = run.finish(SOON);
        let grace = exited.elapsed();
        let lines = finished.stderr_lines();
        let at = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix));
        let term = at("vinit: sent SIGTERM to ");
        let kill = at("vinit: sent SIGKILL to ");
        Ok(
            match (
                finished.code,
                term,
                kill,
                grace >= Duration::from_millis(900),
            ) {
                (Some(6), Some(t), Some(k), true) if t < k => {
                    "the others get SIGTERM, then SIGKILL 1 s later; exit 6".into()
                }
                _ => format!("{finished:?} after {grace:?}"),
            },
        )
    }

    pub(super) fn r_rewrites(init: Init) -> Observed {
        let names = rewrites(init, "TERM:QUIT")?;
        if names != REFUSED {
            return Ok(names);
        }
        // dumb-init's own form: numbers.
        Ok(format!(
            "TERM:QUIT {REFUSED}; 15:3: {}",
            rewrites(init, "15:3")?
        ))
    }

    /// What `-r rewrite` makes of a SIGTERM sent to the init.
    fn rewrites(init: Init, rewrite: &str) -> Observed {
        let run = start(
            init,
            Mode::Plain,
            &["-r", rewrite],
            &["sh", "-c", &marker_script(&[3, 15])],
            |_| {},
        )?;
        let (line, mut run) = match first_line(run) {
            Ok(first) => first,
            Err(phrase) => return Ok(phrase),
        };
        assert!(line.starts_with("ready "), "{line}");
        run.signal(libc::SIGTERM);
        let got = run.line(SOON);
        run.signal(MARKER);
        assert_eq!(signals_until_marker(&mut run, &[]), Some(vec![]));
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(0), "{finished:?}");
        Ok(match got.as_str() {
            "3" => "SIGTERM reaches PROGRAM as SIGQUIT".into(),
            other => format!("PROGRAM got {other}"),
        })
    }

    // --- Exec failures ------------------------------------------------------------------------------

    /// The init's exit status and what it said when PROGRAM could not be run.
    fn exec_failure(init: Init, program: &str) -> Observed {
        as_subreaper(init, |mode| exec_failure_in(init, mode, program))
    }

    fn exec_failure_in(init: Init, mode: Mode, program: &str) -> Observed {
        let finished = run(init, mode, &[], &[program])?;
        let reasons = [
            "No such file or directory",
            "Not a directory",
            "Permission denied",
            "Exec format error",
        ];
        let said = reasons
            .iter()
            .find(|r| finished.stderr.contains(**r) && finished.stderr.contains(program));
        let message = match (said, finished.stderr.is_empty()) {
            (Some(reason), _) => format!("the message names PROGRAM and \"{reason}\""),
            (None, true) => "nothing on stderr".into(),
            (None, false) => format!("stderr {:?}", finished.stderr),
        };
        let ran = if finished.stdout.iter().any(|l| l == "ran as a shell script") {
            ", the file ran as a shell script"
        } else {
            ""
        };
        Ok(format!("{}, {message}{ran}", ending(&finished)))
    }

    /// `name` in a scratch directory with `contents` and `mode`.
    fn scratch_file(name: &str, contents: &[u8], mode: u32) -> String {
        use std::os::unix::fs::PermissionsExt;
        let dir = common::scratch_dir("vinit-tini");
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path.to_str().unwrap().to_string()
    }

    pub(super) fn exec_not_found(init: Init) -> Observed {
        let absolute = exec_failure(init, "/nonexistent/program")?;
        let searched = exec_failure(init, "no-such-program-in-path")?;
        assert_eq!(absolute, searched, "by path and searched in PATH");
        Ok(absolute)
    }

    pub(super) fn exec_not_a_directory(init: Init) -> Observed {
        exec_failure(init, "/etc/passwd/x")
    }

    pub(super) fn exec_permission_denied(init: Init) -> Observed {
        let file = exec_failure(init, &scratch_file("not-executable", b"#!/bin/sh\n", 0o644))?;
        let dir = common::scratch_dir("vinit-tini");
        let directory = exec_failure(init, dir.to_str().unwrap())?;
        assert_eq!(file, directory, "a file without x, a directory");
        Ok(file)
    }

    pub(super) fn exec_format_error(init: Init) -> Observed {
        exec_failure(init, &scratch_file("zeros", &[0; 64], 0o755))
    }

    pub(super) fn exec_script_without_shebang(init: Init) -> Observed {
        let script = b"echo ran as a shell script\nexit 5\n";
        exec_failure(init, &scratch_file("no-shebang", script, 0o755))
    }

    // --- What PROGRAM inherits, what the init keeps --------------------------------------------------

    pub(super) fn signal_state(init: Init) -> Observed {
        // The init starts with SIGHUP and SIGUSR1 ignored, SIGUSR2 and SIGWINCH blocked.
        per_mode(init, &[Mode::Plain, Mode::Pid1], |init, mode| {
            let (seen, expected) =
                runner::signal_state_seen_by_child(init, mode, &[1, 10], &[12, 28])?;
            Ok(signal_state_phrase(&seen, &expected))
        })
    }

    /// What PROGRAM's `SigIgn`, `SigBlk` and `SigCgt` (`seen`) are, against the init's own
    /// (`expected`, as the same program shows them when started by the test).
    fn signal_state_phrase(seen: &[String; 3], expected: &[String; 3]) -> String {
        if seen == expected {
            return "PROGRAM gets the init's original mask and ignored signals".into();
        }
        let set = |mask: &str| u64::from_str_radix(mask, 16).expect("a signal set");
        let mask = match set(&seen[1]) {
            _ if seen[1] == expected[1] => "the init's original mask".to_string(),
            0 => "an empty mask".to_string(),
            _ => format!("the mask {}", seen[1]),
        };
        let numbers = |bits: u64| -> String {
            let numbers: Vec<String> = (1..=64u32)
                .filter(|n| bits >> (n - 1) & 1 == 1)
                .map(|n| n.to_string())
                .collect();
            numbers.join(", ")
        };
        // The signals the init ignored that PROGRAM does not, and the other way round.
        let (ignored, init_ignored) = (set(&seen[0]), set(&expected[0]));
        let mut differences = Vec::new();
        if init_ignored & !ignored != 0 {
            differences.push(format!(
                "signals {} no longer ignored",
                numbers(init_ignored & !ignored)
            ));
        }
        if ignored & !init_ignored != 0 {
            differences.push(format!(
                "signals {} ignored",
                numbers(ignored & !init_ignored)
            ));
        }
        if seen[2] != expected[2] {
            differences.push(format!("SigCgt {}", seen[2]));
        }
        match differences.is_empty() {
            true => format!("PROGRAM gets {mask} and the init's ignored signals"),
            false => format!("PROGRAM gets {mask}, {}", differences.join(", ")),
        }
    }

    pub(super) fn sigchld_ignored(init: Init) -> Observed {
        // The init is started with SIGCHLD ignored. PROGRAM is not a shell, which would reset
        // SIGCHLD (it needs it for its own children).
        let program = [
            "awk",
            "/^SigIgn:/ { print } END { exit 3 }",
            "/proc/self/status",
        ];
        let mut run = start(init, Mode::Plain, &[], &program, |command| {
            runner::with_signals(command, &[libc::SIGCHLD], &[])
        })?;
        let line = run.line(SOON);
        let ignored = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
        let program = if ignored & 1 << (libc::SIGCHLD - 1) != 0 {
            "PROGRAM gets SIGCHLD ignored"
        } else {
            "PROGRAM gets SIGCHLD not ignored"
        };
        // Three seconds for an exit that should come at once, then a SIGTERM, then one more.
        if run.exits_within(Duration::from_secs(3)) {
            let finished = run.finish(SOON);
            return Ok(format!("{}; {program}", ending(&finished)));
        }
        run.signal(libc::SIGTERM);
        let ended = run.exits_within(Duration::from_secs(1));
        drop(run);
        Ok(if ended {
            format!("hangs until SIGTERM; {program}")
        } else {
            format!("hangs, SIGTERM too; {program}")
        })
    }

    pub(super) fn fds_and_directory(init: Init) -> Observed {
        // The init starts in a scratch directory with a pipe on fd 5; PROGRAM reports its directory
        // and writes to fd 5, then waits while the init is inspected.
        let dir = common::scratch_dir(&format!("vinit-tini-fds-{init:?}"));
        let (read, write) = vspawn::fd::pipe2(vspawn::fd::OFlags::empty()).expect("pipe2");
        let write_fd = write.as_raw_fd();
        let script = "pwd; echo through-fd-5 >&5; read line";
        let mut run = start(init, Mode::Plain, &[], &["sh", "-c", script], |command| {
            command.current_dir(&dir);
            runner::with_fd_5(command, write_fd);
        })?;
        drop(write);
        let program_dir = run.line(SOON) == dir.to_str().unwrap();
        let mut through = [0u8; 13];
        let n = vspawn::fd::read(read.as_raw_fd(), &mut through).expect("read fd 5");
        let program_fd = &through[..n] == b"through-fd-5\n";
        // Whatever the init does with its own files, it has done once it waits for signals.
        runner::wait_until_in_signal_wait(run.pid());
        let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{}/fd", run.pid()))
            .expect("the init's fds")
            .map(|e| {
                e.unwrap()
                    .file_name()
                    .into_string()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        fds.sort();
        let cwd = std::fs::read_link(format!("/proc/{}/cwd", run.pid())).expect("the init's cwd");
        run.write_stdin(b"go\n");
        let finished = run.finish(SOON);
        assert_eq!(finished.code, Some(0), "{finished:?}");
        let _ = std::fs::remove_dir_all(&dir);
        // (The test's own inherited fds, e.g. cargo's jobserver, come along to the init too.)
        let init_fds = match (fds.as_slice(), fds.contains(&5)) {
            ([0, 1, 2], _) => "closes its fds above 2",
            (_, true) => "keeps fd 5",
            (_, false) => "closes fd 5",
        };
        let init_dir = if cwd == dir {
            "stays in the directory".to_string()
        } else {
            format!("moves to {}", cwd.display())
        };
        Ok(format!(
            "PROGRAM keeps {}; the init {init_fds}, {init_dir}",
            match (program_fd, program_dir) {
                (true, true) => "fd 5 and the directory",
                (true, false) => "fd 5, not the directory",
                (false, true) => "the directory, not fd 5",
                (false, false) => "neither fd 5 nor the directory",
            },
        ))
    }
}
