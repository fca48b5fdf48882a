//! Namespaces of a spawned child: a user namespace with id maps written by the parent while the
//! child waits, a pid namespace where the child is pid 1, and the other `CLONE_NEW*` flags, each
//! seen from the child (`id`, `/proc/self/uid_map`, `$$`, `/proc/self/ns/*`, `hostname`,
//! `/proc/net/dev`).
//!
//! qemu-user refuses every `CLONE_NEW*` flag (EINVAL, see the README): there the tests check that
//! exact error and skip visibly; they run natively and in the VM. Failed spawns must leave no
//! child and no fd, so the tests take `serial()`.

#[macro_use]
mod common;

use common::{CHILD_PATH, assert_no_children, open_fds, serial, spawn_capture, spawn_with};
use vspawn::Errno;
use vspawn::process;
use vspawn::signal::Signal;
use vspawn::spawn::Namespaces;
use vspawn::spawn::{Attributes, Command, IdMaps};

/// Under qemu-user: checks that `attrs` is refused with EINVAL, leaving nothing behind, and
/// returns true (the caller then skips).
fn refused_by_the_emulator(attrs: Attributes<'_>) -> bool {
    if common::emulator().is_none() {
        return false;
    }
    let fds = open_fds();
    let err = spawn_with(&["/bin/true"], &[], &[], attrs).unwrap_err();
    assert_eq!(err, Errno::EINVAL);
    assert_no_children();
    assert_eq!(open_fds(), fds);
    true
}

macro_rules! skip_under_qemu {
    ($attrs:expr) => {
        if refused_by_the_emulator($attrs) {
            skip!(
                "{}: qemu-user refuses CLONE_NEW* flags (EINVAL, checked); run natively and in the VM",
                common::emulator().unwrap()
            );
        }
    };
}

fn sh(script: &str, attrs: Attributes<'_>) -> String {
    let out = spawn_capture(&["sh", "-c", script], &[], attrs).expect("spawn sh");
    assert_eq!(
        out.status.code(),
        Some(0),
        "sh -c {script:?}: {}",
        out.stdout
    );
    out.stdout
}

/// The numbers of an id map file, line by line.
fn map_numbers(text: &str) -> Vec<Vec<u64>> {
    text.lines()
        .map(|l| l.split_whitespace().map(|n| n.parse().unwrap()).collect())
        .collect()
}

#[test]
fn user_namespace_with_id_maps_makes_us_root_inside() {
    let _serial = serial();
    let uid_map = format!("0 {} 1\n", process::getuid());
    let gid_map = format!("0 {} 1\n", process::getgid());
    let attrs = Attributes::new()
        .namespaces(Namespaces::USER)
        .id_maps(IdMaps {
            uid_map: uid_map.as_bytes(),
            gid_map: gid_map.as_bytes(),
            deny_setgroups: true,
        });
    skip_under_qemu!(attrs);
    let out = sh(
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups",
        attrs,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["0", "0"]);
    let maps = map_numbers(&lines[2..4].join("\n"));
    let (uid, gid) = (u64::from(process::getuid()), u64::from(process::getgid()));
    assert_eq!(maps, [vec![0, uid, 1], vec![0, gid, 1]]);
    assert_eq!(lines[4], "deny");
    assert_no_children();
}

#[test]
fn user_namespace_maps_another_inside_id() {
    let _serial = serial();
    let uid_map = format!("1234 {} 1\n", process::getuid());
    let attrs = Attributes::new()
        .namespaces(Namespaces::USER)
        .id_maps(IdMaps {
            uid_map: uid_map.as_bytes(),
            ..IdMaps::default()
        });
    skip_under_qemu!(attrs);
    // No gid map: the group is the overflow gid.
    assert_eq!(sh("id -u; id -g", attrs), "1234\n65534\n");
    // Through Command as well.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "id -u; cat /proc/self/uid_map"])
        .namespaces(Namespaces::USER)
        .id_maps(uid_map.as_bytes(), b"", false);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    assert_eq!(first, "1234");
    assert_eq!(
        map_numbers(rest),
        [vec![1234, u64::from(process::getuid()), 1]]
    );
}

#[test]
fn user_namespace_without_maps_sees_the_overflow_ids() {
    let _serial = serial();
    let attrs = Attributes::new().namespaces(Namespaces::USER);
    skip_under_qemu!(attrs);
    assert_eq!(
        sh("id -u; id -g; cat /proc/self/uid_map", attrs),
        "65534\n65534\n"
    );
}

/// A new user namespace with this uid map.
fn with_maps(uid_map: &[u8]) -> Attributes<'_> {
    Attributes::new()
        .namespaces(Namespaces::USER)
        .id_maps(IdMaps {
            uid_map,
            ..IdMaps::default()
        })
}

