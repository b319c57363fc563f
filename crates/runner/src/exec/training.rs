//! The real executor: trains and evaluates a cell with `dmlft_train::run_cell`.

use super::executor::{CellContext, CellExecutor, CellFailure, CellProgress};
use crate::grid::Device;
use dmlft_train::result::CellResult;
use dmlft_train::spec::CellSpec;
use dmlft_train::{DeviceChoice, TrainError};

/// Runs cells with `dmlft_train::run_cell` on the context's device (CUDA: device 0 of those
/// visible, which is the one Slurm assigns).
#[derive(Debug, Default)]
pub struct TrainingExecutor;

impl CellExecutor for TrainingExecutor {
    fn run(&self, cell: &CellSpec, ctx: &CellContext) -> Result<CellResult, CellFailure> {
        let device = match ctx.device {
            Device::Cpu => DeviceChoice::Cpu,
            Device::Cuda => DeviceChoice::Cuda(0),
        };
        ctx.report(CellProgress::Phase("train".into()));
        let options = dmlft_train::RunOptions {
            device,
            cancel: &ctx.cancel,
            save_dir: None,
        };
        dmlft_train::run_cell(cell, &options).map_err(|e| match e {
            TrainError::Cancelled { step } => CellFailure::cancelled(Some(step)),
            other => CellFailure::error(other.to_string(), other.step()),
        })
    }
}
