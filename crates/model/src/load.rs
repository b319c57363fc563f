//! Building an `Encoder` / `SequenceClassifier` from a checkpoint folder (`config.json` +
//! safetensors). Every tensor the config implies must be there with the right shape, and every
//! tensor there must be used or be one of the known optional extras: no silent partial load.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use burn::tensor::backend::Backend;
use safetensors::Dtype;

use crate::checkpoint::{Checkpoint, CONFIG_FILE};
use crate::classifier::SequenceClassifier;
use crate::config::EncoderConfig;
use crate::config_sizes::check_sizes;
use crate::encoder::Encoder;
use crate::error::ModelError;
use crate::head::{ClassificationHead, HeadNames};
use crate::hub::resolve_source;
use crate::params::{FreshParams, ParamKind, ParamSource};
use crate::report::{HeadReport, LoadReport, PartSource};
use crate::spec::ModelSpec;

/// Loads the encoder of the checkpoint in `dir`; a classification head there is ignored.
/// `dropout` overrides the config's hidden and attention dropout.
pub fn load_encoder<B: Backend>(
    dir: &Path,
    dropout: Option<f64>,
    device: &B::Device,
) -> Result<(Encoder<B>, LoadReport), ModelError> {
    let (config, checkpoint) = open(dir, dropout)?;
    let loader = Loader::new(&config, &checkpoint);
    let encoder = loader.encoder(device)?;
    let report = loader.finish(None)?;
    Ok((encoder, report))
}

/// Loads encoder and head for `num_labels` classes from `dir`. Head layers found in the
/// checkpoint with matching shapes are loaded; the others are initialised from `seed` as
/// transformers does (the report says which).
pub fn load_classifier<B: Backend>(
    dir: &Path,
    num_labels: usize,
    seed: u64,
    dropout: Option<f64>,
    device: &B::Device,
) -> Result<(SequenceClassifier<B>, LoadReport), ModelError> {
    if num_labels == 0 {
        return Err(ModelError::InvalidArgument(
            "num_labels must be at least 1".into(),
        ));
    }
    let (config, checkpoint) = open(dir, dropout)?;
    let loader = Loader::new(&config, &checkpoint);
    let encoder = loader.encoder(device)?;
    let (head, head_report) = loader.head(num_labels, seed, device)?;
    let report = loader.finish(Some(head_report))?;
    Ok((SequenceClassifier { encoder, head }, report))
}

/// `load_classifier` for a grid's model section: `source` is a folder or a Hugging Face model id.
pub fn load_from_spec<B: Backend>(
    spec: &ModelSpec,
    num_labels: usize,
    seed: u64,
    device: &B::Device,
) -> Result<(SequenceClassifier<B>, LoadReport), ModelError> {
    let dir = resolve_source(&spec.source)?;
    load_classifier(&dir, num_labels, seed, spec.dropout, device)
}

fn open(dir: &Path, dropout: Option<f64>) -> Result<(EncoderConfig, Checkpoint), ModelError> {
    let config_file = dir.join(CONFIG_FILE);
    let mut config = EncoderConfig::from_file(&config_file)?;
    if let Some(p) = dropout {
        config = config.with_dropout(p)?;
    }
    let checkpoint = Checkpoint::open(dir)?;
    check_sizes(&config, &checkpoint, &config_file)?;
    Ok((config, checkpoint))
}

/// Most names listed in one error message.
const MAX_LISTED: usize = 20;

fn capped(mut names: Vec<String>) -> Vec<String> {
    if names.len() > MAX_LISTED {
        let more = names.len() - MAX_LISTED;
        names.truncate(MAX_LISTED);
        names.push(format!("... and {more} more"));
    }
    names
}

#[derive(Default)]
struct Problems {
    missing: Vec<String>,
    first_bad_shape: Option<(String, Vec<usize>, Vec<usize>)>,
    first_bad_dtype: Option<ModelError>,
}

/// What reading has seen so far; behind a `RefCell` so that two scoped sources (the two head
/// layers) can read from one loader at once.
#[derive(Default)]
struct ReadState {
    used: BTreeSet<String>,
    converted: BTreeSet<String>,
    problems: Problems,
}

struct Loader<'a> {
    config: &'a EncoderConfig,
    checkpoint: &'a Checkpoint,
    prefix: String,
    state: RefCell<ReadState>,
}

