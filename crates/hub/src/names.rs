//! Checks on every value from a server (or a caller) that ends up in a cache path, before the
//! path is built: commits and etags are hex digests, file names are plain relative paths.

use crate::error::HubError;

/// A git commit id as the Hub sends it in `X-Repo-Commit` and the file list's `sha`: 40 hex
/// digits, lower-cased. It names the snapshot folder.
pub fn commit(value: &str, url: &str, what: &str) -> Result<String, HubError> {
    let value = value.trim();
    if is_hex(value, 40) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(HubError::refused(
            url,
            what,
            value,
            "a commit id is 40 hexadecimal digits",
        ))
    }
}

/// A file's etag (`ETag` / `X-Linked-Etag`, quoted, maybe weak): the git blob sha1 (40 hex) of
/// a plain file or the sha256 (64 hex) of an LFS file. It names the blob and is what the content
/// is verified against, so nothing else is accepted.
pub fn etag(raw: &str, url: &str) -> Result<String, HubError> {
    let value = raw.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    let value = value.trim_matches('"');
    if is_hex(value, 40) || is_hex(value, 64) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(HubError::refused(
            url,
            "etag",
            raw,
            "an etag must be a git blob sha1 (40 hexadecimal digits) or an LFS sha256 (64), \
             which the content is verified against",
        ))
    }
}

/// A file of a repository: a relative path of plain names (`model.safetensors`,
/// `onnx/model.onnx`), so that it stays inside the snapshot folder.
pub fn file_name(name: &str, what: &str) -> Result<(), HubError> {
    let plain = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && !part.contains(['\\', '\0'])
            && !(part.len() >= 2 && part.as_bytes()[1] == b':')
    };
    if !name.starts_with('/') && name.split('/').all(plain) {
        Ok(())
    } else {
        Err(HubError::InvalidArgument {
            what: what.to_string(),
            value: name.to_string(),
            valid: "a file name inside the repository: relative, '/'-separated plain names \
                    (no '..', '.', empty part, backslash or drive letter)"
                .into(),
        })
    }
}

/// A repository id: `name` or `org/name` of letters, digits, `-`, `_` and `.` (not `.`/`..`).
pub fn repo_id(id: &str) -> Result<(), HubError> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() <= 2 && parts.iter().all(|p| part_ok(p)) {
        Ok(())
    } else {
        Err(HubError::InvalidArgument {
            what: "repository id".into(),
            value: id.to_string(),
            valid: "`name` or `org/name` of letters, digits, '-', '_' and '.'".into(),
        })
    }
}

/// A revision: a branch (`main`, `refs/convert/parquet`), a tag or a commit id. It becomes part
/// of a URL and of the cache path `refs/<revision>`, so only `/`-separated plain names of
/// letters, digits, `-`, `_` and `.` (no `.` or `..` part) are accepted.
pub fn revision(revision: &str) -> Result<(), HubError> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if revision.split('/').all(part_ok) {
        Ok(())
    } else {
        Err(HubError::InvalidArgument {
            what: "revision".into(),
            value: revision.to_string(),
            valid: "a branch, tag or commit: '/'-separated names of letters, digits, '-', '_' \
                    and '.' (no '.' or '..' part)"
                .into(),
        })
    }
}

fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn revisions_are_plain_names() {
        for good in ["main", "refs/convert/parquet", "v1.0", SHA1] {
            assert!(revision(good).is_ok(), "{good}");
        }
        for bad in [
            "", "../x", "refs//x", "a/./b", "main?x=1", "a b", "/main", "x%2F",
        ] {
            let err = revision(bad).unwrap_err().to_string();
            assert!(err.contains("revision") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn etags_are_hex_digests_only() {
        assert_eq!(etag(&format!("\"{SHA1}\""), "u").unwrap(), SHA1);
        assert_eq!(
            etag(&format!("W/\"{}\"", SHA1.to_uppercase()), "u").unwrap(),
            SHA1
        );
        let sha256 = "a".repeat(64);
        assert_eq!(etag(&sha256, "u").unwrap(), sha256);
        for bad in [
            "\"../../../../tmp/x\"",
            "/etc/passwd",
            "\"redirect\"",
            &"a".repeat(41),
            &format!("{}/..", &SHA1[..37]),
            "",
        ] {
            let err = etag(bad, "http://h/f").unwrap_err().to_string();
            assert!(
                err.contains("http://h/f") && err.contains("40 hexadecimal"),
                "{err}"
            );
        }
    }

    #[test]
    fn commits_are_40_hex_digits() {
        assert_eq!(commit(SHA1, "u", "X-Repo-Commit").unwrap(), SHA1);
        for bad in ["/tmp/evil", "../../x", "main", &"0".repeat(64), ""] {
            let err = commit(bad, "http://h", "X-Repo-Commit")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("X-Repo-Commit") && err.contains("40 hexadecimal"),
                "{err}"
            );
        }
    }

    #[test]
    fn file_names_stay_inside_the_snapshot() {
        for ok in [
            "model.safetensors",
            "onnx/model.onnx",
            "a..b",
            ".gitattributes",
        ] {
            file_name(ok, "file").unwrap();
        }
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "",
            "a\\..\\b",
            "C:x",
            "a/",
        ] {
            assert!(file_name(bad, "shard").is_err(), "{bad}");
        }
    }

    #[test]
    fn repo_ids() {
        for ok in ["roberta-large", "FacebookAI/roberta-large", "a.b_c"] {
            repo_id(ok).unwrap();
        }
        for bad in ["a/b/c", "../x", "a/..", "", "a b", "/abs"] {
            assert!(repo_id(bad).is_err(), "{bad}");
        }
    }
}
