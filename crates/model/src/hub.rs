//! Turning a model `source` into a checkpoint folder: a local folder as is, or a Hugging Face
//! model id looked up in the standard Hugging Face cache
//! (`<cache>/models--<org>--<name>/refs/main` -> `snapshots/<revision>/`) and, with the `hub`
//! feature and a network, downloaded into that cache.

use std::path::{Path, PathBuf};

use crate::checkpoint::{CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE};
use crate::error::ModelError;

/// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub` (as huggingface_hub decides it).
pub fn hf_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("huggingface").join("hub")
}

/// `org/name` -> `models--org--name`.
pub(crate) fn cache_folder_name(model_id: &str) -> String {
    format!("models--{}", model_id.replace('/', "--"))
}

fn has_weights(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file()
        && (dir.join(WEIGHTS_FILE).is_file() || dir.join(INDEX_FILE).is_file())
}

/// The cached snapshot of `model_id` that `refs/main` points to, if it holds a config and weights.
pub(crate) fn cached_snapshot(cache: &Path, model_id: &str) -> Option<PathBuf> {
    let repo = cache.join(cache_folder_name(model_id));
    let revision = std::fs::read_to_string(repo.join("refs").join("main")).ok()?;
    let snapshot = repo.join("snapshots").join(revision.trim());
    has_weights(&snapshot).then_some(snapshot)
}

/// A source that cannot be a Hugging Face id (`org/name` or `name`) is meant as a path.
fn looks_like_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
        || source.contains('\\')
        || source.matches('/').count() > 1
        || source.is_empty()
}

/// `HF_HUB_OFFLINE` is set (to anything but empty or 0), as huggingface_hub reads it.
pub fn hub_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether [`resolve_source`] downloads a model missing from the cache: the `hub` feature is
/// compiled in and the Hub is not switched off.
pub fn downloads_enabled() -> bool {
    cfg!(feature = "hub") && !hub_offline()
}

/// Resolves `source` with the environment's cache and, unless `HF_HUB_OFFLINE` is set, the Hub.
pub fn resolve_source(source: &str) -> Result<PathBuf, ModelError> {
    resolve_source_in(source, &hf_cache_dir(), !hub_offline())
}

/// Resolves `source` against the cache folder `cache`; downloads into it when `allow_download`
/// and the `hub` feature is on.
pub fn resolve_source_in(
    source: &str,
    cache: &Path,
    allow_download: bool,
) -> Result<PathBuf, ModelError> {
    let as_path = Path::new(source);
    if as_path.is_dir() {
        if has_weights(as_path) {
            return Ok(as_path.to_path_buf());
        }
        return Err(ModelError::Source {
            source_name: source.into(),
            message: format!(
                "the folder exists but lacks {CONFIG_FILE} and {WEIGHTS_FILE} (or {INDEX_FILE})"
            ),
        });
    }
    if looks_like_path(source) {
        return Err(ModelError::Source {
            source_name: source.into(),
            message: "no such folder (a model source is a folder with config.json and model.safetensors, \
                      or a Hugging Face model id such as roberta-large)"
                .into(),
        });
    }
    if let Some(snapshot) = cached_snapshot(cache, source) {
        return Ok(snapshot);
    }
    let download_note = if allow_download {
        match download(source, cache) {
            Ok(dir) => return Ok(dir),
            Err(why) => format!("; downloading it failed: {why}"),
        }
    } else {
        "; downloading is off (HF_HUB_OFFLINE or no `hub` feature)".to_string()
    };
    let repo = cache.join(cache_folder_name(source));
    Err(ModelError::Source {
        source_name: source.into(),
        message: format!(
            "not a local folder and not in the Hugging Face cache (looked for {}){download_note}. \
             Either give the path of a folder holding config.json and model.safetensors as the \
             source, or run `huggingface-cli download {source}` on a machine with internet access \
             and copy {} into this cache (or set HF_HOME / HF_HUB_CACHE to where it is).",
            repo.join("refs").join("main").display(),
            repo.display()
        ),
    })
}

