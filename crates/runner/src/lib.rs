//! dmlft: the experiment runner: grid files, cell expansion, the results store, local / sharded /
//! Slurm execution and reports.
//!
//! As a library: [`Experiment`] runs a study from code, without a grid file, and resolves to the
//! same cells (same ids) as the equivalent grid; [`RunOptions`] says how (device, threads,
//! progress callback, cancel flag); [`prelude`] has what a study needs in one import. The
//! command line (`commands`, `signals`, the `dmlft` binary) is the default feature `cli`;
//! without it the library depends on no argument parser, terminal or signal crate. The MLflow
//! export (`report::mlflow`) is the default feature `mlflow`.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
pub mod calibration;
#[cfg(feature = "cli")]
pub mod commands;
pub mod cost;
pub mod error_chain;
pub mod exec;
pub mod experiment;
pub mod grid;
pub mod host;
pub mod report;
pub mod search;
#[cfg(feature = "cli")]
pub mod signals;
pub mod slurm;
pub mod store;
pub mod table;

pub use exec::{GridEvent, RunOptions, RunSummary};
pub use experiment::{Experiment, ExperimentError, StudyRun};
pub use grid::{Cell, CellValues, Device, Grid};
pub use report::ReportOptions;
pub use store::CellRecord;

/// The crates a study's settings come from, so that a user of `dmlft` names one crate.
pub use {dmlft_data as data, dmlft_eval as eval, dmlft_losses as losses};
pub use {dmlft_model as model, dmlft_train as train};

/// What a study from code needs: `use dmlft::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Cell, CellRecord, CellValues, Device, Experiment, GridEvent, ReportOptions, RunOptions,
        RunSummary,
    };
    pub use dmlft_data::spec::TaskName;
    pub use dmlft_data::Example;
    pub use dmlft_eval::{Metric, Metrics};
    pub use dmlft_losses::losses::{
        ArcFaceConfig, CosFaceConfig, NormalizedSoftmaxConfig, ProxyAnchorConfig, ProxyNcaConfig,
        SoftTripleConfig,
    };
    pub use dmlft_losses::spec::{DmlLossSpec, ObjectiveSpec};
    pub use dmlft_train::progress::CellEvent;
    pub use dmlft_train::{CellResult, InferenceMode, TrainSpec};
}

/// The README's example, compiled (not run) as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExample;
