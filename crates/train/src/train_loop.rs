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
//!
//! Dev evaluation and early stopping ([`DevEval`]) are the loop's too: the method only says how
//! to score its module on the dev examples; the loop calls it every `eval_every` steps, records
//! the dev curve, keeps the best module in memory (a clone: no disk) and stops when patience
//! runs out. Per-term gradient norms ([`TrainStep::loss_parts`]) are measured on a few sampled
//! steps (see [`crate::curve::TERM_GRAD_POINTS`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, Element, ElementConversion, Tensor};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::BatchStream;
use dmlft_eval::{InferenceMode, Metrics};
use dmlft_model::dropout::{dropout_stream, restore_dropout_stream};

use crate::curve::{CurvePoint, DevCurve, DevPoint, DevScores, EarlyStopRecord, TrainingCurve};
use crate::error::TrainError;
use crate::optim::{
    clip_scale, global_grad_norm, AdamW, AdamWConfig, GroupLrs, LossScaleConfig, LossScaler,
    ParamGroup, ParamGroups,
};
use crate::progress::{EventSink, Phase, Progress};
use crate::schedule::Schedule;
use crate::spec::{EarlyStoppingSpec, TrainSpec};

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

    /// The loss of the same micro-batch as its weighted terms, on the graph (their sum is
    /// `loss`'s `loss`), for per-term gradient norms; empty (the default) = not split into terms.
    /// The loop calls it only on sampled steps, with the dropout masks of the `loss` call.
    fn loss_parts(
        &self,
        _module: &Self::Module,
        _batch: &[usize],
        _device: &B::Device,
    ) -> Result<Vec<(String, Tensor<B, 1>)>, TrainError> {
        Ok(Vec::new())
    }
}

/// Metrics per inference mode of the dev examples for a module as it is at some step.
pub type DevScorer<'a, M> =
    Box<dyn Fn(&M) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> + 'a>;

/// Dev evaluation during training: when, what to do with it, and the method's scorer.
pub struct DevEval<'a, M> {
    /// Score every this many optimizer steps (and at the last step run).
    pub every: usize,
    pub early_stopping: Option<EarlyStoppingSpec>,
    pub score: DevScorer<'a, M>,
}

/// One micro-batch's loss and what the curve reports of it.
pub struct StepLoss<B: AutodiffBackend> {
    /// What the optimizer minimises.
    pub loss: Tensor<B, 1>,
    /// Its named terms (`ce`, each DML term; SetFit: its one body loss), detached.
    pub terms: Vec<(String, Tensor<B, 1>)>,
}

/// The dev evaluation `spec` asks for (`eval_every`, `early_stopping`) with the method's
/// `score`; `None` when it asks for none.
pub fn dev_eval<'a, M>(spec: &TrainSpec, score: DevScorer<'a, M>) -> Option<DevEval<'a, M>> {
    spec.eval_every.map(|every| DevEval {
        every,
        early_stopping: spec.early_stopping.clone(),
        score,
    })
}

/// What the loop runs besides the step: its length, batches, optimizer, schedule, clipping and
/// dev evaluation of the module `M`.
pub struct LoopPlan<'a, M> {
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
    /// Dev evaluation and early stopping (`[train] eval_every`); `None` = none during training.
    pub dev: Option<DevEval<'a, M>>,
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
    mut plan: LoopPlan<'_, S::Module>,
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
    let mut dev = plan.dev.take().map(DevTracker::new);

    for step in 0..total_steps {
        if plan.cancel.load(Ordering::Relaxed) {
            return Err(TrainError::Cancelled { step });
        }
        let lrs = plan.lrs.scaled(plan.schedule.multiplier(step));
        let loss_scale = scaler.as_ref().map_or(1.0, LossScaler::scale);
        let mut accumulator = GradientsAccumulator::<S::Module>::new();
        let mut step_values: Vec<(String, f64)> = Vec::new();
        let record = stats.curve.records(step, total_steps);
        let mut term_grads =
            (record && stats.curve.samples_term_grads(step, total_steps)).then(TermGrads::new);
        for micro in 0..accum {
            if micro > 0 && plan.batches.epoch_exhausted() {
                break; // accumulation does not cross an epoch boundary (HF Trainer).
            }
            let batch = plan.batches.next_batch();
            let masks = dropout_stream();
            let out = step_fn.loss(&module, &batch, device)?;
            let terms = out.terms.len();
            let values = micro_batch(out, accum, loss_scale, &module, &mut accumulator, step)?;
            if let Some(tg) = term_grads.as_mut().filter(|_| terms >= 2) {
                let after = dropout_stream();
                let replay = Replay {
                    batch: &batch,
                    masks,
                    scale: loss_scale / accum as f64,
                };
                let done = tg.add(step_fn, &module, &replay, device);
                restore_dropout_stream(after);
                done?;
            }
            for (k, (name, v)) in values.into_iter().enumerate() {
                match step_values.get_mut(k) {
                    Some((_, acc)) => *acc += v,
                    None => step_values.push((name, v)),
                }
            }
        }
        let mut grads = accumulator.grads();
        let term_grad_norms = match term_grads {
            Some(tg) => tg.norms(&module, &grads, loss_scale),
            None => BTreeMap::new(),
        };
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
                term_grad_norms,
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
        if let Some(dev) = dev.as_mut() {
            if dev.due(step + 1, total_steps) && dev.evaluate(step + 1, &module)? {
                break;
            }
        }
    }
    progress.finish();
    if let Some(dev) = dev {
        let (curve, best) = dev.finish(stats.steps);
        stats.curve.dev = Some(curve);
        if let Some(best) = best {
            module = best;
        }
    }
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

