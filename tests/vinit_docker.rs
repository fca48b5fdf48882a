//! vinit as Docker's init, beside tini: `docker run --init` with a daemon started as
//! `dockerd --init-path <vinit>`, and the same runs with a daemon left with its default init
//! (Debian's `docker-init`, tini-static 0.19.0). The image is the busybox root file system of
//! the container tests, imported with `docker import`. Every scenario runs under both daemons and
//! gets the same exact values:
//!
//! - the container's PID 1 is the init, started as `/sbin/docker-init -- PROGRAM...`, and the
//!   binary there is vinit under one daemon, tini under the other;
//! - PROGRAM's exit status is `docker run`'s (7), a PROGRAM that kills itself with SIGUSR1 is
//!   138, a missing one 127;
//! - `docker stop`'s SIGTERM reaches a PROGRAM that traps it, and its status (42) comes back;
//!   `docker kill` is 137;
//! - orphans a `docker exec` leaves behind are reaped (and without `--init`, `sleep` as the
//!   container's PID 1, the same orphans stay zombies: the check can fail).
//!
//! Each daemon is private to this test binary: its own containerd, data root, exec root, pid
//! file and sockets in a folder under the temporary directory, the vfs storage driver, no
//! networking (`--bridge=none`, no iptables, containers on `--network none`). They start with the
//! first test and are shut down when the binary exits (an `atexit` handler, so also after a
//! failure): containers removed, daemons and shims waited for, mounts undone, the folder removed.
//! A folder left by a binary that was killed is cleaned the same way by the next one.
//!
//! Needs root and Debian's docker.io (`scripts/setup` installs it), run natively: the test skips
//! visibly where Docker cannot run (not root, not installed, qemu-user, the test VMs, a dockerd
//! that does not start, with its log).

#[macro_use]
mod common;

#[path = "vinit/runner.rs"]
mod runner;

#[path = "vinit/containers.rs"]
#[macro_use]
mod containers;

use containers::{Ended, ORPHANS_SCRIPT, Run, SOON, TERM_42_SCRIPT};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Debian's docker.io: the client named by path, since another `docker` (of another version)
/// may come first in `PATH`.
const DOCKER: &str = "/usr/bin/docker";
const DOCKERD: &str = "/usr/sbin/dockerd";
const CONTAINERD: &str = "/usr/bin/containerd";

/// The image imported from the root file system.
const IMAGE: &str = "vspawn-busybox";

/// How long a shim may take to exit once its container is gone and the daemons are stopped.
const SHIM_EXIT: Duration = Duration::from_secs(60);

/// The init a daemon puts in front of PROGRAM with `docker run --init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Init {
    /// `dockerd --init-path <vinit>`.
    Vinit,
    /// The default, `docker-init` (tini-static) found in `PATH`.
    Tini,
}

/// A running containerd + dockerd pair, private to this test binary.
#[derive(Debug)]
struct Daemon {
    init: Init,
    dir: PathBuf,
}

/// Why there are no daemons: a skip (Docker cannot run here) or a failure of the test.
enum NoDaemons {
    Skip(String),
    Broken(String),
}

/// The two daemons, started once.
fn daemons() -> Result<&'static [Daemon; 2], String> {
    static DAEMONS: OnceLock<Result<[Daemon; 2], NoDaemons>> = OnceLock::new();
    match DAEMONS.get_or_init(start_daemons) {
        Ok(daemons) => Ok(daemons),
        Err(NoDaemons::Skip(reason)) => Err(reason.clone()),
        Err(NoDaemons::Broken(reason)) => panic!("{reason}"),
    }
}

/// What the `atexit` handler shuts down: the folder of this binary's daemons, their processes,
/// and the folders under /run the daemons made that were not there before.
struct Cleanup {
    root: PathBuf,
    children: Vec<Child>,
    run_dirs: Vec<&'static str>,
}

static CLEANUP: Mutex<Option<Cleanup>> = Mutex::new(None);

/// Folders containerd and dockerd make under /run whatever their options say: the shims'
/// sockets, the plugin sockets' folder. Deepest first.
const RUN_DIRS: [&str; 4] = [
    "/run/containerd/s",
    "/run/containerd",
    "/run/docker/plugins",
    "/run/docker",
];

