//! Reading SentEval files the way SentEval's Python does: decode with the file's encoding, then
//! split into lines. Kept in one place so every loader counts lines identically.

use crate::error::DataError;
use std::path::Path;

/// How SentEval opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `io.open(..., encoding='latin-1')`: every byte is one char U+0000..U+00FF (never fails).
    Latin1,
    /// `io.open(..., encoding='utf-8')`: strict; a BOM is NOT removed (Python's `utf-8` codec keeps it).
    Utf8,
}

/// A decoded file and its path, for error messages.
pub(crate) struct TextFile<'p> {
    pub path: &'p Path,
    pub text: String,
}

impl<'p> TextFile<'p> {
    pub(crate) fn read(path: &'p Path, encoding: Encoding) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let text = match encoding {
            Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            Encoding::Utf8 => String::from_utf8(bytes).map_err(|e| {
                let bad_at = e.utf8_error().valid_up_to();
                let line = 1 + e.as_bytes()[..bad_at]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                DataError::Encoding {
                    path: path.to_path_buf(),
                    line,
                }
            })?,
        };
        Ok(TextFile { path, text })
    }

    /// Lines with their 1-based line numbers, without the `\n` terminator. Splits on `\n` and
    /// drops only the (empty) piece after a final `\n`, so blank lines inside the file and a blank
    /// last line (a file ending in `\n\n`) are kept: this is Python's `read().splitlines()` and
    /// `for line in f` on files without other line-break characters.
    pub(crate) fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        split_lines(&self.text)
            .into_iter()
            .enumerate()
            .map(|(i, line)| (i + 1, line))
    }

    pub(crate) fn malformed(&self, line: usize, expected: &str, found: &str) -> DataError {
        DataError::Malformed {
            path: self.path.to_path_buf(),
            line,
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    pub(crate) fn unknown_label(&self, line: usize, value: &str, valid: &[&str]) -> DataError {
        DataError::UnknownLabel {
            path: self.path.to_path_buf(),
            line,
            value: value.to_string(),
            valid: valid.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Splits on `\n`; the piece after the final `\n` is dropped when empty.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// Maps a label string to its id in `names` (exact match).
pub(crate) fn label_id(
    file: &TextFile<'_>,
    line: usize,
    value: &str,
    names: &[&str],
) -> Result<usize, DataError> {
    names
        .iter()
        .position(|name| *name == value)
        .ok_or_else(|| file.unknown_label(line, value, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_lines_keeps_blank_lines_and_drops_only_the_final_piece() {
        assert_eq!(split_lines("a\n\nb\n"), vec!["a", "", "b"]);
        assert_eq!(split_lines("a\n\n"), vec!["a", ""]);
        assert_eq!(split_lines("a\nb"), vec!["a", "b"]);
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("\n"), vec![""]);
    }
}
