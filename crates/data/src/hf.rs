//! Datasets in the Hugging Face layout ([`HfDatasetSpec`]): a Hub dataset repository or a local
//! folder with the same files, read by the custom datasets' reader ([`crate::custom`]); only
//! the way the files are found differs.
//!
//! **Which files hold a split.** With `config = "C"`, the files under the folder `C/`; without
//! one, those at the top, under `data/` or under `default/`. Among them, split `S`'s files are
//! `S.<ext>`, `S-*.<ext>` (shards such as `train-00000-of-00001.parquet`), `*-S.<ext>` and
//! `S/*.<ext>` (the Hub's Parquet conversion, `default/train/0000.parquet`), with `<ext>` one of
//! `parquet`, `jsonl`, `csv`, `tsv`; when a split has files of several formats only the first of
//! that list is read. A split's files are read in path order and concatenated.
//!
//! **Hub datasets.** The repository's file list at the revision (default `main`) is matched as
//! above; when the train split has no file there (a repository with a loading script only), the
//! Hub's own Parquet conversion (`refs/convert/parquet`) is used instead. Files are downloaded
//! by dmlft-hub into the standard Hugging Face cache (`datasets--org--name/`), each verified
//! against its etag (the LFS sha256 or the git blob sha1), then a record of the files found
//! (`datasets--org--name/dmlft/<key>.json`) is written. A later load reads that record and the
//! cache without any request, so a branch is resolved once (a new `revision` or removing the
//! record resolves it again); `HF_HUB_OFFLINE=1` forbids requests, and a dataset not cached
//! then is one error naming the cache path.

use crate::custom::{load_files, Columns, FileSet};
use crate::error::DataError;
use crate::spec::{FileFormat, HfDatasetSpec};
use crate::task::{Task, DEV, TEST, TRAIN};
use std::path::{Path, PathBuf};

#[cfg(feature = "hub")]
mod hub;
#[cfg(feature = "hub")]
use hub::hub_files;

/// Without the `hub` feature (a library build without an HTTP client) Hub datasets are one
/// clear error; local folders work the same.
#[cfg(not(feature = "hub"))]
fn hub_files(spec: &HfDatasetSpec, id: &str) -> Result<SplitFiles, DataError> {
    Err(DataError::HfFiles {
        name: spec.name.clone(),
        message: format!(
            "`{id}` is on the Hugging Face Hub and this build of dmlft-data has no Hub client: \
             build with its `hub` feature (dmlft's default), or give a local folder with `dir`"
        ),
    })
}

/// The Hub's automatic Parquet conversion of every dataset.
pub const PARQUET_CONVERSION: &str = "refs/convert/parquet";

/// A named preset: a Hub dataset and its columns. Train and test splits; label ids are the
/// datasets' own (the `ClassLabel` names where the Parquet files declare them, else the integer
/// values, named by `label_text`).
struct Preset {
    name: &'static str,
    hub: &'static str,
    config: Option<&'static str>,
    text: &'static str,
    label: &'static str,
    label_name: Option<&'static str>,
}

const fn setfit(name: &'static str, hub: &'static str) -> Preset {
    Preset {
        name,
        hub,
        config: None,
        text: "text",
        label: "label",
        label_name: Some("label_text"),
    }
}

const PRESETS: &[Preset] = &[
    setfit("setfit/sst5", "SetFit/sst5"),
    setfit("setfit/emotion", "SetFit/emotion"),
    setfit("setfit/ag_news", "SetFit/ag_news"),
    setfit("setfit/enron_spam", "SetFit/enron_spam"),
    setfit(
        "setfit/amazon_counterfactual_en",
        "SetFit/amazon_counterfactual_en",
    ),
    Preset {
        name: "banking77",
        hub: "PolyAI/banking77",
        config: None,
        text: "text",
        label: "label",
        label_name: None,
    },
    Preset {
        name: "clinc150",
        hub: "clinc/clinc_oos",
        config: Some("plus"),
        text: "text",
        label: "intent",
        label_name: None,
    },
];

