//! Content hashes as the Hub names blobs: sha256 of the content for LFS files, git's blob sha1
//! (`blob <size>\0` + content) for the others.

use crate::error::HubError;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Checks `path` against `etag` (40 or 64 hex, already validated); on a mismatch the error
/// names the file as `file` and both digests.
pub(crate) fn check(path: &Path, etag: &str, file: &str) -> Result<(), HubError> {
    let size = std::fs::metadata(path)
        .map_err(|e| HubError::io(path, e))?
        .len();
    let (algorithm, actual) = if etag.len() == 64 {
        ("sha256", hash_file::<Sha256>(path, None)?)
    } else {
        ("git blob sha1", hash_file::<Sha1>(path, Some(size))?)
    };
    if actual == etag {
        return Ok(());
    }
    Err(HubError::Mismatch {
        file: file.to_string(),
        size,
        algorithm,
        actual,
        expected: etag.to_string(),
    })
}

/// Hex digest of a file; with `git_size`, of git's blob object.
pub(crate) fn hash_file<D: Digest>(path: &Path, git_size: Option<u64>) -> Result<String, HubError> {
    let mut file = std::fs::File::open(path).map_err(|e| HubError::io(path, e))?;
    let mut digest = D::new();
    if let Some(size) = git_size {
        digest.update(format!("blob {size}\0").as_bytes());
    }
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| HubError::io(path, e))?;
        if n == 0 {
            break;
        }
        digest.update(&buffer[..n]);
    }
    Ok(hex::encode(digest.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_gits_and_sha256() {
        // `printf 'Hello, World!' | git hash-object --stdin` and `| sha256sum`
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "Hello, World!").unwrap();
        check(&file, "b45ef6fec89518d314f546fd6c3025367b721684", "f").unwrap();
        check(
            &file,
            "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f",
            "f",
        )
        .unwrap();
        let err = check(&file, &"0".repeat(40), "f").unwrap_err().to_string();
        assert!(
            err.contains("git blob sha1 b45ef6fe") && err.contains("13 bytes"),
            "{err}"
        );
    }
}
