//! What a grid file says about training and evaluation, and the fully resolved cell: the contract
//! between the runner (which expands grids into cells) and `run_cell`.

use dmlft_data::spec::{DatasetSpec, SplitRequest};
use dmlft_data::BatchSampler;
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::spec::ModelSpec;

use crate::setfit::spec::SetFitSpec;
use dmlft_eval::ModeKey;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// AdamW with PyTorch / transformers semantics. Defaults are the papers' (2211.15195 and
/// 2211.15202: lr 1e-5, weight decay 0.01, decay on every parameter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerSpec {
    /// Learning rate of the encoder (and of every group without its own).
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// false = no weight decay for biases and LayerNorm weights (common practice);
    /// true = decay everything (the papers' code).
    pub decay_bias_and_norm: bool,
    /// Learning rate of the classification head; `None` = `lr`.
    pub head_lr: Option<f64>,
    /// Learning rate of loss parameters (proxies, centers); `None` = `lr` (the papers' setting).
    pub loss_lr: Option<f64>,
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        Self {
            lr: 1e-5,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            decay_bias_and_norm: true,
            head_lr: None,
            loss_lr: None,
        }
    }
}

/// Learning-rate schedule, as transformers defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    Constant,
    /// Linear warmup from 0, then linear decay to 0 at `total_steps`.
    Linear,
    /// Linear warmup from 0, then half a cosine to 0 at `total_steps` (past it the lr rises
    /// again, exactly as transformers' `get_cosine_schedule_with_warmup`).
    #[default]
    Cosine,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSpec {
    pub kind: ScheduleKind,
    pub warmup_steps: usize,
    /// Steps at which the schedule ends; `None` (the default) = the run's number of optimizer
    /// steps. The papers' grids set 120 (their `num_training_steps`) explicitly.
    pub total_steps: Option<usize>,
}

impl Default for ScheduleSpec {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            warmup_steps: 10,
            // A fixed length would stretch a shorter run's schedule (its lr never decays) and
            // make a longer cosine run's lr rise again past it.
            total_steps: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSpec {
    pub optimizer: OptimizerSpec,
    pub schedule: ScheduleSpec,
    /// Number of passes over the training sample. Exactly one of `epochs` / `steps` is used;
    /// `steps` wins when both are set.
    pub epochs: usize,
    pub steps: Option<usize>,
    pub batch_size: usize,
    pub grad_accum: usize,
    /// Global gradient-norm clipping as `torch.nn.utils.clip_grad_norm_`; `None` = off.
    pub max_grad_norm: Option<f64>,
    pub eval_batch_size: usize,
    /// How training batches are drawn. Left out of a cell's identity when it is the default
    /// (a shuffle), so the ids of grids written before it existed do not change.
    #[serde(skip_serializing_if = "BatchSampler::is_shuffle")]
    pub sampler: BatchSampler,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            optimizer: OptimizerSpec::default(),
            schedule: ScheduleSpec::default(),
            epochs: 120,
            steps: None,
            batch_size: 64,
            grad_accum: 1,
            max_grad_norm: Some(1.0),
            eval_batch_size: 64,
            sampler: BatchSampler::Shuffle,
        }
    }
}

/// How predictions are made from a trained model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum InferenceMode {
    /// argmax of the classification head's logits.
    Head,
    /// argmax of the proxy loss's class scores on the first-token embedding.
    Proxy,
    /// argmax of `beta * softmax(head) + (1 - beta) * softmax(proxy scores)` (2211.15202).
    Mix { beta: f64 },
}

impl InferenceMode {
    /// What results in this mode are keyed by (`head`, `proxy`, `mix-0.4`).
    pub fn key(&self) -> ModeKey {
        match *self {
            InferenceMode::Head => ModeKey::Head,
            InferenceMode::Proxy => ModeKey::Proxy,
            InferenceMode::Mix { beta } => ModeKey::Mix { beta },
        }
    }

    /// Whether the mode reads a proxy loss's class scores ([`ModeKey::needs_proxies`]).
    pub fn needs_proxies(&self) -> bool {
        self.key().needs_proxies()
    }

    /// The mode a results label stands for (the inverse of [`InferenceMode::key`]).
    pub fn from_key(key: ModeKey) -> Self {
        match key {
            ModeKey::Head => InferenceMode::Head,
            ModeKey::Proxy => InferenceMode::Proxy,
            ModeKey::Mix { beta } => InferenceMode::Mix { beta },
        }
    }

    /// The modes a cell with `objective` is evaluated in: the `requested` ones it can run (the
    /// proxy modes need a proxy-based loss), or `head` when none is left.
    pub fn for_objective(requested: &[InferenceMode], objective: &ObjectiveSpec) -> Vec<Self> {
        let with_proxies = objective.has_proxies();
        let mut modes: Vec<Self> = requested
            .iter()
            .copied()
            .filter(|m| with_proxies || !m.needs_proxies())
            .collect();
        if modes.is_empty() {
            modes.push(InferenceMode::Head);
        }
        modes
    }
}

