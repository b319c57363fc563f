//! The one training loop. A method says how to compute a loss from a batch ([`TrainStep`], as
//! burn-train's `TrainStep`); the loop owns everything else, for every method alike: cancel,
//! the seeded batch stream, gradient accumulation, the schedule and the groups' learning rates,
//! the non-finite check, f16 loss scaling, the global gradient norm and clipping, the AdamW step,
//! the curve and the progress events. Fine-tuning with CE + DML ([`crate::finetune`]) and the
//! SetFit body ([`crate::setfit::body`]) are two steps of it.
//!
//! HF Trainer semantics where the papers depend on them: a seeded reshuffle every epoch, the last
//! partial batch kept, the loss divided by the accumulation count (accumulation does not cross
//! an epoch boundary), global-norm clipping, then one AdamW step at the scheduled rates.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, Element, Tensor};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::BatchStream;

use crate::curve::{CurvePoint, TrainingCurve};
use crate::error::TrainError;
use crate::optim::{
    clip_scale, global_grad_norm, AdamW, AdamWConfig, GroupLrs, LossScaleConfig, LossScaler,
    ParamGroup, ParamGroups,
};
use crate::progress::{EventSink, Phase, Progress};
use crate::schedule::Schedule;

/// What a method computes from one batch.
pub trait TrainStep<B: AutodiffBackend> {
    /// The module the optimizer updates.
    type Module: AutodiffModule<B>;

    /// The loss of one micro-batch; `batch` indexes the items the loop's batch stream was built
    /// over (training examples, or SetFit's pairs).
    fn loss(
        &self,
        module: &Self::Module,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<StepLoss<B>, TrainError>;
}

/// One micro-batch's loss and what the curve reports of it.
pub struct StepLoss<B: AutodiffBackend> {
    /// What the optimizer minimises.
    pub loss: Tensor<B, 1>,
    /// Its named terms (`ce`, each DML term; SetFit: its one body loss), detached.
    pub terms: Vec<(String, Tensor<B, 1>)>,
}

/// What the loop runs besides the step: its length, batches, optimizer, schedule and clipping.
pub struct LoopPlan<'a> {
    pub total_steps: usize,
    pub batches: BatchStream,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    pub schedule: Schedule,
    /// The learning rate of each group at schedule multiplier 1.
    pub lrs: GroupLrs,
    /// The groups whose learning rates the curve records.
    pub recorded_lrs: Vec<ParamGroup>,
    pub optimizer: AdamWConfig,
    pub groups: ParamGroups,
    /// Global gradient-norm clipping; `None` = off.
    pub max_grad_norm: Option<f64>,
    /// The cell seed: dropout masks follow it.
    pub seed: u64,
    pub cancel: &'a AtomicBool,
    /// Where step events go; `None` = a terminal bar.
    pub progress: Option<EventSink<'a>>,
}

/// How the run went.
#[derive(Debug, Clone, Default)]
pub struct TrainStats {
    pub steps: usize,
    /// The loss of the last step.
    pub final_loss: f64,
    /// Each term (unweighted) at the last step.
    pub final_terms: Vec<(String, f64)>,
    pub seconds: f64,
    /// Loss, terms, learning rates and gradient norm per recorded step.
    pub curve: TrainingCurve,
    /// Optimizer steps skipped by f16 loss scaling (non-finite gradients).
    pub skipped_steps: usize,
}

