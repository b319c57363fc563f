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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most points a curve holds (besides the always-recorded last step).
pub const MAX_POINTS: usize = 1000;

/// The curve of one training run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingCurve {
    /// A point every `every` optimizer steps (1 = every step).
    pub every: usize,
    pub points: Vec<CurvePoint>,
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
}

impl TrainingCurve {
    /// An empty curve for a run of `total_steps` optimizer steps.
    pub fn for_steps(total_steps: usize) -> Self {
        Self {
            every: total_steps.div_ceil(MAX_POINTS).max(1),
            points: Vec::new(),
        }
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
}