/// The preset named `name` (case-insensitive), as a full spec named `name` in lower case.
pub fn preset(name: &str) -> Option<HfDatasetSpec> {
    let wanted = name.trim().to_ascii_lowercase();
    let p = PRESETS.iter().find(|p| p.name == wanted)?;
    Some(HfDatasetSpec {
        name: p.name.to_string(),
        hub: Some(p.hub.to_string()),
        dir: None,
        config: p.config.map(str::to_string),
        revision: None,
        splits: [(TRAIN, "train"), (TEST, "test")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        text_column: p.text.to_string(),
        text_pair_column: None,
        label_column: p.label.to_string(),
        label_name_column: p.label_name.map(str::to_string),
        labels: None,
    })
}

/// Every preset's name, comma-separated, for messages.
pub fn preset_names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One file of a split: its path relative to the folder or repository (its role in the
/// fingerprint, the same wherever the data lives), where it is, its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFile {
    pub relative: String,
    pub path: PathBuf,
    pub format: FileFormat,
}

/// `(dmlft split, files)` in the order train, dev, test.
pub type SplitFiles = Vec<(String, Vec<SplitFile>)>;

/// `(dmlft split, [(relative file, format)])`: the files found in a listing.
type Matched = Vec<(String, Vec<(String, FileFormat)>)>;

/// Loads the dataset (downloading a Hub dataset the cache lacks, unless offline).
pub fn load_hf(spec: &HfDatasetSpec, data_root: &Path) -> Result<Task, DataError> {
    let files = resolve(spec, data_root)?;
    load_files(FileSet {
        name: &spec.name,
        splits: files
            .into_iter()
            .map(|(split, files)| {
                let files = files.into_iter().map(|f| (f.path, f.format)).collect();
                (split, files)
            })
            .collect(),
        columns: Columns {
            text: &spec.text_column,
            text_pair: spec.text_pair_column.as_deref(),
            label: Some(&spec.label_column),
            label_name: spec.label_name_column.as_deref(),
        },
        labels: spec.labels.as_deref(),
    })
}

/// The files of each split: found in the local folder, or in the Hub repository (fetched into
/// the cache when needed).
pub fn resolve(spec: &HfDatasetSpec, data_root: &Path) -> Result<SplitFiles, DataError> {
    spec.validate()?;
    match (&spec.dir, &spec.hub) {
        (Some(dir), _) => {
            let dir = if dir.is_absolute() {
                dir.clone()
            } else {
                data_root.join(dir)
            };
            if !dir.is_dir() {
                return Err(DataError::MissingDir {
                    path: dir,
                    hint: format!(
                        "the folder of dataset {:?} (relative paths are taken from the data root {})",
                        spec.name,
                        data_root.display()
                    ),
                });
            }
            let listing = list_folder(&dir)?;
            let matched = match_splits(spec, &listing, spec.config.as_deref(), &dir.display())?;
            Ok(located(matched, &dir))
        }
        // validate() made sure that `hub` is set.
        (None, id) => hub_files(spec, id.as_deref().unwrap_or_default()),
    }
}

fn located(matched: Matched, root: &Path) -> SplitFiles {
    matched
        .into_iter()
        .map(|(split, files)| {
            let files = files
                .into_iter()
                .map(|(relative, format)| SplitFile {
                    path: root.join(&relative),
                    relative,
                    format,
                })
                .collect();
            (split, files)
        })
        .collect()
}

/// Files under `dir` as `/`-separated relative paths, sorted; hidden entries (`.git`,
/// `.cache`) are skipped, and the walk stops 4 folders down.
fn list_folder(dir: &Path) -> Result<Vec<String>, DataError> {
    fn walk(
        dir: &Path,
        prefix: &str,
        depth: usize,
        out: &mut Vec<String>,
    ) -> Result<(), DataError> {
        let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| DataError::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let relative = format!("{prefix}{name}");
            let path = entry.path();
            if path.is_dir() {
                if depth < 4 {
                    walk(&path, &format!("{relative}/"), depth + 1, out)?;
                }
            } else {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", 0, &mut out)?;
    out.sort();
    Ok(out)
}

/// The splits' files in `listing` (see the module's rule), train, dev, test in that order; a
/// split without a file is an error naming `place` and what was looked for.
fn match_splits(
    spec: &HfDatasetSpec,
    listing: &[String],
    config: Option<&str>,
    place: &dyn std::fmt::Display,
) -> Result<Matched, DataError> {
    let mut out = Vec::new();
    for ours in [TRAIN, DEV, TEST] {
        let Some(theirs) = spec.splits.get(ours) else {
            continue;
        };
        let files = split_files(listing, config, theirs);
        if files.is_empty() {
            return Err(DataError::HfFiles {
                name: spec.name.clone(),
                message: no_split_message(listing, config, ours, theirs, place),
            });
        }
        out.push((ours.to_string(), files));
    }
    Ok(out)
}

fn no_split_message(
    listing: &[String],
    config: Option<&str>,
    ours: &str,
    theirs: &str,
    place: &dyn std::fmt::Display,
) -> String {
    let scope = match config {
        Some(c) => format!("under {c}/"),
        None => "at the top, under data/ or under default/".to_string(),
    };
    let mut folders: Vec<&str> = listing
        .iter()
        .filter_map(|f| f.split_once('/').map(|(d, _)| d))
        .collect();
    folders.dedup();
    let shown: Vec<&str> = listing.iter().take(12).map(String::as_str).collect();
    format!(
        "no file for split {theirs:?} (dmlft's {ours}) in {place} {scope}: looked for \
         {theirs}.<ext>, {theirs}-*.<ext>, *-{theirs}.<ext> and {theirs}/*.<ext> with <ext> \
         parquet, jsonl, csv or tsv. Files there: {}{}{}",
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        },
        if listing.len() > shown.len() {
            format!(" (and {} more)", listing.len() - shown.len())
        } else {
            String::new()
        },
        if config.is_none() && !folders.is_empty() {
            format!(
                "; folders (a `config`?): {}",
                folders.into_iter().take(12).collect::<Vec<_>>().join(", ")
            )
        } else {
            String::new()
        }
    )
}

/// The files of `split` in `listing` with their format, in path order.
fn split_files(listing: &[String], config: Option<&str>, split: &str) -> Vec<(String, FileFormat)> {
    let mut found: Vec<(String, FileFormat)> = listing
        .iter()
        .filter_map(|file| {
            let rest = match config {
                Some(c) => file.strip_prefix(c)?.strip_prefix('/')?,
                None => file
                    .strip_prefix("data/")
                    .or_else(|| file.strip_prefix("default/"))
                    .unwrap_or(file),
            };
            let format = FileFormat::of_extension(rest)?;
            let hit = match rest.split_once('/') {
                // `<split>/0000.parquet`, one level down only.
                Some((folder, base)) => folder == split && !base.contains('/'),
                None => {
                    let stem = rest.split('.').next().unwrap_or_default();
                    stem == split
                        || stem.starts_with(&format!("{split}-"))
                        || stem.ends_with(&format!("-{split}"))
                }
            };
            hit.then(|| (file.clone(), format))
        })
        .collect();
    let preferred = [
        FileFormat::Parquet,
        FileFormat::Jsonl,
        FileFormat::Csv,
        FileFormat::Tsv,
    ]
    .into_iter()
    .find(|f| found.iter().any(|(_, g)| g == f));
    if let Some(best) = preferred {
        found.retain(|(_, g)| *g == best);
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The files a Hugging Face dataset reads, as `(role, path)`: role `<split>/<relative file>`.
pub(crate) fn data_files(
    spec: &HfDatasetSpec,
    data_root: &Path,
) -> Result<Vec<(String, PathBuf)>, DataError> {
    Ok(resolve(spec, data_root)?
        .into_iter()
        .flat_map(|(split, files)| {
            files
                .into_iter()
                .map(move |f| (format!("{split}/{}", f.relative), f.path))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet_file::write::{parquet, Values};
    use crate::spec::DatasetSpec;

    fn spec_in(dir: &Path, label: &str, label_name: Option<&str>) -> HfDatasetSpec {
        HfDatasetSpec {
            name: "toy".into(),
            hub: None,
            dir: Some(dir.to_path_buf()),
            config: None,
            revision: None,
            splits: [("train", "train"), ("test", "test")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            text_column: "text".into(),
            text_pair_column: None,
            label_column: label.into(),
            label_name_column: label_name.map(str::to_string),
            labels: None,
        }
    }

    /// banking77's layout and schema: `data/<split>-00000-of-00001.parquet`, `text` and a
    /// ClassLabel `label`.
    pub(super) fn banking_like(dir: &Path, train_labels: &[i64]) {
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let names: &[&str] = &["activate_my_card", "age_limit", "apple_pay_or_google_pay"];
        let texts: Vec<&str> = ["a", "b", "c", "d"][..train_labels.len()].to_vec();
        parquet(
            &dir.join("data/train-00000-of-00001.parquet"),
            &[
                ("text", Values::Text(&texts)),
                ("label", Values::Int(train_labels)),
            ],
            Some(("label", names)),
        );
        parquet(
            &dir.join("data/test-00000-of-00001.parquet"),
            &[("text", Values::Text(&["t"])), ("label", Values::Int(&[2]))],
            Some(("label", names)),
        );
    }

    #[test]
    fn parquet_folder_takes_class_names_from_the_features_and_is_fingerprinted() {
        let dir = tempfile::tempdir().unwrap();
        banking_like(dir.path(), &[1, 0, 1]);
        let spec = DatasetSpec::Hf(spec_in(dir.path(), "label", None));
        let task = crate::load_task(&spec, Path::new("/nonexistent")).unwrap();
        assert_eq!(
            task.label_names,
            ["activate_my_card", "age_limit", "apple_pay_or_google_pay"]
        );
        let train = task.split(TRAIN).unwrap();
        assert_eq!(
            train
                .iter()
                .map(|e| (e.text.as_str(), e.label))
                .collect::<Vec<_>>(),
            [("a", 1), ("b", 0), ("c", 1)]
        );
        assert_eq!(task.split(TEST).unwrap()[0].label, 2);
        let stats = crate::task_stats(&task, None).unwrap();
        assert_eq!(stats.splits.get("train").unwrap().n, 3);
        let roles: Vec<String> = crate::data_files(&spec, Path::new("/"))
            .unwrap()
            .into_iter()
            .map(|f| f.role)
            .collect();
        assert_eq!(
            roles,
            [
                "train/data/train-00000-of-00001.parquet",
                "test/data/test-00000-of-00001.parquet"
            ]
        );
        let before = crate::fingerprint(&spec, Path::new("/")).unwrap();
        banking_like(dir.path(), &[1, 0, 0]);
        assert_ne!(before, crate::fingerprint(&spec, Path::new("/")).unwrap());
    }

    #[test]
    fn setfit_jsonl_folder_names_labels_by_label_text_and_keeps_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let line = |t: &str, l: u8, n: &str| {
            format!("{{\"text\": \"{t}\", \"label\": {l}, \"label_text\": \"{n}\"}}\n")
        };
        let train = [line("x", 1, "joy"), line("y", 0, "sadness")].concat();
        std::fs::write(dir.path().join("train.jsonl"), train).unwrap();
        std::fs::write(dir.path().join("test.jsonl"), line("z", 1, "joy")).unwrap();
        let spec = spec_in(dir.path(), "label", Some("label_text"));
        let task = load_hf(&spec, Path::new("/")).unwrap();
        assert_eq!(task.label_names, ["sadness", "joy"]);
        assert_eq!(task.split(TRAIN).unwrap()[0].label, 1);

        std::fs::write(dir.path().join("test.jsonl"), line("z", 1, "anger")).unwrap();
        let err = load_hf(&spec, Path::new("/")).unwrap_err().to_string();
        assert!(
            err.contains("test.jsonl") && err.contains("label_text") && err.contains("\"anger\""),
            "{err}"
        );
    }

    #[test]
    fn bad_columns_give_one_error_naming_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        banking_like(dir.path(), &[1, 0, 7]);
        let train = "train-00000-of-00001.parquet";
        let err = |spec: &HfDatasetSpec| load_hf(spec, Path::new("/")).unwrap_err().to_string();
        let out_of_names = err(&spec_in(dir.path(), "label", None));
        assert!(
            out_of_names.contains(train)
                && out_of_names.contains("\"label\"")
                && out_of_names.contains("row 3: label id 7"),
            "{out_of_names}"
        );
        let missing = err(&spec_in(dir.path(), "intent", None));
        assert!(
            missing.contains(train)
                && missing.contains("\"intent\"")
                && missing.contains("text, label"),
            "{missing}"
        );
        let mut not_text = spec_in(dir.path(), "text", None);
        not_text.text_column = "label".into();
        let not_text = err(&not_text);
        assert!(
            not_text.contains(train)
                && not_text.contains("\"label\"")
                && not_text.contains("not text"),
            "{not_text}"
        );
        parquet(
            &dir.path().join("data").join(train),
            &[("text", Values::Text(&[])), ("label", Values::Int(&[]))],
            None,
        );
        let empty = err(&spec_in(dir.path(), "label", None));
        assert!(empty.contains(train) && empty.contains("empty"), "{empty}");
        let mut no_split = spec_in(dir.path(), "label", None);
        no_split.splits.insert("dev".into(), "validation".into());
        let no_split = err(&no_split);
        assert!(
            no_split.contains("\"validation\"")
                && no_split.contains("data/test-00000-of-00001.parquet"),
            "{no_split}"
        );
    }

    #[test]
    fn split_files_follow_the_hub_layouts() {
        let listing: Vec<String> = [
            "README.md",
            "data/train-00001-of-00002.parquet",
            "data/train-00000-of-00002.parquet",
            "data/test-00000-of-00001.parquet",
            "train.jsonl",
            "plus/train-00000-of-00001.parquet",
            "plus/validation/0000.parquet",
            "old-test.csv",
            "test_oos.csv",
            "dataset_infos.json",
        ]
        .map(String::from)
        .to_vec();
        let names = |config, split| -> Vec<String> {
            split_files(&listing, config, split)
                .into_iter()
                .map(|(f, _)| f)
                .collect()
        };
        // Parquet before JSONL; shards in order.
        assert_eq!(
            names(None, "train"),
            [
                "data/train-00000-of-00002.parquet",
                "data/train-00001-of-00002.parquet"
            ]
        );
        assert_eq!(names(None, "test"), ["data/test-00000-of-00001.parquet"]);
        assert_eq!(
            names(Some("plus"), "train"),
            ["plus/train-00000-of-00001.parquet"]
        );
        assert_eq!(
            names(Some("plus"), "validation"),
            ["plus/validation/0000.parquet"]
        );
        assert!(names(None, "validation").is_empty());
        let csv_only: Vec<String> = ["old-test.csv", "test_oos.csv"].map(String::from).to_vec();
        let found = split_files(&csv_only, None, "test");
        assert_eq!(found, [("old-test.csv".to_string(), FileFormat::Csv)]);
    }

    #[test]
    fn presets_need_no_column_mapping_and_validate() {
        for name in PRESETS.iter().map(|p| p.name) {
            let spec = preset(&name.to_uppercase()).unwrap();
            assert_eq!(spec.name, name);
            spec.validate().unwrap();
        }
        assert_eq!(preset("clinc150").unwrap().config.as_deref(), Some("plus"));
        assert!(preset("emotion").is_none());
    }
}
