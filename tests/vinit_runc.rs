//! vinit as the init of a real OCI container, beside tini: `runc run` with `process.args =
//! ["/vinit", "--", ...]` (and `["/tini", "--", ...]`) in a busybox root file system built here
//! at test time, under `target/`.
//!
//! - `runc kill ID TERM` reaches PROGRAM, and PROGRAM's exit status is `runc run`'s; an exec
//!   failure inside is 127;
//! - orphans a `runc exec` leaves behind are reaped: no `Z` in the container's `/proc` (and with
//!   no init, `sleep` as the container's PID 1, the same orphans stay zombies: the check can
//!   fail);
//! - on a container stop (`runc kill ID TERM`), vinit's `-t` gives the processes left a SIGTERM,
//!   then kills one that ignores it; with tini (no `-t`) the kernel kills them with it, without
//!   a SIGTERM first.
//!
//! Needs root, runc (Debian's package), a static busybox (`busybox-static`) and tini-static
//! (`scripts/setup` installs them), natively: the test skips visibly where runc cannot run
//! (not root, qemu-user, the test VMs).

#[macro_use]
mod common;

#[path = "vinit/runner.rs"]
mod runner;

#[path = "vinit/containers.rs"]
#[macro_use]
mod containers;

use containers::{Ended, ORPHANS_SCRIPT, Run, SOON, TERM_42_SCRIPT};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Which init a container runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Init {
    Vinit,
    Tini,
    /// No init: PROGRAM is the container's PID 1 (the control that shows what an init is for).
    None,
}

impl Init {
    /// `process.args` for PROGRAM with this init and its `options`.
    fn args(self, options: &[&str], program: &[&str]) -> Vec<String> {
        let init = match self {
            Init::Vinit => "/vinit",
            Init::Tini => "/tini",
            Init::None => return program.iter().map(|s| s.to_string()).collect(),
        };
        let mut args = vec![init.to_string()];
        args.extend(options.iter().map(|s| s.to_string()));
        args.push("--".into());
        args.extend(program.iter().map(|s| s.to_string()));
        args
    }
}

/// Where the containers of this test binary live: the root file system (shared, read-only),
/// runc's state, one bundle folder per container.
struct Place {
    dir: PathBuf,
    rootfs: PathBuf,
}

/// The place, built once; `Err` is why runc cannot run here.
fn place() -> Result<&'static Place, String> {
    static PLACE: OnceLock<Result<Place, String>> = OnceLock::new();
    PLACE
        .get_or_init(build_place)
        .as_ref()
        .map_err(Clone::clone)
}

fn build_place() -> Result<Place, String> {
    containers::check_native("runc")?;
    let runc = Command::new("runc").arg("--version").output();
    if !runc.is_ok_and(|o| o.status.success()) {
        return Err("no runc here (scripts/setup installs Debian's runc)".into());
    }
    let vinit = runner::vinit_path()?;
    let tini = runner::tini_path()?;
    // Next to the test binary: target/<profile>/vinit-runc.
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in <profile>/deps")
        .join("vinit-runc");
    let rootfs = dir.join(format!("rootfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    containers::build_rootfs(&rootfs, &[(vinit, "vinit"), (tini, "tini")]);
    Ok(Place { dir, rootfs })
}

/// A JSON string.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if (c as u32) < 0x20 => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out + "\""
}

/// An OCI runtime configuration (what `runc spec` writes, trimmed): PROGRAM's `args`, no
/// terminal, the root file system read-only with a tmpfs on /tmp, new pid, mount, ipc, uts and
/// network namespaces.
fn config(rootfs: &Path, args: &[String]) -> String {
    let args: Vec<String> = args.iter().map(|a| json(a)).collect();
    format!(
        r#"{{
  "ociVersion": "1.0.2",
  "process": {{
    "terminal": false,
    "user": {{ "uid": 0, "gid": 0 }},
    "args": [{args}],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "noNewPrivileges": true
  }},
  "root": {{ "path": {root}, "readonly": true }},
  "hostname": "vinit-runc",
  "mounts": [
    {{ "destination": "/proc", "type": "proc", "source": "proc" }},
    {{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
       "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] }},
    {{ "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"] }}
  ],
  "linux": {{
    "resources": {{ "devices": [{{ "allow": false, "access": "rwm" }}] }},
    "namespaces": [
      {{ "type": "pid" }}, {{ "type": "network" }}, {{ "type": "ipc" }},
      {{ "type": "uts" }}, {{ "type": "mount" }}
    ]
  }}
}}
"#,
        args = args.join(", "),
        root = json(rootfs.to_str().expect("a UTF-8 path")),
    )
}

