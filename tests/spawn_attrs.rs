//! Spawn attributes seen from the exec'd child (`/proc/self/stat`, `/proc/self/status`,
//! `/proc/self/limits`, the shell's `umask` and `ulimit`, `id`), and the `Child` handle: wait,
//! try_wait, kill, pidfds, and `ExitStatus` as std shows it.

#[macro_use]
mod common;

use std::os::unix::process::ExitStatusExt;

use common::{CHILD_PATH, proc_stat_fields, spawn_capture, spawn_with, status_field};
use vspawn::Errno;
use vspawn::fd::Mode;
use vspawn::fd::OFlags;
use vspawn::fd::{self, FD_CLOEXEC, oflags::*};
use vspawn::process::{self, Pid, Rlimit, rlimit::*};
use vspawn::signal::Signal;
use vspawn::spawn::{Attributes, CStrArray, Command, ExitStatus, FileAction, Program, Spawn};
use vspawn::wait::{self, WaitId, cld, wflags::*};

/// What `/proc/self/stat` says of a spawned `cat`.
#[derive(Debug)]
struct Stat {
    pid: Pid,
    ppid: Pid,
    pgrp: Pid,
    session: Pid,
    tpgid: Pid,
}

fn parse_stat(line: &str) -> Stat {
    let (pid, f) = proc_stat_fields(line);
    let num = |i: usize| f[i].parse::<Pid>().unwrap();
    Stat {
        pid,
        ppid: num(1),
        pgrp: num(2),
        session: num(3),
        tpgid: num(5),
    }
}

fn stat_with(attrs: Attributes<'_>) -> Stat {
    let out = spawn_capture(&["cat", "/proc/self/stat"], &[], attrs).expect("spawn cat");
    assert_eq!(out.status.code(), Some(0));
    let stat = parse_stat(&out.stdout);
    assert_eq!(stat.pid, out.pid, "the stat is not the spawned child's");
    stat
}

fn status_with(attrs: Attributes<'_>) -> String {
    let out = spawn_capture(&["cat", "/proc/self/status"], &[], attrs).expect("spawn cat");
    assert_eq!(out.status.code(), Some(0));
    out.stdout
}

fn sh_with(script: &str, attrs: Attributes<'_>) -> String {
    let out = spawn_capture(&["sh", "-c", script], &[], attrs).expect("spawn sh");
    assert_eq!(out.status.code(), Some(0), "sh -c {script:?}");
    out.stdout
}

#[test]
fn by_default_the_child_is_in_our_group_and_session() {
    let stat = stat_with(Attributes::default());
    assert_eq!(stat.ppid, process::getpid());
    assert_eq!(stat.pgrp, process::getpgid(0).unwrap());
    assert_eq!(stat.session, process::getsid(0).unwrap());
}

#[test]
fn setsid_makes_the_child_a_session_and_group_leader() {
    let stat = stat_with(Attributes::new().setsid(true));
    assert_eq!(stat.session, stat.pid);
    assert_eq!(stat.pgrp, stat.pid);
    assert_eq!(stat.ppid, process::getpid());
}

#[test]
fn process_group_zero_makes_a_new_group_in_our_session() {
    let stat = stat_with(Attributes::new().process_group(0));
    assert_eq!(stat.pgrp, stat.pid);
    assert_eq!(stat.session, process::getsid(0).unwrap());
}

#[test]
fn process_group_joins_an_existing_group() {
    let leader_attrs = Attributes::new().process_group(0);
    let mut leader = spawn_with(&["sleep", "10"], &[CHILD_PATH], &[], leader_attrs).unwrap();
    let stat = stat_with(Attributes::new().process_group(leader.pid()));
    leader.kill().unwrap();
    assert_eq!(leader.wait().unwrap().signal(), Some(9));
    assert_eq!(stat.pgrp, leader.pid());
    assert_ne!(stat.pid, leader.pid());
}

