//! The saved-model folder, written by `run_cell` and read by `dmlft predict` and the analyses
//! (`dmlft explain`, `analyze`): transformers' layout (`config.json` + `model.safetensors`, with
//! `id2label`), the tokenizer files of the source model, `cell.json` (the `CellSpec` the model
//! was trained with), the trained loss parameters with their manifest ([`loss`]:
//! `loss.safetensors`, `loss.json`) and a model card ([`card`]: `README.md`).
//!
//! Folders without `loss.json` (saved before it existed, or by another tool) still load for
//! head inference. A SetFit cell saves its body and logistic head instead ([`setfit_head`],
//! [`save_setfit_model`]); `SavedModel` opens both kinds, and `predict_saved` applies both.
//!
//! transformers has no key for the head pooling, so a reader takes it, in this order, from the
//! caller, from `cell.json` (`model.head_pooling`), or else the default, the first token.

pub mod card;
pub mod loss;
pub mod setfit_head;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use dmlft_data::TextTokenizer;
use dmlft_eval::Metrics;
use dmlft_fs::write_atomic;
use dmlft_losses::Objective;
use dmlft_model::hub::TOKENIZER_FILES;
use dmlft_model::{
    load_classifier, load_encoder, save_classifier, save_encoder, Encoder, EncoderConfig,
    SequenceClassifier,
};
use dmlft_pooling::Pooling;
use serde_json::{Map, Value};

use crate::error::TrainError;
use crate::setfit::head::LogisticHead;
use crate::spec::{CellSpec, InferenceMode};
use card::{render_model_card, Provenance, MODEL_CARD_FILE};
use loss::{InferenceSettings, LossManifest, LOSS_MANIFEST_VERSION};
use setfit_head::{read_head_file, write_head_files, SetFitHeadFile, SETFIT_HEAD_FILE};

/// The file beside a saved model that holds the `CellSpec` it was trained with.
pub const CELL_FILE: &str = "cell.json";

/// What a cell trained, to be saved: the classifier, the objective (its loss parameters), the
/// class names and the metrics the cell measured (for the model card).
pub struct TrainedCell<'a, B: Backend> {
    pub cell: &'a CellSpec,
    pub model: &'a SequenceClassifier<B>,
    pub objective: &'a Objective<B>,
    pub labels: &'a [String],
    pub metrics: &'a BTreeMap<dmlft_eval::InferenceMode, Metrics>,
}

/// Saves `trained` into `dir`: the weights and config (class names), the tokenizer files found
/// in `source_dir` (the model it was fine-tuned from), the cell, the loss parameters with their
/// manifest and the model card, so that the folder is all prediction and analyses need.
pub fn save_cell_model<B: Backend>(
    trained: &TrainedCell<'_, B>,
    source_dir: &Path,
    dir: &Path,
) -> Result<(), TrainError> {
    let TrainedCell {
        cell,
        model,
        objective,
        labels,
        metrics,
    } = *trained;
    save_classifier(model, dir, Some(labels))?;
    copy_tokenizer_files(source_dir, dir)?;
    write_cell_file(cell, dir)?;
    let manifest = LossManifest {
        format_version: LOSS_MANIFEST_VERSION,
        loss_name: cell.loss_name.clone(),
        objective: cell.objective.clone(),
        num_classes: labels.len(),
        embedding_dim: model.config().hidden_size,
        label_names: labels.to_vec(),
        tensors: Vec::new(),
        inference: InferenceSettings {
            head_pooling: cell.model.head_pooling,
            max_length: cell.model.max_length,
            modes: cell.inference.clone(),
            mix_beta: cell.inference.iter().find_map(|m| match m {
                InferenceMode::Mix { beta } => Some(*beta),
                _ => None,
            }),
        },
    };
    loss::write_loss_files(dir, objective, manifest)?;
    write_card(cell, metrics, labels, dir)
}

/// What a SetFit cell trained, to be saved: the body, the fitted head (as it will be written)
/// and the metrics the cell measured.
pub struct TrainedSetFit<'a, B: Backend> {
    pub cell: &'a CellSpec,
    pub body: &'a Encoder<B>,
    pub head: &'a SetFitHeadFile,
    pub metrics: &'a BTreeMap<dmlft_eval::InferenceMode, Metrics>,
}

/// Saves a SetFit cell's model into `dir`: the body (transformers' encoder checkpoint), the
/// tokenizer files found in `source_dir`, sentence-transformers' module files, the head, the
/// cell and the model card.
pub fn save_setfit_model<B: Backend>(
    trained: &TrainedSetFit<'_, B>,
    source_dir: &Path,
    dir: &Path,
) -> Result<(), TrainError> {
    let TrainedSetFit {
        cell,
        body,
        head,
        metrics,
    } = *trained;
    save_encoder(body, dir)?;
    copy_tokenizer_files(source_dir, dir)?;
    write_head_files(dir, head, body.hidden_size())?;
    write_cell_file(cell, dir)?;
    write_card(cell, metrics, &head.label_names, dir)
}

