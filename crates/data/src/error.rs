//! The one error type of this crate. Every variant names what the user has to fix: the file, the
//! line, the key or value, and what would have been valid.

use std::path::PathBuf;

/// Everything that can go wrong while loading, sampling, tokenizing or verifying data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("dataset folder not found: {path} ({hint})")]
    MissingDir { path: PathBuf, hint: String },

    #[error("data file not found: {path}")]
    MissingFile { path: PathBuf },

    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}:{line}: malformed line: expected {expected}, found {found:?}")]
    Malformed {
        path: PathBuf,
        line: usize,
        expected: String,
        found: String,
    },

    #[error("{path}:{line}: unknown label {value:?}; valid labels: {}", valid.join(", "))]
    UnknownLabel {
        path: PathBuf,
        line: usize,
        value: String,
        valid: Vec<String>,
    },

    #[error(
        "{path}:{line}: missing column or key {key:?}{}",
        available_suffix(available)
    )]
    MissingColumn {
        path: PathBuf,
        line: usize,
        key: String,
        available: Vec<String>,
    },

    /// A Parquet file's column that is missing or holds the wrong values.
    #[error("{path}: column {column:?}: {problem}")]
    Column {
        path: PathBuf,
        column: String,
        problem: String,
    },

    #[error("{path}: not a readable Parquet file: {message}")]
    Parquet { path: PathBuf, message: String },

    /// A Hugging Face dataset's files: not found in its folder or repository, or not fetched.
    #[error("dataset {name:?}: {message}")]
    HfFiles { name: String, message: String },

    #[error("{path}:{line}: text is not valid UTF-8 (this format is read as UTF-8)")]
    Encoding { path: PathBuf, line: usize },

    #[error("data file {path} is empty: it holds no example")]
    EmptyFile { path: PathBuf },

    #[error("dataset {name:?} is empty ({what})")]
    EmptyDataset { name: String, what: String },

    #[error("cannot draw {requested} examples of class {class:?}: it has only {size} {context}")]
    ClassTooSmall {
        class: String,
        size: usize,
        requested: usize,
        context: String,
    },

    #[error("cannot draw {requested} examples: {context} holds only {size}")]
    PoolTooSmall {
        requested: usize,
        size: usize,
        context: String,
    },

    #[error("invalid few-shot request: {0}")]
    InvalidRequest(String),

    /// A [`crate::spec::SplitRequest`] field outside its valid range (from `validate`); `field`
    /// is the grid key (`shots`, `protocol.folds`).
    #[error("invalid value {value} for `{field}`: must be {valid}")]
    InvalidSetting {
        field: String,
        value: String,
        valid: String,
    },

    #[error("unknown task {value:?}; valid tasks: {}", valid.join(", "))]
    UnknownTask { value: String, valid: Vec<String> },

    #[error("{path}: sha256 is {actual}, expected {expected} ({what})")]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
        what: String,
    },

    #[error("tokenizer in {dir}: {message}")]
    Tokenizer { dir: PathBuf, message: String },
}

fn available_suffix(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!("; available: {}", available.join(", "))
    }
}

impl DataError {
    /// Wraps an I/O error with the path it concerns; a missing file gets its own variant.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::MissingFile { path }
        } else {
            DataError::Io { path, source }
        }
    }
}
