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

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Long enough for anything that should happen at once.
const SOON: Duration = Duration::from_secs(20);

/// Unwraps a result, or skips the test with the reason.
macro_rules! or_skip {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(reason) => skip!("{reason}"),
        }
    };
}

/// The busybox of the root file system (it must be static: the container has no libc).
const BUSYBOX: &str = "/bin/busybox";

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
    if let Some(emulator) = common::emulator() {
        return Err(format!(
            "runc runs the host's containers, and vinit here is built for {} under {emulator}: \
             the runc scenarios run natively",
            std::env::consts::ARCH
        ));
    }
    if std::env::var_os("VSPAWN_VM").is_some() {
        return Err("no runc in the test VM: the runc scenarios run natively as root".into());
    }
    // SAFETY: geteuid has no arguments.
    if unsafe { libc::geteuid() } != 0 {
        return Err("runc needs root here: the runc scenarios run natively as root".into());
    }
    let runc = Command::new("runc").arg("--version").output();
    if !runc.is_ok_and(|o| o.status.success()) {
        return Err("no runc here (scripts/setup installs Debian's runc)".into());
    }
    if !is_static(Path::new(BUSYBOX)) {
        return Err(format!(
            "{BUSYBOX} is missing or not static (scripts/setup installs busybox-static)"
        ));
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
    for sub in ["bin", "proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(sub)).expect("create the root file system");
    }
    std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "sleep", "usleep", "cat", "echo", "kill", "true"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::copy(vinit, rootfs.join("vinit")).expect("copy vinit");
    std::fs::copy(tini, rootfs.join("tini")).expect("copy tini");
    Ok(Place { dir, rootfs })
}

/// Whether the ELF file at `path` has no program interpreter (a static executable).
fn is_static(path: &Path) -> bool {
    let Ok(elf) = std::fs::read(path) else {
        return false;
    };
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36) as usize, u16_at(0x38));
    // PT_INTERP (3): a loader.
    (0..phnum as usize).all(|i| u32_at(phoff + i * phentsize) != 3)
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
    run: Option<Child>,
    lines: Option<Receiver<String>>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

/// How `runc run` ended.
#[derive(Debug)]
struct Ended {
    /// `runc run`'s exit status (the container process's).
    code: Option<i32>,
    /// stdout lines not taken with [`Container::line`].
    stdout: Vec<String>,
    stderr: String,
    /// From `runc run` to its exit.
    elapsed: Duration,
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
            lines: None,
            stderr: None,
            started: Instant::now(),
        }
    }

    /// `runc` with its state under the place, and `args`.
    fn runc(&self, args: &[&str]) -> Command {
        let mut command = Command::new("runc");
        command.arg("--root").arg(self.place.dir.join("state"));
        command.args(args);
        command
    }

    /// `runc run` in the background, stdout and stderr on pipes.
    fn start(mut self) -> Container {
        let mut command = self.runc(&["run", "--bundle"]);
        command
            .arg(&self.bundle)
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.started = Instant::now();
        let mut child = command.spawn().expect("spawn runc run");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        self.stderr = Some(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        }));
        self.run = Some(child);
        self.lines = Some(lines);
        self
    }

    /// The next line of the container's stdout.
    fn line(&mut self) -> String {
        let got = self.lines.as_ref().expect("started").recv_timeout(SOON);
        got.unwrap_or_else(|e| panic!("no line from container {} ({e})", self.id))
    }

    /// `runc kill ID SIGNAL`.
    fn kill(&self, signal: &str) {
        let output = self
            .runc(&["kill", &self.id, signal])
            .output()
            .expect("runc kill");
        assert!(
            output.status.success(),
            "runc kill {} {signal}: {}",
            self.id,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `runc exec ID ARGS...`, to its end.
    fn exec(&self, args: &[&str]) -> Output {
        let mut command = self.runc(&["exec", &self.id]);
        command.args(args).stdin(Stdio::null());
        command.output().expect("runc exec")
    }

    /// Waits for `runc run` to exit (the container's PID 1 has).
    fn wait(&mut self) -> Ended {
        let child = self.run.as_mut().expect("started");
        let status = runner::wait_for(SOON, || child.try_wait().expect("try_wait runc"));
        let Some(status) = status else {
            self.kill("KILL");
            panic!("container {} did not end within {SOON:?}", self.id);
        };
        let elapsed = self.started.elapsed();
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
        let lines = self.lines.take().expect("started");
        Ended {
            code: status.code(),
            stdout: lines.iter().collect(),
            stderr: stderr.unwrap_or_default(),
            elapsed,
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.runc(&["delete", "--force", &self.id]).output();
        if let Some(mut child) = self.run.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.bundle);
    }
}

// --- Signals and exit status --------------------------------------------------------------------

/// PROGRAM traps SIGTERM and exits 42 with it; `runc kill ID TERM` goes to the container's PID 1.
fn term_reaches_program_and_its_status_comes_back(init: Init) {
    let place = or_skip!(place());
    let script = "trap 'echo got TERM; kill $s; exit 42' TERM\nsleep 1000 & s=$!\necho ready\n\
                  wait $s";
    let args = init.args(&[], &["sh", "-c", script]);
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

/// Run by `runc exec`: makes 20 orphans (`usleep 1000` left by a subshell that exits at once),
/// which the container's PID 1 inherits; waits until none is alive and no process of the
/// container is a zombie, for at most 2 s; prints how many zombies there are.
const ORPHANS_SCRIPT: &str = "i=0\nwhile [ $i -lt 20 ]; do (usleep 1000 &); i=$((i+1)); done\n\
    n=0\nwhile :; do\n  z=0; live=0\n  for f in /proc/[0-9]*/stat; do\n    \
    read -r pid comm state rest < $f 2>/dev/null || continue\n    \
    [ \"$state\" = Z ] && z=$((z+1))\n    \
    [ \"$comm\" = '(usleep)' ] && [ \"$state\" != Z ] && live=$((live+1))\n  done\n  \
    [ $z = 0 ] && [ $live = 0 ] && break\n  [ $n = 20 ] && break\n  n=$((n+1)); usleep 100000\n\
    done\necho zombies=$z live=$live";

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
