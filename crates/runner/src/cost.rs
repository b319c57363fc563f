//! Cost estimates for `dmlft plan`: each cell's training and evaluation work in floating-point
//! operations (the model's architecture from dmlft-model, the sample sizes from dmlft-data's
//! sampler, the step count from dmlft-train), turned into seconds by a device speed: measured on
//! the grid's finished cells when there are any, else the reference speed of the device below.
//! Work is counted on padded batches of `max_length` tokens, so estimates lean high.

use crate::grid::{Cell, Device};
use crate::store::{CellRecord, CellStatus};
use dmlft_model::EncoderConfig;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellCost {
    pub steps: usize,
    /// Examples per optimizer step.
    pub batch: usize,
    /// Tokens per example (`max_length`).
    pub tokens: usize,
    /// steps x batch x tokens.
    pub token_steps: u64,
    /// Examples evaluated (the held-out fold or test split, after `eval_limit`).
    pub eval_examples: usize,
    /// Forward + backward work of the training steps; 0 when the architecture is unknown.
    pub train_flops: f64,
    /// Forward work of the evaluation.
    pub eval_flops: f64,
}

/// A cell's work from its training and evaluation sample sizes and its model's architecture.
pub fn cell_cost(
    cell: &Cell,
    train_n: usize,
    eval_n: usize,
    config: Option<&EncoderConfig>,
) -> CellCost {
    let s = &cell.spec;
    let (steps, batch, tokens) = match &s.setfit {
        None => (
            dmlft_train::finetune::planned_steps(&s.train, train_n),
            (s.train.batch_size.saturating_mul(s.train.grad_accum))
                .min(train_n)
                .max(1),
            s.model.max_length,
        ),
        Some(setfit) => setfit_steps(setfit, s.split.shots, train_n, s.model.max_length),
    };
    let eval_examples = s.eval_limit.map_or(eval_n, |limit| limit.min(eval_n));
    let (train_per_token, eval_per_token) = config.map_or((0.0, 0.0), |c| {
        (
            c.train_flops_per_token(tokens),
            c.forward_flops_per_token(tokens),
        )
    });
    // Saturating: callers and records are not trusted to respect the grid's bounds.
    let token_steps = (steps as u64)
        .saturating_mul(batch as u64)
        .saturating_mul(tokens as u64);
    CellCost {
        steps,
        batch,
        tokens,
        token_steps,
        eval_examples,
        train_flops: token_steps as f64 * train_per_token,
        eval_flops: eval_examples as f64 * tokens as f64 * eval_per_token,
    }
}

/// A SetFit cell's body stage as (steps, examples per step, tokens). Approximate: the pairs are
/// counted for a class-balanced sample of `shots` per class (`train_n / shots` classes), each
/// step embeds both sentences of `batch_size` pairs, and the head's embedding of the training
/// examples is left out.
fn setfit_steps(
    setfit: &dmlft_train::setfit::SetFitSpec,
    shots: usize,
    train_n: usize,
    max_length: usize,
) -> (usize, usize, usize) {
    let per_class = shots.max(1);
    let pairs = dmlft_train::setfit::pairs::balanced_pair_count(
        setfit.sampling_strategy,
        setfit.num_iterations,
        (train_n / per_class).max(2),
        per_class,
    );
    (
        dmlft_train::setfit::body::planned_body_steps(setfit, pairs),
        setfit.batch_size.saturating_mul(2),
        setfit.max_length(max_length),
    )
}

/// How fast a device works through cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Speed {
    pub train_flops_per_s: f64,
    pub eval_flops_per_s: f64,
    /// Fixed seconds per cell (loading the model and data).
    pub per_cell_s: f64,
    /// `measured` (this grid's finished cells), `reference` (measured elsewhere, scaled by
    /// work) or `assumed` (no measurement exists).
    pub source: String,
    /// Which numbers the speed comes from.
    pub note: String,
}

impl Speed {
    pub fn seconds(&self, cost: &CellCost) -> f64 {
        self.per_cell_s
            + cost.train_flops / self.train_flops_per_s
            + cost.eval_flops / self.eval_flops_per_s
    }
}

/// Measured RoBERTa-large-shaped (random weights) work on the development machine's CPU (2
/// cores): `bench_model --model large`, one training step (forward + backward) of 16 x 64 tokens
/// and one inference batch of 64 x 64 tokens (docs/SPEED.md, "GPU").
struct Reference {
    model: &'static str,
    tokens: usize,
    train_examples: usize,
    train_s: f64,
    eval_examples: usize,
    eval_s: f64,
    load_s: f64,
}

