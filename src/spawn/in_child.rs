//! What the spawned child does between the clone and the exec.
//!
//! This code runs in a vfork child: on the parent's stack, in the parent's memory, with the
//! parent suspended (or, under an emulator, in a copy of it). So it allocates nothing, takes no
//! lock, never unwinds, and only makes syscalls on data the parent prepared in [`Context`].
//! Every signal is blocked on entry (the parent blocked them all before the clone) and stays
//! blocked until the last step before exec restores the wanted mask, so none of the parent's
//! handlers can run here.
//!
//! Order: mark the report slot; reset handled signals (unless `CLONE_CLEAR_SIGHAND` did); reset
//! `sigdefault`, ignore `sigignore`; wait for id maps (user namespaces); session and process
//! group, foreground; file actions in order; rlimits and umask (before the ids: raising a hard
//! limit needs the `CAP_SYS_RESOURCE` an id change drops); ids (reset, groups, gid, uid);
//! `no_new_privs`, parent
//! death signal (after the id changes, which clear it); signal mask; exec.
//!
//! [`Spawn::exec`] runs the same steps in the calling process.

use core::convert::Infallible;
use core::ffi::CStr;
use core::sync::atomic::Ordering;

use super::Namespaces;
use super::{FileAction, MAX_DUP2_CYCLE_SAVES, Program, Report, Spawn};
use crate::errno::{Errno, Result};
use crate::exec::execve;
use crate::fd::{self, RawFd};
use crate::fd::{Mode, OFlags};
use crate::process::{self, ID_UNCHANGED, Pid, pr};
use crate::signal::{self, SigAction, SigHandler, SigHow, SigSet, Signal};

/// Where `Program::Search` looks when the environment has no `PATH`: glibc's default
/// (`confstr(_CS_PATH)`), the one std's `Command` and Debian's programs use.
pub(super) const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// Longest path the kernel accepts, with its NUL.
const PATH_MAX: usize = 4096;
/// Longest file name component.
const NAME_MAX: usize = 255;

/// Everything the child reads, prepared by the parent.
pub(super) struct Context<'a> {
    pub req: &'a Spawn<'a>,
    pub report: &'a Report,
    /// Write end of the error pipe, or -1 (the shared slot suffices).
    pub err_pipe: RawFd,
    /// The child's end of the id-map socket pair, or -1 (no user namespace maps to wait for).
    pub sync_child_end: RawFd,
    /// The parent's end of it (the child's copy is closed first, so that the parent's end
    /// alone decides EOF), or -1.
    pub sync_parent_end: RawFd,
    pub parent_pid: Pid,
    /// The mask the child execs with.
    pub mask: SigSet,
    /// Reset handled signals here: `CLONE_CLEAR_SIGHAND` was not available.
    pub reset_handlers: bool,
    /// `PATH` for `Program::Search`.
    pub path: &'a [u8],
}

