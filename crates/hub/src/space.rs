//! Free space of the disk a file is written to, checked before a download starts.

use std::path::Path;

/// Bytes available to this user on the file system of `dir`; `None` where it cannot be told
/// (then the download goes ahead and a full disk is an ordinary write error).
pub(crate) fn available(dir: &Path) -> Option<u64> {
    available_impl(dir)
}

#[cfg(unix)]
#[allow(unsafe_code)] // the one libc call of the crate
fn available_impl(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `stat` a writable statvfs.
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
    (rc == 0).then(|| (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

#[cfg(not(unix))]
fn available_impl(_dir: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_real_folder_has_some_free_space() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::available(dir.path()).is_some_and(|n| n > 0));
        assert!(super::available(&dir.path().join("missing")).is_none());
    }
}
