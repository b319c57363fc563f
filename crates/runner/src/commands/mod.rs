//! Subcommands that are more than a call into a library module.
pub mod analyze;
pub mod data;
pub mod embed;
pub mod env;
pub mod explain;
pub mod grid_args;
pub mod plan;
pub mod predict;
pub mod progress;
pub mod run;
pub mod search;
pub mod slurm;
pub mod unlock;