/// A container: its bundle, and `runc run` once started.
struct Container {
    place: &'static Place,
    id: String,
    bundle: PathBuf,
    run: Option<Run>,
}

impl Container {
    /// A bundle running `args` (`process.args`).
    fn new(place: &'static Place, args: &[String]) -> Container {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let id = format!("vspawn-{}-{n}", std::process::id());
        let bundle = place.dir.join(&id);
        std::fs::create_dir_all(&bundle).expect("create the bundle");
        std::fs::write(bundle.join("config.json"), config(&place.rootfs, args))
            .expect("write config.json");
        Container {
            place,
            id,
            bundle,
            run: None,
        }
    }

    /// `runc` with its state under the place, and `args`.
    fn runc(&self, args: &[&str]) -> Command {
        let mut command = Command::new("runc");
        command.arg("--root").arg(self.place.dir.join("state"));
        command.args(args);
        command
    }

    /// `runc run` in the background.
    fn start(mut self) -> Container {
        let mut command = self.runc(&["run", "--bundle"]);
        command.arg(&self.bundle).arg(&self.id);
        self.run = Some(Run::spawn(&mut command));
        self
    }

    /// The next line of the container's stdout.
    fn line(&mut self) -> String {
        let got = self.run.as_mut().expect("started").line();
        got.unwrap_or_else(|e| panic!("container {}: {e}", self.id))
    }

    /// `runc kill ID SIGNAL`.
    fn kill(&self, signal: &str) {
        containers::succeed(&mut self.runc(&["kill", &self.id, signal]));
    }

    /// `runc exec ID ARGS...`, to its end.
    fn exec(&self, args: &[&str]) -> Output {
        let mut command = self.runc(&["exec", &self.id]);
        command.args(args).stdin(Stdio::null());
        command.output().expect("runc exec")
    }

    /// Waits for `runc run` to exit (the container's PID 1 has).
    fn wait(&mut self) -> Ended {
        let Some(ended) = self.run.as_mut().expect("started").wait() else {
            self.kill("KILL");
            panic!("container {} did not end within {SOON:?}", self.id);
        };
        ended
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.runc(&["delete", "--force", &self.id]).output();
        drop(self.run.take());
        let _ = std::fs::remove_dir_all(&self.bundle);
    }
}

// --- Signals and exit status --------------------------------------------------------------------

/// PROGRAM traps SIGTERM and exits 42 with it; `runc kill ID TERM` goes to the container's PID 1.
fn term_reaches_program_and_its_status_comes_back(init: Init) {
    let place = or_skip!(place());
    let args = init.args(&[], &["sh", "-c", TERM_42_SCRIPT]);
    let mut container = Container::new(place, &args).start();
    assert_eq!(container.line(), "ready");
    container.kill("TERM");
    assert_eq!(container.line(), "got TERM");
    let ended = container.wait();
    assert_eq!(ended.code, Some(42), "{init:?}: {ended:?}");
}

#[test]
fn runc_kill_term_reaches_program_and_its_status_comes_back_vinit() {
    term_reaches_program_and_its_status_comes_back(Init::Vinit);
}

#[test]
fn runc_kill_term_reaches_program_and_its_status_comes_back_tini() {
    term_reaches_program_and_its_status_comes_back(Init::Tini);
}

fn exec_failure_inside_is_127(init: Init) {
    let place = or_skip!(place());
    let mut container = Container::new(place, &init.args(&[], &["/nonexistent"])).start();
    let ended = container.wait();
    assert_eq!(ended.code, Some(127), "{init:?}: {ended:?}");
    assert!(ended.stderr.contains("/nonexistent"), "{ended:?}");
}

#[test]
fn runc_exec_failure_inside_is_127_vinit() {
    exec_failure_inside_is_127(Init::Vinit);
}

#[test]
fn runc_exec_failure_inside_is_127_tini() {
    exec_failure_inside_is_127(Init::Tini);
}

