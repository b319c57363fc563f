//! One lock file per running cell, `cells/<id>.lock`, so that two runners on one results folder
//! never run the same cell. A lock appears whole or not at all: its content is written to a
//! temporary file, flushed, and hard-linked into place (the link fails if the lock exists), so a
//! full disk or a crash mid-write cannot leave an empty lock that would block the cell. A lock
//! whose process is gone from this host, or whose content cannot be read, is stale and is taken
//! over; taking over is itself serialised by a second lock so that two runners cannot both take
//! over the same stale lock. The locks this process holds are registered, so that an immediate
//! exit (a second Ctrl-C) can remove them first.

use crate::host;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    /// Process start in clock ticks since boot: tells a live owner from a recycled pid.
    #[serde(default)]
    pub proc_start: Option<u64>,
    pub started_at: String,
}

impl LockInfo {
    fn mine() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            host: host::hostname(),
            proc_start: host::process_start_ticks(pid),
            started_at: host::rfc3339_now(),
        }
    }

    /// Stale = owned by a process of this host that no longer exists.
    pub fn is_stale(&self) -> bool {
        self.host == host::hostname() && !host::process_alive(self.pid, self.proc_start)
    }

    /// Owned by a process of another host, which cannot be checked from here: only the user may
    /// break such a lock (`dmlft unlock`).
    pub fn is_other_host(&self) -> bool {
        self.host != host::hostname()
    }

    /// Seconds since the lock was taken; `None` when `started_at` is not a time dmlft writes.
    pub fn age_secs(&self) -> Option<u64> {
        let then = host::parse_rfc3339(&self.started_at)?;
        Some((host::unix_now() as u64).saturating_sub(then))
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "held by host {}, pid {}, since {}",
            self.host, self.pid, self.started_at
        )
    }
}

/// The safety rule, stated wherever a blocked cell is reported.
pub const UNLOCK_RULE: &str = "a lock of this host whose process is gone is taken over by `dmlft run`; a lock of another host cannot be checked from here, so only you can break it, once that process is known to be gone";

/// Which locks `dmlft unlock` may remove: every given selector must match (at least one is
/// required, so that no lock is broken by accident).
#[derive(Debug, Clone, Default)]
pub struct UnlockSelector {
    pub host: Option<String>,
    pub older_than_secs: Option<u64>,
}

impl UnlockSelector {
    pub fn matches(&self, info: &LockInfo) -> bool {
        self.host.as_ref().is_none_or(|h| *h == info.host)
            && self
                .older_than_secs
                .is_none_or(|min| info.age_secs().is_some_and(|age| age >= min))
    }
}

/// What `unlock` did to one lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlocked {
    Removed(String, LockInfo),
    /// Held by a live process of this host: never removed.
    LiveHere(String, LockInfo),
}

/// Removes the cell locks of `cells_dir` that `selector` matches, except those of live processes
/// of this host; sorted by cell id. Each removal goes through the takeover guard, so a lock that
/// changed meanwhile (a runner took the cell) is left alone.
pub fn unlock_matching(
    cells_dir: &Path,
    selector: &UnlockSelector,
) -> std::io::Result<Vec<Unlocked>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(cells_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect();
    paths.sort();
    for path in paths {
        let Some(id) = path.file_stem().map(|s| s.to_string_lossy().to_string()) else {
            continue;
        };
        let Some(info) = read_lock(&path) else {
            continue;
        };
        if !selector.matches(&info) {
            continue;
        }
        if !info.is_other_host() && !info.is_stale() {
            out.push(Unlocked::LiveHere(id, info));
        } else if take_over(&path, Some(&info))? {
            out.push(Unlocked::Removed(id, info));
        }
    }
    Ok(out)
}

/// The lock of another host on cell `id`, if there is one (the cell is blocked until that lock
/// goes).
pub fn other_host_lock(cells_dir: &Path, id: &str) -> Option<LockInfo> {
    read_lock(&lock_path(cells_dir, id)).filter(LockInfo::is_other_host)
}

