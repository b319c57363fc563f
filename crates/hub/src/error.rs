//! The one error type of this crate. Every variant names the URL or the cache path at fault, so
//! that a user can tell a hostile or broken server from a local problem.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The connection failed, stalled past the read timeout, or broke off.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },

    /// The server answered with an error status.
    #[error("{url}: the server answered {status}{detail}")]
    Status {
        url: String,
        status: u16,
        /// `: <the server's message>` or empty.
        detail: String,
    },

    /// A reply that this client refuses to act on (a header that would become a path, a
    /// redirect loop, a size that does not add up).
    #[error("{url}: {what} {value:?} refused: {valid}")]
    Refused {
        url: String,
        what: String,
        value: String,
        valid: String,
    },

    /// The content does not hash to the etag the server announced; nothing was kept.
    #[error("{file}: the downloaded file ({size} bytes) has {algorithm} {actual}, but the Hub announced {expected} (a truncated, overlong or corrupted transfer); it was removed from the cache, run again to download it anew")]
    Mismatch {
        file: String,
        size: u64,
        algorithm: &'static str,
        actual: String,
        expected: String,
    },

    /// Not enough room for a file, checked before a byte is written.
    #[error("{file}: needs {needed} more bytes but {folder} has {available} free; free some space or set HF_HUB_CACHE to a larger disk")]
    NoSpace {
        file: String,
        needed: u64,
        available: u64,
        folder: PathBuf,
    },

    /// A caller's argument (a repository id or file name) that cannot be used.
    #[error("{what} {value:?} is not valid: {valid}")]
    InvalidArgument {
        what: String,
        value: String,
        valid: String,
    },

    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl HubError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HubError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn refused(
        url: &str,
        what: &str,
        value: impl Into<String>,
        valid: impl Into<String>,
    ) -> Self {
        HubError::Refused {
            url: url.to_string(),
            what: what.to_string(),
            value: value.into(),
            valid: valid.into(),
        }
    }

    /// Worth another attempt: a broken or stalled connection, or a server-side hiccup
    /// (5xx, 429). Everything else fails the same way again.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            HubError::Transport { .. } => true,
            HubError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