#[test]
fn umask_is_set_in_the_child_and_defaults_to_ours() {
    let ours = process::umask(Mode::from_bits_retain(0o022));
    process::umask(ours);
    let parse = |s: String| u32::from_str_radix(s.trim(), 8).unwrap();
    let attrs = Attributes::new().umask(Mode::from_bits_retain(0o027));
    assert_eq!(parse(sh_with("umask", attrs)), 0o027);
    assert_eq!(parse(sh_with("umask", Attributes::default())), ours.bits());
}

#[test]
fn rlimits_are_set_in_the_child() {
    let rlimits = [
        (RLIMIT_NOFILE, Rlimit { cur: 77, max: 88 }),
        (RLIMIT_CPU, Rlimit { cur: 100, max: 200 }),
    ];
    let attrs = Attributes::new().rlimits(&rlimits);
    assert_eq!(sh_with("ulimit -n; ulimit -Hn", attrs), "77\n88\n");
    let out = spawn_capture(&["cat", "/proc/self/limits"], &[], attrs).unwrap();
    let limit = |name: &str| -> Vec<String> {
        let line = out.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .take(2)
            .map(String::from)
            .collect()
    };
    assert_eq!(limit("Max open files"), ["77", "88"]);
    assert_eq!(limit("Max cpu time"), ["100", "200"]);
    // Ours are untouched.
    assert_ne!(process::prlimit(0, RLIMIT_NOFILE, None).unwrap().cur, 77);
}

#[test]
fn no_new_privs_is_set_in_the_child_only() {
    let ours = status_field(
        &std::fs::read_to_string("/proc/self/status").unwrap(),
        "NoNewPrivs",
    )
    .to_string();
    if ours != "0" {
        skip!("this process already has no_new_privs set ({ours}): nothing to observe");
    }
    let status = status_with(Attributes::new().no_new_privs(true));
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    assert_eq!(
        status_field(&status_with(Attributes::default()), "NoNewPrivs"),
        "0"
    );
}

#[test]
fn uid_gid_and_groups_are_set_in_the_child_when_root() {
    if process::geteuid() != 0 {
        skip!("not root (euid {}): cannot change ids", process::geteuid());
    }
    let groups = [3001, 2345, 3000];
    let attrs = Attributes::new().uid(1234).gid(2345).groups(&groups);
    let status = status_with(attrs);
    assert_eq!(status_field(&status, "Uid"), "1234\t1234\t1234\t1234");
    assert_eq!(status_field(&status, "Gid"), "2345\t2345\t2345\t2345");
    // The kernel keeps the groups sorted.
    assert_eq!(status_field(&status, "Groups"), "2345 3000 3001");
    // `id` (coreutils or busybox) agrees.
    assert_eq!(
        sh_with("id -u; id -g; id -G", attrs),
        "1234\n2345\n2345 3000 3001\n"
    );

    let none = Attributes::new().groups(&[]);
    assert_eq!(status_field(&status_with(none), "Groups"), "");
    // Ours are untouched.
    assert_eq!(process::getuid(), 0);
}

#[test]
fn ids_of_u32_max_are_refused_before_any_clone() {
    // The kernel reads -1 as "unchanged": such a child would keep our ids and the spawn would
    // report success. std refuses them with EINVAL (setuid(-1)), and so does vspawn, before any
    // child exists (the program exists: a clone would succeed).
    let max = u32::MAX;
    for (what, attrs) in [
        ("uid", Attributes::new().uid(max)),
        ("gid", Attributes::new().gid(max)),
        ("groups", Attributes::new().groups(&[0, max])),
    ] {
        let got = spawn_with(&["true"], &[CHILD_PATH], &[], attrs).map(|c| c.pid());
        assert_eq!(got, Err(Errno::EINVAL), "{what} = u32::MAX");
    }
    assert_eq!(Command::new("true").uid(max).status(), Err(Errno::EINVAL));
    assert_eq!(Command::new("true").gid(max).status(), Err(Errno::EINVAL));
    assert_eq!(
        Command::new("true").groups(&[max]).status(),
        Err(Errno::EINVAL)
    );
}

/// Runs `f` on a thread of its own whose supplementary groups are `groups` (a raw `setgroups`
/// changes the calling thread's credentials only; a child inherits its spawning thread's).
fn on_a_thread_with_groups<T: Send + 'static>(
    groups: &'static [u32],
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        process::set_thread_groups(groups).expect("setgroups on this thread");
        f()
    })
    .join()
    .unwrap()
}