/// The clone trampoline's entry: runs the child's setup and exec; returns only on failure, with
/// the exit status 127 after reporting the errno.
///
/// # Safety
///
/// `arg` is the address of a [`Context`] that stays valid while the child runs.
pub(super) unsafe extern "C" fn entry<const FULL: bool>(arg: usize) -> i32 {
    // SAFETY: the parent passes its `Context`, alive until the child execs or exits.
    let ctx = unsafe { &*(arg as *const Context<'_>) };
    ctx.report.mark.store(Report::MARK, Ordering::Release);
    let mut err_pipe = ctx.err_pipe;
    let Err(err) = run::<FULL>(ctx, &mut err_pipe);
    ctx.report.errno.store(err.raw(), Ordering::Release);
    if err_pipe >= 0 {
        // Nothing to do if this fails: the parent then sees EOF and the 127 status.
        let _ = fd::write(err_pipe, &err.raw().to_ne_bytes());
    }
    // The trampoline ends this child, a process of its own, with `exit_group`.
    127
}

/// Whether `req` needs the child's full setup (file actions, ids, limits...), or only the
/// signal, session and process group steps and the exec: `entry::<false>` skips the rest, which
/// would do nothing for such a request, and a binary whose only spawn is a literal without them
/// (vinit) links no code for it.
pub(super) fn needs_full(req: &Spawn<'_>) -> bool {
    let a = &req.attrs;
    !req.actions.is_empty()
        || a.reset_ids
        || a.groups.is_some()
        || a.gid.is_some()
        || a.uid.is_some()
        || !a.rlimits.is_empty()
        || a.umask.is_some()
        || a.no_new_privs
        || a.parent_death_signal.is_some()
}

/// The child's setup and exec (`FULL`: see [`needs_full`]). `err_pipe` follows the error pipe if
/// it has to move.
pub(super) fn run<const FULL: bool>(ctx: &Context<'_>, err_pipe: &mut RawFd) -> Result<Infallible> {
    let req = ctx.req;
    let attrs = &req.attrs;
    if ctx.reset_handlers {
        reset_handled_signals()?;
    }
    // One pass: a signal in both sets ends up ignored (`sigignore` comes second).
    let changed = SigSet::from_bits(attrs.sigdefault.bits() | attrs.sigignore.bits());
    for sig in changed.iter() {
        let action = if attrs.sigignore.contains(sig) {
            &SigAction::IGNORE
        } else if sig == Signal::SIGKILL || sig == Signal::SIGSTOP {
            continue;
        } else {
            &SigAction::DEFAULT
        };
        // SAFETY: installing SIG_DFL or SIG_IGN runs no handler.
        unsafe { signal::rt_sigaction(sig, Some(action)) }?;
    }
    if ctx.sync_child_end >= 0 {
        // Our copy of the write end would keep us from ever seeing EOF if the parent gives up
        // (or dies) before writing.
        // SAFETY: this child's fd table is its own copy (no CLONE_FILES): nothing here owns it.
        unsafe { fd::close(ctx.sync_parent_end) }?;
        wait_for_parent(ctx.sync_child_end)?;
    }
    if attrs.setsid {
        process::setsid()?;
    }
    if let Some(pgid) = attrs.process_group {
        process::setpgid(0, pgid)?;
    }
    if let Some(tty) = attrs.foreground {
        // SIGTTOU is blocked here, so a background child may take the terminal.
        process::tcsetpgrp(tty, process::getpgid(0)?)?;
    }
    if FULL {
        *err_pipe = keep_clear_of_actions(*err_pipe, req.actions)?;
        apply_file_actions(req.actions, *err_pipe)?;
        for (resource, limit) in attrs.rlimits {
            process::prlimit(0, *resource, Some(limit))?;
        }
        if let Some(mask) = attrs.umask {
            process::umask(mask);
        }
        set_ids(attrs)?;
        if attrs.no_new_privs {
            // SAFETY: PR_SET_NO_NEW_PRIVS takes no pointer.
            unsafe { process::prctl(pr::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }?;
        }
        if let Some(sig) = attrs.parent_death_signal {
            // SAFETY: PR_SET_PDEATHSIG takes no pointer.
            unsafe { process::prctl(pr::PR_SET_PDEATHSIG, sig.raw() as usize, 0, 0, 0) }?;
            // The parent may have died before the prctl: then nobody would send the signal. In a
            // new pid namespace the parent is outside it and getppid() is 0 whether it lives or
            // not: there is nothing to compare.
            let parent_visible = !attrs.namespaces.contains(Namespaces::PID);
            if parent_visible && process::getppid() != ctx.parent_pid {
                return Err(Errno::ESRCH);
            }
        }
    }
    signal::rt_sigprocmask(SigHow::SetMask, Some(&ctx.mask))?;
    Err(match req.program {
        Program::Path(path) => exec(path, req),
        Program::Search(name) => exec_search(name, ctx.path, req),
    })
}

/// Resets every signal that has a handler to its default; ignored ones stay ignored. Only
/// without `CLONE_CLEAR_SIGHAND` (clone3 missing): a query per signal.
fn reset_handled_signals() -> Result<()> {
    for sig in Signal::all() {
        if sig == Signal::SIGKILL || sig == Signal::SIGSTOP {
            continue;
        }
        // EINVAL: a number the kernel or emulator reserves; nothing to reset.
        let Ok(old) = signal::get_sigaction(sig) else {
            continue;
        };
        if let SigHandler::Handler(_) | SigHandler::Action(_) = old.handler {
            // SAFETY: installing SIG_DFL runs no handler.
            unsafe { signal::rt_sigaction(sig, Some(&SigAction::DEFAULT)) }?;
        }
    }
    Ok(())
}

/// Blocks until the parent has written the id maps (one byte) or given up (EOF).
fn wait_for_parent(fd: RawFd) -> Result<()> {
    let mut go = [0u8; 1];
    loop {
        match fd::read(fd, &mut go) {
            // SAFETY: the child's own copy of the fd table, as above.
            Ok(1) => return unsafe { fd::close(fd) },
            Ok(_) => return Err(Errno::ECANCELED),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Moves the error pipe out of the way of every fd a file action writes, so an action cannot
/// close or replace it. Returns its (possibly new) number.
fn keep_clear_of_actions(err_pipe: RawFd, actions: &[FileAction<'_>]) -> Result<RawFd> {
    if err_pipe < 0 {
        return Ok(err_pipe);
    }
    let mut highest = -1;
    let mut hit = false;
    for action in actions {
        let target = match *action {
            FileAction::Dup2 { dst, .. } => dst,
            FileAction::Open { fd, .. } | FileAction::Close(fd) => fd,
            _ => continue,
        };
        hit |= target == err_pipe;
        highest = highest.max(target);
    }
    if hit {
        fd::dup_above(err_pipe, highest + 1)
    } else {
        Ok(err_pipe)
    }
}

/// How many `Dup2` actions read a source that an earlier `Dup2` of the same run replaced.
pub(super) fn dup2_saves_needed(actions: &[FileAction<'_>]) -> usize {
    runs(actions)
        .map(|run| cycle_sources(run).count())
        .max()
        .unwrap_or(0)
}

/// The runs of consecutive actions: each `Dup2` run whole, anything else alone.
fn runs<'s, 'a>(actions: &'s [FileAction<'a>]) -> impl Iterator<Item = &'s [FileAction<'a>]> {
    let is_dup2 = |a: &FileAction<'_>| matches!(a, FileAction::Dup2 { .. });
    let mut rest = actions;
    core::iter::from_fn(move || {
        let first = rest.first()?;
        let len = if is_dup2(first) {
            rest.iter().position(|a| !is_dup2(a)).unwrap_or(rest.len())
        } else {
            1
        };
        let (run, tail) = rest.split_at(len);
        rest = tail;
        Some(run)
    })
}

/// Within a `Dup2` run: the indices of the actions whose source an earlier action replaced.
fn cycle_sources<'s>(run: &'s [FileAction<'_>]) -> impl Iterator<Item = usize> + 's {
    run.iter().enumerate().filter_map(move |(i, action)| {
        let FileAction::Dup2 { src, .. } = *action else {
            return None;
        };
        let replaced = run[..i]
            .iter()
            .any(|a| matches!(*a, FileAction::Dup2 { dst, .. } if dst == src));
        replaced.then_some(i)
    })
}

fn apply_file_actions(actions: &[FileAction<'_>], err_pipe: RawFd) -> Result<()> {
    for run in runs(actions) {
        match run {
            [FileAction::Dup2 { .. }, ..] => apply_dup2_run(run)?,
            [action] => apply_one(action, err_pipe)?,
            _ => unreachable!("runs of other actions have one element"),
        }
    }
    Ok(())
}

/// Applies a run of `Dup2` as one simultaneous assignment: sources that an earlier action of
/// the run replaces are copied out of the way first (close-on-exec, above every fd the run
/// names).
fn apply_dup2_run(run: &[FileAction<'_>]) -> Result<()> {
    let mut saved: [RawFd; MAX_DUP2_CYCLE_SAVES] = [-1; MAX_DUP2_CYCLE_SAVES];
    let result = assign_run(run, &mut saved);
    // The copies served the run only: an action after it must find their numbers as they
    // were (glibc's sequential equivalent closes them too), and a failed `Spawn::exec` must not
    // leave them in the caller.
    for &copy in saved.iter().take_while(|&&fd| fd >= 0) {
        // SAFETY: copies this function made; nothing else knows or owns them.
        let _ = unsafe { fd::close(copy) };
    }
    result
}

/// The body of [`apply_dup2_run`]: the sources the run replaces are copied into `saved`
/// (close-on-exec, above every fd the run names), then the run is applied.
fn assign_run(run: &[FileAction<'_>], saved: &mut [RawFd; MAX_DUP2_CYCLE_SAVES]) -> Result<()> {
    let floor = run
        .iter()
        .map(|a| match *a {
            FileAction::Dup2 { src, dst } => src.max(dst),
            _ => -1,
        })
        .max()
        .unwrap_or(-1)
        + 1;
    for (slot, i) in saved.iter_mut().zip(cycle_sources(run)) {
        if let FileAction::Dup2 { src, .. } = run[i] {
            *slot = fd::dup_above(src, floor)?;
        }
    }
    let mut next_saved = 0;
    let mut cycles = cycle_sources(run).peekable();
    for (i, action) in run.iter().enumerate() {
        let FileAction::Dup2 { mut src, dst } = *action else {
            continue;
        };
        if cycles.next_if_eq(&i).is_some() {
            src = saved[next_saved];
            next_saved += 1;
        }
        if src == dst {
            fd::set_fd_flags(dst, 0)?;
        } else {
            // SAFETY: the child's own fd table, which the caller's actions are meant to change.
            unsafe { fd::dup3(src, dst, OFlags::empty()) }?;
        }
    }
    Ok(())
}

fn apply_one(action: &FileAction<'_>, err_pipe: RawFd) -> Result<()> {
    match *action {
        FileAction::Dup2 { .. } => unreachable!("dup2 actions are applied by runs"),
        FileAction::Close(fd) => {
            // SAFETY: the child's own copy of the fd table, which the caller's actions are meant
            // to change; nothing in this child owns a descriptor.
            match unsafe { fd::close(fd) } {
                Err(Errno::EBADF) | Ok(()) => Ok(()),
                Err(e) => Err(e),
            }
        }
        FileAction::Open {
            fd,
            path,
            flags,
            mode,
        } => {
            // SAFETY: the child's own fd table, as for `Close`.
            let _ = unsafe { fd::close(fd) };
            let opened = fd::openat_inheritable(fd::AT_FDCWD, path, flags, mode)?.into_raw_fd();
            if opened != fd {
                // SAFETY: the child's own fd table, as for `Close`.
                let moved = unsafe { fd::dup3(opened, fd, flags & fd::oflags::O_CLOEXEC) };
                // SAFETY: as above; `opened` was ours.
                let _ = unsafe { fd::close(opened) };
                moved?;
            }
            Ok(())
        }
        FileAction::Chdir(path) => fd::chdir(path),
        FileAction::Fchdir(fd) => fd::fchdir(fd),
        FileAction::CloseFrom(first) => close_from(first, err_pipe),
    }
}

/// Closes every fd `>= first` except the error pipe.
fn close_from(first: RawFd, keep: RawFd) -> Result<()> {
    let first = first as u32;
    if keep >= 0 && keep as u32 >= first {
        let keep = keep as u32;
        if keep > first {
            close_range_or_scan(first, keep - 1)?;
        }
        close_range_or_scan(keep + 1, u32::MAX)
    } else {
        close_range_or_scan(first, u32::MAX)
    }
}

/// `close_range`, or for kernels before 5.9 a scan of `/proc/self/fd`.
fn close_range_or_scan(first: u32, last: u32) -> Result<()> {
    // SAFETY: the child's own fd table, as for the other file actions.
    match unsafe { fd::close_range(first, last, 0) } {
        Err(Errno::ENOSYS) => close_by_scan(first, last),
        other => other,
    }
}

fn close_by_scan(first: u32, last: u32) -> Result<()> {
    let dir = fd::openat(
        fd::AT_FDCWD,
        c"/proc/self/fd",
        fd::oflags::O_DIRECTORY,
        Mode::empty(),
    )?;
    let dir_fd = dir.as_raw_fd();
    let mut buf = [0u8; 1024];
    loop {
        let n = fd::getdents64(dir_fd, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let mut at = 0;
        while at + 19 <= n {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            let name = &buf[at + 19..at + reclen];
            let name = name.split(|&b| b == 0).next().unwrap_or(&[]);
            let in_range = |fd: &u32| *fd >= first && *fd <= last && *fd as RawFd != dir_fd;
            if let Some(fd) = parse_fd(name).filter(in_range) {
                // SAFETY: the child's own fd table, as for the other file actions.
                let _ = unsafe { fd::close(fd as RawFd) };
            }
            at += reclen.max(1);
        }
    }
}

fn parse_fd(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    name.iter().try_fold(0u32, |n, &d| {
        n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

fn set_ids(attrs: &super::Attributes<'_>) -> Result<()> {
    if attrs.reset_ids {
        process::set_thread_res_gid(ID_UNCHANGED, process::getgid(), ID_UNCHANGED)?;
        process::set_thread_res_uid(ID_UNCHANGED, process::getuid(), ID_UNCHANGED)?;
    }
    if let Some(groups) = attrs.groups {
        process::set_thread_groups(groups)?;
    }
    if let Some(gid) = attrs.gid {
        process::set_thread_res_gid(gid, gid, gid)?;
    }
    if let Some(uid) = attrs.uid {
        if attrs.groups.is_none() {
            // std's rule: a uid without groups drops the supplementary groups, which would
            // otherwise outlive the change (root's, say). EPERM means no CAP_SETGID: a caller
            // that could not have changed its groups either keeps them, as with std.
            match process::set_thread_groups(&[]) {
                Ok(()) | Err(Errno::EPERM) => {}
                Err(e) => return Err(e),
            }
        }
        process::set_thread_res_uid(uid, uid, uid)?;
    }
    Ok(())
}

fn exec(path: &CStr, req: &Spawn<'_>) -> Errno {
    // SAFETY: `CStrArray` guarantees null-terminated arrays of valid strings.
    unsafe { execve(path, req.argv.as_ptr(), req.envp.as_ptr()) }
}

/// `execvpe` without the `/bin/sh` fallback, in a buffer on this stack.
fn exec_search(name: &CStr, path_list: &[u8], req: &Spawn<'_>) -> Errno {
    let file = name.to_bytes();
    if file.contains(&b'/') {
        return exec(name, req);
    }
    if file.len() > NAME_MAX {
        return Errno::ENAMETOOLONG;
    }
    let mut buf = [0u8; PATH_MAX];
    let mut saw_eacces = false;
    let mut last = Errno::ENOENT;
    for dir in path_list.split(|&b| b == b':') {
        // An empty entry is the current directory: the name alone, as glibc's execvp tries it
        // (a script then sees `name` as its `$0`, not `./name`).
        let slash = usize::from(!dir.is_empty());
        let len = dir.len() + slash + file.len();
        if len >= buf.len() {
            last = Errno::ENAMETOOLONG;
            continue;
        }
        buf[..dir.len()].copy_from_slice(dir);
        buf[dir.len()] = b'/';
        buf[dir.len() + slash..len].copy_from_slice(file);
        buf[len] = 0;
        // SAFETY: no NUL before `len`: `dir` comes from `Context::path` (an environment entry's
        // bytes or DEFAULT_PATH) and `file` from a `CStr`.
        let candidate = unsafe { CStr::from_bytes_with_nul_unchecked(&buf[..=len]) };
        match exec(candidate, req) {
            Errno::EACCES => saw_eacces = true,
            e @ (Errno::ENOENT
            | Errno::ENOTDIR
            | Errno::ESTALE
            | Errno::ENODEV
            | Errno::ETIMEDOUT) => {
                last = e;
            }
            other => return other,
        }
    }
    if saw_eacces { Errno::EACCES } else { last }
}
