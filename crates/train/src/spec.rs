//! What a grid file says about training and evaluation, and the fully resolved cell: the contract
//! between the runner (which expands grids into cells) and `run_cell`.

use dmlft_data::spec::{DatasetSpec, SplitRequest};
use dmlft_data::BatchSampler;
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::spec::ModelSpec;

use crate::probe::ProbeSpec;
use crate::setfit::spec::SetFitSpec;
/// The cell's inference modes; one type with the results' keys (dmlft-eval owns it).
pub use dmlft_eval::{InferenceMode, ModeParseError, MODE_SHORTHANDS};
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
    /// Score the dev examples every this many optimizer steps (and at the last step) in every
    /// inference mode of the cell: the record's dev curve. `None` (default) = only after
    /// training. Needs dev examples (`protocol.dev_shots` / `protocol.dev_per_class`). Left out
    /// of the identity when absent, as `early_stopping`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<usize>,
    /// Stop when the dev metric has not improved for `patience` evaluations; needs `eval_every`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
}

/// `[train] early_stopping = { metric, mode, patience, restore_best }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingSpec {
    /// The dev metric to maximise.
    pub metric: DevMetric,
    /// Whose dev metric: one of the cell's inference modes (default `head`).
    #[serde(default = "head_mode")]
    pub mode: InferenceMode,
    /// Evaluations without a strict improvement before training stops.
    pub patience: usize,
    /// Return the weights of the best evaluation (the first of equals), kept in memory, instead
    /// of the last step's (default true).
    #[serde(default = "yes")]
    pub restore_best: bool,
}

fn head_mode() -> InferenceMode {
    InferenceMode::Head
}

fn yes() -> bool {
    true
}

/// A dev metric that early stopping maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevMetric {
    Accuracy,
    MacroF1,
    WeightedF1,
}

impl DevMetric {
    /// Its value in `m`.
    pub fn of(self, m: &dmlft_eval::Metrics) -> f64 {
        match self {
            DevMetric::Accuracy => m.accuracy,
            DevMetric::MacroF1 => m.macro_f1,
            DevMetric::WeightedF1 => m.weighted_f1,
        }
    }
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
            eval_every: None,
            early_stopping: None,
        }
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
    /// Written as tables (`{"mode": "mix", "beta": 0.4}`), the form cell ids were hashed from.
    #[serde(with = "dmlft_eval::inference_mode::table")]
    pub inference: Vec<InferenceMode>,
    /// Evaluate on at most this many examples (a seeded subset); `None` = all.
    #[serde(default)]
    pub eval_limit: Option<usize>,
    /// `Some`: the variant runs SetFit ([`crate::setfit`]) instead of fine-tuning; `objective`
    /// and `train` (but `eval_batch_size`) are then unused. Absent from fine-tune cells'
    /// JSON, so their ids are those of cells written before SetFit existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setfit: Option<SetFitSpec>,
    /// `Some`: the variant is a linear probe ([`crate::probe`]): no training, a logistic head on
    /// the frozen encoder's embeddings; `objective` and `train` (but `eval_batch_size`) are
    /// unused. Absent from other cells' JSON (their ids are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn dev_keys_are_read_from_json_and_absent_ones_leave_the_cell_identity_alone() {
        let plain = serde_json::to_value(TrainSpec::default()).unwrap();
        assert!(plain.get("eval_every").is_none() && plain.get("early_stopping").is_none());
        let spec: TrainSpec = serde_json::from_str(
            r#"{"eval_every": 5, "early_stopping": {"metric": "macro_f1", "patience": 2}}"#,
        )
        .unwrap();
        assert_eq!(spec.eval_every, Some(5));
        let stop = spec.early_stopping.clone().unwrap();
        assert_eq!(stop.metric, DevMetric::MacroF1);
        assert_eq!(
            (stop.mode, stop.patience, stop.restore_best),
            (InferenceMode::Head, 2, true)
        );
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["early_stopping"]["mode"], "head");
        let bad = serde_json::from_str::<TrainSpec>(
            r#"{"eval_every": 5, "early_stopping": {"metric": "loss", "patience": 2}}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("macro_f1"));
    }
}
