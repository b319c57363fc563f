//! User datasets in CSV, TSV or JSONL: a text column, an optional second-text column and a label
//! column, with a train file and an optional test file.
//!
//! - CSV: RFC 4180 (header row, `"` quoting, `,` separator), every record as wide as the header.
//! - TSV: header row, TAB separator, **no quoting** (a `"` is an ordinary character, as in MRPC or
//!   SST files); every record as wide as the header.
//! - JSONL: one JSON object per line; blank lines are skipped. Text values must be strings; a
//!   label may be a string, an integer or a boolean (used by its JSON text: `1`, `true`).
//!
//! Texts are kept exactly as in the file (no trimming). Labels are the distinct label values of
//! train and test together, **sorted**: numerically when every value is an integer (`2` before
//! `10`), else by byte order of the strings. So a label's id does not depend on the order of the
//! rows. A dataset's `labels` list fixes the ids instead (label `i` is `labels[i]`; a value not
//! in it is an error naming its line). A file that is empty (no example) is an error.

use crate::error::DataError;
use crate::example::Example;
use crate::spec::{CustomDatasetSpec, FileFormat};
use crate::task::{Task, TEST, TRAIN};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The columns (CSV/TSV) or keys (JSONL) to read; no label column for texts to classify.
struct Columns<'a> {
    text: &'a str,
    text_pair: Option<&'a str>,
    label: Option<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(spec: &'a CustomDatasetSpec) -> Self {
        Self {
            text: &spec.text_column,
            text_pair: spec.text_pair_column.as_deref(),
            label: Some(&spec.label_column),
        }
    }
}

/// One parsed row before labels get their ids.
struct RawRow {
    text: String,
    text_pair: Option<String>,
    label: String,
    /// Its line in the file (1-based), for errors.
    line: usize,
}

/// Loads a custom dataset; relative paths are joined to `data_root`.
pub fn load_custom(spec: &CustomDatasetSpec, data_root: &Path) -> Result<Task, DataError> {
    spec.validate()?;
    let mut raw_splits = Vec::new();
    for (split, path) in custom_files(spec, data_root) {
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        let rows = read_rows(&path, &bytes, spec.format, &Columns::of(spec))?;
        if rows.is_empty() {
            return Err(DataError::EmptyFile { path });
        }
        if let Some(labels) = &spec.labels {
            if let Some(row) = rows.iter().find(|row| !labels.contains(&row.label)) {
                return Err(DataError::UnknownLabel {
                    path,
                    line: row.line,
                    value: row.label.clone(),
                    valid: labels.clone(),
                });
            }
        }
        raw_splits.push((split, rows));
    }
    let label_names = match &spec.labels {
        Some(labels) => labels.clone(),
        None => sorted_labels(raw_splits.iter().flat_map(|(_, rows)| rows.iter())),
    };
    let mut splits = BTreeMap::new();
    for (split, rows) in raw_splits {
        let examples = rows
            .into_iter()
            .map(|row| Example {
                label: label_names
                    .iter()
                    .position(|name| *name == row.label)
                    .expect("every label value was collected into label_names"),
                text: row.text,
                text_pair: row.text_pair,
            })
            .collect();
        splits.insert(split.to_string(), examples);
    }
    Ok(Task {
        name: spec.name.clone(),
        label_names,
        splits,
    })
}

/// Texts to classify from a CSV, TSV or JSONL file's `bytes` (read from `path`, or from stdin
/// with a name such as `<stdin>` in `path` for messages), read exactly as [`load_custom`] reads
/// a dataset file but without a label column. Each example gets label 0. No text is an error.
pub fn read_texts(
    path: &Path,
    bytes: &[u8],
    format: FileFormat,
    text_column: &str,
    text_pair_column: Option<&str>,
) -> Result<Vec<Example>, DataError> {
    let columns = Columns {
        text: text_column,
        text_pair: text_pair_column,
        label: None,
    };
    let rows = read_rows(path, bytes, format, &columns)?;
    if rows.is_empty() {
        return Err(DataError::EmptyDataset {
            name: path.display().to_string(),
            what: "no text to classify".into(),
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| Example {
            text: row.text,
            text_pair: row.text_pair,
            label: 0,
        })
        .collect())
}

fn read_rows(
    path: &Path,
    bytes: &[u8],
    format: FileFormat,
    columns: &Columns<'_>,
) -> Result<Vec<RawRow>, DataError> {
    match format {
        FileFormat::Csv => read_delimited(path, bytes, columns, b',', true),
        FileFormat::Tsv => read_delimited(path, bytes, columns, b'\t', false),
        FileFormat::Jsonl => read_jsonl(path, bytes, columns),
    }
}

/// The files a custom dataset reads: `("train", path)` and `("test", path)` when it has one.
pub fn custom_files(spec: &CustomDatasetSpec, data_root: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut files = vec![(TRAIN, resolve(&spec.train, data_root))];
    if let Some(test) = &spec.test {
        files.push((TEST, resolve(test, data_root)));
    }
    files
}

fn resolve(path: &Path, data_root: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        data_root.join(path)
    }
}

