//! Fine-tuning a classifier with `ce_weight * CE + sum of weighted DML terms`: the papers'
//! method, as a step of the one training loop ([`crate::train_loop`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use dmlft_data::{BatchStream, Example, TextTokenizer};
use dmlft_eval::{InferenceMode, Metrics};
use dmlft_losses::ObjectiveOutput;
use dmlft_pooling::Pooling;

use crate::cell::{CellOptions, Fit, Fitted};
use crate::error::TrainError;
use crate::forward::classify;
use crate::modes::{cell_modes, needs_training_set, score_modes, TrainingSet};
use crate::optim::{AdamWConfig, GroupLrs, ParamGroup, ParamGroups};
use crate::predict::{predict, EvalInputs, Predictions};
use crate::progress::EventSink;
use crate::saved_model::{save_cell_model, TrainedCell};
use crate::schedule::Schedule;
use crate::setup::CellSetup;
use crate::spec::{CellSpec, TrainSpec};
use crate::tensors::{label_tensor, BatchTensors};
use crate::train_loop::{dev_eval, train, LoopPlan, StepLoss, TrainStep};
use crate::trainable::Trainable;

/// Number of optimizer steps a fine-tuning run takes (also the runner's cost estimate).
pub fn planned_steps(spec: &TrainSpec, n_train: usize) -> usize {
    if let Some(steps) = spec.steps {
        return steps;
    }
    let batches = n_train.div_ceil(spec.batch_size.max(1));
    // Saturating: the plan sizes cells from specs it has not bounded yet.
    spec.epochs
        .saturating_mul(batches.div_ceil(spec.grad_accum.max(1)))
}

/// The classifier's loss on a batch of training examples.
pub struct FineTuneStep<'a> {
    pub examples: &'a [Example],
    pub tokenizer: &'a TextTokenizer,
    pub max_length: usize,
    pub head_pooling: Pooling,
}

impl FineTuneStep<'_> {
    /// The objective's forward pass on the batch.
    fn forward<B: AutodiffBackend>(
        &self,
        trainable: &Trainable<B>,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<ObjectiveOutput<B>, TrainError> {
        let batch: Vec<Example> = batch.iter().map(|&i| self.examples[i].clone()).collect();
        let encoded = self.tokenizer.encode(&batch, self.max_length)?;
        let x = BatchTensors::<B>::new(&encoded, device);
        let labels: Vec<usize> = batch.iter().map(|e| e.label).collect();
        let out = classify(&trainable.model, x, self.head_pooling);
        Ok(trainable.objective.forward(
            out.logits,
            out.token_states,
            out.attention_mask,
            label_tensor(&labels, device),
        )?)
    }
}

impl<B: AutodiffBackend> TrainStep<B> for FineTuneStep<'_> {
    type Module = Trainable<B>;

    fn loss(
        &self,
        trainable: &Trainable<B>,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<StepLoss<B>, TrainError> {
        let obj = self.forward(trainable, batch, device)?;
        let mut terms = vec![("ce".to_string(), obj.ce)];
        terms.extend(obj.dml_terms);
        Ok(StepLoss {
            loss: obj.total,
            terms,
        })
    }

    /// `ce_weight * ce` and each `weight * dml`: the parts the clip sees.
    fn loss_parts(
        &self,
        trainable: &Trainable<B>,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<Vec<(String, Tensor<B, 1>)>, TrainError> {
        let obj = self.forward(trainable, batch, device)?;
        let objective = &trainable.objective;
        let mut parts = vec![("ce".to_string(), obj.ce.mul_scalar(objective.ce_weight))];
        for ((name, value), term) in obj.dml_terms.into_iter().zip(&objective.terms) {
            parts.push((name, value.mul_scalar(term.weight)));
        }
        Ok(parts)
    }
}

/// The loop's plan for fine-tuning `trainable` on `examples` under `spec`.
pub fn finetune_plan<'a, B: AutodiffBackend>(
    spec: &TrainSpec,
    trainable: &Trainable<B>,
    examples: &[Example],
    seed: u64,
    cancel: &'a AtomicBool,
    progress: Option<EventSink<'a>>,
) -> Result<LoopPlan<'a, Trainable<B>>, TrainError> {
    spec.validate()?;
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let total_steps = planned_steps(spec, examples.len());
    let o = &spec.optimizer;
    Ok(LoopPlan {
        total_steps,
        batches: BatchStream::new(spec.sampler, &labels, spec.batch_size, seed)?,
        grad_accum: spec.grad_accum,
        schedule: Schedule::resolve(&spec.schedule, total_steps),
        lrs: GroupLrs {
            encoder: o.lr,
            head: o.head_lr.unwrap_or(o.lr),
            loss: o.loss_lr.unwrap_or(o.lr),
        },
        recorded_lrs: vec![ParamGroup::Encoder, ParamGroup::Head, ParamGroup::Loss],
        optimizer: AdamWConfig {
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weight_decay: o.weight_decay,
            decay_bias_and_norm: o.decay_bias_and_norm,
        },
        groups: ParamGroups::of_trainable(trainable)?,
        max_grad_norm: spec.max_grad_norm,
        seed,
        cancel,
        progress,
        dev: None,
    })
}

