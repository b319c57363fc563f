//! One grid run into its results folder: the results store, the executor and the runner.
//! `dmlft run` and [`crate::experiment::Experiment::run_into`] both come here, so a study from
//! code writes, resumes and locks exactly as a grid file does.

use super::options::RunOptions;
use super::runner::{run_grid, RunError, RunSummary};
use super::{CellExecutor, TrainingExecutor};
use crate::grid::Grid;
use crate::store::{ResultsStore, StoreError};
use dmlft_train::TrainError;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a study stopped before its first cell or in the middle (a cell's own failure is a
/// `failed` record, not an error).
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("cannot prepare the results folder {}", path.display())]
    Store { path: PathBuf, source: StoreError },
    /// The device is missing (no driver, no GPU): one error, not a failure recorded per cell.
    #[error(transparent)]
    Device(TrainError),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Trains the cells of `grid` that are not done yet into `grid.output` on `opts.device`
/// (`opts.save_models` keeps each cell's fine-tuned model under `<output>/models/<cell id>/`).
pub fn run_study(grid: &Grid, opts: &RunOptions) -> Result<RunSummary, StudyError> {
    // The device first: a run that cannot start leaves no results folder behind.
    opts.device.check_available().map_err(StudyError::Device)?;
    let executor = Arc::new(TrainingExecutor {
        save_root: opts.save_models.then(|| grid.output.join("models")),
    });
    run_study_with(grid, opts, executor)
}

/// [`run_study`] with another executor (a test double such as [`super::FakeExecutor`], or a
/// caller's own): the same store, locks, records and resume.
pub fn run_study_with(
    grid: &Grid,
    opts: &RunOptions,
    executor: Arc<dyn CellExecutor>,
) -> Result<RunSummary, StudyError> {
    let store = ResultsStore::create(&grid.output).map_err(|source| StudyError::Store {
        path: grid.output.clone(),
        source,
    })?;
    Ok(run_grid(grid, &store, executor, opts)?)
}
