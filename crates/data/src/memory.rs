//! Datasets from memory (examples and label names, for library users): written once as a custom
//! dataset's JSONL files in a folder named by their content, so that cells, records and data
//! fingerprints name real files exactly as for a dataset the user brings on disk.

use crate::error::DataError;
use crate::example::Example;
use crate::spec::{CustomDatasetSpec, FileFormat};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Labelled examples in memory: label `i` of an example is `label_names[i]`.
#[derive(Debug, Clone, Copy)]
pub struct MemoryDataset<'a> {
    /// The dataset's name in results and reports.
    pub name: &'a str,
    pub train: &'a [Example],
    /// The test set; `None`: the protocol holds one out of `train`, as for other datasets.
    pub test: Option<&'a [Example]>,
    pub label_names: &'a [String],
}

/// Writes `data` under `dir/<name>-<content hash>/` (once: the same content reuses the same
/// files) and returns the custom dataset that reads it back with the same label ids.
pub fn write_memory_dataset(
    dir: &Path,
    data: &MemoryDataset<'_>,
) -> Result<CustomDatasetSpec, DataError> {
    let invalid = |field: &str, value: String, valid: &str| DataError::InvalidSetting {
        field: field.into(),
        value,
        valid: valid.into(),
    };
    crate::spec::validate_dataset_name(data.name)?;
    crate::spec::validate_labels(data.label_names)?;
    if data.train.is_empty() {
        return Err(DataError::EmptyDataset {
            name: data.name.into(),
            what: "no training example".into(),
        });
    }
    let all = data.train.iter().chain(data.test.into_iter().flatten());
    let paired = data.train[0].text_pair.is_some();
    for (i, e) in all.enumerate() {
        if e.label >= data.label_names.len() {
            return Err(invalid(
                "label",
                format!("{} (example {i})", e.label),
                &format!(
                    "a label id below {} (one per label name)",
                    data.label_names.len()
                ),
            ));
        }
        if e.text_pair.is_some() != paired {
            return Err(invalid(
                "text_pair",
                format!("example {i}"),
                "a second text in every example or in none",
            ));
        }
    }
    let train = jsonl(data.train, data.label_names);
    let test = data.test.map(|t| jsonl(t, data.label_names));
    let mut hasher = Sha256::new();
    for part in [Some(&train), test.as_ref()].into_iter().flatten() {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    for name in data.label_names {
        hasher.update(name.as_bytes());
        hasher.update([0]);
    }
    let hash = hex::encode(hasher.finalize());
    let safe: String = data
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let folder = dir.join(format!("{safe}-{}", &hash[..16]));
    std::fs::create_dir_all(&folder).map_err(|e| DataError::io(&folder, e))?;
    let train_path = write_once(&folder.join("train.jsonl"), &train)?;
    let test_path = test
        .map(|t| write_once(&folder.join("test.jsonl"), &t))
        .transpose()?;
    let spec = CustomDatasetSpec {
        name: data.name.to_string(),
        train: train_path,
        test: test_path,
        format: FileFormat::Jsonl,
        text_column: "text".into(),
        text_pair_column: paired.then(|| "text_pair".to_string()),
        label_column: "label".into(),
        labels: Some(data.label_names.to_vec()),
    };
    Ok(spec)
}

fn jsonl(examples: &[Example], label_names: &[String]) -> String {
    let mut out = String::new();
    for e in examples {
        let mut row = serde_json::json!({ "text": e.text, "label": label_names[e.label] });
        if let Some(pair) = &e.text_pair {
            row["text_pair"] = pair.clone().into();
        }
        out += &row.to_string();
        out.push('\n');
    }
    out
}

/// Writes `text` to `path` unless it already holds it (atomically: a reader never sees half a
/// file, and a crash leaves the old one or the new one).
fn write_once(path: &Path, text: &str) -> Result<PathBuf, DataError> {
    if std::fs::read(path).is_ok_and(|bytes| bytes == text.as_bytes()) {
        return Ok(path.to_path_buf());
    }
    dmlft_fs::write_atomic(path, text.as_bytes()).map_err(|e| DataError::io(path, e))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom::load_custom;

    fn names() -> Vec<String> {
        // Not in sorted order: the ids must survive the round trip.
        vec!["pos".into(), "neg".into(), "neutral".into()]
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("good \"film\"\nwith a newline", 0),
            Example::new("bad film", 1),
            Example::new("a film", 2),
            Example::new("great", 0),
        ]
    }

    #[test]
    fn examples_and_label_ids_survive_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let train = examples();
        let test = vec![Example::new("fine", 2), Example::new("awful", 1)];
        let names = names();
        let data = MemoryDataset {
            name: "my data",
            train: &train,
            test: Some(&test),
            label_names: &names,
        };
        let spec = write_memory_dataset(dir.path(), &data).unwrap();
        let task = load_custom(&spec, Path::new("/unused")).unwrap();
        assert_eq!(task.label_names, names);
        assert_eq!(task.splits["train"], train);
        assert_eq!(task.splits["test"], test);
        // Same content, same files; other content, another folder.
        assert_eq!(write_memory_dataset(dir.path(), &data).unwrap(), spec);
        let other = MemoryDataset { test: None, ..data };
        assert_ne!(
            write_memory_dataset(dir.path(), &other).unwrap().train,
            spec.train
        );
    }

    #[test]
    fn pairs_round_trip_and_mixed_pairs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let names = names();
        let paired = vec![Example::pair("a", "b", 0), Example::pair("c", "d", 1)];
        let data = MemoryDataset {
            name: "pairs",
            train: &paired,
            test: None,
            label_names: &names,
        };
        let spec = write_memory_dataset(dir.path(), &data).unwrap();
        assert_eq!(
            load_custom(&spec, dir.path()).unwrap().splits["train"],
            paired
        );
        let mixed = vec![Example::pair("a", "b", 0), Example::new("c", 1)];
        let err = write_memory_dataset(
            dir.path(),
            &MemoryDataset {
                train: &mixed,
                ..data
            },
        );
        assert!(err.unwrap_err().to_string().contains("text_pair"));
    }

    #[test]
    fn bad_labels_and_empty_data_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let names = names();
        let bad = vec![Example::new("x", 3)];
        let data = MemoryDataset {
            name: "d",
            train: &bad,
            test: None,
            label_names: &names,
        };
        let err = write_memory_dataset(dir.path(), &data)
            .unwrap_err()
            .to_string();
        assert!(err.contains("label") && err.contains("below 3"), "{err}");
        let err = write_memory_dataset(dir.path(), &MemoryDataset { train: &[], ..data });
        assert!(err.unwrap_err().to_string().contains("no training example"));
        let twice = vec!["a".to_string(), "a".to_string()];
        let one = vec![Example::new("x", 0)];
        let err = write_memory_dataset(
            dir.path(),
            &MemoryDataset {
                train: &one,
                label_names: &twice,
                ..data
            },
        );
        assert!(err.unwrap_err().to_string().contains("twice"));
    }
}