/// Lock files held by this process, removed by [`release_all_held`] on an immediate exit.
static HELD: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn held() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every lock this process holds; returns how many. For the immediate exit of a second
/// interrupt, which skips the destructors that normally remove them.
pub fn release_all_held() -> usize {
    let mut held = held();
    let n = held.len();
    for path in std::mem::take(&mut *held) {
        let _ = std::fs::remove_file(path);
    }
    n
}

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct CellLock {
    path: PathBuf,
}

impl CellLock {
    fn new(path: PathBuf) -> Self {
        held().insert(path.clone());
        Self { path }
    }
}

impl Drop for CellLock {
    fn drop(&mut self) {
        let mut held = held();
        // already released by an immediate exit: the file may now be another runner's
        if held.remove(&self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Result of trying to lock a cell.
#[derive(Debug)]
pub enum LockAttempt {
    Acquired(CellLock),
    /// Another live process holds it (or one on another host, which cannot be checked).
    Busy(Option<LockInfo>),
}

pub fn lock_path(cells_dir: &Path, id: &str) -> PathBuf {
    cells_dir.join(format!("{id}.lock"))
}

/// The content of a lock; `None` when it cannot be read or parsed (stale: locks are written
/// whole before they appear).
pub fn read_lock(path: &Path) -> Option<LockInfo> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

pub fn try_lock(cells_dir: &Path, id: &str) -> std::io::Result<LockAttempt> {
    let path = lock_path(cells_dir, id);
    for _ in 0..3 {
        match create_exclusive(&path, &LockInfo::mine()) {
            Ok(()) => return Ok(LockAttempt::Acquired(CellLock::new(path))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let info = read_lock(&path);
        // unreadable (empty, truncated, edited): no runner can own it, as locks appear whole
        let stale = info.as_ref().is_none_or(LockInfo::is_stale);
        if !stale {
            return Ok(LockAttempt::Busy(info));
        }
        if !take_over(&path, info.as_ref())? {
            return Ok(LockAttempt::Busy(info));
        }
        tracing::warn!("took over stale lock {}", path.display());
    }
    Ok(LockAttempt::Busy(read_lock(&path)))
}

fn create_exclusive(path: &Path, info: &LockInfo) -> std::io::Result<()> {
    create_exclusive_with(path, info, &|file, bytes| file.write_all(bytes))
}

/// Writes the lock's content to a temporary file beside it, flushes it and hard-links it to
/// `path` (`AlreadyExists` if a lock is there). `write` is the content writer (a parameter so that
/// a test can make it fail as a full disk does). On any error nothing is left behind.
fn create_exclusive_with(
    path: &Path,
    info: &LockInfo,
    write: &dyn Fn(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let json = serde_json::to_string(info).map_err(std::io::Error::other)?;
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        write(&mut f, json.as_bytes())?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        // a file system without hard links: exclusive create, removed again on a failed write
        Err(e) if link_unsupported(&e) => create_new_or_remove(path, json.as_bytes(), write),
        other => other,
    }
}

/// What link(2) returns where hard links are not supported (EPERM on vfat, EOPNOTSUPP).
fn link_unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied
    )
}

fn create_new_or_remove(
    path: &Path,
    bytes: &[u8],
    write: &dyn Fn(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let result = write(&mut f, bytes).and_then(|()| f.sync_all());
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// `<lock>.tmp.<host>.<pid>.<n>`: the pattern `atomic::clean_stale_tmp` removes when its
/// process is dead.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(
        "{name}{}{}.{}.{n}",
        super::atomic::TMP_MARKER,
        host::hostname(),
        std::process::id()
    ))
}

/// Removes a stale lock, if nobody else is doing so and it is still the same stale lock.
fn take_over(path: &Path, seen: Option<&LockInfo>) -> std::io::Result<bool> {
    let guard = path.with_extension("lock.takeover");
    match create_exclusive(&guard, &LockInfo::mine()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // a takeover guard of a dead process (or unreadable) is itself stale
            if read_lock(&guard).as_ref().is_none_or(LockInfo::is_stale) {
                let _ = std::fs::remove_file(&guard);
            }
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    let still_same = read_lock(path).as_ref() == seen;
    if still_same {
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_file(&guard);
    Ok(still_same)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests of one process share the registry of held locks, which one of them empties:
    /// they run one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[test]
    fn second_lock_is_busy_and_drop_releases() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let first = try_lock(dir.path(), "abc").unwrap();
        assert!(matches!(first, LockAttempt::Acquired(_)));
        assert!(matches!(
            try_lock(dir.path(), "abc").unwrap(),
            LockAttempt::Busy(Some(_))
        ));
        drop(first);
        assert!(!lock_path(dir.path(), "abc").exists());
        assert!(matches!(
            try_lock(dir.path(), "abc").unwrap(),
            LockAttempt::Acquired(_)
        ));
    }

    #[test]
    fn a_write_failing_as_on_a_full_disk_leaves_no_lock_and_no_temp_file() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "full");
        // the first bytes go out, then the disk is full (ENOSPC)
        let full_disk = |f: &mut std::fs::File, bytes: &[u8]| -> std::io::Result<()> {
            f.write_all(&bytes[..3])?;
            Err(std::io::Error::from_raw_os_error(28))
        };
        let err = create_exclusive_with(&path, &LockInfo::mine(), &full_disk).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28));
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        // once there is space again, the cell can be locked
        assert!(matches!(
            try_lock(dir.path(), "full").unwrap(),
            LockAttempt::Acquired(_)
        ));
    }

    #[test]
    fn empty_or_garbled_locks_are_stale_at_once() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        for (id, content) in [
            ("empty", ""),
            ("cut", "{\"pid\": 12"),
            ("junk", "\u{0}\u{1}"),
        ] {
            std::fs::write(lock_path(dir.path(), id), content).unwrap();
            match try_lock(dir.path(), id).unwrap() {
                LockAttempt::Acquired(lock) => {
                    let info = read_lock(&lock_path(dir.path(), id)).expect("rewritten whole");
                    assert_eq!(info.pid, std::process::id());
                    drop(lock);
                }
                LockAttempt::Busy(_) => panic!("{id}: an unreadable lock blocked the cell"),
            }
        }
    }

    #[test]
    fn held_locks_are_released_by_an_immediate_exit() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let LockAttempt::Acquired(lock) = try_lock(dir.path(), "held").unwrap() else {
            panic!("not acquired");
        };
        assert!(lock_path(dir.path(), "held").exists());
        assert!(release_all_held() >= 1);
        assert!(!lock_path(dir.path(), "held").exists());
        // the destructor no longer touches the path (it may be another runner's lock by now)
        std::fs::write(lock_path(dir.path(), "held"), "someone else's").unwrap();
        drop(lock);
        assert!(lock_path(dir.path(), "held").exists());
    }

    #[test]
    fn unlock_selectors_all_must_match_and_an_unknown_age_is_never_old() {
        let lock = |host: &str, started_at: &str| LockInfo {
            pid: 7,
            host: host.into(),
            proc_start: None,
            started_at: started_at.into(),
        };
        let old = lock("n1", "2020-01-01T00:00:00Z");
        let fresh = lock("n1", &host::rfc3339_now());
        let garbled = lock("n1", "yesterday");
        let by_age = UnlockSelector {
            host: None,
            older_than_secs: Some(3600),
        };
        assert!(by_age.matches(&old));
        assert!(!by_age.matches(&fresh));
        assert!(!by_age.matches(&garbled));
        let both = UnlockSelector {
            host: Some("n2".into()),
            ..by_age
        };
        assert!(!both.matches(&old));
        assert!(both.matches(&lock("n2", "2020-01-01T00:00:00Z")));
    }

    #[test]
    fn stale_lock_of_dead_process_is_taken_over() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let dead = LockInfo {
            pid: 4_000_000,
            host: host::hostname(),
            proc_start: None,
            started_at: "x".into(),
        };
        std::fs::write(
            lock_path(dir.path(), "c"),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            try_lock(dir.path(), "c").unwrap(),
            LockAttempt::Acquired(_)
        ));
        // a lock of another host cannot be checked: busy
        let other = LockInfo {
            host: "elsewhere".into(),
            ..dead
        };
        std::fs::write(
            lock_path(dir.path(), "d"),
            serde_json::to_string(&other).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            try_lock(dir.path(), "d").unwrap(),
            LockAttempt::Busy(_)
        ));
    }
}
