//! `/init` of the test VM (`scripts/vm/run`): a libc-free PID 1 on vspawn's own entry.
//!
//! It does what the shell fallback `scripts/vm/init.sh` does, and keeps the console protocol
//! written at the top of that file, which `scripts/vm/console.awk` reads:
//!
//! 1. mounts proc, sysfs, a tmpfs on `/tmp` and devtmpfs on `/dev`, and moves to `/tmp`;
//! 2. builds the tests' environment: its own (the kernel's `HOME`, `TERM` and the unknown
//!    `name=value` parameters of the kernel command line, such as `VSPAWN_VM=aarch64`) without
//!    `PATH` and `VSPAWN_EMULATOR`, then `PATH=/bin:/sbin:/usr/bin:/usr/sbin`, and
//!    `VSPAWN_VM=<machine>` if the command line did not give it;
//! 3. runs every executable `/tests/NAME`, in name order, as
//!    `/tests/NAME --test-threads=2 ARGS...` (ARGS: its own arguments, which the kernel takes
//!    from after `--` on its command line) through `vspawn::spawn::Spawn`, with `/dev/null` as
//!    stdin and the console as stdout and stderr, between the markers
//!    `@@vspawn-vm run NAME` and `@@vspawn-vm exit NAME STATUS` (STATUS as a shell reports it);
//! 4. reaps every process that ends up with it meanwhile (as PID 1 it inherits every orphan of
//!    the tests), and kills and reaps whatever the tests left running once they are done;
//! 5. then, if the initramfs holds `/sbin/vinit` and `/pid1/vinit_scenarios`, prints
//!    `@@vspawn-vm run vinit-pid1` and `execve`s `/sbin/vinit -- /pid1/vinit_scenarios ARGS...`:
//!    exec keeps PID 1, so vinit runs as the real init of the guest, and when it exits the kernel
//!    panics with `Attempted to kill init! exitcode=0x...`, which the host checks against the
//!    status the scenarios were asked to end with (`examples/vinit_scenarios.rs`);
//! 6. otherwise prints `@@vspawn-vm done`, syncs and powers the VM off.
//!
//! Only useful as PID 1 of a throwaway VM: it mounts file systems and powers the machine off.

#![no_std]
#![no_main]

use core::ffi::{CStr, c_char};
use core::fmt::{self, Write};

use vspawn::Errno;
use vspawn::entry::Start;
use vspawn::exec::execve;
use vspawn::fd::{self, AT_FDCWD, oflags};
use vspawn::process::{self, Pid};
use vspawn::signal::Signal;
use vspawn::spawn::{CStrArray, ExitStatus, FileAction, Program, Spawn};
use vspawn::wait::{self, wflags};

vspawn::entry!(main);
vspawn::panic_handler!();

/// The directory of test binaries.
const TESTS_DIR: &str = "/tests/";
/// The init that takes over PID 1 after the tests, and the scenario program it runs.
const VINIT: &CStr = c"/sbin/vinit";
const PID1_SCENARIOS: &CStr = c"/pid1/vinit_scenarios";
/// The name the PID-1 run gets in the markers.
const PID1_RUN_NAME: &str = "vinit-pid1";
/// The tests' `PATH` (busybox's applets live in these four).
const PATH: &CStr = c"PATH=/bin:/sbin:/usr/bin:/usr/sbin";

/// Room for the environment and argument lists (entries, the terminating null excluded).
const MAX_LIST: usize = 64;
/// Room for the test paths: how many, and their bytes in all.
const MAX_TESTS: usize = 128;
const TEST_PATH_BYTES: usize = 8192;