/// Builds the classifier and objective of `cell`, trains them on the one loop and returns the
/// fitted classifier.
pub(crate) fn fit<'a, B: AutodiffBackend>(
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
) -> Result<Fit<'a>, TrainError> {
    let loading = Instant::now();
    let (model, objective) = setup.classifier::<B>(cell, device)?;
    let load_s = loading.elapsed().as_secs_f64();
    let trainable = Trainable { model, objective };
    let examples = &setup.split.train;
    let step = FineTuneStep {
        examples,
        tokenizer: &setup.tokenizer,
        max_length: cell.model.max_length,
        head_pooling: cell.model.head_pooling,
    };
    let mut plan = finetune_plan(
        &cell.train,
        &trainable,
        examples,
        cell.split.seed,
        options.cancel,
        options.progress,
    )?;
    // Dev scoring mid-run is the final scoring of the model as it is at that step.
    plan.dev = dev_eval(
        &cell.train,
        Box::new(move |t: &Trainable<B>| {
            classifier(t.valid(), setup, cell, options, device)?.score(&setup.split.dev)
        }),
    );
    let (trainable, stats) = train(&step, trainable, plan, device)?;
    let fitted = classifier(trainable.valid(), setup, cell, options, device)?;
    Ok(Fit {
        fitted: Box::new(fitted),
        train_s: stats.seconds,
        stats,
        setfit: None,
        load_s,
    })
}

/// `trainable` (off the autodiff graph) as the cell's fitted classifier.
fn classifier<'a, B: Backend>(
    trainable: Trainable<B>,
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
) -> Result<FittedClassifier<'a, B>, TrainError> {
    let mut fitted = FittedClassifier {
        trainable,
        setup,
        cell,
        progress: options.progress,
        device,
        training_set: None,
    };
    if needs_training_set(&cell_modes(cell)) {
        // the trained model's sentence vectors of its own training examples
        let examples = &setup.split.train;
        let train = fitted.predict(examples, true)?;
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let sentences = train.sentences.unwrap_or_default();
        fitted.training_set = Some(TrainingSet::new(&sentences, &labels)?);
    }
    Ok(fitted)
}

/// The fine-tuned classifier and objective (proxies), off the autodiff graph.
struct FittedClassifier<'a, B: Backend> {
    trainable: Trainable<B>,
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    progress: Option<EventSink<'a>>,
    device: &'a B::Device,
    /// The training examples' sentence vectors, when a mode classifies by them.
    training_set: Option<TrainingSet>,
}

impl<B: Backend> FittedClassifier<'_, B> {
    /// Raw predictions of `examples` (with their sentence vectors when `sentences`).
    fn predict(&self, examples: &[Example], sentences: bool) -> Result<Predictions, TrainError> {
        let cell = self.cell;
        let inputs = EvalInputs {
            tokenizer: &self.setup.tokenizer,
            max_length: cell.model.max_length,
            head_pooling: cell.model.head_pooling,
            batch_size: cell.train.eval_batch_size,
            sentences,
            progress: self.progress,
        };
        let t = &self.trainable;
        predict(&t.model, Some(&t.objective), examples, &inputs, self.device)
    }
}

impl<B: Backend> Fitted for FittedClassifier<'_, B> {
    fn score(&self, examples: &[Example]) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> {
        let modes = cell_modes(self.cell);
        let predictions = self.predict(examples, needs_training_set(&modes))?;
        score_modes(
            &predictions,
            &modes,
            &self.cell.loss_name,
            self.training_set.as_ref(),
            examples,
            &self.setup.task.label_names,
        )
    }

    fn save(
        &self,
        metrics: &BTreeMap<InferenceMode, Metrics>,
        dir: &Path,
    ) -> Result<(), TrainError> {
        let trained = TrainedCell {
            cell: self.cell,
            model: &self.trainable.model,
            objective: &self.trainable.objective,
            labels: &self.setup.task.label_names,
            metrics,
        };
        save_cell_model(&trained, &self.setup.model_dir, dir)
    }
}
