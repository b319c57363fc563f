//! Turning a model `source` into a checkpoint folder: a local folder as is, or a Hugging Face
//! model id looked up in the standard Hugging Face cache
//! (`<cache>/models--<org>--<name>/refs/main` -> `snapshots/<revision>/`) and, with the `hub`
//! feature and a network, downloaded into that cache (`crate::hub_download`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checkpoint::{shard_files, CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE};
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

/// The Hub's address when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The Hub's address: `$HF_ENDPOINT` (as huggingface_hub reads it, e.g. a mirror), else
/// [`DEFAULT_ENDPOINT`].
pub fn hf_endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.trim().trim_end_matches('/').to_string())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// Connect and read timeout of Hub requests when `HF_HUB_DOWNLOAD_TIMEOUT` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where model ids are looked up and fetched from.
#[derive(Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// The Hugging Face cache folder (`.../hub`).
    pub cache: PathBuf,
    /// The Hub's address (`https://huggingface.co` or a mirror).
    pub endpoint: String,
    /// Download what the cache lacks (needs the `hub` feature).
    pub allow_download: bool,
    /// Bearer token for gated or private repositories (sent to the endpoint's host only).
    pub token: Option<String>,
    /// Connect and read timeout of each request (a stalled server fails instead of hanging).
    pub timeout: Duration,
}

impl HubSettings {
    /// `HF_HUB_CACHE` / `HF_HOME`, `HF_ENDPOINT`, `HF_TOKEN` (else the `token` file of
    /// `HF_HOME`), `HF_HUB_DOWNLOAD_TIMEOUT` (seconds), as huggingface_hub reads them; no download
    /// when `HF_HUB_OFFLINE` is set.
    pub fn from_env() -> Self {
        let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0");
        let timeout = std::env::var("HF_HUB_DOWNLOAD_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_TIMEOUT);
        HubSettings {
            cache: hf_cache_dir(),
            endpoint: hf_endpoint(),
            allow_download: !offline,
            token: hf_token(),
            timeout,
        }
    }

    /// Whether a missing model would be downloaded: allowed and built with the `hub` feature.
    pub fn downloads(&self) -> bool {
        self.allow_download && cfg!(feature = "hub")
    }
}

/// The token is never printed.
impl std::fmt::Debug for HubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSettings")
            .field("cache", &self.cache)
            .field("endpoint", &self.endpoint)
            .field("allow_download", &self.allow_download)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `$HF_TOKEN`, else the token file `huggingface-cli login` writes (`$HF_HOME/token`).
fn hf_token() -> Option<String> {
    if let Some(token) = std::env::var("HF_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Some(token.trim().to_string());
    }
    let home = std::env::var_os("HF_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache").join("huggingface")
        });
    let token = std::fs::read_to_string(home.join("token")).ok()?;
    Some(token.trim().to_string()).filter(|t| !t.is_empty())
}

/// `org/name` -> `models--org--name`.
pub fn cache_folder_name(model_id: &str) -> String {
    format!("models--{}", model_id.replace('/', "--"))
}

/// Whether `dir` holds a whole checkpoint: `config.json` and `model.safetensors`, or the shard
/// index and every shard it names. A download that stopped half way is therefore never taken
/// for a checkpoint (symlinks to missing blobs count as missing).
pub fn is_complete(dir: &Path) -> bool {
    if !dir.join(CONFIG_FILE).is_file() {
        return false;
    }
    if dir.join(WEIGHTS_FILE).is_file() {
        return true;
    }
    let index = dir.join(INDEX_FILE);
    index.is_file()
        && shard_files(&index, dir).is_ok_and(|shards| shards.iter().all(|s| s.is_file()))
}

/// The cached snapshot of `model_id` that `refs/main` points to, if it holds a whole checkpoint.
pub fn cached_snapshot(cache: &Path, model_id: &str) -> Option<PathBuf> {
    let repo = cache.join(cache_folder_name(model_id));
    let revision = std::fs::read_to_string(repo.join("refs").join("main")).ok()?;
    let revision = revision.trim();
    // A commit id names the folder; anything else (`/abs`, `../x`) is not followed.
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let snapshot = repo.join("snapshots").join(revision);
    is_complete(&snapshot).then_some(snapshot)
}