const CPU_REFERENCE: Reference = Reference {
    model: "roberta-large",
    tokens: 64,
    train_examples: 16,
    train_s: 6.3,
    eval_examples: 64,
    eval_s: 7.8,
    load_s: 0.0,
};

/// Nobody has timed dmlft on a GPU yet: an assumed effective fp32 rate for one data-centre GPU
/// (a fraction of an A100/H100's fp32 peak), to be replaced by the measured rate of the first
/// finished cells.
const ASSUMED_GPU_FLOPS_PER_S: f64 = 20e12;
const ASSUMED_GPU_PER_CELL_S: f64 = 10.0;

/// The device's speed when the grid has no finished cell to measure.
pub fn reference_speed(device: Device) -> Speed {
    match device {
        Device::Cpu | Device::CpuNdarray => {
            let r = &CPU_REFERENCE;
            let config = dmlft_model::known_architecture(r.model)
                .expect("the CPU reference model is a known architecture");
            let per_example = r.tokens as f64;
            Speed {
                train_flops_per_s: r.train_examples as f64
                    * per_example
                    * config.train_flops_per_token(r.tokens)
                    / r.train_s,
                eval_flops_per_s: r.eval_examples as f64
                    * per_example
                    * config.forward_flops_per_token(r.tokens)
                    / r.eval_s,
                per_cell_s: r.load_s,
                source: "reference".into(),
                note: format!(
                    "{} measured on a 2-core CPU: {} training examples x {} tokens in {} s, {} evaluated in {} s, scaled by work",
                    r.model, r.train_examples, r.tokens, r.train_s, r.eval_examples, r.eval_s
                ),
            }
        }
        // An unknown GPU is taken to be a CUDA one; measured cells replace the guess.
        Device::Cuda(_) | Device::Wgpu(_) => Speed {
            train_flops_per_s: ASSUMED_GPU_FLOPS_PER_S,
            eval_flops_per_s: ASSUMED_GPU_FLOPS_PER_S,
            per_cell_s: ASSUMED_GPU_PER_CELL_S,
            source: "assumed".into(),
            note: format!(
                "not measured (no GPU run of dmlft has been timed yet): {:.0} TFLOP/s and {} s per cell are a guess for one data-centre GPU",
                ASSUMED_GPU_FLOPS_PER_S / 1e12,
                ASSUMED_GPU_PER_CELL_S
            ),
        },
    }
}

/// The speed of this grid's finished cells (their recorded train / eval / load seconds against
/// their work), or `None` when none finished with a model of known architecture.
pub fn measured_speed<'a>(
    records: impl Iterator<Item = &'a CellRecord>,
    architecture: impl Fn(&str) -> Option<EncoderConfig>,
) -> Option<Speed> {
    let (mut train_s, mut train_f, mut eval_s, mut eval_f, mut load_s, mut n) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for r in records.filter(|r| r.status == CellStatus::Done) {
        let Some(result) = &r.result else { continue };
        let Some(config) = architecture(&r.cell.model.source) else {
            continue;
        };
        let tokens = r.cell.model.max_length;
        let batch = (r
            .cell
            .train
            .batch_size
            .saturating_mul(r.cell.train.grad_accum))
        .min(result.train_size.max(1));
        let t = &result.timings;
        // Records are not trusted: products in f64, and only finite, positive timings count.
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        if !(finite(t.train_s) && finite(t.eval_s) && finite(t.load_s)) {
            continue;
        }
        train_f += result.steps as f64
            * batch as f64
            * tokens as f64
            * config.train_flops_per_token(tokens);
        eval_f += result.eval_size as f64 * tokens as f64 * config.forward_flops_per_token(tokens);
        train_s += t.train_s;
        eval_s += t.eval_s;
        load_s += t.load_s;
        n += 1;
    }
    (n > 0 && train_s > 0.0 && train_f > 0.0).then(|| Speed {
        train_flops_per_s: train_f / train_s,
        // evaluation too fast to time: as fast as training
        eval_flops_per_s: if eval_s > 0.0 && eval_f > 0.0 {
            eval_f / eval_s
        } else {
            train_f / train_s
        },
        per_cell_s: load_s / n as f64,
        source: "measured".into(),
        note: format!("this grid's {n} finished cells"),
    })
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
        let config = dmlft_model::known_architecture("roberta-large");
        let cost = cell_cost(&cell, usize::MAX, usize::MAX, config.as_ref());
        assert_eq!(cost.token_steps, u64::MAX);
        assert!(cost.eval_flops.is_finite() && cost.train_flops.is_finite());
        cell.spec.train.steps = Some(usize::MAX);
        cell.spec.model.max_length = usize::MAX;
        assert_eq!(cell_cost(&cell, usize::MAX, 0, None).token_steps, u64::MAX);
    }
}
