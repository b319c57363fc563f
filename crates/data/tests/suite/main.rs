//! dmlft-data: the integration tests, as one binary (one link and one copy of the
//! monomorphised burn code instead of one per file; CI's build time and disk).
//! Each file is a module; `cargo test -p <crate> --test suite <module>::` runs one.

mod authors_samples;
mod authors_tokens;
mod formats;
mod numpy_random;
mod protocol;
mod senteval;
mod tokenize;
mod verify;
