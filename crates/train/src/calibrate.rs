//! A short timed probe of how fast this machine trains and evaluates, for the runner's cost
//! estimates (`dmlft plan`): a random BERT-shaped classifier takes a few optimizer steps on the one
//! training loop (forward, CE, backward, clipping, AdamW: what a fine-tuning cell does per step)
//! and scores a few batches, on the chosen device. The runner turns the times into FLOP rates
//! with dmlft-model's FLOP count of the same shape.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use dmlft_data::{EncodedBatch, Example};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_losses::Objective;
use dmlft_model::{EncoderConfig, ModelFamily, Precision, SequenceClassifier};
use dmlft_pooling::Pooling;
use serde::{Deserialize, Serialize};

use crate::device::{BackendJob, DeviceChoice};
use crate::error::TrainError;
use crate::finetune::finetune_plan;
use crate::forward::classify;
use crate::spec::TrainSpec;
use crate::tensors::{label_tensor, BatchTensors};
use crate::train_loop::{train, StepLoss, TrainStep};
use crate::trainable::Trainable;

/// The probe's model and batches. Gemm speed depends on the matrix sizes, so the standard probe
/// has a realistic hidden size (BERT-base's); few layers keep it to seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeShape {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    /// Tokens per example (no padding).
    pub seq: usize,
    pub train_batch: usize,
    /// Timed optimizer steps (after one untimed warm-up step).
    pub train_steps: usize,
    pub eval_batch: usize,
    /// Timed evaluation batches (after one untimed warm-up batch).
    pub eval_batches: usize,
}

impl ProbeShape {
    /// What `dmlft plan` measures: about 90 GFLOP per step, a few seconds on two AVX2 cores.
    pub const STANDARD: ProbeShape = ProbeShape {
        layers: 2,
        hidden: 768,
        heads: 12,
        intermediate: 3072,
        vocab: 8192,
        seq: 64,
        train_batch: 16,
        train_steps: 2,
        eval_batch: 32,
        eval_batches: 2,
    };

    /// Milliseconds: for tests of the machinery around the probe, not for estimates.
    pub const TOY: ProbeShape = ProbeShape {
        layers: 1,
        hidden: 16,
        heads: 2,
        intermediate: 32,
        vocab: 32,
        seq: 8,
        train_batch: 2,
        train_steps: 1,
        eval_batch: 2,
        eval_batches: 1,
    };

    /// The probe model's architecture (a BERT).
    pub fn config(&self) -> Result<EncoderConfig, TrainError> {
        Ok(EncoderConfig::synthetic(
            ModelFamily::Bert,
            self.hidden,
            self.layers,
            self.heads,
            self.intermediate,
            self.vocab,
            self.seq.max(2),
        )?)
    }
}

/// The probe's measured times (the warm-up step and batch left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeTimes {
    /// Examples trained on in the timed steps (`train_steps x train_batch`).
    pub train_examples: usize,
    pub train_s: f64,
    /// Examples scored in the timed batches.
    pub eval_examples: usize,
    pub eval_s: f64,
}

/// Runs the probe of `shape` on `device` (f32).
pub fn probe(device: DeviceChoice, shape: &ProbeShape) -> Result<ProbeTimes, TrainError> {
    let sizes = [
        shape.train_steps,
        shape.train_batch,
        shape.eval_batches,
        shape.eval_batch,
        shape.seq,
    ];
    if sizes.contains(&0) || shape.vocab < 2 {
        return Err(TrainError::InvalidSetting {
            key: "calibration probe".into(),
            value: format!("{shape:?}"),
            valid:
                "at least one timed step, batch, example and token, and a vocabulary of 2 or more"
                    .into(),
        });
    }
    let config = shape.config()?;
    device.dispatch(Precision::F32, ProbeJob { shape, config })?
}

struct ProbeJob<'a> {
    shape: &'a ProbeShape,
    config: EncoderConfig,
}

impl BackendJob for ProbeJob<'_> {
    type Output = Result<ProbeTimes, TrainError>;

    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        run_probe::<B>(self.shape, &self.config, device)
    }
}

