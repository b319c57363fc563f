//! The one error type of this crate. Every variant names the file (and tensor or key) at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{file}: {message}")]
    Config { file: PathBuf, message: String },

    #[error("{file}: key `{key}`: {message}")]
    ConfigKey {
        file: PathBuf,
        key: String,
        message: String,
    },

    #[error("{file}: not a valid safetensors file: {message}")]
    Safetensors { file: PathBuf, message: String },

    #[error("{file}: missing tensor(s) {}: the checkpoint does not match its config.json (expected names like `{example}`)", names.join(", "))]
    MissingTensors {
        file: PathBuf,
        names: Vec<String>,
        example: String,
    },

    #[error("{file}: unexpected tensor(s) {}: not part of a {family} encoder with this config.json (only pooler.*, lm_head.*, cls.*, classifier.*, discriminator_predictions.*, generator_* and embeddings.position_ids may be extra)", names.join(", "))]
    UnexpectedTensors {
        file: PathBuf,
        family: String,
        names: Vec<String>,
    },

    #[error("{file}: tensor `{name}` has shape {found:?}, expected {expected:?} from config.json")]
    ShapeMismatch {
        file: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    #[error("{file}: tensor `{name}` has dtype {dtype}; only F32, F16, BF16 and F64 weights can be loaded")]
    UnsupportedDtype {
        file: PathBuf,
        name: String,
        dtype: String,
    },

    #[error("model source `{source_name}`: {message}")]
    Source {
        source_name: String,
        message: String,
    },

    #[error("{origin}: max_length {requested} is longer than the {usable} tokens this checkpoint's positions can number ({detail}); use max_length <= {usable}")]
    MaxLength {
        /// Where the config came from: its config.json, or a known architecture's name.
        origin: String,
        requested: usize,
        usable: usize,
        detail: String,
    },

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A [`crate::spec::ModelSpec`] field outside its valid range (from `validate`).
    #[error("invalid value {value} for `{field}`: must be {valid}")]
    InvalidSetting {
        field: String,
        value: String,
        valid: String,
    },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}