fn start_daemons() -> Result<[Daemon; 2], NoDaemons> {
    containers::check_native("docker").map_err(NoDaemons::Skip)?;
    for binary in [DOCKER, DOCKERD, CONTAINERD] {
        if !Path::new(binary).exists() {
            return Err(NoDaemons::Skip(format!(
                "no {binary} here (scripts/setup installs Debian's docker.io): the docker \
                 scenarios need its dockerd, containerd and client"
            )));
        }
    }
    let vinit = runner::vinit_path().map_err(NoDaemons::Skip)?;
    let base = std::env::temp_dir().join("vspawn-docker");
    clean_stale(&base);
    let root = base.join(std::process::id().to_string());
    let rootfs = root.join("rootfs");
    *CLEANUP.lock().unwrap() = Some(Cleanup {
        root: root.clone(),
        children: Vec::new(),
        run_dirs: RUN_DIRS
            .into_iter()
            .filter(|dir| !Path::new(dir).exists())
            .collect(),
    });
    // SAFETY: shut_down is an `extern "C" fn()` that catches its panics.
    assert_eq!(unsafe { libc::atexit(shut_down) }, 0, "atexit");
    containers::build_rootfs(&rootfs, &[]);
    let tar = root.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success(), "tar of the root file system: {status}");
    let daemons = [
        Daemon::start(&root, Init::Vinit, Some(vinit))?,
        Daemon::start(&root, Init::Tini, None)?,
    ];
    for daemon in &daemons {
        let mut import = daemon.docker(&["import"]);
        let ended = Run::spawn(import.arg(&tar).arg(IMAGE)).wait();
        if !matches!(ended, Some(Ended { code: Some(0), .. })) {
            return Err(NoDaemons::Broken(format!(
                "docker import under {daemon:?}: {ended:?}"
            )));
        }
    }
    Ok(daemons)
}

impl Daemon {
    /// The daemon of `init` in `root`: its folder is `root`/vinit or `root`/tini.
    fn at(root: &Path, init: Init) -> Daemon {
        let dir = root.join(match init {
            Init::Vinit => "vinit",
            Init::Tini => "tini",
        });
        Daemon { init, dir }
    }

    /// Starts containerd and dockerd of `init` in `root`; `init_path` is dockerd's
    /// `--init-path`.
    fn start(root: &Path, init: Init, init_path: Option<&Path>) -> Result<Daemon, NoDaemons> {
        let daemon = Daemon::at(root, init);
        let dir = &daemon.dir;
        std::fs::create_dir_all(dir.join("client")).expect("create the daemon's folder");
        // No CRI (Kubernetes' interface) and no /opt/containerd (the `opt` plugin's folder).
        let containerd_toml = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.internal.v1.opt\"]\n\
             [grpc]\n  address = \"{socket}\"\n",
            root = dir.join("containerd").display(),
            state = dir.join("containerd-state").display(),
            socket = daemon.containerd_socket().display(),
        );
        std::fs::write(dir.join("containerd.toml"), containerd_toml).expect("containerd.toml");
        // The trust key dockerd would otherwise write to /etc/docker/key.json.
        let daemon_json = format!(
            "{{ \"deprecated-key-path\": \"{}\" }}\n",
            dir.join("key.json").display()
        );
        std::fs::write(dir.join("daemon.json"), daemon_json).expect("daemon.json");

        let mut containerd = Command::new(CONTAINERD);
        containerd.arg("--config").arg(dir.join("containerd.toml"));
        daemon.launch(containerd, "containerd.log");
        let socket = daemon.containerd_socket();
        let up = runner::wait_for(SOON, || socket.exists().then_some(()));
        if up.is_none() {
            return Err(NoDaemons::Skip(format!(
                "containerd does not start here: {}",
                tail(&dir.join("containerd.log"))
            )));
        }

