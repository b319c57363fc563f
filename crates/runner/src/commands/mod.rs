//! Subcommands that are more than a call into a library module.
pub mod data;
pub mod plan;
