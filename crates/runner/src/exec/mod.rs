//! Execution of grids: the run options, the executor trait, the real and the fake executor, the
//! runner loop.
pub mod executor;
pub mod fake;
pub mod options;
pub mod panic_guard;
pub mod runner;
pub mod shard;
pub mod study;
pub mod training;

pub use executor::{CellContext, CellExecutor, CellFailure};
pub use fake::FakeExecutor;
pub use options::{GridEvent, ProgressFn, RunOptions};
pub use runner::{run_grid, RunError, RunSummary};
pub use shard::Shard;
pub use study::{run_study, run_study_with, StudyError};
pub use training::TrainingExecutor;
