//! Where the Hub and its cache are, as huggingface_hub reads the environment. dmlft-data uses
//! it for datasets; dmlft-model's `HubSettings` reads the same variables for models.

use std::path::PathBuf;
use std::time::Duration;

/// The Hub's address when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Connect and read timeout when `HF_HUB_DOWNLOAD_TIMEOUT` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings of one process, from its environment.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvSettings {
    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    pub cache: PathBuf,
    /// `$HF_ENDPOINT` (a mirror), else [`DEFAULT_ENDPOINT`].
    pub endpoint: String,
    /// `HF_HUB_OFFLINE` set (not `0`): nothing is asked of the server; the cache only.
    pub offline: bool,
    /// `$HF_TOKEN`, else the token file of `$HF_HOME` (sent to the endpoint's host only).
    pub token: Option<String>,
    /// `$HF_HUB_DOWNLOAD_TIMEOUT` seconds, else [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
}

/// The token is never printed.
impl std::fmt::Debug for EnvSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvSettings")
            .field("cache", &self.cache)
            .field("endpoint", &self.endpoint)
            .field("offline", &self.offline)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl EnvSettings {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".cache")
                .join("huggingface")
        };
        let hf_home = var("HF_HOME").map(PathBuf::from);
        let cache = var("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| hf_home.as_ref().map(|h| h.join("hub")))
            .unwrap_or_else(|| home().join("hub"));
        let token = var("HF_TOKEN").map(|t| t.trim().to_string()).or_else(|| {
            let file = hf_home.clone().unwrap_or_else(home).join("token");
            let token = std::fs::read_to_string(file).ok()?;
            Some(token.trim().to_string()).filter(|t| !t.is_empty())
        });
        EnvSettings {
            cache,
            endpoint: var("HF_ENDPOINT")
                .map(|e| e.trim().trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| v.trim() != "0"),
            token,
            timeout: var("HF_HUB_DOWNLOAD_TIMEOUT")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_TIMEOUT),
        }
    }
}
