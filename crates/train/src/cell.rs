//! One cell, end to end, as a library call: data -> few-shot split -> model + objective ->
//! training -> evaluation in every inference mode -> `CellResult`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use dmlft_data::rng::SplitRng;
use dmlft_data::{load_task, sample_split, Example, TextTokenizer};
use dmlft_eval::Metrics;
use dmlft_losses::Objective;
use dmlft_model::{load_classifier, resolve_source, save_classifier};

use crate::device::{BackendJob, DeviceChoice};
use crate::error::TrainError;
use crate::modes::{mode_label, predict_labels};
use crate::predict::{predict, EvalInputs};
use crate::result::{CellResult, Timings};
use crate::spec::{CellSpec, InferenceMode};
use crate::train_loop::{train, LoopInputs};
use crate::trainable::Trainable;

/// RNG stream ids: each use of the cell seed gets its own stream.
pub const HEAD_INIT_STREAM: u64 = 1;
pub const LOSS_INIT_STREAM: u64 = 2;
pub const EVAL_SUBSET_STREAM: u64 = 3;

/// How to run a cell (not part of its identity).
pub struct RunOptions<'a> {
    pub device: DeviceChoice,
    /// Set to stop after the current optimizer step.
    pub cancel: &'a AtomicBool,
    /// Where to save the fine-tuned model (HF layout) and the loss parameters; `None` = don't.
    pub save_dir: Option<PathBuf>,
}

/// Runs `cell` on the chosen device, in the cell's precision.
pub fn run_cell(cell: &CellSpec, options: &RunOptions<'_>) -> Result<CellResult, TrainError> {
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

/// The evaluation examples, capped at `limit` by a seeded subset kept in pool order (the same
/// subset for the same seed, so analyses can evaluate exactly what a cell evaluated).
pub fn eval_subset(eval: Vec<Example>, limit: Option<usize>, seed: u64) -> Vec<Example> {
    match limit {
        Some(limit) if limit < eval.len() => {
            let mut order: Vec<usize> = (0..eval.len()).collect();
            SplitRng::new(seed, EVAL_SUBSET_STREAM).shuffle(&mut order);
            let mut keep = order[..limit].to_vec();
            keep.sort_unstable();
            keep.into_iter().map(|i| eval[i].clone()).collect()
        }
        _ => eval,
    }
}

fn run_on<B: AutodiffBackend>(
    cell: &CellSpec,
    options: &RunOptions<'_>,
    device: &B::Device,
) -> Result<CellResult, TrainError> {
    let started = Instant::now();
    let seed = cell.split.seed;
    let task = load_task(&cell.dataset, &cell.data_root)?;
    let split = sample_split(&task, &cell.split)?;
    let model_dir = resolve_source(&cell.model.source)?;
    let tokenizer = TextTokenizer::from_dir(&model_dir)?;
    let num_classes = task.num_classes();
    B::seed(device, seed);
    let head_seed = SplitRng::new(seed, HEAD_INIT_STREAM).next_u64();
    let (model, _report) = load_classifier::<B>(
        &model_dir,
        num_classes,
        head_seed,
        cell.model.dropout,
        device,
    )?;
    let hidden = model.config().hidden_size;
    let loss_seed = SplitRng::new(seed, LOSS_INIT_STREAM).next_u64();
    let objective = Objective::<B>::new(&cell.objective, num_classes, hidden, loss_seed, device)?;
    // Fail before training, not after, when a mode needs proxies the loss does not have.
    let has_proxies = objective
        .class_scores(Tensor::zeros([1, hidden], device))
        .is_some();
    if let Some(mode) = cell
        .inference
        .iter()
        .find(|m| !matches!(m, InferenceMode::Head))
    {
        if !has_proxies {
            return Err(TrainError::NoProxies {
                mode: mode_label(mode),
                loss: cell.loss_name.clone(),
            });
        }
    }
    let eval = eval_subset(split.eval, cell.eval_limit, seed);
    let load_s = started.elapsed().as_secs_f64();

    let cancel = options.cancel;
    let inputs = LoopInputs {
        examples: &split.train,
        tokenizer: &tokenizer,
        max_length: cell.model.max_length,
        head_pooling: cell.model.head_pooling,
        spec: &cell.train,
        seed,
        cancel,
    };
    let (trainable, stats) = train(Trainable { model, objective }, &inputs, device)?;

    let eval_started = Instant::now();
    let inner = trainable.valid();
    let eval_inputs = EvalInputs {
        tokenizer: &tokenizer,
        max_length: cell.model.max_length,
        head_pooling: cell.model.head_pooling,
        batch_size: cell.train.eval_batch_size,
    };
    let predictions = predict(&inner.model, &inner.objective, &eval, &eval_inputs, device)?;
    let labels: Vec<usize> = eval.iter().map(|e| e.label).collect();
    let mut metrics = std::collections::BTreeMap::new();
    let modes = if cell.inference.is_empty() {
        vec![InferenceMode::Head]
    } else {
        cell.inference.clone()
    };
    for mode in &modes {
        let predicted = predict_labels(&predictions, mode, &cell.loss_name)?;
        let m = Metrics::compute(&predicted, &labels, num_classes, Some(&task.label_names))?;
        metrics.insert(mode_label(mode), m);
    }
    let eval_s = eval_started.elapsed().as_secs_f64();
    if let Some(dir) = &options.save_dir {
        save_model(cell, &inner.model, &model_dir, dir, &task.label_names)?;
    }
    let mut versions = std::collections::BTreeMap::new();
    versions.insert("dmlft".to_string(), env!("CARGO_PKG_VERSION").to_string());
    versions.insert("burn".to_string(), "0.21.0".to_string());
    versions.insert(
        "backend".to_string(),
        options.device.backend_name().to_string(),
    );
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
        versions,
    })
}

/// Saves the fine-tuned classifier in transformers' layout, with the tokenizer files beside it
/// and the resolved cell as `cell.json` (which says, e.g., the head pooling), so the folder is all
/// `dmlft explain` / `analyze` / `embed` need.
fn save_model<B: burn::tensor::backend::Backend>(
    cell: &CellSpec,
    model: &dmlft_model::SequenceClassifier<B>,
    model_dir: &std::path::Path,
    dir: &std::path::Path,
    labels: &[String],
) -> Result<(), TrainError> {
    save_classifier(model, dir, Some(labels))?;
    crate::analysis::saved_model::copy_tokenizer_files(model_dir, dir)
        .map_err(|e| TrainError::Io(e.to_string()))?;
    let json = serde_json::to_string_pretty(cell).map_err(|e| TrainError::Io(e.to_string()))?;
    let path = dir.join(crate::analysis::saved_model::CELL_FILE);
    std::fs::write(&path, json)
        .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
}
