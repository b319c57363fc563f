//! One finished run as the report sees it.

use crate::inference_mode::InferenceMode;
use crate::metric::Metric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The result of one run (one cell of a grid) in one inference mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub mode: InferenceMode,
    /// What pairs runs of different losses: the seed or the fold.
    pub pair_key: String,
    /// Scalar metrics: accuracy, macro_f1, weighted_f1.
    pub metrics: BTreeMap<Metric, f64>,
}

impl RunRecord {
    /// `dataset/shots/loss/mode/pair_key`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}/{}-shot/{}/{}/{}",
            self.dataset, self.shots, self.loss, self.mode, self.pair_key
        )
    }
}