        let mut dockerd = Command::new(DOCKERD);
        dockerd
            .arg("--config-file")
            .arg(dir.join("daemon.json"))
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .arg("--host")
            .arg(daemon.host())
            .arg("--containerd")
            .arg(daemon.containerd_socket())
            .args([
                "--storage-driver",
                "vfs",
                "--bridge=none",
                "--iptables=false",
            ])
            .args(["--ip-masq=false", "--ip-forward=false"]);
        if let Some(path) = init_path {
            dockerd.arg("--init-path").arg(path);
        }
        let dockerd = daemon.launch(dockerd, "dockerd.log");
        // The socket comes early; `docker version` answers once the daemon is ready.
        let deadline = Instant::now() + SOON;
        let versions = loop {
            if daemon.dir.join("docker.sock").exists() {
                let version = "{{.Client.Version}} {{.Server.Version}}";
                let mut command = daemon.docker(&["version", "--format", version]);
                let ended = Run::spawn(&mut command).wait();
                if let Some(Ended {
                    code: Some(0),
                    stdout,
                    ..
                }) = ended
                {
                    break stdout.join("\n");
                }
            }
            if Instant::now() >= deadline || !running(dockerd) {
                return Err(NoDaemons::Skip(format!(
                    "dockerd does not start here: {}",
                    tail(&dir.join("dockerd.log"))
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (client, server) = versions.split_once(' ').unwrap_or((&versions, ""));
        if client != server {
            return Err(NoDaemons::Broken(format!(
                "{DOCKER} is {client}, {DOCKERD} is {server}: not one docker.io"
            )));
        }
        Ok(daemon)
    }

    fn containerd_socket(&self) -> PathBuf {
        self.dir.join("containerd.sock")
    }

    /// dockerd's API socket, as `--host` names it.
    fn host(&self) -> String {
        format!("unix://{}", self.dir.join("docker.sock").display())
    }

    /// Starts `command` with its output in `log`, a child for the cleanup to wait for; its pid.
    fn launch(&self, mut command: Command, log: &str) -> i32 {
        let log = std::fs::File::create(self.dir.join(log)).expect("create the log");
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup the log"))
            .stderr(log);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
        let pid = child.id() as i32;
        let mut cleanup = CLEANUP.lock().unwrap();
        cleanup.as_mut().expect("cleanup set").children.push(child);
        pid
    }

    /// Whether a process of this daemon named `name` is running.
    fn alive(&self, name: &str) -> bool {
        processes_of(&self.dir)
            .iter()
            .any(|&pid| comm(pid).is_some_and(|c| c == name))
    }

    /// This daemon's client (Debian's), and `args`.
    fn docker(&self, args: &[&str]) -> Command {
        let mut command = Command::new(DOCKER);
        command
            .env("DOCKER_CONFIG", self.dir.join("client"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .arg("--host")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// `docker run --name NAME --network none OPTIONS... IMAGE PROGRAM...` in the background.
    fn spawn(&self, options: &[&str], program: &[&str]) -> Container<'_> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("vspawn-{n}");
        let mut command = self.docker(&["run", "--name", &name, "--network", "none"]);
        command.args(options).arg(IMAGE).args(program);
        let run = Run::spawn(&mut command);
        Container {
            daemon: self,
            name,
            run,
        }
    }

    /// `docker run ...` to its end.
    fn run(&self, options: &[&str], program: &[&str]) -> Ended {
        self.spawn(options, program).wait()
    }
}

/// A container and the `docker run` that started it; removed when dropped.
struct Container<'d> {
    daemon: &'d Daemon,
    name: String,
    run: Run,
}

impl Container<'_> {
    /// The next line of the container's stdout.
    fn line(&mut self) -> String {
        let got = self.run.line();
        got.unwrap_or_else(|e| panic!("{:?}, container {}: {e}", self.daemon.init, self.name))
    }

    /// `docker VERB NAME`, successful (`stop`, `kill`).
    fn docker(&self, verb: &str) {
        containers::succeed(&mut self.daemon.docker(&[verb, &self.name]));
    }

    /// `docker exec NAME ARGS...` to its end.
    fn exec(&self, args: &[&str]) -> Ended {
        let mut command = self.daemon.docker(&["exec", &self.name]);
        let ended = Run::spawn(command.args(args)).wait();
        ended.unwrap_or_else(|| panic!("docker exec {} did not end within {SOON:?}", self.name))
    }

    /// Waits for `docker run` to exit (the container's PID 1 has).
    fn wait(&mut self) -> Ended {
        let Some(ended) = self.run.wait() else {
            let _ = self.daemon.docker(&["kill", &self.name]).output();
            panic!("container {} did not end within {SOON:?}", self.name);
        };
        ended
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.daemon.docker(&["rm", "--force", &self.name]).output();
    }
}

// --- The cleanup -------------------------------------------------------------------------------

/// Run at exit: shuts down what [`start_daemons`] started.
extern "C" fn shut_down() {
    let cleanup = CLEANUP.lock().map(|mut c| c.take());
    let Ok(Some(cleanup)) = cleanup else { return };
    let done = std::panic::catch_unwind(move || {
        let Cleanup {
            root,
            mut children,
            run_dirs,
        } = cleanup;
        clean(&root);
        for child in &mut children {
            let _ = child.wait();
        }
        for dir in run_dirs {
            // Only if empty: a daemon of the machine may have started meanwhile.
            let _ = std::fs::remove_dir(dir);
        }
        if let Some(base) = root.parent() {
            let _ = std::fs::remove_dir(base);
        }
    });
    if done.is_err() {
        eprintln!("vinit_docker: the cleanup failed");
    }
}

/// Cleans the folders under `base` of test binaries that no longer run.
fn clean_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            clean(&entry.path());
        }
    }
}

/// Stops everything under `root` and removes it: the containers, dockerd, containerd, the shims
/// (waited for up to [`SHIM_EXIT`], then killed), the mounts.
fn clean(root: &Path) {
    for init in [Init::Vinit, Init::Tini] {
        let daemon = Daemon::at(root, init);
        if !daemon.alive("dockerd") {
            continue;
        }
        let mut ps = daemon.docker(&["ps", "--all", "--quiet"]);
        let ids = Run::spawn(&mut ps).wait().map(|ended| ended.stdout);
        let ids = ids.unwrap_or_default();
        if !ids.is_empty() {
            let mut rm = daemon.docker(&["rm", "--force"]);
            let _ = Run::spawn(rm.args(&ids)).wait();
        }
    }
    // dockerd first (it stops its containers' tasks through containerd), then containerd.
    for name in ["dockerd", "containerd"] {
        let stopping = processes_of(root)
            .into_iter()
            .filter(|&pid| comm(pid).is_some_and(|c| c == name));
        let stopping: Vec<i32> = stopping.collect();
        end(&stopping, libc::SIGTERM, SOON);
    }
    // The shims exit on their own once their containers are deleted.
    end(&processes_of(root), 0, SHIM_EXIT);
    end(&processes_of(root), libc::SIGKILL, SOON);
    unmount_under(root);
    let _ = std::fs::remove_dir_all(root);
}

/// Sends `signal` (none if 0) to `pids` and waits up to `timeout` for them to end; after that,
/// SIGKILL for those left when `signal` was SIGTERM.
fn end(pids: &[i32], signal: i32, timeout: Duration) {
    for &pid in pids {
        if signal != 0 {
            // SAFETY: kill has no memory arguments.
            unsafe { libc::kill(pid, signal) };
        }
    }
    let gone = || pids.iter().all(|&pid| !running(pid)).then_some(());
    if runner::wait_for(timeout, gone).is_none() && signal == libc::SIGTERM {
        end(pids, libc::SIGKILL, SOON);
    }
}

/// Whether `pid` runs (a zombie does not: it has ended, its parent has not waited yet).
fn running(pid: i32) -> bool {
    runner::state_of(pid).is_some_and(|state| state != 'Z')
}

/// The command name of `pid`.
fn comm(pid: i32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_string())
}