#[test]
fn a_uid_without_groups_drops_the_supplementary_groups_as_std_does() {
    if process::geteuid() != 0 {
        skip!("not root (euid {}): cannot change ids", process::geteuid());
    }
    let groups_of = |attrs: Attributes<'static>| {
        on_a_thread_with_groups(&[0, 6, 27], move || {
            let status = status_with(attrs);
            status_field(&status, "Groups").to_string()
        })
    };
    let nobody = Attributes::new().uid(65534).gid(65534);
    // Before the fix the child kept "0 6 27": root's groups under uid 65534.
    assert_eq!(groups_of(nobody), "");
    assert_eq!(groups_of(Attributes::new().uid(65534)), "");
    // std drops them only with a uid: a gid alone keeps them.
    assert_eq!(groups_of(Attributes::new().gid(65534)), "0 6 27");
    // Groups given are the groups.
    assert_eq!(groups_of(nobody.groups(&[5])), "5");
    // std agrees, from a thread in the same state.
    let std_groups = on_a_thread_with_groups(&[0, 6, 27], || {
        use std::os::unix::process::CommandExt;
        let out = std::process::Command::new("cat")
            .arg("/proc/self/status")
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        status_field(&String::from_utf8(out.stdout).unwrap(), "Groups").to_string()
    });
    assert_eq!(std_groups, "");
}

#[test]
fn a_caller_that_cannot_drop_its_groups_keeps_them_as_with_std() {
    if process::geteuid() != 0 {
        skip!("not root (euid {}): cannot change ids", process::geteuid());
    }
    // A thread running as 65534 (saved uid 0, to come back) has no CAP_SETGID: the child's
    // setgroups(0) fails with EPERM, which std ignores, and so does vspawn.
    let seen = on_a_thread_with_groups(&[0, 6, 27], || {
        process::set_thread_res_uid(65534, 65534, 0).unwrap();
        let ours = spawn_capture(
            &["cat", "/proc/self/status"],
            &[],
            Attributes::new().uid(65534),
        );
        let std = {
            use std::os::unix::process::CommandExt;
            std::process::Command::new("cat")
                .arg("/proc/self/status")
                .uid(65534)
                .output()
        };
        process::set_thread_res_uid(0, 0, 0).unwrap();
        let ours = ours.expect("spawn as 65534");
        let std = std.expect("std spawn as 65534");
        let fields =
            |status: &str| ["Uid", "Groups"].map(|key| status_field(status, key).to_string());
        (
            ours.status.code(),
            fields(&ours.stdout),
            fields(&String::from_utf8(std.stdout).unwrap()),
        )
    });
    let expected = [
        "65534\t65534\t65534\t65534".to_string(),
        "0 6 27".to_string(),
    ];
    assert_eq!(seen, (Some(0), expected.clone(), expected));
}