fn main(start: Start) -> i32 {
    mount_file_systems();
    if let Err(e) = fd::chdir(c"/tmp") {
        console(format_args!("vm_init: cannot enter /tmp: {e}\n"));
        let _ = fd::chdir(c"/");
    }

    // The environment (see the module documentation).
    let mut machine = [0u8; 65 + 10];
    let mut env = List::new();
    env.push(PATH);
    for entry in start.env() {
        let bytes = entry.to_bytes();
        if !(bytes.starts_with(b"PATH=") || bytes.starts_with(b"VSPAWN_EMULATOR=")) {
            env.push(entry);
        }
    }
    if start.getenv("VSPAWN_VM").is_none() {
        env.push(vm_variable(&mut machine));
    }
    // The vinit tests run the guest's own vinit (they cannot build one: there is no cargo here).
    env.push(c"VSPAWN_VINIT=/sbin/vinit");
    let mut env_slots = [core::ptr::null(); MAX_LIST + 1];
    let envp = env.array(&mut env_slots);

    // Each test's arguments: its path (set per test), `--test-threads=2`, then our own.
    let mut args = List::new();
    args.push(c"");
    args.push(c"--test-threads=2");
    start.args().skip(1).for_each(|arg| args.push(arg));

    let mut tests = TestList::new();
    tests.read(TESTS_DIR);
    for index in 0..tests.count {
        let path = tests.path(index);
        args.items[0] = path;
        let mut arg_slots = [core::ptr::null(); MAX_LIST + 1];
        let argv = args.array(&mut arg_slots);
        let name = &path.to_bytes()[TESTS_DIR.len()..];
        let name = core::str::from_utf8(name).unwrap_or("(not UTF-8)");
        console(format_args!("@@vspawn-vm run {name}\n"));
        let status = run_test(path, argv, envp);
        console(format_args!("@@vspawn-vm exit {name} {status}\n"));
    }
    clean_up_leftovers();

    if executable(VINIT) && executable(PID1_SCENARIOS) {
        // vinit's own PID-1 run: `vinit -- /pid1/vinit_scenarios ARGS...`, in place of this
        // program (exec keeps the pid).
        let mut vinit_args = List::new();
        vinit_args.push(VINIT);
        vinit_args.push(c"--");
        vinit_args.push(PID1_SCENARIOS);
        start.args().skip(1).for_each(|arg| vinit_args.push(arg));
        let mut slots = [core::ptr::null(); MAX_LIST + 1];
        let argv = vinit_args.array(&mut slots);
        console(format_args!("@@vspawn-vm run {PID1_RUN_NAME}\n"));
        // SAFETY: both arrays are null-terminated arrays of valid strings that outlive the call.
        let error = unsafe { execve(VINIT, argv.as_ptr(), envp.as_ptr()) };
        // The run now lacks vinit's exit: the host reports it as stopped while running it.
        console(format_args!("vm_init: cannot execute {VINIT:?}: {error}\n"));
    } else {
        console(format_args!("@@vspawn-vm done\n"));
    }
    power_off()
}

/// Mounts what the tests may expect of a Linux system (as init.sh does). devtmpfs brings the
/// full `/dev` (the initramfs only has `console` and `null`); the console stays open across it.
fn mount_file_systems() {
    let mounts: [(&CStr, &CStr, &CStr, &CStr); 6] = [
        (c"proc", c"/proc", c"proc", c""),
        (c"sysfs", c"/sys", c"sysfs", c""),
        (c"tmpfs", c"/tmp", c"tmpfs", c"mode=1777"),
        (c"devtmpfs", c"/dev", c"devtmpfs", c""),
        // Pseudo-terminals (`/dev/ptmx` opens this instance) and the cgroup tree, for the tests
        // of terminal foregrounds and of CLONE_INTO_CGROUP.
        (c"devpts", c"/dev/pts", c"devpts", c"mode=620,ptmxmode=666"),
        (c"cgroup2", c"/sys/fs/cgroup", c"cgroup2", c""),
    ];
    for (source, target, fstype, data) in mounts {
        // The initramfs has these directories; made here in case another one does not.
        // SAFETY: mkdirat reads one NUL-terminated path.
        let _ = unsafe { vspawn::sys::syscall!(MKDIRAT, AT_FDCWD, target.as_ptr(), 0o755) };
        let data = if data.is_empty() {
            core::ptr::null()
        } else {
            data.as_ptr()
        };
        // SAFETY: mount reads NUL-terminated strings (and `data`, null or one string).
        let ret = unsafe {
            vspawn::sys::syscall!(
                MOUNT,
                source.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                0,
                data
            )
        };
        if let Err(e) = Errno::result(ret) {
            console(format_args!(
                "vm_init: cannot mount {fstype:?} on {target:?}: {e}\n"
            ));
        }
    }
}

