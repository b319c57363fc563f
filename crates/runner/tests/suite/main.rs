//! dmlft (the runner and its CLI): the integration tests, as one binary (one link and one copy of the
//! monomorphised burn code instead of one per file; CI's build time and disk).
//! Each file is a module; `cargo test -p <crate> --test suite <module>::` runs one.

mod common;

mod bad_input;
mod cell_panic;
mod corrupt_records;
mod data_change;
mod data_cmd;
mod device_cmd;
mod disk_full;
mod embed_cmd;
mod env_cmd;
mod expand;
mod experiment;
mod explain_cmd;
mod fuzz_grids;
mod gpu_check_script;
mod library_deps;
#[cfg(feature = "mlflow")]
mod mlflow_export;
mod old_records;
mod plan_cost;
mod predict_cmd;
mod report;
mod run_store;
mod rust_version;
mod search;
mod select_dev;
mod setfit_grid;
mod shell_scripts;
mod signals;
mod slurm_script;
mod stale_locks;
mod validation_owners;