/// The dev curve as it is recorded, and early stopping's state.
struct DevTracker<'a, M> {
    eval: DevEval<'a, M>,
    curve: DevCurve,
    /// (step, value) of the best evaluation so far, and its module when it is to be restored.
    best: Option<(usize, f64)>,
    best_module: Option<M>,
    /// Evaluations since the best one.
    since_best: usize,
    stopped_at: Option<usize>,
}

impl<'a, M: Clone> DevTracker<'a, M> {
    fn new(eval: DevEval<'a, M>) -> Self {
        Self {
            curve: DevCurve {
                every: eval.every.max(1),
                ..DevCurve::default()
            },
            eval,
            best: None,
            best_module: None,
            since_best: 0,
            stopped_at: None,
        }
    }

    /// Whether the dev examples are scored after `done` steps (1-based) of `total`.
    fn due(&self, done: usize, total: usize) -> bool {
        done.is_multiple_of(self.curve.every) || done == total
    }

    /// Scores `module` after `done` steps; `true` = patience ran out, stop.
    fn evaluate(&mut self, done: usize, module: &M) -> Result<bool, TrainError> {
        let metrics = (self.eval.score)(module)?;
        let scores: BTreeMap<InferenceMode, DevScores> = metrics
            .iter()
            .map(|(m, v)| (*m, DevScores::from(v)))
            .collect();
        self.curve.points.push(DevPoint { step: done, scores });
        let Some(stop) = &self.eval.early_stopping else {
            return Ok(false);
        };
        let value = metrics
            .get(&stop.mode)
            .map(|m| stop.metric.of(m))
            .ok_or_else(|| TrainError::InvalidSetting {
                key: "train.early_stopping.mode".into(),
                value: stop.mode.to_string(),
                valid: "one of the modes the cell scores".into(),
            })?;
        // Strictly better only: among equals the earliest (fewest steps) is kept.
        if self.best.is_none_or(|(_, best)| value > best) {
            self.best = Some((done, value));
            self.since_best = 0;
            if stop.restore_best {
                self.best_module = Some(module.clone());
            }
            return Ok(false);
        }
        self.since_best += 1;
        if self.since_best >= stop.patience {
            self.stopped_at = Some(done);
            return Ok(true);
        }
        Ok(false)
    }

    /// The dev curve, and the best module when it is to replace the last one.
    fn finish(mut self, steps_run: usize) -> (DevCurve, Option<M>) {
        let Some(stop) = &self.eval.early_stopping else {
            return (self.curve, None);
        };
        let Some((best_step, best_value)) = self.best else {
            return (self.curve, None);
        };
        let restore = self.best_module.take().filter(|_| best_step != steps_run);
        self.curve.early_stopping = Some(EarlyStopRecord {
            metric: stop.metric,
            mode: stop.mode,
            patience: stop.patience,
            best_step,
            best_value,
            stopped_at: self.stopped_at,
            restored: stop.restore_best,
        });
        (self.curve, restore)
    }
}

/// A micro-batch replayed for per-term gradients: its items, the dropout stream position its
/// forward pass started at, and the loss's factor (loss scale / accumulation count).
struct Replay<'b> {
    batch: &'b [usize],
    masks: (u64, u64),
    scale: f64,
}

/// Per-term gradients of one step, accumulated over its micro-batches.
///
/// A backward pass consumes its graph (burn frees the nodes it traverses), so each term needs
/// its own forward: terms `0..n-1` are replayed (same batch, same dropout masks, so the same
/// forward values), the last term's gradient is the step's gradient minus theirs. Cost on a
/// sampled step: `n - 1` extra forward + backward passes (one for CE + one DML loss), on at
/// most `TERM_GRAD_POINTS` steps of a run; none for a one-term loss.
struct TermGrads<M> {
    names: Vec<String>,
    /// One accumulator per replayed term (all terms but the last).
    accumulators: Vec<GradientsAccumulator<M>>,
}

