//! What one cell produces: metrics per inference mode, timings, and how training went.

use crate::curve::TrainingCurve;
use dmlft_eval::metrics::Metrics;
use dmlft_eval::InferenceMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The burn version every result records and `dmlft env` prints: the workspace pins it
/// (`burn = "=0.21.0"`), and a test checks it against Cargo.lock.
pub const BURN_VERSION: &str = "0.21.0";

/// Wall-clock seconds of the phases of one cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub load_s: f64,
    pub train_s: f64,
    pub eval_s: f64,
    pub total_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// Keyed by inference mode, written as its label: `"head"`, `"proxy"`, `"mix-0.4"`.
    pub metrics: BTreeMap<InferenceMode, Metrics>,
    pub train_size: usize,
    pub eval_size: usize,
    pub steps: usize,
    /// Total objective at the last optimizer step, and each of its terms.
    pub final_loss: f64,
    pub final_loss_terms: BTreeMap<String, f64>,
    pub timings: Timings,
    /// Crate versions and backend that produced the result.
    pub versions: BTreeMap<String, String>,
    /// The training curve ([`crate::curve`]); `None` in records written before curves existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<TrainingCurve>,
    /// A SetFit cell's pairs and stage times; `None` for fine-tuned cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setfit: Option<SetFitStats>,
    /// Metrics on the dev examples (per-class `dev_shots`), keyed like `metrics`; empty when the
    /// cell has none. For choosing settings on data the test metrics never saw.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dev_metrics: BTreeMap<InferenceMode, Metrics>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dev_size: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a SetFit cell's stages did (its `steps`, `final_loss` and `curve` are the body
/// stage's; `timings.train_s` is body + head).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetFitStats {
    /// Pairs the body trained on, and how many of them are positive / negative.
    pub pairs: usize,
    pub positive_pairs: usize,
    pub negative_pairs: usize,
    /// Sizes of the pools they were drawn from (self-pairs included).
    pub pool_positive: usize,
    pub pool_negative: usize,
    /// What set the number of pairs: `num_iterations = N` (the SetFit paper's setting) or, when
    /// it is unset, the package's default `sampling_strategy = "oversampling"` (or the one
    /// named). Empty in records written before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pairs_from: String,
    /// Optimizer steps the body stage planned on those pairs (`ceil(pairs / batch_size) *
    /// epochs`; the record's `steps` are those run, fewer after early stopping).
    #[serde(default)]
    pub planned_body_steps: usize,
    /// Seconds of the body stage, of embedding the training examples, of fitting the head.
    pub body_s: f64,
    pub embed_s: f64,
    pub head_s: f64,
}

#[cfg(test)]
mod burn_version_tests {
    #[test]
    fn the_recorded_burn_version_is_the_locked_one() {
        let lock = include_str!("../../../Cargo.lock");
        let at = lock
            .find("\nname = \"burn\"\n")
            .expect("burn in Cargo.lock");
        let version = lock[at..]
            .lines()
            .nth(2)
            .and_then(|l| l.strip_prefix("version = \""))
            .and_then(|l| l.strip_suffix('"'));
        assert_eq!(version, Some(super::BURN_VERSION));
    }
}