#[test]
fn user_namespace_spawn_errors_leave_nothing_behind() {
    let _serial = serial();
    let good = format!("0 {} 1\n", process::getuid());
    let good = good.as_bytes();
    skip_under_qemu!(with_maps(good));
    let fds = open_fds();
    // The exec fails in the child, which waited for its maps first.
    let err = spawn_with(&["/nonexistent/x"], &[], &[], with_maps(good)).unwrap_err();
    assert_eq!(err, Errno::ENOENT);
    assert_no_children();
    assert_eq!(open_fds(), fds);
    // The parent's write of a malformed map fails: the waiting child is stopped and reaped.
    let err = spawn_with(&["/bin/true"], &[], &[], with_maps(b"not a map\n")).unwrap_err();
    assert_eq!(err, Errno::EINVAL);
    assert_no_children();
    assert_eq!(open_fds(), fds);
    // Many in a row: each stack of a concurrent child is unmapped again.
    let maps_before = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count();
    for _ in 0..50 {
        let mut child = spawn_with(&["/bin/true"], &[], &[], with_maps(good)).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
    let maps_after = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count();
    assert!(
        maps_after <= maps_before + 2,
        "mappings grew from {maps_before} to {maps_after}: child stacks leak"
    );
    assert_no_children();
}

#[test]
fn pid_namespace_makes_the_child_pid_1() {
    let _serial = serial();
    let attrs = Attributes::new().namespaces(Namespaces::PID);
    skip_under_qemu!(attrs);
    // `$$` is the shell's pid in its own namespace; its parent is outside it (0).
    assert_eq!(sh("echo $$; echo $PPID", attrs), "1\n0\n");
}

#[test]
fn pid_namespace_with_a_parent_death_signal() {
    let _serial = serial();
    // Inside a new pid namespace the parent is invisible (getppid() is 0): that must not pass
    // for "the parent already died".
    let attrs = Attributes::new()
        .namespaces(Namespaces::PID)
        .parent_death_signal(Signal::SIGTERM);
    skip_under_qemu!(attrs);
    assert_eq!(sh("echo $$", attrs), "1\n");
}

/// The child's namespace links, in this order.
const KINDS: [&str; 6] = ["mnt", "uts", "ipc", "net", "cgroup", "pid"];

fn our_namespaces() -> Vec<String> {
    KINDS
        .iter()
        .map(|k| {
            let link = std::fs::read_link(format!("/proc/self/ns/{k}")).unwrap();
            link.to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn each_namespace_flag_gives_the_child_exactly_that_new_namespace() {
    let _serial = serial();
    skip_under_qemu!(Attributes::new().namespaces(Namespaces::MOUNT));
    let flags = [
        Namespaces::MOUNT,
        Namespaces::UTS,
        Namespaces::IPC,
        Namespaces::NET,
        Namespaces::CGROUP,
        Namespaces::PID,
    ];
    let ours = our_namespaces();
    let script = format!(
        "for n in {}; do readlink /proc/self/ns/$n; done",
        KINDS.join(" ")
    );
    for (i, flag) in flags.into_iter().enumerate() {
        let attrs = Attributes::new().namespaces(flag);
        let theirs: Vec<String> = sh(&script, attrs).lines().map(String::from).collect();
        assert_eq!(theirs.len(), KINDS.len());
        for (j, kind) in KINDS.iter().enumerate() {
            assert!(theirs[j].starts_with(&format!("{kind}:[")), "{}", theirs[j]);
            if i == j {
                assert_ne!(theirs[j], ours[j], "{kind}: not a new namespace");
            } else {
                assert_eq!(theirs[j], ours[j], "{kind} changed with {flag:?}");
            }
        }
    }
}

#[test]
fn uts_namespace_keeps_a_hostname_change_inside() {
    let _serial = serial();
    let attrs = Attributes::new().namespaces(Namespaces::UTS);
    skip_under_qemu!(attrs);
    let ours = sh("uname -n", Attributes::default());
    let inside = sh("hostname vspawn-uts-test && uname -n", attrs);
    assert_eq!(inside, "vspawn-uts-test\n");
    assert_eq!(sh("uname -n", Attributes::default()), ours);
}

#[test]
fn net_namespace_has_only_loopback() {
    let _serial = serial();
    let attrs = Attributes::new().namespaces(Namespaces::NET);
    skip_under_qemu!(attrs);
    let dev = sh("cat /proc/net/dev", attrs);
    // Two header lines, then one line per interface.
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim())
        .collect();
    assert_eq!(interfaces, ["lo"]);
}

#[test]
fn mount_namespace_through_command() {
    let _serial = serial();
    skip_under_qemu!(Attributes::new().namespaces(Namespaces::MOUNT));
    let ours = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let out = Command::new("readlink")
        .arg("/proc/self/ns/mnt")
        .env_clear()
        .env("PATH", &CHILD_PATH[5..])
        .namespaces(Namespaces::MOUNT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert!(theirs.starts_with("mnt:["));
    assert_ne!(theirs.trim_end(), ours.to_string_lossy());
}
