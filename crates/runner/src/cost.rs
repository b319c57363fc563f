//! Cost estimates for `dmlft plan`: optimizer steps x batch x tokens per cell, and seconds from
//! the timings of finished cells when there are any, else from a default per model size.
//!
//! Defaults (seconds per 1,000 training tokens, forward + backward + optimizer step):
//!
//! | size  | matched by source containing | cpu  | cuda  |
//! |-------|------------------------------|------|-------|
//! | small | `minilm`, `small`, `tiny`    | 2.0  | 0.003 |
//! | base  | `base` (and anything else)   | 12.7 | 0.012 |
//! | large | `large`                      | 40   | 0.04  |
//!
//! CPU values are burn's measured MiniLM and RoBERTa-base steps on 2 cores (16 x 64 tokens:
//! 2.0 s and 13 s with burn-flex), large scaled by parameter count; CUDA values
//! are rough guesses for one data-centre GPU. Evaluation is not counted.
//!
//! Sizes come from grid files and from records on disk; products saturate instead of
//! overflowing (grids bound their sizes, records are not trusted to).

use crate::grid::{Cell, Device};
use crate::store::{CellRecord, CellStatus};
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, TaskName};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellCost {
    pub steps: usize,
    pub batch: usize,
    pub tokens: usize,
    /// steps x batch x tokens.
    pub token_steps: u64,
}

/// Number of classes of a SentEval task (for per-class training-set sizes).
pub fn senteval_classes(task: TaskName) -> usize {
    match task {
        TaskName::Sst5 => 5,
        TaskName::Trec => 6,
        TaskName::SickE => 3,
        _ => 2,
    }
}

pub fn cell_cost(cell: &Cell) -> CellCost {
    let s = &cell.spec;
    let train_n = match s.split.protocol {
        ProtocolSpec::Kfold { .. } => s.split.shots,
        // custom datasets: class count unknown before loading; 2 assumed
        ProtocolSpec::PerClass { .. } => s.split.shots.saturating_mul(match &s.dataset {
            DatasetSpec::SentEval(t) => senteval_classes(*t),
            DatasetSpec::Custom(_) => 2,
        }),
    };
    let per_step = s.train.batch_size.saturating_mul(s.train.grad_accum);
    let batch = per_step.min(train_n).max(1);
    let steps = s.train.steps.unwrap_or_else(|| {
        s.train
            .epochs
            .saturating_mul(train_n.div_ceil(per_step.max(1)))
    });
    let tokens = s.model.max_length;
    CellCost {
        steps,
        batch,
        tokens,
        token_steps: (steps as u64)
            .saturating_mul(batch as u64)
            .saturating_mul(tokens as u64),
    }
}

/// Default seconds per 1,000 training tokens for a model source on a device.
pub fn default_secs_per_ktoken(source: &str, device: Device) -> f64 {
    let s = source.to_ascii_lowercase();
    let (cpu, cuda) = if s.contains("large") {
        (40.0, 0.04)
    } else if s.contains("minilm") || s.contains("small") || s.contains("tiny") {
        (2.0, 0.003)
    } else {
        (12.7, 0.012)
    };
    // An unknown GPU is taken to be a CUDA one; measured cells replace the guess.
    if device.is_gpu() {
        cuda
    } else {
        cpu
    }
}

/// Measured seconds per 1,000 training tokens over finished cells (train time only).
pub fn measured_secs_per_ktoken<'a>(records: impl Iterator<Item = &'a CellRecord>) -> Option<f64> {
    let (mut secs, mut ktokens) = (0.0, 0.0);
    for r in records.filter(|r| r.status == CellStatus::Done) {
        let Some(result) = &r.result else { continue };
        let batch = r
            .cell
            .train
            .batch_size
            .saturating_mul(r.cell.train.grad_accum)
            .min(result.train_size.max(1));
        let k = result.steps as f64 * batch as f64 * r.cell.model.max_length as f64 / 1000.0;
        if k.is_finite()
            && k > 0.0
            && result.timings.train_s.is_finite()
            && result.timings.train_s > 0.0
        {
            secs += result.timings.train_s;
            ktokens += k;
        }
    }
    (ktokens > 0.0).then(|| secs / ktokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{parse_grid, LoadOptions};

    #[test]
    fn huge_sizes_saturate_instead_of_overflowing() {
        // bypasses the grid's bounds on purpose: records and callers are not trusted to respect them
        let text = "name = \"c\"\ndatasets = [\"mr\"]\nshots = [4]\nseeds = [1]\n[model]\nsource = \"m\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n";
        let grid = parse_grid(
            text,
            std::path::Path::new("c.toml"),
            &LoadOptions::default(),
        )
        .unwrap();
        let mut cell = grid.cells[0].clone();
        cell.spec.train.steps = None;
        cell.spec.train.epochs = usize::MAX;
        cell.spec.split.shots = usize::MAX;
        cell.spec.train.batch_size = usize::MAX;
        cell.spec.train.grad_accum = usize::MAX;
        let cost = cell_cost(&cell);
        assert_eq!(cost.token_steps, u64::MAX);
        cell.spec.train.steps = Some(usize::MAX);
        cell.spec.model.max_length = usize::MAX;
        assert_eq!(cell_cost(&cell).token_steps, u64::MAX);
    }
}