#[test]
fn limits_are_set_before_the_ids_so_a_hard_limit_can_be_raised_for_the_child() {
    if process::geteuid() != 0 {
        skip!("not root (euid {}): cannot change ids", process::geteuid());
    }
    // Raising RLIMIT_NICE's hard limit needs CAP_SYS_RESOURCE, which the id change takes away;
    // before the fix the child failed with EPERM.
    const CAP_SYS_RESOURCE: u32 = 24;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let caps = u64::from_str_radix(status_field(&status, "CapEff"), 16).unwrap();
    if caps & (1 << CAP_SYS_RESOURCE) == 0 {
        skip!("root without CAP_SYS_RESOURCE here (a container?): checked in the VM");
    }
    let ours = process::prlimit(0, RLIMIT_NICE, None).unwrap();
    if ours.max >= 40 {
        skip!(
            "RLIMIT_NICE's hard limit is already {}: nothing to raise",
            ours.max
        );
    }
    let raised = [(
        RLIMIT_NICE,
        Rlimit {
            cur: ours.cur,
            max: ours.max + 1,
        },
    )];
    let attrs = Attributes::new().uid(65534).gid(65534).rlimits(&raised);
    let out = spawn_capture(&["cat", "/proc/self/limits"], &[], attrs).expect("spawn");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Max nice priority"))
        .unwrap();
    let values: Vec<&str> = line["Max nice priority".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(
        values[..2],
        [ours.cur.to_string(), (ours.max + 1).to_string()]
    );
    // Ours are untouched.
    assert_eq!(process::prlimit(0, RLIMIT_NICE, None).unwrap(), ours);
}

/// Spawns `sleep 10` from a thread that then ends; returns the child's pid.
fn spawn_sleep_from_a_thread_that_ends(attrs: Attributes<'static>) -> Pid {
    std::thread::spawn(move || {
        let child = spawn_with(&["sleep", "10"], &[CHILD_PATH], &[], attrs).unwrap();
        child.pid()
    })
    .join()
    .unwrap()
}

#[test]
fn parent_death_signal_arrives_when_the_spawning_thread_ends() {
    let pid =
        spawn_sleep_from_a_thread_that_ends(Attributes::new().parent_death_signal(Signal::SIGUSR2));
    assert_eq!(
        common::wait_child(pid).signal(),
        Some(Signal::SIGUSR2.raw())
    );

    // Without it the child outlives the thread.
    let pid = spawn_sleep_from_a_thread_that_ends(Attributes::default());
    common::sleep_ms(200);
    let (got, _) = wait::wait4(pid, WNOHANG, None).unwrap();
    assert_eq!(got, 0, "the child died with the thread");
    process::kill(pid, Some(Signal::SIGKILL)).unwrap();
    assert_eq!(common::wait_child(pid).signal(), Some(9));
}

#[test]
fn parent_death_signal_survives_an_id_change() {
    if process::geteuid() != 0 {
        skip!("not root (euid {}): cannot change ids", process::geteuid());
    }
    // Changing the ids clears the parent death signal; the spawn sets it after them.
    let pid = spawn_sleep_from_a_thread_that_ends(
        Attributes::new()
            .uid(1234)
            .gid(1234)
            .parent_death_signal(Signal::SIGTERM),
    );
    assert_eq!(
        common::wait_child(pid).signal(),
        Some(Signal::SIGTERM.raw())
    );
}

/// A pseudo-terminal: the master fd and the slave's path.
fn open_pty() -> Option<(fd::OwnedFd, std::ffi::CString)> {
    // SAFETY: plain libc calls on an fd we own; ptsname_r writes into our buffer.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if master < 0 {
            return None;
        }
        let master = fd::OwnedFd::from_raw_fd(master);
        if libc::grantpt(master.as_raw_fd()) != 0 || libc::unlockpt(master.as_raw_fd()) != 0 {
            return None;
        }
        let mut name = [0 as libc::c_char; 64];
        if libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) != 0 {
            return None;
        }
        let path = std::ffi::CStr::from_ptr(name.as_ptr()).to_owned();
        std::path::Path::new(std::str::from_utf8(path.as_bytes()).ok()?)
            .exists()
            .then_some((master, path))
    }
}

const TIOCSCTTY: usize = 0x540E;