/// Tokenizer files of both families: fetched besides the weights when present, and copied next
/// to a saved fine-tuned model so the folder is complete.
pub const TOKENIZER_FILES: &[&str] = &[
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
];

#[cfg(feature = "hub")]
fn download(model_id: &str, cache: &Path) -> Result<PathBuf, String> {
    use hf_hub::api::sync::ApiBuilder;
    use hf_hub::Cache;

    let api = ApiBuilder::from_cache(Cache::new(cache.to_path_buf()))
        .with_progress(false)
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(model_id.to_string());
    let config = repo.get(CONFIG_FILE).map_err(|e| e.to_string())?;
    if repo.get(WEIGHTS_FILE).is_err() {
        let index = repo
            .get(INDEX_FILE)
            .map_err(|e| format!("no {WEIGHTS_FILE} and no {INDEX_FILE}: {e}"))?;
        let text = std::fs::read_to_string(&index).map_err(|e| e.to_string())?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let mut shards: Vec<&str> = value
            .get("weight_map")
            .and_then(|m| m.as_object())
            .map(|m| m.values().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        shards.sort_unstable();
        shards.dedup();
        for shard in shards {
            repo.get(shard).map_err(|e| format!("{shard}: {e}"))?;
        }
    }
    for file in TOKENIZER_FILES {
        // Tokenizer files differ between families; absent ones are fine.
        let _ = repo.get(file);
    }
    tracing::info!(model_id, "downloaded into the Hugging Face cache");
    config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "downloaded config.json has no parent folder".into())
}

#[cfg(not(feature = "hub"))]
fn download(_model_id: &str, _cache: &Path) -> Result<PathBuf, String> {
    Err("this build has no `hub` feature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay_out_cache(cache: &Path, model_id: &str, revision: &str, with_weights: bool) -> PathBuf {
        let repo = cache.join(cache_folder_name(model_id));
        let snapshot = repo.join("snapshots").join(revision);
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), format!("{revision}\n")).unwrap();
        std::fs::write(snapshot.join(CONFIG_FILE), "{}").unwrap();
        if with_weights {
            std::fs::write(snapshot.join(WEIGHTS_FILE), "").unwrap();
        }
        snapshot
    }

    #[test]
    fn finds_the_snapshot_that_refs_main_names() {
        let cache = tempfile::tempdir().unwrap();
        lay_out_cache(cache.path(), "FacebookAI/roberta-large", "0000old", true);
        let snapshot = lay_out_cache(cache.path(), "FacebookAI/roberta-large", "abc123", true);
        let found = resolve_source_in("FacebookAI/roberta-large", cache.path(), false).unwrap();
        assert_eq!(found, snapshot);
        let plain = lay_out_cache(cache.path(), "roberta-base", "def456", true);
        assert_eq!(
            resolve_source_in("roberta-base", cache.path(), false).unwrap(),
            plain
        );
    }

    #[test]
    fn incomplete_snapshot_or_empty_cache_gives_instructions() {
        let cache = tempfile::tempdir().unwrap();
        lay_out_cache(cache.path(), "roberta-large", "abc123", false);
        let msg = resolve_source_in("roberta-large", cache.path(), false)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("models--roberta-large"), "{msg}");
        assert!(
            msg.contains("huggingface-cli download roberta-large"),
            "{msg}"
        );
        assert!(
            msg.contains("folder holding config.json and model.safetensors"),
            "{msg}"
        );
    }

    #[test]
    fn local_folder_wins_and_missing_path_is_named() {
        let cache = tempfile::tempdir().unwrap();
        let local = lay_out_cache(cache.path(), "x", "r1", true);
        let local_str = local.to_str().unwrap();
        assert_eq!(
            resolve_source_in(local_str, cache.path(), false).unwrap(),
            local
        );
        let msg = resolve_source_in("./no/such/model", cache.path(), true)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("no such folder") && msg.contains("./no/such/model"),
            "{msg}"
        );
    }
}
