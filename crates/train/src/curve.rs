//! The training curve of one cell, stored in its record (`CellResult::curve`): per recorded
//! optimizer step the total loss and each of its terms, the learning rate of each parameter
//! group, and the global gradient norm before clipping.
//!
//! Steps are recorded every `every` optimizer steps, `every = ceil(steps / MAX_POINTS)` (so a
//! curve has at most [`MAX_POINTS`] points, plus the last step, which is always recorded); each
//! point holds the values of that step (not a window mean). Records written before curves
//! existed have none (`curve: None`); readers must accept that.
//!
//! To draw: x = `step` (1-based: the number of optimizer steps done), y = `loss`, `terms[name]`,
//! `lr[group]` or `grad_norm`. Every point has the same term and group names.
//!
//! `term_grad_norms` (objectives of two or more terms only) holds each weighted term's gradient
//! norm before clipping on at most [`TERM_GRAD_POINTS`] of the recorded steps (plus the last):
//! which term the clip mostly shrinks. `dev` is the dev curve of `[train] eval_every`: the dev
//! examples' scores per inference mode every `every` steps, and what early stopping did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::{DevMetric, InferenceMode};

/// Most points a curve holds (besides the always-recorded last step).
pub const MAX_POINTS: usize = 1000;

/// Most steps with per-term gradient norms (besides the last step): each costs one more
/// forward and backward pass per term but one (see [`crate::train_loop`]).
pub const TERM_GRAD_POINTS: usize = 10;

/// The curve of one training run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingCurve {
    /// A point every `every` optimizer steps (1 = every step).
    pub every: usize,
    pub points: Vec<CurvePoint>,
    /// The dev curve (`[train] eval_every`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<DevCurve>,
}

/// One recorded optimizer step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CurvePoint {
    /// Optimizer steps done, 1-based (the first step is 1).
    pub step: usize,
    /// The objective the step minimised (weighted total, summed over accumulated micro-batches).
    pub loss: f64,
    /// Each unweighted term: `ce` and each DML term by its name in the objective.
    pub terms: BTreeMap<String, f64>,
    /// Learning rate of each parameter group (`encoder`, `head`, `loss`) at this step.
    pub lr: BTreeMap<String, f64>,
    /// Global L2 norm of the gradients before clipping.
    pub grad_norm: f64,
    /// Each weighted term's gradient norm before clipping (`ce`, each DML term), on sampled
    /// steps of objectives with two or more terms; empty otherwise.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub term_grad_norms: BTreeMap<String, f64>,
}

/// The dev examples' scores during training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DevCurve {
    /// An evaluation every `every` optimizer steps, and at the last step run.
    pub every: usize,
    pub points: Vec<DevPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopRecord>,
}

/// One evaluation of the dev examples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DevPoint {
    /// Optimizer steps done (1-based), as [`CurvePoint::step`].
    pub step: usize,
    /// Keyed by inference mode label (`head`, `proxy`, `mix-0.4`, ...).
    pub scores: BTreeMap<InferenceMode, DevScores>,
}

/// The scalar metrics of one mode on the dev examples (per-class metrics and confusion stay
/// out: a curve must stay small).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DevScores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub weighted_f1: f64,
}

impl From<&dmlft_eval::Metrics> for DevScores {
    fn from(m: &dmlft_eval::Metrics) -> Self {
        Self {
            accuracy: m.accuracy,
            macro_f1: m.macro_f1,
            weighted_f1: m.weighted_f1,
        }
    }
}

impl DevScores {
    pub fn get(&self, metric: DevMetric) -> f64 {
        match metric {
            DevMetric::Accuracy => self.accuracy,
            DevMetric::MacroF1 => self.macro_f1,
            DevMetric::WeightedF1 => self.weighted_f1,
        }
    }
}

/// What early stopping did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopRecord {
    pub metric: DevMetric,
    pub mode: InferenceMode,
    pub patience: usize,
    /// The step of the best evaluation (the first of equals) and its value.
    pub best_step: usize,
    pub best_value: f64,
    /// The step training stopped at, when patience ran out before the planned steps.
    pub stopped_at: Option<usize>,
    /// Whether the returned weights are those of `best_step` (not of the last step run).
    pub restored: bool,
}

impl TrainingCurve {
    /// An empty curve for a run of `total_steps` optimizer steps.
    pub fn for_steps(total_steps: usize) -> Self {
        Self {
            every: total_steps.div_ceil(MAX_POINTS).max(1),
            points: Vec::new(),
            dev: None,
        }
    }

    /// Whether 0-based step `step` of `total_steps` gets per-term gradient norms: a recorded
    /// step on a grid of at most [`TERM_GRAD_POINTS`] steps, and the last step.
    pub fn samples_term_grads(&self, step: usize, total_steps: usize) -> bool {
        let every = self
            .every
            .max(total_steps.div_ceil(TERM_GRAD_POINTS))
            .max(1);
        let every = every.div_ceil(self.every.max(1)) * self.every.max(1);
        (step + 1).is_multiple_of(every) || step + 1 == total_steps
    }

    /// Whether 0-based optimizer step `step` of `total_steps` is recorded.
    pub fn records(&self, step: usize, total_steps: usize) -> bool {
        (step + 1).is_multiple_of(self.every.max(1)) || step + 1 == total_steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(total: usize) -> Vec<usize> {
        let c = TrainingCurve::for_steps(total);
        (0..total).filter(|&s| c.records(s, total)).collect()
    }

    #[test]
    fn short_runs_record_every_step() {
        assert_eq!(recorded(5), [0, 1, 2, 3, 4]);
        assert_eq!(TrainingCurve::for_steps(0).every, 1);
    }

    #[test]
    fn long_runs_are_decimated_to_at_most_max_points_plus_the_last_step() {
        let steps = recorded(2500);
        assert_eq!(TrainingCurve::for_steps(2500).every, 3);
        assert_eq!(steps[..3], [2, 5, 8]);
        assert_eq!(*steps.last().unwrap(), 2499);
        assert!(steps.len() <= MAX_POINTS + 1, "{}", steps.len());
        assert_eq!(recorded(1000).len(), 1000);
        assert_eq!(recorded(1001).len(), 501);
    }

    #[test]
    fn term_gradients_are_sampled_on_recorded_steps_only() {
        let sampled = |total: usize| {
            let c = TrainingCurve::for_steps(total);
            let s: Vec<usize> = (0..total)
                .filter(|&s| c.samples_term_grads(s, total))
                .collect();
            assert!(s.iter().all(|&k| c.records(k, total)), "{total}: {s:?}");
            s
        };
        assert_eq!(sampled(40), [3, 7, 11, 15, 19, 23, 27, 31, 35, 39]);
        assert_eq!(sampled(5), [0, 1, 2, 3, 4]);
        // A decimated curve (every 3): samples on multiples of 3 only.
        let long = sampled(2500);
        assert!(long.len() <= TERM_GRAD_POINTS + 1, "{}", long.len());
        assert_eq!(long[0], 251);
    }
}
