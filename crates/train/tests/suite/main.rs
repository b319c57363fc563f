//! dmlft-train: the integration tests, as one binary (one link and one copy of the
//! monomorphised burn code instead of one per file; CI's build time and disk).
//! Each file is a module; `cargo test -p <crate> --test suite <module>::` runs one.

mod analysis_ig;
mod analysis_pipeline;
mod dev_training;
mod max_length;
mod optim_parity;
mod param_groups;
mod pinned_metrics;
mod progress_events;
mod proxy_alignment;
mod real_sst2;
mod saved_predict;
mod setfit_cell;
mod setfit_cosine_loss;
mod setfit_fixture;
mod setfit_head;
mod setfit_pairs;
mod setfit_saved;
mod sst2_cell;