impl<M> TermGrads<M> {
    fn new() -> Self {
        Self {
            names: Vec::new(),
            accumulators: Vec::new(),
        }
    }
}

impl<M> TermGrads<M> {
    fn add<B: AutodiffBackend, S: TrainStep<B, Module = M>>(
        &mut self,
        step_fn: &S,
        module: &M,
        replay: &Replay<'_>,
        device: &B::Device,
    ) -> Result<(), TrainError>
    where
        M: AutodiffModule<B>,
    {
        let mut k = 0;
        loop {
            restore_dropout_stream(replay.masks);
            let mut parts = step_fn.loss_parts(module, replay.batch, device)?;
            if parts.len() < 2 {
                return Ok(()); // the step does not split its loss: no per-term norms
            }
            if self.names.is_empty() {
                self.names = parts.iter().map(|(n, _)| n.clone()).collect();
                self.accumulators = (1..parts.len())
                    .map(|_| GradientsAccumulator::new())
                    .collect();
            }
            let (_, part) = parts.swap_remove(k);
            drop(parts);
            let part = part.cast(DType::F32).mul_scalar(replay.scale);
            let grads = GradientsParams::from_grads(part.backward(), module);
            self.accumulators[k].accumulate(module, grads);
            k += 1;
            if k == self.accumulators.len() {
                return Ok(());
            }
        }
    }

    /// Each term's gradient norm (unscaled), given the step's gradients `total`.
    fn norms<B: AutodiffBackend>(
        self,
        module: &M,
        total: &GradientsParams,
        loss_scale: f64,
    ) -> BTreeMap<String, f64>
    where
        M: AutodiffModule<B>,
    {
        let Some(last) = self.names.last().cloned() else {
            return BTreeMap::new();
        };
        let parts: Vec<GradientsParams> = self
            .accumulators
            .into_iter()
            .map(|mut a| a.grads())
            .collect();
        let mut norms: BTreeMap<String, f64> = self
            .names
            .iter()
            .zip(&parts)
            .map(|(name, g)| (name.clone(), global_grad_norm(module, g) / loss_scale))
            .collect();
        let mut rest = Residual::<B> {
            total,
            parts: &parts,
            sum: None,
        };
        module.visit(&mut rest);
        let rest = rest
            .sum
            .map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt());
        norms.insert(last, rest / loss_scale);
        norms
    }
}