/// One fixed batch of token ids (their values do not change the work).
fn batch(rows: usize, seq: usize, vocab: usize) -> EncodedBatch {
    let n = rows * seq;
    EncodedBatch {
        input_ids: (0..n)
            .map(|i| 1 + (i * 7919 % (vocab - 1)) as u32)
            .collect(),
        attention_mask: vec![1; n],
        token_type_ids: vec![0; n],
        batch_size: rows,
        seq_len: seq,
    }
}

/// The classifier's CE loss on the fixed batch: the fine-tuning step without a tokenizer.
struct ProbeStep {
    batch: EncodedBatch,
    labels: Vec<usize>,
}

impl<B: AutodiffBackend> TrainStep<B> for ProbeStep {
    type Module = Trainable<B>;

    fn loss(
        &self,
        trainable: &Trainable<B>,
        _batch: &[usize],
        device: &B::Device,
    ) -> Result<StepLoss<B>, TrainError> {
        let x = BatchTensors::<B>::new(&self.batch, device);
        let out = classify(&trainable.model, x, Pooling::First);
        let obj = trainable.objective.forward(
            out.logits,
            out.token_states,
            out.attention_mask,
            label_tensor(&self.labels, device),
        )?;
        Ok(StepLoss {
            loss: obj.total,
            terms: vec![("ce".to_string(), obj.ce)],
        })
    }
}

fn run_probe<B: AutodiffBackend>(
    shape: &ProbeShape,
    config: &EncoderConfig,
    device: &B::Device,
) -> Result<ProbeTimes, TrainError> {
    B::seed(device, 1);
    let labels: Vec<usize> = (0..shape.train_batch).map(|i| i % 2).collect();
    let model = SequenceClassifier::<B>::random(config, 2, 1, device);
    let objective = Objective::<B>::new(&ObjectiveSpec::default(), 2, shape.hidden, 1, device)?;
    let mut trainable = Trainable { model, objective };
    let step = ProbeStep {
        batch: batch(shape.train_batch, shape.seq, shape.vocab),
        labels: labels.clone(),
    };
    // The loop's batch stream only indexes the examples; the step ignores their text.
    let examples: Vec<Example> = labels.iter().map(|&l| Example::new("", l)).collect();
    let cancel = AtomicBool::new(false);
    let quiet = |_| {};
    let timed = |steps: usize, trainable| -> Result<(Trainable<B>, f64), TrainError> {
        let spec = TrainSpec {
            steps: Some(steps),
            batch_size: shape.train_batch,
            ..TrainSpec::default()
        };
        let plan = finetune_plan(&spec, &trainable, &examples, 1, &cancel, Some(&quiet))?;
        let (trainable, stats) = train(&step, trainable, plan, device)?;
        Ok((trainable, stats.seconds))
    };
    // The first step allocates the optimizer's moments and warms the allocator: left out.
    (trainable, _) = timed(1, trainable)?;
    let (trainable, train_s) = timed(shape.train_steps, trainable)?;

    let model = trainable.valid().model;
    let eval = batch(shape.eval_batch, shape.seq, shape.vocab);
    let score = || {
        let x = BatchTensors::<B::InnerBackend>::new(&eval, device);
        // Reading the logits back waits for the device, as evaluation does.
        classify(&model, x, Pooling::First).logits.into_data()
    };
    score();
    let started = Instant::now();
    for _ in 0..shape.eval_batches {
        score();
    }
    Ok(ProbeTimes {
        train_examples: shape.train_steps * shape.train_batch,
        train_s,
        eval_examples: shape.eval_batches * shape.eval_batch,
        eval_s: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toy_probe_times_training_and_evaluation() {
        let t = probe(DeviceChoice::Cpu, &ProbeShape::TOY).unwrap();
        assert_eq!(t.train_examples, 2);
        assert_eq!(t.eval_examples, 2);
        assert!(t.train_s > 0.0 && t.eval_s > 0.0, "{t:?}");
    }

    #[test]
    fn a_probe_without_timed_steps_is_refused() {
        let shape = ProbeShape {
            train_steps: 0,
            ..ProbeShape::TOY
        };
        assert!(matches!(
            probe(DeviceChoice::Cpu, &shape),
            Err(TrainError::InvalidSetting { .. })
        ));
    }
}
