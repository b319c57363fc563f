//! Downloading a model id from the Hugging Face Hub into the standard cache with the `hf-hub`
//! client (blocking, ureq), so that a half download is never taken for a checkpoint:
//!
//! - What to fetch comes from the repository's file list (`/api/models/<id>/revision/main`): the
//!   tokenizer files it has, then the weights (`model.safetensors`, or the shard index and every
//!   shard it names), then `config.json` **last**. A snapshot with `config.json` and all weights
//!   is complete ([`crate::hub::is_complete`]), so a run that stopped anywhere before leaves a
//!   snapshot that the next run does not accept, and downloads again.
//! - Every file is checked against the Hub's etag, which is the name of its blob: the sha256 of
//!   the content for LFS files, git's blob sha1 for the others. A short, long or corrupt file is
//!   removed from the cache (blob and snapshot link) and named in the error.
//! - A transfer that breaks off is retried twice, resuming where it stopped; after that the error
//!   names the file, and hf-hub's `.part` file stays for the next run to resume from. A `.part`
//!   longer than the file (which hf-hub refuses forever) is deleted and the file fetched again.
//! - Downloads into one cache are serialized: threads of this process by a mutex, processes (e.g.
//!   the tasks of a Slurm array) by a lock file `<cache>/.locks/dmlft-<repo folder>.lock`. Whoever
//!   waited finds the finished snapshot and downloads nothing.

use crate::checkpoint::{shard_files, CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE};
use crate::hub::{cache_folder_name, cached_snapshot, is_complete, TOKENIZER_FILES};
use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::Cache;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

static DOWNLOADS: Mutex<()> = Mutex::new(());

/// Attempts per file after an interrupted transfer (hf-hub resumes with a range request).
const RETRIES: usize = 2;

/// Downloads `model_id` from `endpoint` into `cache`; the snapshot folder on success.
pub(crate) fn download(model_id: &str, cache: &Path, endpoint: &str) -> Result<PathBuf, String> {
    let _in_process = DOWNLOADS.lock().unwrap_or_else(PoisonError::into_inner);
    let _between_processes = lock_cache(cache, model_id)?;
    if let Some(snapshot) = cached_snapshot(cache, model_id) {
        return Ok(snapshot);
    }
    let api = ApiBuilder::from_cache(Cache::new(cache.to_path_buf()))
        .with_endpoint(endpoint.to_string())
        .with_progress(std::io::stderr().is_terminal())
        .with_retries(RETRIES)
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(model_id.to_string());
    let info = repo
        .info()
        .map_err(|e| format!("cannot list the files of `{model_id}`: {e}"))?;
    let listed: HashSet<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    if !listed.contains(CONFIG_FILE) {
        return Err(format!("the repository has no {CONFIG_FILE}"));
    }
    tracing::info!(
        model_id,
        endpoint,
        "downloading into the Hugging Face cache"
    );
    let fetch = |file: &str| fetch(&repo, cache, model_id, file);
    for file in TOKENIZER_FILES.iter().filter(|f| listed.contains(**f)) {
        fetch(file)?;
    }
    if listed.contains(WEIGHTS_FILE) {
        fetch(WEIGHTS_FILE)?;
    } else if listed.contains(INDEX_FILE) {
        let index = fetch(INDEX_FILE)?;
        let shards = shard_files(&index, Path::new("")).map_err(|e| e.to_string())?;
        for shard in shards {
            fetch(&shard.to_string_lossy())?;
        }
    } else {
        return Err(format!(
            "the repository has neither {WEIGHTS_FILE} nor {INDEX_FILE} (dmlft loads safetensors \
             checkpoints only)"
        ));
    }
    let config = fetch(CONFIG_FILE)?;
    let snapshot = config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{CONFIG_FILE} was saved without a folder"))?;
    if !is_complete(&snapshot) {
        return Err(format!(
            "the files were downloaded but {} is not a whole checkpoint (the repository changed \
             during the download?); run again",
            snapshot.display()
        ));
    }
    tracing::info!(model_id, snapshot = %snapshot.display(), "downloaded");
    Ok(snapshot)
}

