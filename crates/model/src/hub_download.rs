//! Downloading a model id from the Hugging Face Hub into the standard cache with dmlft-hub
//! (which validates what the server says and verifies every file against its etag), so that a
//! half download is never taken for a checkpoint:
//!
//! - What to fetch comes from the repository's file list: the tokenizer files it has, then the
//!   weights (`model.safetensors`, or the shard index and every shard it names, each a plain
//!   relative name), then `config.json` **last**. A snapshot with `config.json` and all weights
//!   is complete ([`crate::hub::is_complete`]), so a run that stopped anywhere before leaves a
//!   snapshot that the next run does not accept, and downloads again.
//! - Downloads into one cache are serialized (threads and processes, e.g. the tasks of a Slurm
//!   array); whoever waited finds the finished snapshot and downloads nothing.

use crate::checkpoint::{shard_files, CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE};
use crate::hub::{cached_snapshot, is_complete, HubSettings, TOKENIZER_FILES};
use dmlft_hub::{Hub, Limits, RepoKind};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Downloads `model_id` into `settings.cache`; the snapshot folder on success.
pub(crate) fn download(model_id: &str, settings: &HubSettings) -> Result<PathBuf, String> {
    let limits = Limits {
        connect_timeout: settings.timeout,
        read_timeout: settings.timeout,
        ..Limits::default()
    };
    let hub = Hub::new(
        &settings.endpoint,
        &settings.cache,
        limits,
        settings.token.clone(),
    );
    let mut repo = hub
        .repo(RepoKind::Model, model_id)
        .map_err(|e| e.to_string())?;
    let _lock = repo.lock().map_err(|e| e.to_string())?;
    if let Some(snapshot) = cached_snapshot(&settings.cache, model_id) {
        return Ok(snapshot);
    }
    let files = repo
        .list()
        .map_err(|e| format!("cannot list the files of `{model_id}`: {e}"))?;
    let listed: HashSet<&str> = files.iter().map(String::as_str).collect();
    if !listed.contains(CONFIG_FILE) {
        return Err(format!("the repository has no {CONFIG_FILE}"));
    }
    tracing::info!(model_id, endpoint = %settings.endpoint, "downloading into the Hugging Face cache");
    let fetch = |file: &str| repo.get(file).map_err(|e| format!("{file}: {e}"));
    for file in TOKENIZER_FILES.iter().filter(|f| listed.contains(**f)) {
        fetch(file)?;
    }
    if listed.contains(WEIGHTS_FILE) {
        fetch(WEIGHTS_FILE)?;
    } else if listed.contains(INDEX_FILE) {
        let index = fetch(INDEX_FILE)?;
        // shard_files refuses names that would leave the snapshot (absolute, `..`).
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
