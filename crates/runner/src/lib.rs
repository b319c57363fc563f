//! dmlft: the experiment runner: grid files, cell expansion, the results store, local / sharded /
//! Slurm execution and reports.
//!
//! As a library: [`experiment::Experiment`] runs a study from code, without a grid file, and
//! resolves to the same cells (same ids) as the equivalent grid.
#![warn(unreachable_pub)]
pub mod commands;
pub mod cost;
pub mod error_chain;
pub mod exec;
pub mod experiment;
pub mod grid;
pub mod host;
pub mod report;
pub mod signals;
pub mod slurm;
pub mod store;
pub mod table;