/// `VSPAWN_VM=<machine>` (uname's machine, e.g. `aarch64`), written into `buf`.
fn vm_variable(buf: &mut [u8; 75]) -> &CStr {
    // struct utsname: six fields of 65 bytes; machine is the fifth.
    let mut uts = [0u8; 6 * 65];
    // SAFETY: the kernel writes one struct utsname (390 bytes) into `uts`.
    let ret = unsafe { vspawn::sys::syscall!(UNAME, uts.as_mut_ptr()) };
    let machine = match Errno::result(ret) {
        Ok(_) => &uts[4 * 65..5 * 65],
        Err(_) => &[][..],
    };
    let machine = &machine[..machine
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(machine.len())];
    let prefix = b"VSPAWN_VM=";
    buf[..prefix.len()].copy_from_slice(prefix);
    let end = prefix.len() + machine.len().min(64);
    buf[prefix.len()..end].copy_from_slice(&machine[..end - prefix.len()]);
    buf[end] = 0;
    CStr::from_bytes_until_nul(&buf[..]).unwrap_or(c"VSPAWN_VM=")
}

/// Runs one test binary to its end and returns its status as a shell reports it (the exit code,
/// or 128 + the signal that killed it; 127 if it could not be found, 126 if it could not be
/// executed). Every other process that ends meanwhile is reaped too.
fn run_test(path: &CStr, argv: CStrArray<'_>, envp: CStrArray<'_>) -> i32 {
    let stdin = [FileAction::Open {
        fd: 0,
        path: c"/dev/null",
        flags: oflags::O_RDONLY,
        mode: vspawn::fd::Mode::empty(),
    }];
    let spawned = Spawn::new(Program::Path(path), argv, envp)
        .actions(&stdin)
        .spawn();
    match spawned {
        Ok(child) => reap_until(child.pid()),
        Err(e) => {
            console(format_args!("vm_init: cannot run {path:?}: {e}\n"));
            if e == Errno::ENOENT { 127 } else { 126 }
        }
    }
}

/// Reaps children (ours and the orphans we inherit) until `pid` has ended; returns its status
/// as a shell reports it.
fn reap_until(pid: Pid) -> i32 {
    loop {
        match wait::wait4(-1, vspawn::wait::WaitOptions::empty(), None) {
            Ok((reaped, status)) if reaped == pid => return shell_status(status),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                console(format_args!("vm_init: waiting for pid {pid} failed: {e}\n"));
                return 255;
            }
        }
    }
}

/// The exit code, or 128 + the signal.
fn shell_status(status: ExitStatus) -> i32 {
    status
        .code()
        .or(status.signal().map(|signal| 128 + signal))
        .unwrap_or(255)
}

/// Kills whatever the tests left running (`kill(-1)` spares PID 1 itself) and reaps everything,
/// so that the PID-1 run, or the power-off, starts from a clean slate.
fn clean_up_leftovers() {
    let killed = process::kill(-1, Some(Signal::SIGKILL)).is_ok();
    let mut reaped = 0;
    loop {
        match wait::wait4(-1, wflags::WALL, None) {
            Ok(_) => reaped += 1,
            Err(Errno::EINTR) => {}
            Err(_) => break, // ECHILD: nothing left.
        }
    }
    if killed || reaped > 0 {
        console(format_args!(
            "vm_init: {reaped} leftover process(es) of the tests killed and reaped\n"
        ));
    }
}

/// Whether `path` names something we may execute (the shell's `[ -x PATH ]`).
fn executable(path: &CStr) -> bool {
    const X_OK: usize = 1;
    // SAFETY: faccessat reads one NUL-terminated path.
    let ret = unsafe { vspawn::sys::syscall!(FACCESSAT, AT_FDCWD, path.as_ptr(), X_OK, 0) };
    Errno::result(ret).is_ok()
}

/// Syncs and powers the machine off; if that fails, returns (from `main`): PID 1 then exits and
/// the kernel panics, which also stops the VM (`panic=-1`, `-no-reboot`).
fn power_off() -> i32 {
    const MAGIC1: usize = 0xfee1_dead;
    const MAGIC2: usize = 0x2812_1969;
    const CMD_POWER_OFF: usize = 0x4321_fedc;
    // SAFETY: sync takes no arguments; reboot with the power-off command takes no pointer.
    let ret = unsafe {
        vspawn::sys::syscall!(SYNC);
        vspawn::sys::syscall!(REBOOT, MAGIC1, MAGIC2, CMD_POWER_OFF, 0)
    };
    if let Err(e) = Errno::result(ret) {
        console(format_args!("vm_init: cannot power off: {e}\n"));
    }
    1
}

/// A fixed-capacity list of C strings, made into a `CStrArray` without allocating. Entries past
/// its capacity are dropped with a message.
struct List<'a> {
    items: [&'a CStr; MAX_LIST],
    len: usize,
}

impl<'a> List<'a> {
    fn new() -> Self {
        List {
            items: [c""; MAX_LIST],
            len: 0,
        }
    }

