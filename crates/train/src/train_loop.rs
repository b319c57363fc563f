//! The training loop of one run, with HF Trainer semantics where the papers depend on them:
//! seeded reshuffle every epoch, the last partial batch kept, loss divided by the accumulation
//! count, global-norm clipping, then one AdamW step with the scheduled learning rates.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, Element, Tensor};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::{Example, TextTokenizer};

use crate::curve::{CurvePoint, TrainingCurve};
use crate::error::TrainError;
use crate::forward::classify;
use crate::optim::{
    clip_scale, global_grad_norm, AdamW, AdamWConfig, GroupLrs, LossScaleConfig, LossScaler,
    ParamGroups,
};
use crate::progress::{EventSink, Phase, Progress};
use crate::schedule::Schedule;
use crate::spec::TrainSpec;
use crate::tensors::{label_tensor, BatchTensors};
use crate::trainable::Trainable;
use dmlft_model::spec::HeadPooling;

/// How the run went.
#[derive(Debug, Clone, Default)]
pub struct TrainStats {
    pub steps: usize,
    pub final_loss: f64,
    /// `ce` and each DML term (unweighted) at the last step.
    pub final_terms: Vec<(String, f64)>,
    pub seconds: f64,
    /// Loss, terms, learning rates and gradient norm per recorded step.
    pub curve: TrainingCurve,
    /// Optimizer steps skipped by f16 loss scaling (non-finite gradients).
    pub skipped_steps: usize,
}

/// Number of optimizer steps a run takes (also the runner's cost estimate).
pub fn planned_steps(spec: &TrainSpec, n_train: usize) -> usize {
    if let Some(steps) = spec.steps {
        return steps;
    }
    let batches = n_train.div_ceil(spec.batch_size.max(1));
    // Saturating: the plan sizes cells from specs it has not bounded yet.
    spec.epochs
        .saturating_mul(batches.div_ceil(spec.grad_accum.max(1)))
}

/// The order of the `n` training examples in `epoch` (a fresh seeded permutation per epoch, as
/// transformers' `RandomSampler`).
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitRng::with_index(seed, stream::DATA_ORDER, epoch).shuffle(&mut order);
    order
}

/// Everything the loop needs besides the module.
pub struct LoopInputs<'a> {
    pub examples: &'a [Example],
    pub tokenizer: &'a TextTokenizer,
    pub max_length: usize,
    pub head_pooling: HeadPooling,
    pub spec: &'a TrainSpec,
    pub seed: u64,
    pub cancel: &'a AtomicBool,
    /// Where step events go; `None` = a terminal bar.
    pub progress: Option<EventSink<'a>>,
}

