//! Whole-file writes that a crash cannot leave half done, for every crate that writes results:
//! the bytes go to a temporary file in the target's folder, which is flushed to disk and renamed
//! over the target; then the folder itself is flushed, so that the rename survives a power loss
//! (the pattern of SQLite's and PostgreSQL's durable writes: fsync the file, rename, fsync the
//! directory).

use std::io::Write;
use std::path::Path;

/// Between a target's file name and the temporary suffix: `<name>.tmp.<owner>.<n>`.
pub const TMP_MARKER: &str = ".tmp.";

/// Writes `bytes` to `path` atomically; the temporary file is `<name>.tmp.<pid>.<n>`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, bytes, &std::process::id().to_string())
}

/// Writes `bytes` to `path` atomically with the temporary file `<name>.tmp.<owner>.<n>`, so that
/// a caller can tell its own leftovers (after a kill -9) from those of others.
pub fn write_atomic_as(path: &Path, bytes: &[u8], owner: &str) -> std::io::Result<()> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!("{name}{TMP_MARKER}{owner}.{n}"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Flushes a folder's entries (the rename) to disk. Filesystems that cannot sync a folder say
/// so with `InvalidInput`; there is nothing more to do on them.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        match std::fs::File::open(dir).and_then(|d| d.sync_all()) {
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic_as(&target, b"second", "host.1").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert_eq!(names(dir.path()), vec!["a.json"]);
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        write_atomic(&target, b"kept").unwrap();
        // Renaming a file over a non-empty folder fails: the old content must survive.
        let blocked = dir.path().join("sub");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"kept");
        assert_eq!(names(dir.path()), vec!["sub", "t"]);
    }
}
