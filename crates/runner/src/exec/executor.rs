//! What runs one cell: a trait so that real training and the test executor are interchangeable.

use crate::grid::Device;
use dmlft_train::progress::CellEvent;
use dmlft_train::result::CellResult;
use dmlft_train::spec::CellSpec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What an executor gets besides the cell.
#[derive(Clone)]
pub struct CellContext {
    pub device: Device,
    /// Set by Ctrl-C: an executor stops after its current step and returns a cancelled failure.
    pub cancel: Arc<AtomicBool>,
    /// Where the cell's events go (dmlft-train's stream; the fake executor emits the same).
    pub progress: Arc<dyn Fn(CellEvent) + Send + Sync>,
}

impl CellContext {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    pub fn report(&self, event: CellEvent) {
        (self.progress)(event)
    }
}

/// Why a cell produced no result.
#[derive(Debug, Clone, PartialEq)]
pub struct CellFailure {
    pub message: String,
    /// Training step at which it failed, if known.
    pub step: Option<usize>,
    /// Stopped on request: not recorded as failed (the cell is simply not done).
    pub cancelled: bool,
}

impl CellFailure {
    pub fn error(message: impl Into<String>, step: Option<usize>) -> Self {
        Self {
            message: message.into(),
            step,
            cancelled: false,
        }
    }

    pub fn cancelled(step: Option<usize>) -> Self {
        Self {
            message: "cancelled".into(),
            step,
            cancelled: true,
        }
    }
}

pub trait CellExecutor: Send + Sync {
    fn run(&self, cell: &CellSpec, ctx: &CellContext) -> Result<CellResult, CellFailure>;
}