/// The squared norm of `total` minus the sum of `parts` (the last term's gradient).
struct Residual<'g, B: AutodiffBackend> {
    total: &'g GradientsParams,
    parts: &'g [GradientsParams],
    sum: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Residual<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(mut g) = self
            .total
            .get::<B::InnerBackend, D>(param.id)
            .map(|g| g.cast(DType::F32))
        else {
            return;
        };
        for part in self.parts {
            if let Some(p) = part.get::<B::InnerBackend, D>(param.id) {
                g = g - p.cast(DType::F32);
            }
        }
        let sq = g.square().sum();
        self.sum = Some(match self.sum.take() {
            Some(t) => t.add(sq),
            None => sq,
        });
    }
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
    ) -> LoopPlan<'a, Toy<Ad>> {
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
            dev: None,
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

    /// Metrics whose accuracy is `correct / 10`.
    fn accuracy(correct: usize) -> BTreeMap<InferenceMode, Metrics> {
        let predicted: Vec<usize> = (0..10).map(|i| usize::from(i >= correct)).collect();
        let m = Metrics::compute(&predicted, &[0; 10], 2, None).unwrap();
        BTreeMap::from([(InferenceMode::Head, m)])
    }

    fn weight(toy: &Toy<Ad>) -> f32 {
        toy.w.val().into_data().iter::<f32>().next().unwrap()
    }

    fn stopping(patience: usize, restore_best: bool) -> Option<EarlyStoppingSpec> {
        Some(EarlyStoppingSpec {
            metric: crate::spec::DevMetric::Accuracy,
            mode: InferenceMode::Head,
            patience,
            restore_best,
        })
    }

    #[test]
    fn early_stopping_restores_exactly_the_best_dev_steps_weights() {
        // Dev accuracy per evaluation (every 2 steps): best at step 4; step 8 only equals it
        // (not an improvement), so patience 2 runs out at step 8.
        let script = [3, 5, 4, 5, 9, 9];
        let run = |steps: usize, stop: Option<EarlyStoppingSpec>| {
            let s = step(vec![1.0, 2.0, 3.0, 4.0]);
            let toy = toy();
            let cancel = AtomicBool::new(false);
            let stream = BatchStream::shuffled(4, 2, 3);
            let mut p = plan(&toy, stream, steps, 1, &cancel);
            // The schedule of the full 12-step run, whatever the run's length.
            p.schedule.total_steps = 12;
            let calls = RefCell::new(0);
            p.dev = stop.map(|early_stopping| DevEval {
                every: 2,
                early_stopping: Some(early_stopping),
                score: Box::new(|_: &Toy<Ad>| {
                    let k = calls.replace_with(|k| *k + 1);
                    Ok(accuracy(script[k]))
                }),
            });
            let (toy, stats) = train(&s, toy.clone(), p, &Default::default()).unwrap();
            (weight(&toy), stats)
        };
        let (restored, stats) = run(12, stopping(2, true));
        assert_eq!(stats.steps, 8, "stopped after the fourth evaluation");
        let dev = stats.curve.dev.as_ref().unwrap();
        let steps: Vec<usize> = dev.points.iter().map(|p| p.step).collect();
        assert_eq!(steps, [2, 4, 6, 8]);
        assert_eq!(dev.points[1].scores[&InferenceMode::Head].accuracy, 0.5);
        let record = dev.early_stopping.as_ref().unwrap();
        assert_eq!(
            (record.best_step, record.best_value, record.stopped_at),
            (4, 0.5, Some(8))
        );
        let (four, _) = run(4, None);
        let (eight, _) = run(8, None);
        assert_ne!(four, eight, "the weights move between the two steps");
        assert_eq!(restored.to_bits(), four.to_bits());
        // Without restore_best: the weights of the last step run.
        let (last, _) = run(12, stopping(2, false));
        assert_eq!(last.to_bits(), eight.to_bits());
    }

    #[test]
    fn dev_scores_are_recorded_every_n_steps_and_at_the_last() {
        let s = step(vec![1.0; 4]);
        let toy = toy();
        let cancel = AtomicBool::new(false);
        let mut p = plan(&toy, BatchStream::shuffled(4, 2, 3), 7, 1, &cancel);
        p.dev = Some(DevEval {
            every: 3,
            early_stopping: None,
            score: Box::new(|_: &Toy<Ad>| Ok(accuracy(7))),
        });
        let (_, stats) = train(&s, toy.clone(), p, &Default::default()).unwrap();
        let dev = stats.curve.dev.unwrap();
        let steps: Vec<usize> = dev.points.iter().map(|p| p.step).collect();
        assert_eq!(
            (steps, stats.steps, dev.early_stopping),
            (vec![3, 6, 7], 7, None)
        );
    }

    /// `loss = a * w * sum(batch) + b * w * sum(batch)^2`, as two weighted terms.
    struct TwoTerms;

    impl TwoTerms {
        fn parts(&self, toy: &Toy<Ad>, batch: &[usize]) -> Vec<(String, Tensor<Ad, 1>)> {
            let sum = batch.iter().map(|&i| i as f32 + 1.0).sum::<f32>();
            let w = toy.w.val();
            vec![
                ("a".into(), w.clone().mul_scalar(0.5 * sum)),
                ("b".into(), w.mul_scalar(2.0 * sum * sum)),
            ]
        }
    }

    impl TrainStep<Ad> for TwoTerms {
        type Module = Toy<Ad>;

        fn loss(
            &self,
            toy: &Toy<Ad>,
            batch: &[usize],
            _: &NdArrayDevice,
        ) -> Result<StepLoss<Ad>, TrainError> {
            let parts = self.parts(toy, batch);
            let loss = parts[0].1.clone() + parts[1].1.clone();
            Ok(StepLoss {
                loss,
                terms: parts.into_iter().map(|(n, t)| (n, t.detach())).collect(),
            })
        }

        fn loss_parts(
            &self,
            toy: &Toy<Ad>,
            batch: &[usize],
            _: &NdArrayDevice,
        ) -> Result<Vec<(String, Tensor<Ad, 1>)>, TrainError> {
            Ok(self.parts(toy, batch))
        }
    }

    #[test]
    fn each_terms_gradient_norm_is_recorded_before_clipping_on_sampled_steps() {
        let toy = toy();
        let cancel = AtomicBool::new(false);
        // One batch of all three items per step: sum 6; d/dw of the terms: 3 and 72.
        let p = plan(&toy, BatchStream::shuffled(3, 3, 1), 2, 1, &cancel);
        let (_, stats) = train(&TwoTerms, toy.clone(), p, &Default::default()).unwrap();
        for point in &stats.curve.points {
            let norms = &point.term_grad_norms;
            assert!((norms["a"] - 3.0).abs() < 1e-4, "{norms:?}");
            assert!((norms["b"] - 72.0).abs() < 1e-3, "{norms:?}");
            assert!((point.grad_norm - 75.0).abs() < 1e-3);
        }
        // A one-term loss records none.
        let s = step(vec![1.0; 3]);
        let p = plan(&toy, BatchStream::shuffled(3, 3, 1), 2, 1, &cancel);
        let (_, stats) = train(&s, toy.clone(), p, &Default::default()).unwrap();
        assert!(stats.curve.points[0].term_grad_norms.is_empty());
    }
}