/// How users write a mode in one word (a grid's `inference` entry, `dmlft predict --mode`).
pub const MODE_SHORTHANDS: &str = "head, proxy, mix:BETA (0 <= BETA <= 1)";

/// A one-word mode that is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModeParseError {
    #[error("unknown inference mode `{0}`; valid: {MODE_SHORTHANDS}")]
    Unknown(String),
    #[error("mix beta must be {valid}, got {value}")]
    Beta { value: String, valid: String },
}

/// The one-word forms: `head`, `proxy`, `mix:BETA`, and the results' own label `mix-BETA`
/// ([`ModeKey`]'s); BETA is checked by [`InferenceMode::validate`].
impl std::str::FromStr for InferenceMode {
    type Err = ModeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `mix:BETA` is how users write it; `mix-BETA` is the results' label, which ModeKey reads.
        let label = match s.strip_prefix("mix:") {
            Some(beta) => format!("mix-{beta}"),
            None => s.to_string(),
        };
        let mode = match label.parse::<ModeKey>() {
            Ok(key) => InferenceMode::from_key(key),
            Err(_) => {
                return Err(match label.strip_prefix("mix-") {
                    Some(beta) => ModeParseError::Beta {
                        value: beta.to_string(),
                        valid: "a number in [0, 1]".into(),
                    },
                    None => ModeParseError::Unknown(s.to_string()),
                })
            }
        };
        mode.validate()
            .map_err(|e| match crate::validate::invalid_field(&e) {
                Some((_, value, valid)) => ModeParseError::Beta {
                    value: value.to_string(),
                    valid: valid.to_string(),
                },
                None => ModeParseError::Unknown(s.to_string()),
            })?;
        Ok(mode)
    }
}

/// One fully resolved cell: everything `run_cell` needs, and everything its id is hashed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// Name of the dataset in reports (the task name or the custom dataset's name).
    pub dataset_name: String,
    pub dataset: DatasetSpec,
    pub data_root: PathBuf,
    pub split: SplitRequest,
    pub model: ModelSpec,
    /// Name of the loss variant in the grid (e.g. `"ce"`, `"ce+softtriple"`).
    pub loss_name: String,
    pub objective: ObjectiveSpec,
    pub train: TrainSpec,
    pub inference: Vec<InferenceMode>,
    /// Evaluate on at most this many examples (a seeded subset); `None` = all.
    #[serde(default)]
    pub eval_limit: Option<usize>,
    /// `Some`: the variant runs SetFit ([`crate::setfit`]) instead of fine-tuning; `objective`
    /// and `train` (but `eval_batch_size`) are then unused. Absent from fine-tune cells'
    /// JSON, so their ids are those of cells written before SetFit existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setfit: Option<SetFitSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_modes_parse_and_bad_ones_say_what_is_valid() {
        let ok = |s: &str| s.parse::<InferenceMode>().unwrap();
        assert_eq!(ok("head"), InferenceMode::Head);
        assert_eq!(ok("proxy"), InferenceMode::Proxy);
        assert_eq!(ok("mix:0.4"), InferenceMode::Mix { beta: 0.4 });
        // the results' label of the same mode
        assert_eq!(ok("mix-0.4"), InferenceMode::Mix { beta: 0.4 });
        assert_eq!(ok("mix:1"), InferenceMode::Mix { beta: 1.0 });
        assert_eq!(
            ok(&InferenceMode::Mix { beta: 0.25 }.key().to_string()).key(),
            ModeKey::Mix { beta: 0.25 }
        );
        let err = |s: &str| s.parse::<InferenceMode>().unwrap_err();
        assert_eq!(err("knn"), ModeParseError::Unknown("knn".into()));
        assert!(err("knn").to_string().contains(MODE_SHORTHANDS));
        for bad in ["mix:1.5", "mix:-0.1", "mix:nan", "mix:x", "mix:"] {
            let e = err(bad);
            assert!(matches!(e, ModeParseError::Beta { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("[0, 1]"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sampler_is_read_from_json_and_a_default_one_leaves_the_cell_identity_alone() {
        let spec: TrainSpec =
            serde_json::from_str(r#"{"sampler": {"kind": "m-per-class", "m": 4}}"#).unwrap();
        assert_eq!(spec.sampler, BatchSampler::MPerClass { m: 4 });
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["sampler"]["m"], 4);
        // The default shuffle is not serialised: cell ids of older grids stay as they were.
        let plain = serde_json::to_value(TrainSpec::default()).unwrap();
        assert!(plain.get("sampler").is_none(), "{plain}");
        // Plan-time validation: m must divide the batch size.
        let bad = TrainSpec {
            batch_size: 6,
            sampler: BatchSampler::MPerClass { m: 4 },
            ..TrainSpec::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(
            err.contains("sampler.m") && err.contains("divisor"),
            "{err}"
        );
        let unknown = serde_json::from_str::<TrainSpec>(r#"{"sampler": {"kind": "balanced"}}"#);
        assert!(unknown.unwrap_err().to_string().contains("m-per-class"));
    }
}
