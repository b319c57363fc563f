//! The saved-model folder, written by `run_cell` and read by the analyses (`dmlft explain`,
//! `analyze`): transformers' layout (`config.json` + `model.safetensors`, with `id2label`), the
//! tokenizer files of the source model, and `cell.json`, the `CellSpec` the model was trained
//! with.
//!
//! transformers has no key for the head pooling, so a reader takes it, in this order, from the
//! caller, from `cell.json` (`model.head_pooling`), or else the default, the first token.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use dmlft_data::TextTokenizer;
use dmlft_model::atomic_file::write_atomic;
use dmlft_model::hub::TOKENIZER_FILES;
use dmlft_model::spec::HeadPooling;
use dmlft_model::{load_classifier, save_classifier, SequenceClassifier};
use serde_json::Value;

use crate::error::TrainError;
use crate::spec::CellSpec;

/// The file beside a saved model that holds the `CellSpec` it was trained with.
pub const CELL_FILE: &str = "cell.json";

/// Saves the fine-tuned classifier of `cell` into `dir`: the weights and config (class names
/// `labels`), the tokenizer files found in `source_dir` (the model it was fine-tuned from), and
/// the cell, so that the folder is all an analysis needs.
pub fn save_cell_model<B: Backend>(
    cell: &CellSpec,
    model: &SequenceClassifier<B>,
    source_dir: &Path,
    dir: &Path,
    labels: &[String],
) -> Result<(), TrainError> {
    save_classifier(model, dir, Some(labels))?;
    copy_tokenizer_files(source_dir, dir)?;
    let json = serde_json::to_string_pretty(cell).map_err(|e| TrainError::Io(e.to_string()))?;
    let path = dir.join(CELL_FILE);
    write_atomic(&path, json.as_bytes())
        .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
}

/// A saved fine-tuned classifier, described but not yet loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedModel {
    pub dir: PathBuf,
    /// Class names in head order (`id2label`, else `LABEL_i` for `num_labels`).
    pub label_names: Vec<String>,
    pub head_pooling: HeadPooling,
    /// Where the pooling came from, in words (for reports).
    pub head_pooling_source: String,
    pub tokenizer_dir: PathBuf,
}

impl SavedModel {
    /// Reads `dir/config.json` (and `dir/cell.json` when present). `head_pooling` and
    /// `tokenizer_dir` override what the folder says.
    pub fn open(
        dir: &Path,
        head_pooling: Option<HeadPooling>,
        tokenizer_dir: Option<&Path>,
    ) -> Result<Self, TrainError> {
        let config_path = dir.join("config.json");
        let config = read_json(&config_path)?;
        let label_names = label_names(&config, &config_path)?;
        let (head_pooling, head_pooling_source) = match head_pooling {
            Some(p) => (p, "given".to_string()),
            None => match pooling_from_cell(dir)? {
                Some(p) => (p, format!("{}/{CELL_FILE}", dir.display())),
                None => (HeadPooling::First, "default (no cell.json)".to_string()),
            },
        };
        let tokenizer_dir = match tokenizer_dir {
            Some(t) => t.to_path_buf(),
            None if has_tokenizer(dir) => dir.to_path_buf(),
            None => {
                return Err(TrainError::SavedModel {
                    file: dir.to_path_buf(),
                    message: format!(
                        "no tokenizer files ({}) in the model folder: give the tokenizer folder (--tokenizer), \
                         e.g. the pretrained model the classifier was fine-tuned from",
                        TOKENIZER_FILES.join(", ")
                    ),
                })
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            label_names,
            head_pooling,
            head_pooling_source,
            tokenizer_dir,
        })
    }

    pub fn num_labels(&self) -> usize {
        self.label_names.len()
    }

    pub fn tokenizer(&self) -> Result<TextTokenizer, TrainError> {
        Ok(TextTokenizer::from_dir(&self.tokenizer_dir)?)
    }

    /// Loads the classifier with dropout 0, so that an autodiff backend (Integrated Gradients)
    /// computes the same deterministic function as inference.
    pub fn load<B: Backend>(
        &self,
        device: &B::Device,
    ) -> Result<SequenceClassifier<B>, TrainError> {
        let (model, report) =
            load_classifier::<B>(&self.dir, self.num_labels(), 0, Some(0.0), device)?;
        if let Some(head) = &report.head {
            if !head.dense.is_loaded() || !head.out_proj.is_loaded() {
                return Err(TrainError::SavedModel {
                    file: self.dir.join("model.safetensors"),
                    message: format!(
                        "holds no trained classification head for {} labels: analyse a fine-tuned model \
                         (saved by `run_cell` with a save dir), not a pretrained encoder",
                        self.num_labels()
                    ),
                });
            }
        }
        Ok(model)
    }
}

/// Whether `dir` holds tokenizer files `TextTokenizer::from_dir` can read.
fn has_tokenizer(dir: &Path) -> bool {
    dir.join("tokenizer.json").is_file()
        || dir.join("vocab.txt").is_file()
        || (dir.join("vocab.json").is_file() && dir.join("merges.txt").is_file())
}

fn read_json(path: &Path) -> Result<Value, TrainError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| TrainError::SavedModel {
        file: path.to_path_buf(),
        message: format!("invalid JSON: {e}"),
    })
}

fn label_names(config: &Value, path: &Path) -> Result<Vec<String>, TrainError> {
    let bad = |message: String| TrainError::SavedModel {
        file: path.to_path_buf(),
        message,
    };
    if let Some(map) = config.get("id2label").and_then(Value::as_object) {
        let mut pairs = Vec::with_capacity(map.len());
        for (key, value) in map {
            let id: usize = key
                .parse()
                .map_err(|_| bad(format!("id2label key `{key}` is not a class index")))?;
            let name = value
                .as_str()
                .ok_or_else(|| bad(format!("id2label[{key}] is not a string")))?;
            pairs.push((id, name.to_string()));
        }
        pairs.sort();
        if pairs.iter().enumerate().any(|(i, (id, _))| *id != i) {
            return Err(bad("id2label keys must be 0, 1, ..., n-1".into()));
        }
        if pairs.is_empty() {
            return Err(bad("id2label is empty".into()));
        }
        return Ok(pairs.into_iter().map(|(_, name)| name).collect());
    }
    match config.get("num_labels").and_then(Value::as_u64) {
        Some(n) if n > 0 => Ok((0..n).map(|i| format!("LABEL_{i}")).collect()),
        _ => Err(bad(
            "neither id2label nor a positive num_labels: is this a fine-tuned classifier?".into(),
        )),
    }
}

fn pooling_from_cell(dir: &Path) -> Result<Option<HeadPooling>, TrainError> {
    let path = dir.join(CELL_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let cell = read_json(&path)?;
    match cell.pointer("/model/head_pooling") {
        None => Ok(Some(HeadPooling::First)),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|_| TrainError::SavedModel {
                file: path,
                message: format!("model.head_pooling = {value}: valid are \"first\", \"mean\""),
            }),
    }
}

/// Copies the tokenizer files found in `from` into `to` (so a saved model folder is complete).
pub fn copy_tokenizer_files(from: &Path, to: &Path) -> Result<usize, TrainError> {
    let mut copied = 0;
    for name in TOKENIZER_FILES {
        let src = from.join(name);
        if src.is_file() {
            let dst = to.join(name);
            std::fs::copy(&src, &dst)
                .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", dst.display())))?;
            copied += 1;
        }
    }
    Ok(copied)
}
