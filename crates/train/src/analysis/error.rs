//! Errors of the analyses. Each names what was wrong and what would be valid.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Train(#[from] crate::error::TrainError),
    #[error(transparent)]
    Data(#[from] dmlft_data::error::DataError),
    #[error(transparent)]
    Model(#[from] dmlft_model::error::ModelError),
    #[error(transparent)]
    Embedding(#[from] dmlft_eval::embeddings::EmbeddingError),
    #[error(transparent)]
    Plot(#[from] dmlft_eval::plots::PlotError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    BadModelDir { file: PathBuf, message: String },
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
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub fn setting(key: &str, value: impl ToString, valid: impl Into<String>) -> Self {
        Self::InvalidSetting {
            key: key.into(),
            value: value.to_string(),
            valid: valid.into(),
        }
    }
}