// --- Orphans ----------------------------------------------------------------------------------

/// The zombies left in a container whose PID 1 is `init` (with PROGRAM `sleep 1000`) after a
/// `runc exec` made 20 orphans.
fn zombies_after_exec_orphans(place: &'static Place, init: Init) -> String {
    let args = init.args(&[], &["sh", "-c", "echo ready; exec sleep 1000"]);
    let mut container = Container::new(place, &args).start();
    assert_eq!(container.line(), "ready");
    let output = container.exec(&["sh", "-c", ORPHANS_SCRIPT]);
    assert!(output.status.success(), "runc exec: {output:?}");
    container.kill("KILL");
    container.wait();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn orphans_of_runc_exec_are_reaped_vinit() {
    let place = or_skip!(place());
    assert_eq!(
        zombies_after_exec_orphans(place, Init::Vinit),
        "zombies=0 live=0"
    );
}

#[test]
fn orphans_of_runc_exec_are_reaped_tini() {
    let place = or_skip!(place());
    assert_eq!(
        zombies_after_exec_orphans(place, Init::Tini),
        "zombies=0 live=0"
    );
}

#[test]
fn without_an_init_the_orphans_of_runc_exec_stay_zombies() {
    // The control: `sleep` as PID 1 never waits, so the same orphans stay `Z`.
    let place = or_skip!(place());
    assert_eq!(
        zombies_after_exec_orphans(place, Init::None),
        "zombies=20 live=0"
    );
}

// --- Container stop ---------------------------------------------------------------------------

/// PROGRAM starts two helpers, one that ignores SIGTERM and one that says when it gets it, and
/// exits 0 at SIGTERM; each of the three says when its traps are set. The container is then
/// stopped with `runc kill ID TERM`.
const STOP_SCRIPT: &str = "sh -c 'trap \"\" TERM; echo stubborn ready; while :; do usleep 100000; \
    done' &\nsh -c 'trap \"echo helper got TERM; exit 0\" TERM; echo helper ready; while :; do \
    usleep 100000; done' &\ntrap 'exit 0' TERM\nsleep 1000 & s=$!\necho ready\nwait $s";

fn stop(place: &'static Place, init: Init, options: &[&str]) -> Ended {
    let args = init.args(options, &["sh", "-c", STOP_SCRIPT]);
    let mut container = Container::new(place, &args).start();
    let mut ready: Vec<String> = (0..3).map(|_| container.line()).collect();
    ready.sort();
    assert_eq!(ready, ["helper ready", "ready", "stubborn ready"]);
    container.kill("TERM");
    container.wait()
}

#[test]
fn t_escalates_on_container_stop_vinit() {
    let place = or_skip!(place());
    let ended = stop(place, Init::Vinit, &["-t", "1", "-vv"]);
    assert_eq!(ended.code, Some(0), "{ended:?}");
    // The helper that takes SIGTERM got it; the other one was killed a second later.
    assert_eq!(ended.stdout, ["helper got TERM"], "{ended:?}");
    let lines: Vec<&str> = ended.stderr.lines().collect();
    let term = lines
        .iter()
        .position(|l| *l == "vinit: sent SIGTERM to every process");
    let kill = lines
        .iter()
        .position(|l| *l == "vinit: sent SIGKILL to every process");
    assert!(
        matches!((term, kill), (Some(t), Some(k)) if t < k),
        "{ended:?}"
    );
    assert!(ended.elapsed >= Duration::from_millis(900), "{ended:?}");
}

#[test]
fn without_t_the_others_die_with_the_container_tini() {
    // tini has no -t: it exits with PROGRAM, and the kernel kills the rest of the container
    // with SIGKILL, so the helper never hears of the stop.
    let place = or_skip!(place());
    let ended = stop(place, Init::Tini, &[]);
    assert_eq!(ended.code, Some(0), "{ended:?}");
    assert_eq!(ended.stdout, Vec::<String>::new(), "{ended:?}");
}

#[test]
fn without_t_the_others_die_with_the_container_vinit() {
    let place = or_skip!(place());
    let ended = stop(place, Init::Vinit, &[]);
    assert_eq!(ended.code, Some(0), "{ended:?}");
    assert_eq!(ended.stdout, Vec::<String>::new(), "{ended:?}");
}