/// Trains `module` with `step` as `plan` says; returns it with the run's statistics.
pub fn train<B: AutodiffBackend, S: TrainStep<B>>(
    step_fn: &S,
    mut module: S::Module,
    mut plan: LoopPlan<'_>,
    device: &B::Device,
) -> Result<(S::Module, TrainStats), TrainError> {
    let started = Instant::now();
    // Dropout masks follow the cell seed (a counter-based stream per thread, restarted here).
    dmlft_model::dropout::set_dropout_seed(SplitRng::derived_seed(plan.seed, stream::DROPOUT));
    let total_steps = plan.total_steps;
    let groups = std::mem::take(&mut plan.groups);
    let mut optim = AdamW::<B>::new(plan.optimizer, groups);
    // f16 gradients underflow without loss scaling; f32 and bf16 (f32's exponent range) need none.
    let mut scaler = (<B::FloatElem as Element>::dtype() == DType::F16)
        .then(|| LossScaler::new(LossScaleConfig::f16()));
    let progress = Progress::new(Phase::Train, total_steps as u64, plan.progress);
    let mut stats = TrainStats {
        curve: TrainingCurve::for_steps(total_steps),
        ..TrainStats::default()
    };
    let accum = plan.grad_accum.max(1);

    for step in 0..total_steps {
        if plan.cancel.load(Ordering::Relaxed) {
            return Err(TrainError::Cancelled { step });
        }
        let lrs = plan.lrs.scaled(plan.schedule.multiplier(step));
        let loss_scale = scaler.as_ref().map_or(1.0, LossScaler::scale);
        let mut accumulator = GradientsAccumulator::<S::Module>::new();
        let mut step_values: Vec<(String, f64)> = Vec::new();
        for micro in 0..accum {
            if micro > 0 && plan.batches.epoch_exhausted() {
                break; // accumulation does not cross an epoch boundary (HF Trainer).
            }
            let batch = plan.batches.next_batch();
            let out = step_fn.loss(&module, &batch, device)?;
            let values = micro_batch(out, accum, loss_scale, &module, &mut accumulator, step)?;
            for (k, (name, v)) in values.into_iter().enumerate() {
                match step_values.get_mut(k) {
                    Some((_, acc)) => *acc += v,
                    None => step_values.push((name, v)),
                }
            }
        }
        let mut grads = accumulator.grads();
        let record = stats.curve.records(step, total_steps);
        // The norm of the (scaled) gradients: for clipping, to find an inf / NaN, and for the
        // curve (a pass over the gradients, so only when needed).
        let norm = (plan.max_grad_norm.is_some() || scaler.is_some() || record)
            .then(|| global_grad_norm(&module, &grads));
        let apply = match scaler.as_mut() {
            Some(scaler) => scaler.update(norm.is_some_and(f64::is_finite)),
            None => true,
        };
        let clip = match (plan.max_grad_norm, norm) {
            (Some(max_norm), Some(norm)) => clip_scale(norm / loss_scale, max_norm),
            _ => 1.0,
        };
        // One factor unscales and clips (applied in f32 by the optimizer).
        let scale = clip / loss_scale;
        if apply {
            module = optim.step(module, &mut grads, lrs, scale)?;
        } else {
            stats.skipped_steps += 1;
            tracing::debug!(step, loss_scale, "non-finite f16 gradients: step skipped");
        }
        // The first value is the loss, the others its terms.
        stats.final_loss = step_values.first().map_or(0.0, |t| t.1);
        stats.final_terms = step_values.into_iter().skip(1).collect();
        stats.steps = step + 1;
        if record {
            stats.curve.points.push(CurvePoint {
                step: step + 1,
                loss: stats.final_loss,
                terms: stats.final_terms.iter().cloned().collect(),
                lr: plan
                    .recorded_lrs
                    .iter()
                    .map(|&g| (g.name().to_string(), lrs.of(g)))
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
    Ok((module, stats))
}

/// Checks one micro-batch's values, runs its backward pass into `accumulator` and returns
/// `[("total", loss), (term, value)...]`, each divided by the accumulation count (so their sum
/// over micro-batches is the step's value).
fn micro_batch<B: AutodiffBackend, M: AutodiffModule<B>>(
    out: StepLoss<B>,
    accum: usize,
    loss_scale: f64,
    module: &M,
    accumulator: &mut GradientsAccumulator<M>,
    step: usize,
) -> Result<Vec<(String, f64)>, TrainError> {
    // One host read for every reported value.
    let mut names = vec!["total".to_string()];
    let mut parts = vec![out.loss.clone().detach()];
    for (name, value) in out.terms {
        names.push(name);
        parts.push(value.detach());
    }
    let values: Vec<f64> = Tensor::cat(parts, 0).into_data().iter::<f64>().collect();
    // A term first: it names the cause better than the total it makes non-finite.
    let order = (1..names.len()).chain(std::iter::once(0));
    if let Some(k) = order.into_iter().find(|&k| !values[k].is_finite()) {
        return Err(TrainError::NonFinite {
            step,
            term: names[k].clone(),
            value: values[k],
        });
    }
    let loss = if accum > 1 {
        out.loss.div_scalar(accum as f64)
    } else {
        out.loss
    };
    // Scaled in f32: the scaled value of an f16 loss would overflow.
    let loss = if loss_scale != 1.0 {
        loss.cast(DType::F32).mul_scalar(loss_scale)
    } else {
        loss
    };
    let grads = GradientsParams::from_grads(loss.backward(), module);
    accumulator.accumulate(module, grads);
    Ok(names
        .into_iter()
        .zip(values.into_iter().map(|v| v / accum as f64))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use burn::backend::ndarray::NdArrayDevice;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::{Module, Param};
    use burn::tensor::backend::Backend;
    use burn::tensor::TensorData;
    use dmlft_data::BatchSampler;

    use super::*;
    use crate::spec::ScheduleKind;

    type Ad = Autodiff<NdArray>;

    #[derive(Module, Debug)]
    struct Toy<B: Backend> {
        w: Param<Tensor<B, 1>>,
    }

    /// `loss = w * sum(batch values)` (its gradient is the batch sum), recording every batch.
    struct ToyStep {
        values: Vec<f32>,
        batches: RefCell<Vec<Vec<usize>>>,
    }

    impl TrainStep<Ad> for ToyStep {
        type Module = Toy<Ad>;

        fn loss(
            &self,
            toy: &Toy<Ad>,
            batch: &[usize],
            device: &NdArrayDevice,
        ) -> Result<StepLoss<Ad>, TrainError> {
            self.batches.borrow_mut().push(batch.to_vec());
            let sum: f32 = batch.iter().map(|&i| self.values[i]).sum();
            let x = Tensor::<Ad, 1>::from_data(TensorData::new(vec![sum], [1]), device);
            let loss = toy.w.val().mul(x.clone());
            Ok(StepLoss {
                terms: vec![("toy".into(), x)],
                loss,
            })
        }
    }

    fn toy() -> Toy<Ad> {
        let w = Tensor::from_data(TensorData::new(vec![1.0f32], [1]), &Default::default());
        Toy {
            w: Param::from_tensor(w),
        }
    }

    fn plan<'a>(
        module: &Toy<Ad>,
        batches: BatchStream,
        steps: usize,
        accum: usize,
        cancel: &'a AtomicBool,
    ) -> LoopPlan<'a> {
        LoopPlan {
            total_steps: steps,
            batches,
            grad_accum: accum,
            schedule: Schedule {
                kind: ScheduleKind::Linear,
                warmup_steps: 1,
                total_steps: steps,
            },
            lrs: GroupLrs {
                encoder: 0.1,
                head: 0.0,
                loss: 0.0,
            },
            recorded_lrs: vec![ParamGroup::Encoder],
            optimizer: AdamWConfig {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
                decay_bias_and_norm: false,
            },
            groups: ParamGroups::default().add(module, ParamGroup::Encoder),
            max_grad_norm: Some(1.0),
            seed: 5,
            cancel,
            progress: None,
        }
    }

    fn step(values: Vec<f32>) -> ToyStep {
        ToyStep {
            values,
            batches: RefCell::new(Vec::new()),
        }
    }

    #[test]
    fn accumulation_stops_at_an_epoch_boundary_and_every_epoch_is_a_fresh_permutation() {
        // 7 items, batches of 3, 2 micro-batches per step: [3, 3] then the epoch's last [1],
        // then the next epoch in a new order.
        let s = step(vec![1.0; 7]);
        let toy = toy();
        let cancel = AtomicBool::new(false);
        let stream = BatchStream::shuffled(7, 3, 5);
        let (_, stats) = train(
            &s,
            toy.clone(),
            plan(&toy, stream, 4, 2, &cancel),
            &Default::default(),
        )
        .unwrap();
        let batches = s.batches.into_inner();
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 1, 3, 3, 1]);
        assert_eq!(batches[..3].concat(), dmlft_data::epoch_order(7, 5, 0));
        assert_eq!(batches[3..].concat(), dmlft_data::epoch_order(7, 5, 1));
        assert_eq!(stats.steps, 4);
        // The reported term is summed over micro-batches, each divided by the accumulation
        // count: (3 + 3) / 2 at the first step, 1 / 2 at the second.
        let toy_term = |k: usize| stats.curve.points[k].terms["toy"];
        assert_eq!((toy_term(0), toy_term(1)), (3.0, 0.5));
        // Warmup: the first step at lr 0, the curve records the encoder's group only.
        let lr0 = &stats.curve.points[0].lr;
        assert_eq!(lr0.keys().collect::<Vec<_>>(), ["encoder"]);
        assert_eq!(lr0["encoder"], 0.0);
        // Then linear decay: (total - step) / (total - warmup) = 2 / 3 at the third step.
        assert!((stats.curve.points[2].lr["encoder"] - 0.1 * 2.0 / 3.0).abs() < 1e-12);
        // The pre-clip norm of the gradient (the batch sum / accumulation count).
        assert!((stats.curve.points[0].grad_norm - 3.0).abs() < 1e-6);
    }

    #[test]
    fn class_balanced_batches_reach_the_step() {
        let labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2];
        let s = step(vec![1.0; labels.len()]);
        let toy = toy();
        let cancel = AtomicBool::new(false);
        let stream = BatchStream::new(BatchSampler::MPerClass { m: 2 }, &labels, 4, 1).unwrap();
        train(
            &s,
            toy.clone(),
            plan(&toy, stream, 6, 1, &cancel),
            &Default::default(),
        )
        .unwrap();
        for batch in s.batches.into_inner() {
            let mut per_class = [0usize; 3];
            batch.iter().for_each(|&i| per_class[labels[i]] += 1);
            let mut counts: Vec<usize> = per_class.into_iter().filter(|&c| c > 0).collect();
            counts.sort_unstable();
            assert_eq!(counts, [2, 2], "{batch:?}");
        }
    }

    #[test]
    fn a_cancelled_run_stops_before_its_next_step() {
        let s = step(vec![1.0; 4]);
        let toy = toy();
        let cancel = AtomicBool::new(true);
        let stream = BatchStream::shuffled(4, 2, 1);
        let err = train(
            &s,
            toy.clone(),
            plan(&toy, stream, 3, 1, &cancel),
            &Default::default(),
        )
        .unwrap_err();
        assert!(matches!(err, TrainError::Cancelled { step: 0 }), "{err}");
        assert!(s.batches.into_inner().is_empty());
    }

    #[test]
    fn a_non_finite_term_is_an_error_naming_the_term_and_step() {
        let s = step(vec![1.0, f32::NAN]);
        let toy = toy();
        let cancel = AtomicBool::new(false);
        let stream = BatchStream::shuffled(2, 2, 1);
        let err = train(
            &s,
            toy.clone(),
            plan(&toy, stream, 2, 1, &cancel),
            &Default::default(),
        )
        .unwrap_err();
        match err {
            TrainError::NonFinite { step, term, .. } => {
                assert_eq!((step, term.as_str()), (0, "toy"))
            }
            other => panic!("{other}"),
        }
    }
}
