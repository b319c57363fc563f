//! Where SentEval is looked for: `--data-dir`, else (for grids) the grid's `data_root`, else
//! `$DMLFT_DATA_DIR`, else `datasets/senteval` (relative to the working folder).

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "DMLFT_DATA_DIR";
pub const DEFAULT_DATA_ROOT: &str = "datasets/senteval";

/// The data root when neither an argument nor a grid names one, and what decided it.
pub fn fallback() -> (PathBuf, &'static str) {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) => (PathBuf::from(dir), DATA_DIR_ENV),
        None => (PathBuf::from(DEFAULT_DATA_ROOT), "default"),
    }
}

/// `arg` (a `--data-dir`), else [`fallback`].
pub fn resolve(arg: Option<&Path>) -> PathBuf {
    arg.map(Path::to_path_buf).unwrap_or_else(|| fallback().0)
}