#[test]
fn foreground_makes_the_childs_group_the_terminals_foreground_group() {
    let Some((_master, slave)) = open_pty() else {
        skip!("no pseudo-terminal here (/dev/ptmx with devpts): tcsetpgrp needs one");
    };
    // A forked helper becomes a session leader with the pty as its controlling terminal and
    // spawns `cat /proc/self/stat` twice into a new group: without, then with `foreground`.
    // Everything it uses is prepared here: it may not allocate.
    let (out_r, out_w) = fd::pipe2(OFlags::empty()).unwrap();
    let mut arg_slots = [std::ptr::null(); 3];
    let argv = CStrArray::new(&[c"cat", c"/proc/self/stat"], &mut arg_slots).unwrap();
    let actions = [FileAction::Dup2 {
        src: out_w.as_raw_fd(),
        dst: 1,
    }];
    let helper = common::fork_child(|| {
        if process::setsid().is_err() {
            return 101;
        }
        let Ok(tty) = fd::openat_inheritable(fd::AT_FDCWD, &slave, O_RDWR, Mode::empty()) else {
            return 102;
        };
        let tty = tty.as_raw_fd();
        // SAFETY: TIOCSCTTY takes an int argument, no pointer.
        if unsafe { vspawn::sys::syscall!(IOCTL, tty, TIOCSCTTY, 0usize) } != 0 {
            return 103;
        }
        for foreground in [None, Some(tty)] {
            let mut attrs = Attributes::new().process_group(0);
            attrs.foreground = foreground;
            let spawned = Spawn::new(Program::Path(c"/bin/cat"), argv, CStrArray::empty())
                .actions(&actions)
                .attrs(attrs)
                .spawn();
            let Ok(mut child) = spawned else {
                return 104;
            };
            if child.wait().map(|s| s.code()) != Ok(Some(0)) {
                return 105;
            }
        }
        0
    });
    drop(out_w);
    let out = String::from_utf8(common::read_to_end(out_r.as_raw_fd())).unwrap();
    assert_eq!(common::wait_child(helper).code(), Some(0), "helper failed");
    let stats: Vec<Stat> = out.lines().map(parse_stat).collect();
    assert_eq!(stats.len(), 2, "{out}");
    for stat in &stats {
        assert_eq!(stat.pgrp, stat.pid);
        assert_eq!(stat.session, helper);
        assert_eq!(stat.ppid, helper);
    }
    // Without `foreground` the helper's group keeps the terminal; with it the child's has it.
    assert_eq!(stats[0].tpgid, helper);
    assert_eq!(stats[1].tpgid, stats[1].pid);
}

/// A cgroup2 mount: (mount point, its root inside the hierarchy).
fn cgroup2_mount() -> Option<(String, String)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        Some((fields[4].to_string(), fields[3].to_string()))
    })
}

#[test]
fn cgroup_starts_the_child_in_that_cgroup() {
    if process::geteuid() != 0 {
        skip!("not root: cannot create a cgroup");
    }
    let Some((mount, root)) = cgroup2_mount() else {
        skip!("no cgroup2 hierarchy mounted");
    };
    let name = format!("vspawn-test-{}", process::getpid());
    let dir = std::path::Path::new(&mount).join(&name);
    let _ = std::fs::create_dir(&dir);
    let dir_c = common::cstring(&dir);
    let cgroup = fd::openat(fd::AT_FDCWD, &dir_c, O_DIRECTORY | O_RDONLY, Mode::empty()).unwrap();
    let attrs = Attributes::new().cgroup(cgroup.as_raw_fd());
    let result = spawn_capture(&["cat", "/proc/self/cgroup"], &[], attrs);
    let _ = std::fs::remove_dir(&dir);
    if common::emulator().is_some() {
        // qemu-user has no clone3: the feature is refused, never silently dropped.
        assert_eq!(result.unwrap_err(), Errno::EOPNOTSUPP);
        return;
    }
    let out = result.unwrap();
    let expected = format!("0::{}/{name}", root.trim_end_matches('/'));
    assert!(
        out.stdout.lines().any(|l| l == expected),
        "no {expected:?} in:\n{}",
        out.stdout
    );
}

fn pidfd_spawn(argv: &[&str]) -> vspawn::spawn::Child {
    let attrs = Attributes::new().pidfd(true);
    spawn_with(argv, &[CHILD_PATH], &[], attrs).unwrap()
}

#[test]
fn pidfd_waits_with_p_pidfd_for_the_exact_status() {
    let child = pidfd_spawn(&["sh", "-c", "exit 7"]);
    let pidfd = child.pidfd().expect("a pidfd was asked for");
    assert_eq!(fd::get_fd_flags(pidfd.as_raw_fd()), Ok(FD_CLOEXEC));
    let info = wait::waitid(WaitId::PidFd(pidfd), WEXITED, None).unwrap();
    assert_eq!(info.pid(), child.pid());
    assert_eq!(info.code, cld::CLD_EXITED);
    assert_eq!(info.status(), 7);
    // Without it there is none.
    let mut plain = spawn_with(&["/bin/true"], &[], &[], Attributes::default()).unwrap();
    assert!(plain.pidfd().is_none());
    assert_eq!(plain.wait().unwrap().code(), Some(0));
}

