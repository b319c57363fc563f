//! One cell, end to end, as a library call, for every method alike: [`CellSetup`] (data,
//! few-shot split, tokenizer) -> the method fits its model ([`Method`]) -> evaluation of the eval
//! and dev examples -> the model saved when asked -> `CellResult`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use dmlft_data::Example;
use dmlft_eval::{InferenceMode, Metrics};

use crate::device::{BackendJob, DeviceChoice};
use crate::error::TrainError;
use crate::probe::ProbeSpec;
use crate::progress::{CellEvent, EventSink, Phase};
use crate::result::{CellResult, SetFitStats, Timings};
use crate::setfit::SetFitSpec;
use crate::setup::CellSetup;
use crate::spec::CellSpec;
use crate::train_loop::TrainStats;

/// How to run a cell (not part of its identity).
pub struct CellOptions<'a> {
    pub device: DeviceChoice,
    /// Set to stop after the current optimizer step.
    pub cancel: &'a AtomicBool,
    /// Where to save the fine-tuned model (see [`crate::saved_model`]); `None` = don't.
    pub save_dir: Option<PathBuf>,
    /// Where the cell's progress events go; `None` = a terminal bar (when there is a terminal).
    pub progress: Option<EventSink<'a>>,
}

impl<'a> CellOptions<'a> {
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

/// What a cell trains: the method is a value of the cell, and each method is one implementation
/// of [`Fit`] (a later method is one more arm here).
#[derive(Debug, Clone, Copy)]
pub enum Method<'a> {
    /// The classifier fine-tuned with CE + DML on the one training loop ([`crate::finetune`]).
    FineTune,
    /// SetFit: the body on the one training loop, then a logistic head ([`crate::setfit`]).
    SetFit(&'a SetFitSpec),
    /// The frozen pretrained encoder's embeddings and a logistic head ([`crate::probe`]).
    LinearProbe(&'a ProbeSpec),
}

impl CellSpec {
    /// The method this cell trains with.
    pub fn method(&self) -> Method<'_> {
        match (&self.setfit, &self.probe) {
            (Some(spec), _) => Method::SetFit(spec),
            (None, Some(spec)) => Method::LinearProbe(spec),
            (None, None) => Method::FineTune,
        }
    }
}

/// A method's model after training: it scores examples in the cell's inference modes and saves
/// itself.
pub(crate) trait Fitted {
    /// Metrics per inference mode on `examples`.
    fn score(&self, examples: &[Example]) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError>;
    /// Saves the model into `dir` (its card records `metrics`).
    fn save(
        &self,
        metrics: &BTreeMap<InferenceMode, Metrics>,
        dir: &Path,
    ) -> Result<(), TrainError>;
}

/// What fitting a method gives the cell body.
pub(crate) struct Fit<'a> {
    pub fitted: Box<dyn Fitted + 'a>,
    /// Seconds the method took to load its modules (part of the cell's load time).
    pub load_s: f64,
    /// The loop's statistics (SetFit: its body stage).
    pub stats: TrainStats,
    /// Seconds of training, everything that fits the model included (SetFit: its head too).
    pub train_s: f64,
    pub setfit: Option<SetFitStats>,
}

/// Runs `cell` on the chosen device, in the cell's precision.
pub fn run_cell(cell: &CellSpec, options: &CellOptions<'_>) -> Result<CellResult, TrainError> {
    // The same rules as the runner's `plan`, before any device or file is touched.
    cell.validate()?;
    options
        .device
        .dispatch(cell.model.precision, CellJob { cell, options })?
}

/// `run_on` for the backend the device choice selects.
struct CellJob<'a> {
    cell: &'a CellSpec,
    options: &'a CellOptions<'a>,
}

impl BackendJob for CellJob<'_> {
    type Output = Result<CellResult, TrainError>;

    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        run_on::<B>(self.cell, self.options, device)
    }
}

fn run_on<B: AutodiffBackend>(
    cell: &CellSpec,
    options: &CellOptions<'_>,
    device: &B::Device,
) -> Result<CellResult, TrainError> {
    let started = Instant::now();
    options.emit(CellEvent::Phase(Phase::Load));
    let setup = CellSetup::new(cell)?;
    let data_s = started.elapsed().as_secs_f64();

    let fit = match cell.method() {
        Method::FineTune => crate::finetune::fit::<B>(&setup, cell, options, device)?,
        Method::SetFit(spec) => crate::setfit::cell::fit::<B>(&setup, cell, spec, options, device)?,
        Method::LinearProbe(spec) => crate::probe::fit::<B>(&setup, cell, spec, options, device)?,
    };
    let load_s = data_s + fit.load_s;

    let eval_started = Instant::now();
    let metrics = fit.fitted.score(&setup.eval)?;
    // Dev examples (per-class `dev_shots`) are scored like the eval set, for model selection
    // (`dmlft report --select`); they never touch training.
    let dev_metrics = if setup.split.dev.is_empty() {
        BTreeMap::new()
    } else {
        fit.fitted.score(&setup.split.dev)?
    };
    let eval_s = eval_started.elapsed().as_secs_f64();
    if let Some(dir) = &options.save_dir {
        options.emit(CellEvent::Phase(Phase::Save));
        fit.fitted.save(&metrics, dir)?;
    }
    Ok(CellResult {
        metrics,
        train_size: setup.split.train.len(),
        eval_size: setup.eval.len(),
        steps: fit.stats.steps,
        final_loss: fit.stats.final_loss,
        final_loss_terms: fit.stats.final_terms.into_iter().collect(),
        timings: Timings {
            load_s,
            train_s: fit.train_s,
            eval_s,
            total_s: started.elapsed().as_secs_f64(),
        },
        versions: versions(options),
        curve: Some(fit.stats.curve),
        setfit: fit.setfit,
        dev_metrics,
        dev_size: setup.split.dev.len(),
    })
}

/// The versions and backend a result records.
pub(crate) fn versions(options: &CellOptions<'_>) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    versions.insert("dmlft".to_string(), env!("CARGO_PKG_VERSION").to_string());
    versions.insert("burn".to_string(), crate::result::BURN_VERSION.to_string());
    versions.insert(
        "backend".to_string(),
        options.device.backend_name().to_string(),
    );
    versions
}
