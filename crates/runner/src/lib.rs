//! dmlft: the experiment runner: grid files, cell expansion, the results store, local / sharded /
//! Slurm execution and reports.
pub mod commands;
pub mod cost;
pub mod exec;
pub mod grid;
pub mod host;
pub mod report;
pub mod signals;
pub mod slurm;
pub mod store;
pub mod table;
