//! How a study runs (none of it is part of a cell's identity): the one [`RunOptions`] of
//! `dmlft run`, [`crate::Experiment::run`] and [`crate::Experiment::run_into`], and the
//! [`GridEvent`]s a run reports to its progress callback.

use super::shard::Shard;
use crate::grid::Device;
use dmlft_train::progress::CellEvent;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a run reports as it goes. Each cell that runs reports `Started`, its own events
/// (`Cell`), then `Finished`; cells of several jobs interleave.
#[derive(Debug, Clone, PartialEq)]
pub enum GridEvent {
    /// How many cells this run will try (those not done yet, within the shard and the limit),
    /// before the first one starts.
    Queued { cells: usize },
    /// A cell starts (it holds its lock).
    Started { cell_id: String },
    /// An event of a running cell (a stage, a training step, evaluation progress).
    Cell { cell_id: String, event: CellEvent },
    /// A cell ended: `ok` is false when it failed or was cancelled.
    Finished { cell_id: String, ok: bool },
}

/// Where a run's events go.
pub type ProgressFn = Arc<dyn Fn(&GridEvent) + Send + Sync>;

/// How to run a study: the device and, for a results folder, how many cells at once, which
/// shard, whether failed cells run again; a progress callback and a cancel flag.
///
/// [`crate::Experiment::run`] (in memory, cell after cell) reads `device`, `cancel` and
/// `progress`; the other fields concern a results folder (`dmlft run`,
/// [`crate::Experiment::run_into`]).
#[derive(Clone)]
pub struct RunOptions {
    pub device: Device,
    /// Cells run at the same time (threads); at least 1.
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Run cells that failed in an earlier run again (by default they are skipped).
    pub retry_failed: bool,
    /// Run at most this many cells in this invocation.
    pub limit: Option<usize>,
    /// Keep records computed on other data (another fingerprint) instead of refusing to run.
    pub allow_data_change: bool,
    /// Save each cell's fine-tuned model under `<output>/models/<cell id>/`.
    pub save_models: bool,
    /// Set it (from another thread, a signal handler) to stop after the current training steps:
    /// finished cells are kept, the running ones are not recorded and run next time.
    pub cancel: Arc<AtomicBool>,
    /// Called with every [`GridEvent`], from the threads that run the cells.
    pub progress: Option<ProgressFn>,
}

impl RunOptions {
    /// One cell at a time on `device`, every cell of the grid, failed cells skipped, no model
    /// saved, no callback.
    pub fn new(device: Device) -> Self {
        Self {
            device,
            jobs: 1,
            shard: None,
            retry_failed: false,
            limit: None,
            allow_data_change: false,
            save_models: false,
            cancel: Arc::new(AtomicBool::new(false)),
            progress: None,
        }
    }

    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs;
        self
    }

    pub fn save_models(mut self, save: bool) -> Self {
        self.save_models = save;
        self
    }

    /// Stops the run when `flag` is set.
    pub fn cancel(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = flag;
        self
    }

    /// Calls `callback` with every event of the run.
    pub fn progress(mut self, callback: impl Fn(&GridEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Whether the cancel flag is set.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Sends `event` to the callback, if there is one.
    pub(crate) fn report(&self, event: GridEvent) {
        if let Some(callback) = &self.progress {
            callback(&event);
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new(Device::default())
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("device", &self.device)
            .field("jobs", &self.jobs)
            .field("shard", &self.shard)
            .field("retry_failed", &self.retry_failed)
            .field("limit", &self.limit)
            .field("allow_data_change", &self.allow_data_change)
            .field("save_models", &self.save_models)
            .field("cancel", &self.cancelled())
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}
