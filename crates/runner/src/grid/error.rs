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
    /// One line: control characters of the file name, key or message (a key can hold a line
    /// break) are written as escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", printable(&self.file.display().to_string()))?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{}`", printable(key))?;
        }
        write!(f, ": {}", printable(&self.message))
    }
}

/// `text` with every control character escaped (`\n`, `\u{1b}`).
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl std::error::Error for GridError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_line_whatever_the_key_holds() {
        let e =
            GridError::new("g\n.toml", "bad \u{1b}[31mvalue\r").at_key("losses.a\nb", Some((3, 1)));
        assert_eq!(
            e.to_string(),
            "g\\n.toml:3:1: key `losses.a\\nb`: bad \\u{1b}[31mvalue\\r"
        );
    }
}