/// The running processes whose command line names a path under `root`: dockerd, containerd,
/// the shims (`-address <root>/.../containerd.sock`), docker clients.
fn processes_of(root: &Path) -> Vec<i32> {
    let root = root.to_str().expect("a UTF-8 path").as_bytes();
    let live = runner::processes().into_iter().filter(|p| p.state != 'Z');
    live.map(|p| p.pid)
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.windows(root.len()).any(|w| w == root)
        })
        .collect()
}

/// Detaches every mount under `root` (containers' shm, network namespaces), deepest first.
fn unmount_under(root: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<&str> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| Path::new(point).starts_with(root))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in points {
        let point = std::ffi::CString::new(point).expect("a mount point");
        // SAFETY: point is a NUL-terminated string that outlives the call.
        unsafe { libc::umount2(point.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The last lines of a log, for a skip's reason.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let last = lines[lines.len().saturating_sub(12)..].join("\n");
    format!("{} ends with:\n{last}", log.display())
}

/// Runs `scenario` under both daemons at once, in threads named after their init: what it
/// returned under each, vinit's first.
fn both<T: Send>(
    daemons: &'static [Daemon; 2],
    scenario: impl Fn(&'static Daemon) -> T + Sync,
) -> [T; 2] {
    std::thread::scope(|scope| {
        let scenario = &scenario;
        let threads = daemons.each_ref().map(|daemon| {
            let thread = std::thread::Builder::new().name(format!("{:?}", daemon.init));
            let thread = thread.spawn_scoped(scope, move || scenario(daemon));
            thread.expect("spawn a scenario thread")
        });
        threads.map(|thread| {
            thread
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    })
}

/// [`both`] with the daemons, or a skip of the test.
macro_rules! under_both {
    ($scenario:expr) => {
        both(or_skip!(daemons()), $scenario)
    };
}

/// The exit status of each.
fn codes(ended: &[Ended; 2]) -> [Option<i32>; 2] {
    ended.each_ref().map(|ended| ended.code)
}

// --- The init ---------------------------------------------------------------------------------

#[test]
fn docker_init_is_pid_1_with_program_after_dashes() {
    let ended = under_both!(|daemon| daemon.run(&["--init"], &["cat", "/proc/1/cmdline"]));
    assert_eq!(codes(&ended), [Some(0); 2], "{ended:?}");
    let cmdline = ["/sbin/docker-init\0--\0cat\0/proc/1/cmdline\0"];
    assert_eq!(ended.map(|e| e.stdout), [cmdline; 2]);
}

#[test]
fn init_path_puts_vinit_where_tini_was() {
    let ended = under_both!(|daemon| daemon.run(&["--init"], &["/sbin/docker-init", "--version"]));
    assert_eq!(codes(&ended), [Some(0); 2], "{ended:?}");
    let vinit = [concat!("vinit ", env!("CARGO_PKG_VERSION"))];
    assert_eq!(ended.map(|e| e.stdout), [vinit, ["tini version 0.19.0"]]);
}

// --- Exit status -------------------------------------------------------------------------------

#[test]
fn program_exit_status_is_docker_runs() {
    let ended = under_both!(|daemon| daemon.run(&["--init"], &["sh", "-c", "exit 7"]));
    assert_eq!(codes(&ended), [Some(7); 2], "{ended:?}");
}

#[test]
fn program_killed_by_sigusr1_is_138() {
    let ended = under_both!(|daemon| daemon.run(&["--init"], &["sh", "-c", "kill -USR1 $$"]));
    assert_eq!(codes(&ended), [Some(128 + libc::SIGUSR1); 2], "{ended:?}");
}

#[test]
fn missing_program_is_127() {
    let ended = under_both!(|daemon| daemon.run(&["--init"], &["/nonexistent"]));
    assert_eq!(codes(&ended), [Some(127); 2], "{ended:?}");
    let said = ended.each_ref().map(|e| e.stderr.contains("/nonexistent"));
    assert_eq!(said, [true; 2], "{ended:?}");
}

// --- docker stop and docker kill ---------------------------------------------------------------

#[test]
fn docker_stop_term_reaches_program_and_its_status_comes_back() {
    let ended = under_both!(|daemon| {
        let mut container = daemon.spawn(&["--init"], &["sh", "-c", TERM_42_SCRIPT]);
        assert_eq!(container.line(), "ready", "{daemon:?}");
        container.docker("stop");
        assert_eq!(container.line(), "got TERM", "{daemon:?}");
        container.wait()
    });
    assert_eq!(codes(&ended), [Some(42); 2], "{ended:?}");
}

#[test]
fn docker_kill_is_137() {
    let ended = under_both!(|daemon| {
        let program = ["sh", "-c", "echo ready; exec sleep 1000"];
        let mut container = daemon.spawn(&["--init"], &program);
        assert_eq!(container.line(), "ready", "{daemon:?}");
        container.docker("kill");
        container.wait()
    });
    assert_eq!(codes(&ended), [Some(128 + libc::SIGKILL); 2], "{ended:?}");
}

// --- Orphans ----------------------------------------------------------------------------------

/// What [`ORPHANS_SCRIPT`] says after a `docker exec` of it in a container with `options`
/// running `sleep 1000`.
fn zombies_after_exec_orphans(daemon: &Daemon, options: &[&str]) -> String {
    let program = ["sh", "-c", "echo ready; exec sleep 1000"];
    let mut container = daemon.spawn(options, &program);
    assert_eq!(container.line(), "ready", "{daemon:?}");
    let ended = container.exec(&["sh", "-c", ORPHANS_SCRIPT]);
    assert_eq!(ended.code, Some(0), "{daemon:?}: docker exec: {ended:?}");
    container.docker("kill");
    container.wait();
    ended.stdout.join("\n")
}

#[test]
fn orphans_of_docker_exec_are_reaped() {
    let zombies = under_both!(|daemon| zombies_after_exec_orphans(daemon, &["--init"]));
    assert_eq!(zombies, ["zombies=0 live=0"; 2]);
}

#[test]
fn without_init_the_orphans_of_docker_exec_stay_zombies() {
    // The control: `sleep` as PID 1 never waits, so the same orphans stay `Z`.
    let zombies = under_both!(|daemon| zombies_after_exec_orphans(daemon, &[]));
    assert_eq!(zombies, ["zombies=20 live=0"; 2]);
}
