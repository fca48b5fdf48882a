//! The core `Spawn` allocates nothing: neither in the parent nor in the child between the clone
//! and the exec.
//!
//! A counting global allocator counts, per thread, the allocations of threads that have
//! switched counting on (thread-local cells). Where vfork shares memory (natively, in the VM)
//! the spawn's child runs on the spawning thread's stack with its thread pointer, so it sees the flag
//! set and any allocation it made would land in the same counter: a count of exactly 0 across
//! `spawn()` covers both sides. Under qemu-user the child is a fork and its counter a copy: only the
//! parent's side is seen there.
//!
//! `Command` allocates in the parent by design (owned strings, the argv and envp arrays), so an
//! allocation count around `Command::spawn` cannot isolate its child; its child runs the same
//! code as the core's (`Command` builds a `Spawn`), which is what is counted here.

#[macro_use]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use vspawn::Errno;
use vspawn::clone::{clone, flags::*};
use vspawn::fd::Mode;
use vspawn::fd::OFlags;
use vspawn::fd::{self, oflags::*};
use vspawn::process::{Rlimit, rlimit::RLIMIT_NOFILE};
use vspawn::signal::{SigSet, Signal};
use vspawn::spawn::{Attributes, CStrArray, FileAction, Program, Spawn};
use vspawn::wait::WaitOptions;

struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted, and how many there were (const
    /// initializers and no destructors: safe to use inside the allocator). A vfork child runs
    /// with its parent thread's thread pointer, so it reads and bumps these very cells.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with this thread's allocations counted; returns how many there were.
fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_counts_this_threads_allocations() {
    // The test below would pass with a broken counter; this one would not.
    let n = allocations_during(|| {
        let v = std::hint::black_box(vec![1u8; 100]);
        drop(v);
    });
    assert_eq!(n, 2, "one allocation and one deallocation");
}

#[test]
fn a_vfork_child_sees_the_flag_and_shares_the_counter() {
    // Under an emulator, skip without the probe: its child ends with the thread `exit`, which
    // can hang in qemu-user's fork child while another thread of ours is being created.
    if common::emulator().is_some() || !common::vfork_shares_memory() {
        skip!(
            "vfork does not share memory here ({}): the child's allocations cannot be seen; \
             checked natively and in the VM",
            common::emulator().unwrap_or_else(|| "unknown emulator".into())
        );
    }
    // What an allocation in the child would do, without allocating there: count. The child is
    // cloned the way `Spawn` clones its own: CLONE_VM | CLONE_VFORK on our stack, keeping our
    // thread pointer (`clone::vfork` takes it away, so it is not the probe for this).
    extern "C" fn child(_: usize) -> i32 {
        count();
        0
    }
    let flags = CLONE_VM | CLONE_VFORK;
    let null = std::ptr::null_mut();
    let n = allocations_during(|| {
        // SAFETY: a vfork child on our stack (we are suspended meanwhile) that only reads and
        // bumps thread-local cells (our thread's, shared) and returns.
        let pid =
            unsafe { clone(flags, Some(Signal::SIGCHLD), None, null, null, 0, child, 0) }.unwrap();
        let (_, status) = vspawn::wait::wait4(pid, WaitOptions::empty(), None).unwrap();
        assert_eq!(status.code(), Some(0));
    });
    assert_eq!(n, 1, "the child's count did not reach the parent");
}

#[test]
fn core_spawn_allocates_nothing_in_parent_or_child() {
    // Everything the spawns need is prepared before counting.
    let dir = common::scratch_dir("no-alloc");
    let dir_c = common::cstring(&dir);
    let out_c = common::cstring(dir.join("out"));
    let dir_fd = fd::openat(fd::AT_FDCWD, &dir_c, O_DIRECTORY | O_RDONLY, Mode::empty()).unwrap();
    let (_r, w) = fd::pipe2(OFlags::empty()).unwrap();
    let w = w.as_raw_fd();
    let path_env = c"PATH=/nonexistent:/also/not/here:/bin:/usr/bin";
    let missing_env = c"PATH=/nonexistent:/also/not/here:";
    let mut argv_slots = [std::ptr::null(); 3];
    let mut env_slots = [std::ptr::null(); 2];
    let mut missing_slots = [std::ptr::null(); 2];
    let argv = CStrArray::new(&[c"true", c"ignored"], &mut argv_slots).unwrap();
    let envp = CStrArray::new(&[path_env], &mut env_slots).unwrap();
    let missing = CStrArray::new(&[missing_env], &mut missing_slots).unwrap();
    let actions = [
        FileAction::Dup2 { src: w, dst: 5 },
        FileAction::Dup2 { src: w, dst: 6 },
        // Ends the run; then a swap (the child's copies are saved above both numbers).
        FileAction::Close(900),
        FileAction::Dup2 { src: 5, dst: 6 },
        FileAction::Dup2 { src: 6, dst: 5 },
        FileAction::Open {
            fd: 7,
            path: &out_c,
            flags: O_WRONLY | O_CREAT | O_TRUNC,
            mode: Mode::from_bits_retain(0o644),
        },
        FileAction::Chdir(c"/"),
        FileAction::Fchdir(dir_fd.as_raw_fd()),
        FileAction::Close(6),
        FileAction::CloseFrom(8),
    ];
    let rlimits = [(RLIMIT_NOFILE, Rlimit { cur: 256, max: 256 })];
    let attrs = Attributes::new()
        .process_group(0)
        .sigmask(SigSet::EMPTY.with(Signal::SIGUSR1))
        .sigdefault(SigSet::EMPTY.with(Signal::SIGPIPE))
        .rlimits(&rlimits)
        .umask(Mode::from_bits_retain(0o022))
        .no_new_privs(true)
        .parent_death_signal(Signal::SIGKILL)
        .pidfd(true);
    let searched = Spawn::new(Program::Search(c"true"), argv, envp)
        .actions(&actions)
        .attrs(attrs);
    let plain = Spawn::new(Program::Path(c"/bin/true"), argv, CStrArray::empty());
    let failing = Spawn::new(Program::Search(c"vspawn-no-such-program"), argv, missing)
        .actions(&actions)
        .attrs(attrs);

    for clone3_disabled in [false, true] {
        // Without clone3 the child resets the signal handlers itself: more child-side code.
        vspawn::clone::set_clone3_disabled(clone3_disabled);
        let mut results = [Ok(None), Ok(None), Ok(None)];
        let n = allocations_during(|| {
            for (request, result) in [searched, plain, failing].iter().zip(&mut results) {
                *result = request
                    .spawn()
                    .and_then(|mut child| child.wait().map(|s| s.code()));
            }
        });
        vspawn::clone::set_clone3_disabled(false);
        assert_eq!(results, [Ok(Some(0)), Ok(Some(0)), Err(Errno::ENOENT)]);
        assert_eq!(
            n, 0,
            "allocations during spawns (clone3 disabled: {clone3_disabled})"
        );
    }
}
