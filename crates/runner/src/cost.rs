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
//! 2.0 s and 13 s, `shared/reference/CPU-SPEED.md`), large scaled by parameter count; CUDA values
//! are rough guesses for one data-centre GPU. Evaluation is not counted.

use crate::grid::{Cell, Device};
use crate::store::{CellRecord, CellStatus};
use dmlft_data::spec::{ProtocolSpec, TaskName};
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
        ProtocolSpec::PerClass { .. } => {
            s.split.shots * s.dataset.senteval_task().map_or(2, senteval_classes)
        }
    };
    let per_step = s.train.batch_size * s.train.grad_accum;
    let batch = per_step.min(train_n).max(1);
    let steps = s
        .train
        .steps
        .unwrap_or_else(|| s.train.epochs * train_n.div_ceil(per_step.max(1)));
    let tokens = s.model.max_length;
    CellCost {
        steps,
        batch,
        tokens,
        token_steps: steps as u64 * batch as u64 * tokens as u64,
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
    match device {
        Device::Cpu => cpu,
        Device::Cuda => cuda,
    }
}

/// Measured seconds per 1,000 training tokens over finished cells (train time only).
pub fn measured_secs_per_ktoken<'a>(records: impl Iterator<Item = &'a CellRecord>) -> Option<f64> {
    let (mut secs, mut ktokens) = (0.0, 0.0);
    for r in records.filter(|r| r.status == CellStatus::Done) {
        let Some(result) = &r.result else { continue };
        let batch =
            (r.cell.train.batch_size * r.cell.train.grad_accum).min(result.train_size.max(1));
        let k = result.steps as f64 * batch as f64 * r.cell.model.max_length as f64 / 1000.0;
        if k > 0.0 && result.timings.train_s > 0.0 {
            secs += result.timings.train_s;
            ktokens += k;
        }
    }
    (ktokens > 0.0).then(|| secs / ktokens)
}
