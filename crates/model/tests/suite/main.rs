//! dmlft-model: the integration tests, as one binary (one link and one copy of the
//! monomorphised burn code instead of one per file; CI's build time and disk).
//! Each file is a module; `cargo test -p <crate> --test suite <module>::` runs one.
//! Not here: kernels.rs, hub_env.rs (each changes process-wide state, so each stays its own binary).

mod common;
mod hub_server;

mod dropout;
mod family_parity;
mod foreign_config;
#[cfg(feature = "hub")]
mod hub_download;
#[cfg(feature = "hub")]
mod hub_hostile;
mod load_errors;
mod minilm;
mod parity;
mod save_roundtrip;
mod saved_in_transformers;
