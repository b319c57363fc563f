//! dmlft-fs: the one owner of how dmlft writes files that must survive a crash (results
//! records, saved models, datasets written from memory). No dependencies, so every crate can
//! use it.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

pub mod atomic_file;

pub use atomic_file::{write_atomic, write_atomic_as, TMP_MARKER};