/// A `ParamSource` reading `<prefix><name>` from the checkpoint.
struct Scoped<'l, 'a> {
    loader: &'l Loader<'a>,
    prefix: String,
}

impl ParamSource for Scoped<'_, '_> {
    fn take(&mut self, name: &str, shape: &[usize], _kind: ParamKind) -> Vec<f32> {
        let full = format!("{}{name}", self.prefix);
        self.loader.read(&full, shape)
    }
}

/// Very old BERT checkpoints call LayerNorm parameters gamma / beta.
fn legacy_name(name: &str) -> Option<String> {
    if let Some(stem) = name.strip_suffix("LayerNorm.weight") {
        Some(format!("{stem}LayerNorm.gamma"))
    } else {
        name.strip_suffix("LayerNorm.bias")
            .map(|stem| format!("{stem}LayerNorm.beta"))
    }
}

impl<'a> Loader<'a> {
    fn new(config: &'a EncoderConfig, checkpoint: &'a Checkpoint) -> Self {
        // Saved as BertModel / RobertaModel: no prefix; as *ForSequenceClassification / *ForMaskedLM:
        // `bert.` / `roberta.`.
        let candidates = ["", config.family.tensor_prefix(), "bert.", "roberta."];
        let word = config.family.word_embeddings_name();
        let prefix = candidates
            .iter()
            .find(|p| checkpoint.entry(&format!("{p}{word}")).is_some())
            .unwrap_or(&candidates[1])
            .to_string();
        Self {
            config,
            checkpoint,
            prefix,
            state: RefCell::new(ReadState::default()),
        }
    }

    fn scoped(&self, prefix: &str) -> Scoped<'_, 'a> {
        Scoped {
            loader: self,
            prefix: prefix.to_string(),
        }
    }

    /// Reads one tensor, recording (not failing on) problems so one error can list them all.
    fn read(&self, name: &str, shape: &[usize]) -> Vec<f32> {
        let len = shape.iter().product();
        let mut state = self.state.borrow_mut();
        let resolved = match self.checkpoint.entry(name) {
            Some(_) => name.to_string(),
            None => match legacy_name(name).filter(|n| self.checkpoint.entry(n).is_some()) {
                Some(old) => old,
                None => {
                    state.problems.missing.push(name.to_string());
                    return vec![0.0; len];
                }
            },
        };
        let entry = self
            .checkpoint
            .entry(&resolved)
            .expect("resolved names exist");
        if entry.shape != shape {
            state
                .problems
                .first_bad_shape
                .get_or_insert_with(|| (resolved.clone(), shape.to_vec(), entry.shape.clone()));
            return vec![0.0; len];
        }
        let dtype = entry.dtype;
        match self.checkpoint.read_f32(&resolved) {
            Ok(values) => {
                if dtype != Dtype::F32 {
                    state.converted.insert(format!("{dtype:?}"));
                }
                state.used.insert(resolved);
                values
            }
            Err(e) => {
                state.problems.first_bad_dtype.get_or_insert(e);
                vec![0.0; len]
            }
        }
    }