    fn push(&mut self, item: &'a CStr) {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
            }
            None => console(format_args!(
                "vm_init: too many entries, dropped {item:?}\n"
            )),
        }
    }

    fn array<'s>(&self, slots: &'s mut [*const c_char; MAX_LIST + 1]) -> CStrArray<'s>
    where
        'a: 's,
    {
        // `slots` has room for every entry and the null, so this cannot fail.
        CStrArray::new(&self.items[..self.len], slots).unwrap_or(CStrArray::empty())
    }
}

/// The executable entries of a directory, as full NUL-terminated paths, sorted by name (the
/// order of a shell's `DIR/*`, which also leaves out names starting with a dot).
struct TestList {
    bytes: [u8; TEST_PATH_BYTES],
    used: usize,
    /// `(start, end)` of each path in `bytes`, the NUL included.
    spans: [(usize, usize); MAX_TESTS],
    count: usize,
}

impl TestList {
    fn new() -> Self {
        TestList {
            bytes: [0; TEST_PATH_BYTES],
            used: 0,
            spans: [(0, 0); MAX_TESTS],
            count: 0,
        }
    }

    fn path(&self, index: usize) -> &CStr {
        let (start, end) = self.spans[index];
        CStr::from_bytes_with_nul(&self.bytes[start..end]).unwrap_or(c"")
    }

    /// Lists `dir` (ending with `/`), keeping the executable entries, and sorts them.
    fn read(&mut self, dir: &str) {
        let mut dir_z = [0u8; 64];
        dir_z[..dir.len()].copy_from_slice(dir.as_bytes());
        let dir_c = CStr::from_bytes_until_nul(&dir_z).unwrap_or(c"/");
        let flags = oflags::O_RDONLY | oflags::O_DIRECTORY | oflags::O_CLOEXEC;
        let dir_fd = match fd::openat(AT_FDCWD, dir_c, flags, vspawn::fd::Mode::empty()) {
            Ok(dir_fd) => dir_fd,
            Err(e) => {
                console(format_args!("vm_init: cannot open {dir}: {e}\n"));
                return;
            }
        };
        let mut buf = [0u8; 4096];
        loop {
            let filled = match fd::getdents64(dir_fd.as_raw_fd(), &mut buf) {
                Ok(0) => break,
                Ok(filled) => filled,
                Err(e) => {
                    console(format_args!("vm_init: cannot read {dir}: {e}\n"));
                    break;
                }
            };
            // Records: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-ended).
            let mut at = 0;
            while at + 19 < filled {
                let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let name = &buf[at + 19..(at + reclen).min(filled)];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if !name.starts_with(b".") {
                    self.add(dir.as_bytes(), name);
                }
                at += reclen.max(1);
            }
        }
        self.sort();
    }

    /// Adds `dir` + `name` if it is executable.
    fn add(&mut self, dir: &[u8], name: &[u8]) {
        let start = self.used;
        let end = start + dir.len() + name.len() + 1;
        if end > self.bytes.len() || self.count == MAX_TESTS {
            console(format_args!("vm_init: too many tests, some left out\n"));
            return;
        }
        self.bytes[start..start + dir.len()].copy_from_slice(dir);
        self.bytes[start + dir.len()..end - 1].copy_from_slice(name);
        self.bytes[end - 1] = 0;
        self.spans[self.count] = (start, end);
        if executable(self.path(self.count)) {
            self.used = end;
            self.count += 1;
        }
    }

    /// Insertion sort by path bytes (C collation).
    fn sort(&mut self) {
        for i in 1..self.count {
            let mut j = i;
            while j > 0 && self.key(j - 1) > self.key(j) {
                self.spans.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    fn key(&self, index: usize) -> &[u8] {
        let (start, end) = self.spans[index];
        &self.bytes[start..end]
    }
}

/// Writes one formatted message to the console (standard output) in a single `write` when it
/// fits in 512 bytes, so that a marker line is never split by another process's output.
fn console(message: fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; 512],
        len: 0,
    };
    let _ = line.write_fmt(message);
    let _ = fd::write_all(1, &line.buf[..line.len]);
}

/// A line being formatted; what does not fit is written out as it comes.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if self.len + bytes.len() > self.buf.len() {
            let _ = fd::write_all(1, &self.buf[..self.len]);
            self.len = 0;
            if bytes.len() > self.buf.len() {
                return fd::write_all(1, bytes).map_err(|_| fmt::Error);
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}