/// Distinct label values, numerically sorted when all are integers, else sorted as strings.
fn sorted_labels<'a>(rows: impl Iterator<Item = &'a RawRow>) -> Vec<String> {
    let distinct: BTreeSet<&str> = rows.map(|row| row.label.as_str()).collect();
    let mut labels: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    let numbers: Option<Vec<i128>> = labels.iter().map(|l| l.parse::<i128>().ok()).collect();
    if let Some(numbers) = numbers {
        let mut pairs: Vec<(i128, String)> = numbers.into_iter().zip(labels).collect();
        pairs.sort();
        labels = pairs.into_iter().map(|(_, label)| label).collect();
    }
    labels
}

fn read_delimited(
    path: &Path,
    bytes: &[u8],
    columns: &Columns<'_>,
    delimiter: u8,
    quoting: bool,
) -> Result<Vec<RawRow>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let column = |key: &str| -> Result<usize, DataError> {
        headers
            .iter()
            .position(|h| h == key)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                line: 1,
                key: key.to_string(),
                available: headers.clone(),
            })
    };
    let text_col = column(columns.text)?;
    let pair_col = columns.text_pair.map(column).transpose()?;
    let label_col = columns.label.map(column).transpose()?;

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let field = |i: usize| record.get(i).unwrap_or_default().to_string();
        let label = label_col.map(field).unwrap_or_default();
        if let (Some(key), true) = (columns.label, label.trim().is_empty()) {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                line,
                expected: format!("a non-empty label in column {key:?}"),
                found: label,
            });
        }
        rows.push(RawRow {
            text: field(text_col),
            text_pair: pair_col.map(field),
            label,
            line,
        });
    }
    Ok(rows)
}

fn csv_error(path: &Path, error: csv::Error) -> DataError {
    let line = error.position().map_or(0, |p| p.line() as usize);
    match error.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => DataError::Encoding {
            path: path.to_path_buf(),
            line: pos.as_ref().map_or(line, |p| p.line() as usize),
        },
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DataError::Malformed {
            path: path.to_path_buf(),
            line: pos.as_ref().map_or(line, |p| p.line() as usize),
            expected: format!("{expected_len} fields, as in the header"),
            found: format!("{len} fields"),
        },
        _ => DataError::Malformed {
            path: path.to_path_buf(),
            line,
            expected: "a well-formed record".into(),
            found: error.to_string(),
        },
    }
}

fn read_jsonl(path: &Path, bytes: &[u8], columns: &Columns<'_>) -> Result<Vec<RawRow>, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let bad_at = e.valid_up_to();
        DataError::Encoding {
            path: path.to_path_buf(),
            line: 1 + bytes[..bad_at].iter().filter(|&&b| b == b'\n').count(),
        }
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let malformed = |line: usize, expected: String, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        line,
        expected,
        found,
    };
    let mut rows = Vec::new();
    for (index, raw_line) in crate::senteval::split_lines(text).into_iter().enumerate() {
        let line = index + 1;
        if raw_line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw_line)
            .map_err(|e| malformed(line, "a JSON object".into(), e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| malformed(line, "a JSON object".into(), raw_line.to_string()))?;
        let get = |key: &str| {
            object.get(key).ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                line,
                key: key.to_string(),
                available: object.keys().cloned().collect(),
            })
        };
        let string = |key: &str| -> Result<String, DataError> {
            match get(key)? {
                serde_json::Value::String(s) => Ok(s.clone()),
                other => Err(malformed(
                    line,
                    format!("a string for key {key:?}"),
                    other.to_string(),
                )),
            }
        };
        let label = match columns.label {
            None => String::new(),
            Some(key) => match get(key)? {
                serde_json::Value::String(s) if !s.trim().is_empty() => s.clone(),
                serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(malformed(
                        line,
                        format!("a non-empty string, an integer or a boolean for key {key:?}"),
                        other.to_string(),
                    ))
                }
            },
        };
        rows.push(RawRow {
            text: string(columns.text)?,
            text_pair: columns.text_pair.map(string).transpose()?,
            label,
            line,
        });
    }
    Ok(rows)
}