    fn check_problems(&self) -> Result<(), ModelError> {
        let problems = std::mem::take(&mut self.state.borrow_mut().problems);
        if !problems.missing.is_empty() {
            return Err(ModelError::MissingTensors {
                file: self.checkpoint.main_file.clone(),
                example: format!(
                    "{}{}",
                    self.prefix,
                    self.config.family.word_embeddings_name()
                ),
                names: capped(problems.missing),
            });
        }
        if let Some((name, expected, found)) = problems.first_bad_shape {
            return Err(ModelError::ShapeMismatch {
                file: self.checkpoint.file_of(&name),
                name,
                expected,
                found,
            });
        }
        match problems.first_bad_dtype {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn encoder<B: Backend>(&self, device: &B::Device) -> Result<Encoder<B>, ModelError> {
        let encoder = Encoder::build(self.config, &mut self.scoped(&self.prefix), device);
        self.check_problems()?;
        Ok(encoder)
    }

    /// Whether `<name>.weight [d_out, d_in]` and (when `has_bias`) `<name>.bias [d_out]` are
    /// there.
    fn head_part(&self, name: &str, d_out: usize, d_in: usize, has_bias: bool) -> PartSource {
        let weight = self.checkpoint.entry(&format!("{name}.weight"));
        let bias = self.checkpoint.entry(&format!("{name}.bias"));
        let bias_ok = |b: Option<&crate::checkpoint::TensorEntry>| match b {
            Some(b) => has_bias && b.shape == [d_out],
            None => !has_bias,
        };
        let reason = match (weight, bias) {
            (None, None) => "not in the checkpoint".to_string(),
            (Some(w), b) if w.shape == [d_out, d_in] && bias_ok(b) => {
                return PartSource::Checkpoint {
                    name: name.to_string(),
                }
            }
            (Some(w), _) if w.shape != [d_out, d_in] => format!(
                "checkpoint's `{name}.weight` is {:?}, need [{d_out}, {d_in}]",
                w.shape
            ),
            (Some(_), _) if has_bias => {
                format!("checkpoint lacks `{name}.bias` or it is not [{d_out}]")
            }
            (Some(_), _) => {
                format!("checkpoint has `{name}.bias` but the config says the layer has none")
            }
            (None, Some(_)) => format!("checkpoint has only `{name}.bias`"),
        };
        PartSource::Initialized { reason }
    }

    fn head<B: Backend>(
        &self,
        num_labels: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<(ClassificationHead<B>, HeadReport), ModelError> {
        let config = self.config;
        let names = HeadNames::for_family(config.family);
        let h = config.hidden_size;
        let dense_prefix = if names.dense_prefixed {
            self.prefix.as_str()
        } else {
            ""
        };
        let dense_bias = config.modernbert.as_ref().is_none_or(|m| m.classifier_bias);
        let report = HeadReport {
            dense: self.head_part(&format!("{dense_prefix}{}", names.dense), h, h, dense_bias),
            out_proj: self.head_part(names.out_proj, num_labels, h, true),
        };
        // The same two seed streams as `SequenceClassifier::with_new_head`.
        let (mut fresh_dense, mut fresh_out) =
            FreshParams::head_streams(seed, config.initializer_range);
        let mut dense_ckpt = self.scoped(dense_prefix);
        let mut out_ckpt = self.scoped("");
        let dense: &mut dyn ParamSource = if report.dense.is_loaded() {
            &mut dense_ckpt
        } else {
            &mut fresh_dense
        };
        let out: &mut dyn ParamSource = if report.out_proj.is_loaded() {
            &mut out_ckpt
        } else {
            &mut fresh_out
        };
        let head = ClassificationHead::build(config, num_labels, dense, out, device);
        self.check_problems()?;
        Ok((head, report))
    }

    fn finish(self, head: Option<HeadReport>) -> Result<LoadReport, ModelError> {
        self.check_problems()?;
        let state = self.state.into_inner();
        let mut ignored = Vec::new();
        let mut unexpected = Vec::new();
        for name in self.checkpoint.names() {
            if state.used.contains(name) {
                continue;
            }
            let rest = name.strip_prefix(self.prefix.as_str()).unwrap_or(name);
            // DeBERTa-v3 checkpoints keep an unused absolute position table
            let unused_positions = rest == "embeddings.position_embeddings.weight"
                && !self.config.has_absolute_positions();
            let optional = rest.starts_with("pooler.")
                || rest == "embeddings.position_ids"
                || unused_positions
                || [
                    "lm_head.",
                    "cls.",
                    "classifier.",
                    "pooler.",
                    // ELECTRA pre-training heads (discriminator checkpoints are saved with them)
                    "discriminator_predictions.",
                    "generator_",
                    // DeBERTa's and ModernBERT's masked-LM heads
                    "lm_predictions.",
                    "mask_predictions.",
                    "head.",
                    "decoder.",
                ]
                .iter()
                .any(|p| name.starts_with(p));
            if optional {
                ignored.push(name.to_string());
            } else {
                unexpected.push(name.to_string());
            }
        }
        if !unexpected.is_empty() {
            return Err(ModelError::UnexpectedTensors {
                file: self.checkpoint.file_of(&unexpected[0]),
                family: self.config.family.model_type().to_string(),
                names: capped(unexpected),
            });
        }
        Ok(LoadReport {
            files: self.checkpoint.files(),
            family: self.config.family,
            prefix: self.prefix,
            loaded: state.used.len(),
            converted_from: state.converted.into_iter().collect(),
            ignored,
            head,
        })
    }
}
