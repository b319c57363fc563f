//! Execution of grids: the executor trait, the real and the fake executor, the runner loop.
pub mod executor;
pub mod fake;
pub mod panic_guard;
pub mod progress;
pub mod runner;
pub mod shard;
pub mod study;
pub mod training;

pub use executor::{CellContext, CellExecutor, CellFailure};
pub use fake::FakeExecutor;
pub use runner::{run_grid, RunError, RunOptions, RunSummary};
pub use shard::Shard;
pub use study::{run_study, StudyError};
pub use training::TrainingExecutor;