fn write_cell_file(cell: &CellSpec, dir: &Path) -> Result<(), TrainError> {
    let json = serde_json::to_string_pretty(cell).map_err(|e| TrainError::Io(e.to_string()))?;
    let path = dir.join(CELL_FILE);
    write_atomic(&path, json.as_bytes())
        .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
}

fn write_card(
    cell: &CellSpec,
    metrics: &BTreeMap<dmlft_eval::InferenceMode, Metrics>,
    labels: &[String],
    dir: &Path,
) -> Result<(), TrainError> {
    let card = render_model_card(cell, metrics, labels, &Provenance::current());
    let path = dir.join(MODEL_CARD_FILE);
    write_atomic(&path, card.as_bytes())
        .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
}

/// A saved fine-tuned classifier, described but not yet loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedModel {
    pub dir: PathBuf,
    /// Class names in head order (`id2label`, else `LABEL_i` for `num_labels`).
    pub label_names: Vec<String>,
    pub head_pooling: Pooling,
    /// Where the pooling came from, in words (for reports).
    pub head_pooling_source: String,
    pub tokenizer_dir: PathBuf,
    /// `loss.json`, when the folder has one.
    pub loss: Option<LossManifest>,
    /// Truncation length: `setfit_head.json`'s or `loss.json`'s, else `cell.json`'s
    /// `model.max_length`, else the model spec's default (at most what the position table holds).
    pub max_length: usize,
    /// `setfit_head.json`, when the folder is a SetFit model (body + logistic head).
    pub setfit: Option<SetFitHeadFile>,
    /// The folder's `config.json`: its tables bound the tokenizer's ids and `max_length`.
    pub encoder_config: EncoderConfig,
}