/// Trains `trainable` in place of the caller's copy and returns it with the run's statistics.
pub fn train<B: AutodiffBackend>(
    mut trainable: Trainable<B>,
    inputs: &LoopInputs<'_>,
    device: &B::Device,
) -> Result<(Trainable<B>, TrainStats), TrainError> {
    let spec = inputs.spec;
    spec.validate()?;
    let started = Instant::now();
    // Dropout masks follow the cell seed (a counter-based stream per thread, restarted here).
    dmlft_model::dropout::set_dropout_seed(SplitRng::derived_seed(inputs.seed, stream::DROPOUT));
    let total_steps = planned_steps(spec, inputs.examples.len());
    let schedule = Schedule::resolve(&spec.schedule, total_steps);
    let o = &spec.optimizer;
    let mut optim = AdamW::<B>::new(
        AdamWConfig {
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weight_decay: o.weight_decay,
            decay_bias_and_norm: o.decay_bias_and_norm,
        },
        ParamGroups::of_trainable(&trainable)?,
    );
    // f16 gradients underflow without loss scaling; f32 and bf16 (f32's exponent range) need none.
    let mut scaler = (<B::FloatElem as Element>::dtype() == DType::F16)
        .then(|| LossScaler::new(LossScaleConfig::f16()));
    let progress = Progress::new(Phase::Train, total_steps as u64, inputs.progress);
    let mut stats = TrainStats {
        curve: TrainingCurve::for_steps(total_steps),
        ..TrainStats::default()
    };
    let mut order: Vec<usize> = Vec::new();
    let mut cursor = 0usize;
    let mut epoch = 0u64;

    for step in 0..total_steps {
        if inputs.cancel.load(Ordering::Relaxed) {
            return Err(TrainError::Cancelled { step });
        }
        let mult = schedule.multiplier(step);
        let lrs = GroupLrs {
            encoder: o.lr * mult,
            head: o.head_lr.unwrap_or(o.lr) * mult,
            loss: o.loss_lr.unwrap_or(o.lr) * mult,
        };
        let loss_scale = scaler.as_ref().map_or(1.0, LossScaler::scale);
        let mut accumulator = GradientsAccumulator::<Trainable<B>>::new();
        let mut step_terms: Vec<(String, f64)> = Vec::new();
        for micro in 0..spec.grad_accum {
            if cursor >= order.len() {
                // A new epoch: a fresh seeded permutation, as HF's RandomSampler.
                order = epoch_order(inputs.examples.len(), inputs.seed, epoch);
                epoch += 1;
                cursor = 0;
                if micro > 0 {
                    break; // accumulation does not cross an epoch boundary (HF Trainer).
                }
            }
            let end = (cursor + spec.batch_size).min(order.len());
            let batch: Vec<Example> = order[cursor..end]
                .iter()
                .map(|&i| inputs.examples[i].clone())
                .collect();
            cursor = end;
            let terms = forward_backward(
                &trainable,
                &batch,
                inputs,
                loss_scale,
                &mut accumulator,
                device,
                step,
            )?;
            for (k, (name, v)) in terms.into_iter().enumerate() {
                match step_terms.get_mut(k) {
                    Some((_, acc)) => *acc += v,
                    None => step_terms.push((name, v)),
                }
            }
        }
        let mut grads = accumulator.grads();
        let record = stats.curve.records(step, total_steps);
        // The norm of the (scaled) gradients: for clipping, to find an inf / NaN, and for the
        // curve (a pass over the gradients, so only when needed).
        let norm = (spec.max_grad_norm.is_some() || scaler.is_some() || record)
            .then(|| global_grad_norm(&trainable, &grads));
        let apply = match scaler.as_mut() {
            Some(scaler) => scaler.update(norm.is_some_and(f64::is_finite)),
            None => true,
        };
        let clip = match (spec.max_grad_norm, norm) {
            (Some(max_norm), Some(norm)) => clip_scale(norm / loss_scale, max_norm),
            _ => 1.0,
        };
        // One factor unscales and clips (applied in f32 by the optimizer).
        let scale = clip / loss_scale;
        if apply {
            trainable = optim.step(trainable, &mut grads, lrs, scale)?;
        } else {
            stats.skipped_steps += 1;
            tracing::debug!(step, loss_scale, "non-finite f16 gradients: step skipped");
        }
        stats.final_loss = step_terms.first().map(|t| t.1).unwrap_or(0.0);
        stats.final_terms = step_terms.into_iter().skip(1).collect();
        stats.steps = step + 1;
        if record {
            stats.curve.points.push(CurvePoint {
                step: step + 1,
                loss: stats.final_loss,
                terms: stats.final_terms.iter().cloned().collect(),
                lr: [
                    ("encoder", lrs.encoder),
                    ("head", lrs.head),
                    ("loss", lrs.loss),
                ]
                .into_iter()
                .map(|(g, lr)| (g.to_string(), lr))
                .collect(),
                grad_norm: norm.map_or(f64::NAN, |n| n / loss_scale),
            });
        }
        tracing::debug!(
            step,
            loss = stats.final_loss,
            lr = lrs.encoder,
            grad_scale = scale,
            "optimizer step"
        );
        progress.step(step + 1, total_steps, stats.final_loss, lrs.encoder);
    }
    progress.finish();
    if stats.skipped_steps > 0 {
        tracing::info!(
            "f16 loss scaling skipped {} of {} steps (non-finite gradients)",
            stats.skipped_steps,
            stats.steps
        );
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((trainable, stats))
}

/// Forward and backward of one micro-batch; returns `[("total", v), ("ce", v), (term, v)...]`
/// (each divided by the accumulation count, so their sum over micro-batches is the step's value).
fn forward_backward<B: AutodiffBackend>(
    trainable: &Trainable<B>,
    batch: &[Example],
    inputs: &LoopInputs<'_>,
    loss_scale: f64,
    accumulator: &mut GradientsAccumulator<Trainable<B>>,
    device: &B::Device,
    step: usize,
) -> Result<Vec<(String, f64)>, TrainError> {
    let accum = inputs.spec.grad_accum;
    let encoded = inputs.tokenizer.encode(batch, inputs.max_length)?;
    let x = BatchTensors::<B>::new(&encoded, device);
    let labels: Vec<usize> = batch.iter().map(|e| e.label).collect();
    let out = classify(&trainable.model, x, inputs.head_pooling);
    let obj = trainable.objective.forward(
        out.logits,
        out.token_states,
        out.attention_mask,
        label_tensor(&labels, device),
    )?;

    // One host read for every reported term.
    let mut names = vec!["total".to_string(), "ce".to_string()];
    let mut parts = vec![obj.total.clone().detach(), obj.ce.detach()];
    for (name, value) in &obj.dml_terms {
        names.push(name.clone());
        parts.push(value.clone().detach());
    }
    let values: Vec<f64> = Tensor::cat(parts, 0).into_data().iter::<f64>().collect();
    for (name, &value) in names.iter().zip(&values) {
        if !value.is_finite() {
            return Err(TrainError::NonFinite {
                step,
                term: name.clone(),
                value,
            });
        }
    }
    let loss = if accum > 1 {
        obj.total.div_scalar(accum as f64)
    } else {
        obj.total
    };
    // Scaled in f32: the scaled value of an f16 loss would overflow.
    let loss = if loss_scale != 1.0 {
        loss.cast(DType::F32).mul_scalar(loss_scale)
    } else {
        loss
    };
    let grads = GradientsParams::from_grads(loss.backward(), trainable);
    accumulator.accumulate(trainable, grads);
    Ok(names
        .into_iter()
        .zip(values.into_iter().map(|v| v / accum as f64))
        .collect())
}
