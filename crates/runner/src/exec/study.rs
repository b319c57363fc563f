//! One grid run into its results folder: the results store, the executor (the test executor
//! when `DMLFT_TEST_FAKE_EXECUTOR=1` asks for it, else training on the chosen device) and the
//! runner.
//! `dmlft run` and [`crate::experiment::Experiment::run_into`] both come here, so a study from
//! code writes, resumes and locks exactly as a grid file does.

use super::runner::{run_grid, RunError, RunOptions, RunSummary};
use super::{CellExecutor, FakeExecutor, TrainingExecutor};
use crate::grid::Grid;
use crate::store::{ResultsStore, StoreError};
use dmlft_train::TrainError;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Why a study stopped before its first cell or in the middle (a cell's own failure is a
/// `failed` record, not an error).
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("cannot prepare the results folder {}: {source}", path.display())]
    Store { path: PathBuf, source: StoreError },
    /// The device is missing (no driver, no GPU): one error, not a failure recorded per cell.
    #[error(transparent)]
    Device(TrainError),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Runs the cells of `grid` that are not done yet into `grid.output`; `save_models` keeps each
/// cell's fine-tuned model under `<output>/models/<cell id>/`.
pub fn run_study(
    grid: &Grid,
    opts: &RunOptions,
    save_models: bool,
    cancel: Arc<AtomicBool>,
) -> Result<RunSummary, StudyError> {
    // The device first: a run that cannot start leaves no results folder behind.
    let executor: Arc<dyn CellExecutor> = match FakeExecutor::from_env() {
        Some(fake) => Arc::new(fake),
        None => {
            opts.device.check_available().map_err(StudyError::Device)?;
            Arc::new(TrainingExecutor {
                save_root: save_models.then(|| grid.output.join("models")),
            })
        }
    };
    let store = ResultsStore::create(&grid.output).map_err(|source| StudyError::Store {
        path: grid.output.clone(),
        source,
    })?;
    Ok(run_grid(grid, &store, executor, opts, cancel)?)
}