impl SavedModel {
    /// Reads `dir/config.json` (and `dir/cell.json` when present). `head_pooling` and
    /// `tokenizer_dir` override what the folder says.
    pub fn open(
        dir: &Path,
        head_pooling: Option<Pooling>,
        tokenizer_dir: Option<&Path>,
    ) -> Result<Self, TrainError> {
        let config_path = dir.join("config.json");
        let encoder_config = EncoderConfig::from_file(&config_path)?;
        let cell = CellFile::new(dir);
        let setfit = read_head_file(dir)?;
        let label_names = match &setfit {
            Some(head) => head.label_names.clone(),
            None => label_names(&encoder_config.raw, &config_path)?,
        };
        let (head_pooling, head_pooling_source) = match head_pooling {
            Some(p) => (p, "given".to_string()),
            // SetFit's body is a sentence-transformers model: mean pooling
            None if setfit.is_some() => (Pooling::Mean, SETFIT_HEAD_FILE.to_string()),
            None => match cell.head_pooling()? {
                Some(p) => (p, format!("{}/{CELL_FILE}", dir.display())),
                None => (Pooling::First, "default (no cell.json)".to_string()),
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
        let loss = loss::read_manifest(dir)?;
        if let Some(manifest) = &loss {
            if manifest.label_names != label_names {
                return Err(TrainError::SavedModel {
                    file: dir.join(loss::LOSS_MANIFEST_FILE),
                    message: format!(
                        "label_names [{}] differ from config.json's id2label [{}]",
                        manifest.label_names.join(", "),
                        label_names.join(", ")
                    ),
                });
            }
        }
        let stated = match (&setfit, &loss) {
            (Some(head), _) => Some((head.max_length, SETFIT_HEAD_FILE)),
            (None, Some(m)) => Some((m.inference.max_length, loss::LOSS_MANIFEST_FILE)),
            (None, None) => cell.max_length()?.map(|n| (n, CELL_FILE)),
        };
        let max_length = match stated {
            // A length past the position table would index past it inside the backend (a panic).
            Some((n, file)) => {
                encoder_config.check_max_length(
                    n,
                    &format!(
                        "{} (max_length of {})",
                        config_path.display(),
                        dir.join(file).display()
                    ),
                )?;
                n
            }
            // a folder that does not say (not saved by dmlft): the default, within the table
            None => dmlft_model::spec::default_max_length().min(encoder_config.usable_max_length()),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            label_names,
            head_pooling,
            head_pooling_source,
            tokenizer_dir,
            loss,
            max_length,
            setfit,
            encoder_config,
        })
    }

    /// The folder with another truncation length (a command's `--max-length`); `None` keeps
    /// the one it was trained with. A length past the position table is refused.
    pub fn with_max_length(mut self, max_length: Option<usize>) -> Result<Self, TrainError> {
        let Some(n) = max_length else {
            return Ok(self);
        };
        let config_path = self.dir.join("config.json");
        let past_the_table = self
            .encoder_config
            .check_max_length(n, &config_path.display().to_string())
            .is_err();
        if n < 2 || past_the_table {
            return Err(TrainError::InvalidSetting {
                key: "--max-length".into(),
                value: n.to_string(),
                valid: format!(
                    "2..={} (the special tokens, and what the position table of {} numbers)",
                    self.encoder_config.usable_max_length(),
                    config_path.display()
                ),
            });
        }
        self.max_length = n;
        Ok(self)
    }

    pub fn num_labels(&self) -> usize {
        self.label_names.len()
    }

    pub fn tokenizer(&self) -> Result<TextTokenizer, TrainError> {
        Ok(TextTokenizer::from_dir(&self.tokenizer_dir)?.for_model(
            self.encoder_config.vocab_size,
            self.encoder_config.type_vocab_size,
        ))
    }

    /// Loads the classifier with dropout 0, so that an autodiff backend (Integrated Gradients)
    /// computes the same deterministic function as inference.
    pub fn load<B: Backend>(
        &self,
        device: &B::Device,
    ) -> Result<SequenceClassifier<B>, TrainError> {
        if self.setfit.is_some() {
            return Err(TrainError::SavedModel {
                file: self.dir.join(SETFIT_HEAD_FILE),
                message: "a SetFit model (body + logistic head) has no classification head for \
                          this command; `dmlft predict` applies it"
                    .into(),
            });
        }
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

impl SavedModel {
    /// A SetFit model's body (dropout 0) and head; an error when the folder is not one.
    pub fn load_setfit<B: Backend>(
        &self,
        device: &B::Device,
    ) -> Result<(Encoder<B>, LogisticHead), TrainError> {
        let Some(file) = &self.setfit else {
            return Err(TrainError::SavedModel {
                file: self.dir.join(SETFIT_HEAD_FILE),
                message: "missing: not a SetFit model".into(),
            });
        };
        let (encoder, _) = load_encoder::<B>(&self.dir, Some(0.0), device)?;
        let head = file
            .head(encoder.hidden_size())
            .map_err(|message| TrainError::SavedModel {
                file: self.dir.join(SETFIT_HEAD_FILE),
                message,
            })?;
        Ok((encoder, head))
    }

    /// The trained objective (loss parameters) for `proxy` and `mix` inference; an error saying
    /// why when the folder has none (no `loss.json`, or a loss without proxies).
    pub fn load_objective<B: Backend>(
        &self,
        device: &B::Device,
    ) -> Result<Objective<B>, TrainError> {
        let manifest_path = self.dir.join(loss::LOSS_MANIFEST_FILE);
        let Some(manifest) = &self.loss else {
            return Err(TrainError::SavedModel {
                file: manifest_path,
                message:
                    "missing: the folder holds no loss parameters (saved by an older dmlft, or \
                          not by dmlft), so only `--mode head` works"
                        .into(),
            });
        };
        if !manifest.has_proxies() {
            return Err(TrainError::NoProxies {
                mode: dmlft_eval::InferenceMode::Proxy,
                loss: manifest.loss_name.clone(),
            });
        }
        loss::load_objective(&self.dir, manifest, device)
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

fn label_names(config: &Map<String, Value>, path: &Path) -> Result<Vec<String>, TrainError> {
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

/// `cell.json`, read at most once, and only when a setting is looked up in it: a folder whose
/// pooling and length come from elsewhere never has it read.
struct CellFile {
    path: PathBuf,
    value: OnceCell<Option<Value>>,
}

impl CellFile {
    fn new(dir: &Path) -> Self {
        Self {
            path: dir.join(CELL_FILE),
            value: OnceCell::new(),
        }
    }

    /// The parsed file; `None` when the folder has none.
    fn value(&self) -> Result<Option<&Value>, TrainError> {
        if self.value.get().is_none() {
            let read = match self.path.is_file() {
                true => Some(read_json(&self.path)?),
                false => None,
            };
            let _ = self.value.set(read);
        }
        Ok(self.value.get().and_then(Option::as_ref))
    }

    /// `model.head_pooling`: `None` without a cell.json, the first token when it does not say.
    fn head_pooling(&self) -> Result<Option<Pooling>, TrainError> {
        let Some(cell) = self.value()? else {
            return Ok(None);
        };
        match cell.pointer("/model/head_pooling") {
            None => Ok(Some(Pooling::First)),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|_| TrainError::SavedModel {
                    file: self.path.clone(),
                    message: format!("model.head_pooling = {value}: valid are \"first\", \"mean\""),
                }),
        }
    }

    /// `model.max_length`; `None` when there is no cell.json or it does not say.
    fn max_length(&self) -> Result<Option<usize>, TrainError> {
        let Some(cell) = self.value()? else {
            return Ok(None);
        };
        match cell.pointer("/model/max_length") {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|&n| n > 0)
                .map(|n| Some(n as usize))
                .ok_or_else(|| TrainError::SavedModel {
                    file: self.path.clone(),
                    message: format!("model.max_length = {v}: expected a positive integer"),
                }),
        }
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
