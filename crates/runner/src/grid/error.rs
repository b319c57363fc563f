//! The one error type of grid loading: always names the file, and where known the key and its
//! position, so that a user can go straight to the mistake.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct GridError {
    pub file: PathBuf,
    /// Dotted key path, e.g. `train.optimizer.lr` or `losses.ce-st.dml.0.loss.la`.
    pub key: Option<String>,
    /// 1-based line and column of the key in the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl GridError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            key: None,
            position: None,
            message: message.into(),
        }
    }

    pub fn at_key(mut self, key: impl Into<String>, position: Option<(usize, usize)>) -> Self {
        self.key = Some(key.into());
        self.position = position;
        self
    }
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for GridError {}
