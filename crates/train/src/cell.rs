//! One cell, end to end, as a library call: [`CellSetup`] (data, few-shot split, model,
//! objective) -> training -> evaluation in every inference mode -> `CellResult`, and the
//! fine-tuned model saved when asked.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use dmlft_eval::{Metrics, ModeKey};

use crate::device::{BackendJob, DeviceChoice};
use crate::error::TrainError;
use crate::modes::predict_labels;
use crate::predict::{predict, EvalInputs};
use crate::progress::{CellEvent, EventSink, Phase};
use crate::result::{CellResult, Timings};
use crate::saved_model::{save_cell_model, TrainedCell};
use crate::setup::CellSetup;
use crate::spec::{CellSpec, InferenceMode};
use crate::train_loop::{train, LoopInputs};
use crate::trainable::Trainable;

/// How to run a cell (not part of its identity).
pub struct RunOptions<'a> {
    pub device: DeviceChoice,
    /// Set to stop after the current optimizer step.
    pub cancel: &'a AtomicBool,
    /// Where to save the fine-tuned model (see [`crate::saved_model`]); `None` = don't.
    pub save_dir: Option<PathBuf>,
    /// Where the cell's progress events go; `None` = a terminal bar (when there is a terminal).
    pub progress: Option<EventSink<'a>>,
}

impl<'a> RunOptions<'a> {
    /// Runs on `device`, stops when `cancel` is set; saves nothing, no event sink.
    pub fn new(device: DeviceChoice, cancel: &'a AtomicBool) -> Self {
        Self {
            device,
            cancel,
            save_dir: None,
            progress: None,
        }
    }

    /// Sends `event` to the sink, if there is one.
    pub(crate) fn emit(&self, event: CellEvent) {
        if let Some(sink) = self.progress {
            sink(event);
        }
    }
}

/// Runs `cell` on the chosen device, in the cell's precision.
pub fn run_cell(cell: &CellSpec, options: &RunOptions<'_>) -> Result<CellResult, TrainError> {
    // The same rules as the runner's `plan`, before any device or file is touched.
    cell.validate()?;
    options
        .device
        .dispatch(cell.model.precision, CellJob { cell, options })?
}

/// `run_on` for the backend the device choice selects.
struct CellJob<'a> {
    cell: &'a CellSpec,
    options: &'a RunOptions<'a>,
}

impl BackendJob for CellJob<'_> {
    type Output = Result<CellResult, TrainError>;

    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        run_on::<B>(self.cell, self.options, device)
    }
}

fn run_on<B: AutodiffBackend>(
    cell: &CellSpec,
    options: &RunOptions<'_>,
    device: &B::Device,
) -> Result<CellResult, TrainError> {
    if let Some(setfit) = &cell.setfit {
        return crate::setfit::cell::run_setfit_on::<B>(cell, setfit, options, device);
    }
    let started = Instant::now();
    options.emit(CellEvent::Phase(Phase::Load));
    let CellSetup {
        task,
        split,
        eval,
        model_dir,
        tokenizer,
        model,
        objective,
    } = CellSetup::<B>::new(cell, device)?;
    let load_s = started.elapsed().as_secs_f64();

    let inputs = LoopInputs {
        examples: &split.train,
        tokenizer: &tokenizer,
        max_length: cell.model.max_length,
        head_pooling: cell.model.head_pooling,
        spec: &cell.train,
        seed: cell.split.seed,
        cancel: options.cancel,
        progress: options.progress,
    };
    let (trainable, stats) = train(Trainable { model, objective }, &inputs, device)?;

    let eval_started = Instant::now();
    let inner = trainable.valid();
    let eval_inputs = EvalInputs {
        tokenizer: &tokenizer,
        max_length: cell.model.max_length,
        head_pooling: cell.model.head_pooling,
        batch_size: cell.train.eval_batch_size,
        progress: options.progress,
    };
    let modes = if cell.inference.is_empty() {
        vec![InferenceMode::Head]
    } else {
        cell.inference.clone()
    };
    let scored = |examples: &[dmlft_data::Example]| {
        let predictions = predict(
            &inner.model,
            Some(&inner.objective),
            examples,
            &eval_inputs,
            device,
        )?;
        metrics_per_mode(&predictions, examples, &modes, cell, &task.label_names)
    };
    let metrics = scored(&eval)?;
    // Dev examples (per-class `dev_shots`) are scored like the eval set, for model selection
    // (`dmlft report --select`); they never touch training.
    let dev_metrics = if split.dev.is_empty() {
        BTreeMap::new()
    } else {
        scored(&split.dev)?
    };
    let eval_s = eval_started.elapsed().as_secs_f64();
    if let Some(dir) = &options.save_dir {
        options.emit(CellEvent::Phase(Phase::Save));
        let trained = TrainedCell {
            cell,
            model: &inner.model,
            objective: &inner.objective,
            labels: &task.label_names,
            metrics: &metrics,
        };
        save_cell_model(&trained, &model_dir, dir)?;
    }
    Ok(CellResult {
        metrics,
        train_size: split.train.len(),
        eval_size: eval.len(),
        steps: stats.steps,
        final_loss: stats.final_loss,
        final_loss_terms: stats.final_terms.into_iter().collect(),
        timings: Timings {
            load_s,
            train_s: stats.seconds,
            eval_s,
            total_s: started.elapsed().as_secs_f64(),
        },
        versions: versions(options),
        curve: Some(stats.curve),
        setfit: None,
        dev_metrics,
        dev_size: split.dev.len(),
    })
}

/// Metrics of `predictions` against the labels of `examples`, per inference mode.
fn metrics_per_mode(
    predictions: &crate::predict::Predictions,
    examples: &[dmlft_data::Example],
    modes: &[InferenceMode],
    cell: &CellSpec,
    label_names: &[String],
) -> Result<BTreeMap<ModeKey, Metrics>, TrainError> {
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let mut metrics = BTreeMap::new();
    for mode in modes {
        let predicted = predict_labels(predictions, mode, &cell.loss_name)?;
        let m = Metrics::compute(&predicted, &labels, label_names.len(), Some(label_names))?;
        metrics.insert(mode.key(), m);
    }
    Ok(metrics)
}

/// The versions and backend a result records.
pub(crate) fn versions(options: &RunOptions<'_>) -> std::collections::BTreeMap<String, String> {
    let mut versions = std::collections::BTreeMap::new();
    versions.insert("dmlft".to_string(), env!("CARGO_PKG_VERSION").to_string());
    versions.insert("burn".to_string(), "0.21.0".to_string());
    versions.insert(
        "backend".to_string(),
        options.device.backend_name().to_string(),
    );
    versions
}
