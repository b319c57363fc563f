//! Fine-tuning a classifier with `ce_weight * CE + sum of weighted DML terms`: the papers'
//! method, as a step of the one training loop ([`crate::train_loop`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use dmlft_data::{BatchStream, Example, TextTokenizer};
use dmlft_eval::{InferenceMode, Metrics};
use dmlft_pooling::Pooling;

use crate::cell::{CellOptions, Fit, Fitted};
use crate::error::TrainError;
use crate::forward::classify;
use crate::modes::predict_labels;
use crate::optim::{AdamWConfig, GroupLrs, ParamGroup, ParamGroups};
use crate::predict::{predict, EvalInputs};
use crate::progress::EventSink;
use crate::saved_model::{save_cell_model, TrainedCell};
use crate::schedule::Schedule;
use crate::setup::CellSetup;
use crate::spec::{CellSpec, TrainSpec};
use crate::tensors::{label_tensor, BatchTensors};
use crate::train_loop::{train, LoopPlan, StepLoss, TrainStep};
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

impl<B: AutodiffBackend> TrainStep<B> for FineTuneStep<'_> {
    type Module = Trainable<B>;

    fn loss(
        &self,
        trainable: &Trainable<B>,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<StepLoss<B>, TrainError> {
        let batch: Vec<Example> = batch.iter().map(|&i| self.examples[i].clone()).collect();
        let encoded = self.tokenizer.encode(&batch, self.max_length)?;
        let x = BatchTensors::<B>::new(&encoded, device);
        let labels: Vec<usize> = batch.iter().map(|e| e.label).collect();
        let out = classify(&trainable.model, x, self.head_pooling);
        let obj = trainable.objective.forward(
            out.logits,
            out.token_states,
            out.attention_mask,
            label_tensor(&labels, device),
        )?;
        let mut terms = vec![("ce".to_string(), obj.ce)];
        terms.extend(obj.dml_terms);
        Ok(StepLoss {
            loss: obj.total,
            terms,
        })
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
) -> Result<LoopPlan<'a>, TrainError> {
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
    let plan = finetune_plan(
        &cell.train,
        &trainable,
        examples,
        cell.split.seed,
        options.cancel,
        options.progress,
    )?;
    let (trainable, stats) = train(&step, trainable, plan, device)?;
    Ok(Fit {
        fitted: Box::new(FittedClassifier {
            trainable: trainable.valid(),
            setup,
            cell,
            progress: options.progress,
            device,
        }),
        train_s: stats.seconds,
        stats,
        setfit: None,
        load_s,
    })
}

/// The fine-tuned classifier and objective (proxies), off the autodiff graph.
struct FittedClassifier<'a, B: Backend> {
    trainable: Trainable<B>,
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    progress: Option<EventSink<'a>>,
    device: &'a B::Device,
}

impl<B: Backend> Fitted for FittedClassifier<'_, B> {
    fn score(&self, examples: &[Example]) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> {
        let cell = self.cell;
        let inputs = EvalInputs {
            tokenizer: &self.setup.tokenizer,
            max_length: cell.model.max_length,
            head_pooling: cell.model.head_pooling,
            batch_size: cell.train.eval_batch_size,
            progress: self.progress,
        };
        let t = &self.trainable;
        let predictions = predict(&t.model, Some(&t.objective), examples, &inputs, self.device)?;
        let modes = if cell.inference.is_empty() {
            vec![InferenceMode::Head]
        } else {
            cell.inference.clone()
        };
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let names = &self.setup.task.label_names;
        let mut metrics = BTreeMap::new();
        for mode in &modes {
            let predicted = predict_labels(&predictions, mode, &cell.loss_name)?;
            let m = Metrics::compute(&predicted, &labels, names.len(), Some(names))?;
            metrics.insert(*mode, m);
        }
        Ok(metrics)
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