#[test]
fn kill_through_the_pidfd_is_seen_by_waitid() {
    let mut child = pidfd_spawn(&["sleep", "10"]);
    child.kill().unwrap();
    let pidfd = child.take_pidfd().unwrap();
    let info = wait::waitid(WaitId::PidFd(&pidfd), WEXITED, None).unwrap();
    assert_eq!(info.code, cld::CLD_KILLED);
    assert_eq!(info.status(), 9);
}

#[test]
fn wait_try_wait_and_kill_give_exact_statuses() {
    let mut child =
        spawn_with(&["sleep", "10"], &[CHILD_PATH], &[], Attributes::default()).unwrap();
    assert_eq!(child.id(), child.pid() as u32);
    assert_eq!(child.try_wait(), Ok(None));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!((status.code(), status.signal()), (None, Some(9)));
    assert!(!status.success());
    // Waiting again gives the same; signalling a reaped child sends nothing and succeeds.
    assert_eq!(child.wait(), Ok(status));
    assert_eq!(child.try_wait(), Ok(Some(status)));
    assert_eq!(child.kill(), Ok(()));
    assert_eq!(child.signal(Signal::SIGTERM), Ok(()));

    for code in [0, 1, 42, 255] {
        let mut child = spawn_with(
            &["sh", "-c", &format!("exit {code}")],
            &[CHILD_PATH],
            &[],
            Attributes::default(),
        )
        .unwrap();
        let status = child.wait().unwrap();
        assert_eq!((status.code(), status.signal()), (Some(code), None));
        assert_eq!(status.success(), code == 0);
    }

    let mut child = spawn_with(
        &["sh", "-c", "kill -TERM $$"],
        &[CHILD_PATH],
        &[],
        Attributes::default(),
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!((status.code(), status.signal()), (None, Some(15)));

    // try_wait reaps a child that has ended.
    let mut child = spawn_with(&["/bin/true"], &[], &[], Attributes::default()).unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        common::sleep_ms(1);
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        wait::wait4(child.pid(), WNOHANG, None).unwrap_err(),
        Errno::ECHILD
    );
}

#[test]
fn exit_status_displays_as_std_does() {
    // Real statuses, then every kind of raw wait status.
    let mut raws = Vec::new();
    for script in ["exit 0", "exit 3", "kill -KILL $$", "kill -TERM $$"] {
        let mut child = spawn_with(
            &["sh", "-c", script],
            &[CHILD_PATH],
            &[],
            Attributes::default(),
        )
        .unwrap();
        raws.push(child.wait().unwrap().into_raw());
    }
    assert_eq!(raws, [0, 3 << 8, 9, 15]);
    raws.extend([0x86, 0x8b, 0x137f, 0x137f | (20 << 8), 0xffff, 64, 0xff00]);
    for raw in raws {
        let ours = ExitStatus::from_raw(raw).to_string();
        let std = std::process::ExitStatus::from_raw(raw).to_string();
        assert_eq!(ours, std, "raw status {raw:#x}");
    }
    assert_eq!(ExitStatus::from_raw(3 << 8).to_string(), "exit status: 3");
    assert_eq!(ExitStatus::from_raw(9).to_string(), "signal: 9 (SIGKILL)");
    assert_eq!(
        ExitStatus::from_raw(0x86).to_string(),
        "signal: 6 (SIGABRT) (core dumped)"
    );
}

#[test]
fn command_sets_the_same_attributes() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask; ulimit -n; cat /proc/self/stat"])
        .stdout(vspawn::spawn::Stdio::piped())
        .umask(Mode::from_bits_retain(0o077))
        .rlimit(RLIMIT_NOFILE, Rlimit { cur: 64, max: 64 })
        .process_group(0);
    let mut child = cmd.spawn().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(u32::from_str_radix(lines[0], 8), Ok(0o077));
    assert_eq!(lines[1], "64");
    // `cat` is the shell's child or, exec'd as the last command, the shell itself: either way
    // in the group the spawned child leads.
    assert_eq!(parse_stat(lines[2]).pgrp, child.pid());
}