/// One file, from the cache or the Hub, verified.
fn fetch(repo: &ApiRepo, cache: &Path, model_id: &str, file: &str) -> Result<PathBuf, String> {
    let path = match repo.get(file) {
        Err(ApiError::InvalidResume) => {
            // A `.part` longer than the file: hf-hub would refuse it on every run.
            clear_partial_files(cache, model_id);
            repo.get(file)
        }
        other => other,
    }
    .map_err(|e| format!("{file}: {e}"))?;
    if let Err(problem) = verify(&path) {
        let removed = remove_from_cache(&path);
        return Err(format!("{file}: {problem}; {removed}"));
    }
    Ok(path)
}

/// Checks a cached file against the etag its blob is named after.
fn verify(path: &Path) -> Result<(), String> {
    let blob = std::fs::canonicalize(path).map_err(|e| format!("cannot read it back: {e}"))?;
    let etag = blob
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_hex = |len| etag.len() == len && etag.bytes().all(|b| b.is_ascii_hexdigit());
    let (algorithm, actual) = if is_hex(64) {
        ("sha256", hash_file::<Sha256>(&blob, None)?)
    } else if is_hex(40) {
        let size = std::fs::metadata(&blob).map_err(|e| e.to_string())?.len();
        ("git blob sha1", hash_file::<Sha1>(&blob, Some(size))?)
    } else {
        // Not a content hash (a cache filled without symlinks): nothing to compare with.
        return Ok(());
    };
    if actual == etag {
        return Ok(());
    }
    let size = std::fs::metadata(&blob).map(|m| m.len()).unwrap_or(0);
    Err(format!(
        "the downloaded file ({size} bytes) has {algorithm} {actual}, but the Hub announced {etag} \
         (a truncated, overlong or corrupted transfer)"
    ))
}

/// Hex digest of a file; with `git_size`, of git's blob object (`blob <size>\0` + content).
fn hash_file<D: Digest>(path: &Path, git_size: Option<u64>) -> Result<String, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut digest = D::new();
    if let Some(size) = git_size {
        digest.update(format!("blob {size}\0").as_bytes());
    }
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        digest.update(&buffer[..n]);
    }
    Ok(digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Removes a file's snapshot link and its blob; says what was done.
fn remove_from_cache(path: &Path) -> String {
    let blob = std::fs::canonicalize(path).ok();
    let link = std::fs::remove_file(path);
    let blob_removed = blob.map(std::fs::remove_file);
    match (link, blob_removed) {
        (Ok(()), Some(Ok(())) | None) => {
            "it was removed from the cache; run again to download it anew".into()
        }
        _ => format!(
            "removing it from the cache failed: delete {} and its blob by hand",
            path.display()
        ),
    }
}

/// Deletes hf-hub's `.part` files of a repository (only while holding its lock).
fn clear_partial_files(cache: &Path, model_id: &str) {
    let blobs = cache.join(cache_folder_name(model_id)).join("blobs");
    for entry in std::fs::read_dir(blobs).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The cross-process lock of one repository's downloads (released when the file is dropped).
fn lock_cache(cache: &Path, model_id: &str) -> Result<std::fs::File, String> {
    let dir = cache.join(".locks");
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the cache folder {}: {e}", dir.display()))?;
    let path = dir.join(format!("dmlft-{}.lock", cache_folder_name(model_id)));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_sha1_is_gits() {
        // `printf 'Hello, World!' | git hash-object --stdin`
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "Hello, World!").unwrap();
        assert_eq!(
            hash_file::<Sha1>(&file, Some(13)).unwrap(),
            "b45ef6fec89518d314f546fd6c3025367b721684"
        );
        assert_eq!(
            hash_file::<Sha256>(&file, None).unwrap(),
            "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f"
        );
    }
}
