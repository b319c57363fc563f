//! Whole-file writes that a crash cannot leave half done (dmlft-fs), with
//! temporary files named after this host and process so that the leftovers of a killed process
//! can be found and removed.

use std::path::{Path, PathBuf};

pub use dmlft_fs::atomic_file::TMP_MARKER;

/// Writes `bytes` to `path` through `<name>.tmp.<host>.<pid>.<n>`, flushed and renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let owner = format!("{}.{}", crate::host::hostname(), std::process::id());
    dmlft_fs::atomic_file::write_atomic_as(path, bytes, &owner)
}

/// Removes temporary files left in `dir` by dead processes of this host (a kill -9 mid-write).
pub fn clean_stale_tmp(dir: &Path) -> Vec<PathBuf> {
    let host = crate::host::hostname();
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pos) = name.find(TMP_MARKER) else {
            continue;
        };
        let mut parts = name[pos + TMP_MARKER.len()..].rsplitn(3, '.');
        let (_n, pid, tmp_host) = (parts.next(), parts.next(), parts.next());
        let pid: Option<u32> = pid.and_then(|p| p.parse().ok());
        if tmp_host == Some(host.as_str())
            && pid.is_some_and(|p| !crate::host::process_alive(p, None))
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn cleans_temp_files_of_dead_processes_only() {
        let dir = tempfile::tempdir().unwrap();
        let host = crate::host::hostname();
        let dead = dir
            .path()
            .join(format!("x.json{TMP_MARKER}{host}.4000000.0"));
        let alive = dir
            .path()
            .join(format!("y.json{TMP_MARKER}{host}.{}.0", std::process::id()));
        std::fs::write(&dead, "").unwrap();
        std::fs::write(&alive, "").unwrap();
        let removed = clean_stale_tmp(dir.path());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(alive.exists());
    }
}