/// A source that cannot be a Hugging Face id (`org/name` or `name`) is meant as a path.
fn looks_like_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
        || source.contains('\\')
        || source.matches('/').count() > 1
        || source.is_empty()
}

/// Whether a missing model would be downloaded, as the environment says (`HF_HUB_OFFLINE`) and
/// the build allows (the `hub` feature).
pub fn downloads_enabled() -> bool {
    HubSettings::from_env().downloads()
}

/// Resolves `source` with the environment's cache, endpoint and offline setting.
pub fn resolve_source(source: &str) -> Result<PathBuf, ModelError> {
    resolve_source_with(source, &HubSettings::from_env())
}

/// Resolves `source` against the cache folder `cache`; downloads into it (from the environment's
/// endpoint) when `allow_download` and the `hub` feature is on.
pub fn resolve_source_in(
    source: &str,
    cache: &Path,
    allow_download: bool,
) -> Result<PathBuf, ModelError> {
    let settings = HubSettings {
        cache: cache.to_path_buf(),
        allow_download,
        ..HubSettings::from_env()
    };
    resolve_source_with(source, &settings)
}

/// Resolves a model `source`: a local checkpoint folder as it is; else a Hugging Face model id,
/// from the cache, or downloaded into it.
pub fn resolve_source_with(source: &str, settings: &HubSettings) -> Result<PathBuf, ModelError> {
    let as_path = Path::new(source);
    if as_path.is_dir() {
        if is_complete(as_path) {
            return Ok(as_path.to_path_buf());
        }
        return Err(ModelError::Source {
            source_name: source.into(),
            message: format!(
                "the folder exists but lacks {CONFIG_FILE} and {WEIGHTS_FILE} (or {INDEX_FILE} \
                 and all its shards)"
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
    let cache = &settings.cache;
    if let Some(snapshot) = cached_snapshot(cache, source) {
        return Ok(snapshot);
    }
    let download_note = if settings.allow_download {
        match download(source, settings) {
            Ok(dir) => return Ok(dir),
            Err(why) => format!("; downloading it from {} failed: {why}", settings.endpoint),
        }
    } else {
        "; downloading is off (HF_HUB_OFFLINE or no `hub` feature)".to_string()
    };
    let repo = cache.join(cache_folder_name(source));
    Err(ModelError::Source {
        source_name: source.into(),
        message: format!(
            "{}{download_note}. Either give the path of a folder holding config.json and \
             model.safetensors as the source, or run `huggingface-cli download {source}` on a \
             machine with internet access and copy {} into this cache (or set HF_HOME / \
             HF_HUB_CACHE to where it is).",
            not_found(source, cache),
            repo.display()
        ),
    })
}

/// Where a source that resolved to nothing was looked for: the folder of that name (relative
/// names are taken from the current directory, which the user may not have meant) and the Hub
/// cache entry of the id.
pub fn not_found(source: &str, cache: &Path) -> String {
    let folder = std::env::current_dir()
        .map(|cwd| cwd.join(source))
        .unwrap_or_else(|_| PathBuf::from(source));
    let repo = cache.join(cache_folder_name(source));
    format!(
        "not a local folder (no {}) and not in the Hugging Face cache (looked for {})",
        folder.display(),
        repo.join("refs").join("main").display()
    )
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
fn download(model_id: &str, settings: &HubSettings) -> Result<PathBuf, String> {
    crate::hub_download::download(model_id, settings)
}

#[cfg(not(feature = "hub"))]
fn download(_model_id: &str, _settings: &HubSettings) -> Result<PathBuf, String> {
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
    fn a_sharded_snapshot_is_complete_only_with_every_shard() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(CONFIG_FILE), "{}").unwrap();
        let index = r#"{"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}}"#;
        std::fs::write(d.join(INDEX_FILE), index).unwrap();
        std::fs::write(d.join("a.safetensors"), "").unwrap();
        assert!(!is_complete(d));
        // a link to a blob that is not there (a removed or never finished download)
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("missing-blob"), d.join("b.safetensors")).unwrap();
            assert!(!is_complete(d));
            std::fs::remove_file(d.join("b.safetensors")).unwrap();
        }
        std::fs::write(d.join("b.safetensors"), "").unwrap();
        assert!(is_complete(d));
        std::fs::remove_file(d.join(CONFIG_FILE)).unwrap();
        assert!(!is_complete(d));
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
