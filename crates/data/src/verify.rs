//! Checks the files of a data folder against its `SHA256SUMS` (the `sha256sum` format:
//! `<64 hex digits>  <relative path>`, or `*<path>` for binary mode).

use crate::error::DataError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const SUMS_FILE: &str = "SHA256SUMS";

/// The result for one listed file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum FileStatus {
    Ok,
    Mismatch { expected: String, actual: String },
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileCheck {
    /// As written in `SHA256SUMS` (relative to the root).
    pub path: String,
    #[serde(flatten)]
    pub status: FileStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub root: PathBuf,
    /// `None` when the root has no `SHA256SUMS` (then nothing was checked).
    pub sums_file: Option<PathBuf>,
    pub files: Vec<FileCheck>,
}

impl VerifyReport {
    /// True when a sums file exists and every listed file matches.
    pub fn all_ok(&self) -> bool {
        self.sums_file.is_some() && self.files.iter().all(|f| f.status == FileStatus::Ok)
    }

    pub fn count(&self, wanted: fn(&FileStatus) -> bool) -> usize {
        self.files.iter().filter(|f| wanted(&f.status)).count()
    }
}

/// Hashes every file listed in `root/SHA256SUMS`. A missing root is an error; a missing sums
/// file gives a report with `sums_file: None`.
pub fn verify_checksums(root: &Path) -> Result<VerifyReport, DataError> {
    if !root.is_dir() {
        return Err(DataError::MissingDir {
            path: root.to_path_buf(),
            hint: "the data folder to verify".into(),
        });
    }
    let sums_path = root.join(SUMS_FILE);
    if !sums_path.is_file() {
        return Ok(VerifyReport {
            root: root.to_path_buf(),
            sums_file: None,
            files: Vec::new(),
        });
    }
    let text = std::fs::read_to_string(&sums_path).map_err(|e| DataError::io(&sums_path, e))?;
    let mut files = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (expected, path) = parse_line(line).ok_or_else(|| DataError::Malformed {
            path: sums_path.clone(),
            line: index + 1,
            expected: "<64 hex digits><two spaces><path> (sha256sum format)".into(),
            found: line.to_string(),
        })?;
        let file_path = root.join(path);
        let status = if !file_path.is_file() {
            FileStatus::Missing
        } else {
            let actual = sha256_file(&file_path)?;
            if actual == expected {
                FileStatus::Ok
            } else {
                FileStatus::Mismatch { expected, actual }
            }
        };
        files.push(FileCheck {
            path: path.to_string(),
            status,
        });
    }
    Ok(VerifyReport {
        root: root.to_path_buf(),
        sums_file: Some(sums_path),
        files,
    })
}

fn parse_line(line: &str) -> Option<(String, &str)> {
    let (hash, rest) = line.split_at_checked(64)?;
    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let path = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    if path.is_empty() {
        return None;
    }
    Some((hash.to_ascii_lowercase(), path))
}

/// Lowercase hex SHA-256 of a file.
pub(crate) fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
