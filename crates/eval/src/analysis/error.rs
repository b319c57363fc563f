//! Errors of the host-side analyses. Each names what was wrong and what would be valid.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Embedding(#[from] crate::embeddings::EmbeddingError),
    #[error(transparent)]
    Plot(#[from] crate::plots::PlotError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid setting `{key}` = {value}: {valid}")]
    InvalidSetting {
        key: String,
        value: String,
        valid: String,
    },
    #[error("nothing to analyse: {0}")]
    Empty(String),
}

impl AnalysisError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn setting(key: &str, value: impl ToString, valid: impl Into<String>) -> Self {
        Self::InvalidSetting {
            key: key.into(),
            value: value.to_string(),
            valid: valid.into(),
        }
    }
}
