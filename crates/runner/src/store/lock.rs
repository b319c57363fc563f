//! One lock file per running cell, `cells/<id>.lock`, created with `create_new` (O_EXCL) so that
//! two runners on one results folder never run the same cell. A lock whose process is gone from
//! this host is stale and is taken over; taking over is itself serialised by a second
//! `create_new` file so that two runners cannot both take over the same stale lock.

use crate::host;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct CellLock {
    path: PathBuf,
}

impl Drop for CellLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
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

pub fn read_lock(path: &Path) -> Option<LockInfo> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

pub fn try_lock(cells_dir: &Path, id: &str) -> std::io::Result<LockAttempt> {
    let path = lock_path(cells_dir, id);
    for _ in 0..3 {
        match create_exclusive(&path, &LockInfo::mine()) {
            Ok(()) => return Ok(LockAttempt::Acquired(CellLock { path })),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let info = read_lock(&path);
        let stale = match &info {
            Some(info) => info.is_stale(),
            // unreadable: being written right now, or truncated by a crash mid-write; only an
            // old file counts as truncated
            None => age_secs(&path).is_some_and(|a| a > 60.0),
        };
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
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(serde_json::to_string(info).unwrap_or_default().as_bytes())?;
    f.sync_all()
}

/// Removes a stale lock, if nobody else is doing so and it is still the same stale lock.
fn take_over(path: &Path, seen: Option<&LockInfo>) -> std::io::Result<bool> {
    let guard = path.with_extension("lock.takeover");
    match create_exclusive(&guard, &LockInfo::mine()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // a takeover guard of a dead process is itself stale
            if read_lock(&guard).is_some_and(|g| g.is_stale())
                || (read_lock(&guard).is_none() && age_secs(&guard).is_some_and(|a| a > 60.0))
            {
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

fn age_secs(path: &Path) -> Option<f64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(modified.elapsed().ok()?.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_busy_and_drop_releases() {
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
    fn stale_lock_of_dead_process_is_taken_over() {
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
