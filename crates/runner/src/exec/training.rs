//! The real executor: trains and evaluates a cell with `dmlft_train::run_cell`.

use super::executor::{CellContext, CellExecutor, CellFailure};
use dmlft_train::result::CellResult;
use dmlft_train::spec::CellSpec;
use dmlft_train::TrainError;

/// Runs cells with `dmlft_train::run_cell` on the context's device (`cuda` is device 0 of those
/// visible, which is the one Slurm assigns). With `save_root`, each cell's fine-tuned model is
/// saved to `save_root/<cell id>/` (HF layout + tokenizer + `cell.json`), for `dmlft explain`,
/// `dmlft analyze` and `dmlft embed`.
#[derive(Debug, Default)]
pub struct TrainingExecutor {
    pub save_root: Option<std::path::PathBuf>,
}

impl CellExecutor for TrainingExecutor {
    fn run(&self, cell: &CellSpec, ctx: &CellContext) -> Result<CellResult, CellFailure> {
        let device = ctx.device;
        let options = dmlft_train::CellOptions {
            device,
            cancel: &ctx.cancel,
            save_dir: self
                .save_root
                .as_ref()
                .map(|root| root.join(crate::grid::cell_id::cell_id(cell))),
            progress: Some(&*ctx.progress),
        };
        dmlft_train::run_cell(cell, &options).map_err(|e| match e {
            TrainError::Cancelled { step } => CellFailure::cancelled(Some(step)),
            other => CellFailure::error(crate::error_chain::one_line(&other), other.step()),
        })
    }
}
