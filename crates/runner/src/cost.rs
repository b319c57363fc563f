//! Cost estimates for `dmlft plan`: each cell's training and evaluation work in floating-point
//! operations (the model's architecture from dmlft-model, the sample sizes from dmlft-data's
//! sampler, the step count from dmlft-train), turned into seconds by a device speed: measured on
//! the grid's finished cells when there are any, else this machine's calibration
//! (`crate::calibration`), else the reference speed of the device below.
//! Work is counted on batches padded as the run pads them ([`padded`]) when the model's tokenizer
//! is at hand, else on batches of `max_length` tokens, which leans high.

use crate::grid::{Cell, Device};
use crate::store::{CellRecord, CellStatus};
use dmlft_model::EncoderConfig;
use dmlft_train::Method;
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
    /// Whether the work is counted on batches padded to their longest example ([`padded`])
    /// rather than to `tokens`.
    pub padded: bool,
}

/// A cell's work from its training and evaluation sample sizes and its model's architecture.
pub fn cell_cost(
    cell: &Cell,
    train_n: usize,
    eval_n: usize,
    config: Option<&EncoderConfig>,
) -> CellCost {
    let s = &cell.spec;
    let (steps, batch, tokens) = match s.method() {
        Method::FineTune => (
            dmlft_train::finetune::planned_steps(&s.train, train_n),
            (s.train.batch_size.saturating_mul(s.train.grad_accum))
                .min(train_n)
                .max(1),
            s.model.max_length,
        ),
        Method::SetFit(setfit) => setfit_steps(setfit, s.split.shots, train_n, s.model.max_length),
        // no training step; embedding the training sample is left out, as SetFit's head's
        Method::LinearProbe(_) => (0, 1, s.model.max_length),
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
        padded: false,
    }
}

/// Token counts (special tokens included, before truncation) of a cell's training sample and of
/// every example it scores (the evaluated examples and the dev examples).
#[derive(Debug, Clone, Default)]
pub struct Lengths {
    pub train: Vec<usize>,
    pub scored: Vec<usize>,
}

/// A fine-tuning cell's `cost` counted on batches padded as the run pads them: a training batch
/// to its longest example (the expectation over random batches), the evaluation's length-sorted
/// batches each to its longest; every length capped at `max_length`. The attention's share per
/// token grows with the padded length ([`EncoderConfig::forward_flops_per_token`]). Other methods'
/// costs are returned as they are.
pub fn padded(cost: CellCost, cell: &Cell, config: &EncoderConfig, lengths: &Lengths) -> CellCost {
    let s = &cell.spec;
    if !matches!(s.method(), Method::FineTune) || lengths.train.is_empty() {
        return cost;
    }
    let cap = |l: &usize| (*l).clamp(1, s.model.max_length.max(1));
    let train: Vec<usize> = lengths.train.iter().map(cap).collect();
    let seq = expected_longest(&train, s.train.batch_size);
    let scored: Vec<usize> = lengths.scored.iter().map(cap).collect();
    let eval_flops = dmlft_data::BatchPlan::length_sorted(&scored, s.train.eval_batch_size.max(1))
        .batches
        .iter()
        .map(|b| {
            let longest = b.iter().map(|&i| scored[i]).max().unwrap_or(0);
            b.len() as f64 * longest as f64 * config.forward_flops_per_token(longest)
        })
        .sum();
    CellCost {
        train_flops: cost.steps as f64
            * cost.batch as f64
            * seq
            * config.train_flops_per_token(seq.round() as usize),
        eval_flops,
        padded: true,
        ..cost
    }
}

/// The expected longest of `batch` lengths drawn without replacement from `lengths`: with the
/// lengths sorted, the k-th smallest (1-based) is the longest of the batch with probability
/// C(k-1, b-1) / C(n, b).
fn expected_longest(lengths: &[usize], batch: usize) -> f64 {
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let b = batch.clamp(1, n.max(1));
    if n == 0 {
        return 0.0;
    }
    // P(k = n) = b / n; P(k - 1) = P(k) (k - b) / (k - 1).
    let (mut p, mut sum) = (b as f64 / n as f64, 0.0);
    for k in (b..=n).rev() {
        sum += p * sorted[k - 1] as f64;
        if k > 1 {
            p *= (k - b) as f64 / (k - 1) as f64;
        }
    }
    sum
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
    /// `measured` (this grid's finished cells), `calibrated` (a timed probe on this machine),
    /// `reference` (measured on another machine, scaled by work) or `assumed` (no measurement
    /// exists).
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
                    "a constant from another machine: {} measured on a 2-core AVX-512 CPU, {} training examples x {} tokens in {} s, {} evaluated in {} s, scaled by work",
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
    padded_cost: impl Fn(&str) -> Option<&'a CellCost>,
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
        // The work counted as the estimate counts it, so that the rate applies to it.
        match padded_cost(&r.cell_id).filter(|c| c.padded) {
            Some(c) => {
                train_f += c.train_flops;
                eval_f += c.eval_flops;
            }
            None => {
                train_f += result.steps as f64
                    * batch as f64
                    * tokens as f64
                    * config.train_flops_per_token(tokens);
                eval_f += result.eval_size as f64
                    * tokens as f64
                    * config.forward_flops_per_token(tokens);
            }
        }
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

    #[test]
    fn the_expected_longest_of_a_batch_is_its_order_statistic() {
        // all four of four: the longest; one of four: the mean
        assert_eq!(expected_longest(&[3, 1, 4, 2], 4), 4.0);
        assert!((expected_longest(&[3, 1, 4, 2], 1) - 2.5).abs() < 1e-12);
        // two of {1, 2, 3}: max 2 once ({1,2}), 3 twice: 8 / 3
        assert!((expected_longest(&[1, 2, 3], 2) - 8.0 / 3.0).abs() < 1e-12);
        // a batch larger than the sample is the sample
        assert_eq!(expected_longest(&[5, 7], 16), 7.0);
        assert_eq!(expected_longest(&[], 16), 0.0);
    }
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
