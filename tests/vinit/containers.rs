//! What the container tests share (`tests/vinit_runc.rs` and `tests/vinit_docker.rs`, included
//! with `#[path]`): whether a container runtime can run here, the busybox root file system built
//! at test time, a runtime command read line by line with a deadline, and the shell scripts of
//! the scenarios both run.
//!
//! Containers run the host's binaries natively as root: under qemu-user (the vinit under test is
//! built for another architecture), in the test VMs (no runtime there) or without root, the
//! scenarios are visible skips.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Long enough for anything that should happen at once.
pub const SOON: Duration = Duration::from_secs(20);

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
pub const BUSYBOX: &str = "/bin/busybox";

/// `Ok` if `runtime`'s containers can run here: natively, as root, with a static busybox; else
/// why not (a reason to skip).
pub fn check_native(runtime: &str) -> Result<(), String> {
    if let Some(emulator) = crate::common::emulator() {
        return Err(format!(
            "{runtime} runs the host's containers, and vinit here is built for {} under \
             {emulator}: the {runtime} scenarios run natively",
            std::env::consts::ARCH
        ));
    }
    if std::env::var_os("VSPAWN_VM").is_some() {
        return Err(format!(
            "no {runtime} in the test VM: the {runtime} scenarios run natively as root"
        ));
    }
    // SAFETY: geteuid has no arguments.
    if unsafe { libc::geteuid() } != 0 {
        return Err(format!(
            "{runtime} needs root here: the {runtime} scenarios run natively as root"
        ));
    }
    if !is_static(Path::new(BUSYBOX)) {
        return Err(format!(
            "{BUSYBOX} is missing or not static (scripts/setup installs busybox-static)"
        ));
    }
    Ok(())
}

/// Whether the ELF file at `path` has no program interpreter (a static executable).
fn is_static(path: &Path) -> bool {
    path.exists() && !crate::common::elf_linking(path).interpreter
}

/// Builds the root file system at `rootfs`: busybox in /bin with the applets the scenarios use,
/// empty /proc, /dev, /sys and /tmp, and each `(file, name)` of `extra` copied to /`name`.
pub fn build_rootfs(rootfs: &Path, extra: &[(&Path, &str)]) {
    for sub in ["bin", "proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(sub)).expect("create the root file system");
    }
    std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "sleep", "usleep", "cat", "echo", "kill", "true"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    for (file, name) in extra {
        std::fs::copy(file, rootfs.join(name)).unwrap_or_else(|e| panic!("copy {name}: {e}"));
    }
}

/// A runtime command that runs a container in the foreground (`runc run`, `docker run`): its
/// stdout read line by line, its stderr kept for the end. Dropped, it is killed.
pub struct Run {
    child: Child,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

/// How a [`Run`] ended.
#[derive(Debug)]
pub struct Ended {
    /// The command's exit status (the container's PID 1's).
    pub code: Option<i32>,
    /// stdout lines not taken with [`Run::line`].
    pub stdout: Vec<String>,
    pub stderr: String,
    /// From the start to the exit.
    pub elapsed: Duration,
}

impl Run {
    /// Starts `command` with stdout and stderr on pipes, stdin empty.
    pub fn spawn(command: &mut Command) -> Run {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
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
        let stderr = Some(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        }));
        Run {
            child,
            lines,
            stderr,
            started,
        }
    }

    /// The next line of stdout, within [`SOON`], or `Err` with the reason.
    pub fn line(&mut self) -> Result<String, String> {
        self.lines
            .recv_timeout(SOON)
            .map_err(|e| format!("no line ({e})"))
    }

    /// Waits [`SOON`] for the exit (then for the end of stdout): `None` if it did not come.
    pub fn wait(&mut self) -> Option<Ended> {
        let child = &mut self.child;
        let status = crate::runner::wait_for(SOON, || child.try_wait().expect("try_wait"))?;
        let elapsed = self.started.elapsed();
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
        Some(Ended {
            code: status.code(),
            stdout: self.lines.iter().collect(),
            stderr: stderr.unwrap_or_default(),
            elapsed,
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` to its end (within [`SOON`]); panics with its output unless it succeeds.
pub fn succeed(command: &mut Command) -> Ended {
    let ended = Run::spawn(command).wait();
    let ended = ended.unwrap_or_else(|| panic!("{command:?} did not end within {SOON:?}"));
    assert_eq!(ended.code, Some(0), "{command:?}: {ended:?}");
    ended
}

/// PROGRAM traps SIGTERM and exits 42 with it, saying `ready` first and `got TERM` then.
pub const TERM_42_SCRIPT: &str =
    "trap 'echo got TERM; kill $s; exit 42' TERM\nsleep 1000 & s=$!\necho ready\nwait $s";

/// Run inside a container by the runtime's exec: makes 20 orphans (`usleep 1000` left by a
/// subshell that exits at once), which the container's PID 1 inherits; waits until none is alive
/// and no process of the container is a zombie, for at most 2 s; prints how many zombies there
/// are.
pub const ORPHANS_SCRIPT: &str = "i=0\nwhile [ $i -lt 20 ]; do (usleep 1000 &); i=$((i+1)); done\n\
    n=0\nwhile :; do\n  z=0; live=0\n  for f in /proc/[0-9]*/stat; do\n    \
    read -r pid comm state rest < $f 2>/dev/null || continue\n    \
    [ \"$state\" = Z ] && z=$((z+1))\n    \
    [ \"$comm\" = '(usleep)' ] && [ \"$state\" != Z ] && live=$((live+1))\n  done\n  \
    [ $z = 0 ] && [ $live = 0 ] && break\n  [ $n = 20 ] && break\n  n=$((n+1)); usleep 100000\n\
    done\necho zombies=$z live=$live";
