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

/// The columns (CSV/TSV/Parquet) or keys (JSONL) to read; no label column for texts to classify.
pub(crate) struct Columns<'a> {
    pub(crate) text: &'a str,
    pub(crate) text_pair: Option<&'a str>,
    pub(crate) label: Option<&'a str>,
    /// A column naming each label value (Hugging Face sets' `label_text`).
    pub(crate) label_name: Option<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(spec: &'a CustomDatasetSpec) -> Self {
        Self {
            text: &spec.text_column,
            text_pair: spec.text_pair_column.as_deref(),
            label: Some(&spec.label_column),
            label_name: None,
        }
    }
}

/// One parsed row before labels get their ids.
pub(crate) struct RawRow {
    pub(crate) text: String,
    pub(crate) text_pair: Option<String>,
    pub(crate) label: String,
    pub(crate) label_name: Option<String>,
    /// Its line in the file (1-based; the row for Parquet), for errors.
    pub(crate) line: usize,
}

/// What [`load_files`] reads: every file of each split, and how.
pub(crate) struct FileSet<'a> {
    pub(crate) name: &'a str,
    /// `(split, files)` in reading order; a split's files are concatenated.
    pub(crate) splits: Vec<(String, Vec<(PathBuf, FileFormat)>)>,
    pub(crate) columns: Columns<'a>,
    /// Fixed label values in id order.
    pub(crate) labels: Option<&'a [String]>,
}

/// Loads a custom dataset; relative paths are joined to `data_root`.
pub fn load_custom(spec: &CustomDatasetSpec, data_root: &Path) -> Result<Task, DataError> {
    spec.validate()?;
    load_files(FileSet {
        name: &spec.name,
        splits: custom_files(spec, data_root)
            .into_iter()
            .map(|(split, path)| (split.to_string(), vec![(path, spec.format)]))
            .collect(),
        columns: Columns::of(spec),
        labels: spec.labels.as_deref(),
    })
}

/// The one reader behind custom and Hugging Face datasets: rows of every file, label ids
/// (fixed list, else a Parquet `ClassLabel`'s names, else the sorted values), names.
pub(crate) fn load_files(set: FileSet<'_>) -> Result<Task, DataError> {
    let mut raw_splits = Vec::new();
    // The ClassLabel names of the first Parquet file that has them, and that file.
    let mut class_names: Option<(Vec<String>, PathBuf)> = None;
    for (split, files) in &set.splits {
        let mut split_rows = Vec::new();
        for (path, format) in files {
            let rows = if *format == FileFormat::Parquet {
                let (rows, names) = crate::parquet_file::read_parquet(path, &set.columns)?;
                match (&class_names, names) {
                    (None, Some(names)) => class_names = Some((names, path.clone())),
                    (Some((seen, first)), Some(names)) if *seen != names => {
                        return Err(DataError::Column {
                            path: path.clone(),
                            column: set.columns.label.unwrap_or_default().to_string(),
                            problem: format!(
                                "its ClassLabel names differ from those of {}",
                                first.display()
                            ),
                        })
                    }
                    _ => {}
                }
                rows
            } else {
                let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
                read_rows(path, &bytes, *format, &set.columns)?
            };
            if let Some(labels) = set.labels {
                if let Some(row) = rows.iter().find(|row| !labels.contains(&row.label)) {
                    return Err(DataError::UnknownLabel {
                        path: path.clone(),
                        line: row.line,
                        value: row.label.clone(),
                        valid: labels.to_vec(),
                    });
                }
            }
            split_rows.extend(rows.into_iter().map(|row| (row, path)));
        }
        if split_rows.is_empty() {
            let path = files.first().map(|(p, _)| p.clone()).unwrap_or_default();
            return Err(DataError::EmptyFile { path });
        }
        raw_splits.push((split.clone(), split_rows));
    }
    let label_values = match (set.labels, class_names) {
        (Some(labels), _) => labels.to_vec(),
        (None, Some((names, _))) => names,
        (None, None) => sorted_labels(
            raw_splits
                .iter()
                .flat_map(|(_, rows)| rows.iter().map(|(row, _)| row)),
        ),
    };
    let mut label_names = label_values.clone();
    if let Some(column) = set.columns.label_name {
        // Each value's name, the same wherever the value occurs.
        let mut named: Vec<Option<(String, &Path, usize)>> = vec![None; label_values.len()];
        for (row, path) in raw_splits.iter().flat_map(|(_, rows)| rows) {
            let id = label_id(&label_values, row, path)?;
            let name = row.label_name.clone().unwrap_or_default();
            match &named[id] {
                None => named[id] = Some((name, path, row.line)),
                Some((seen, at, line)) if *seen != name => {
                    return Err(DataError::Column {
                        path: path.to_path_buf(),
                        column: column.to_string(),
                        problem: format!(
                            "row {}: label {:?} is named {name:?}, but {seen:?} at {}:{line}",
                            row.line,
                            row.label,
                            at.display()
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        for (slot, seen) in label_names.iter_mut().zip(named) {
            if let Some((name, _, _)) = seen {
                *slot = name;
            }
        }
    }
    let mut splits = BTreeMap::new();
    for (split, rows) in raw_splits {
        let mut examples = Vec::with_capacity(rows.len());
        for (row, path) in rows {
            examples.push(Example {
                label: label_id(&label_values, &row, path)?,
                text: row.text,
                text_pair: row.text_pair,
            });
        }
        splits.insert(split, examples);
    }
    Ok(Task {
        name: set.name.to_string(),
        label_names,
        splits,
    })
}

/// The id of `row`'s label; a value outside `values` (a file without the ClassLabel that
/// another file of the set declares) is an error naming the row.
fn label_id(values: &[String], row: &RawRow, path: &Path) -> Result<usize, DataError> {
    values
        .iter()
        .position(|name| *name == row.label)
        .ok_or_else(|| DataError::UnknownLabel {
            path: path.to_path_buf(),
            line: row.line,
            value: row.label.clone(),
            valid: values.to_vec(),
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
        label_name: None,
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
        FileFormat::Parquet => Ok(crate::parquet_file::read_parquet(path, columns)?.0),
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
    let name_col = columns.label_name.map(column).transpose()?;

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
            label_name: name_col.map(field),
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
            label_name: columns.label_name.map(string).transpose()?,
            line,
        });
    }
    Ok(rows)
}
