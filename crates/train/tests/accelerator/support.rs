//! What the accelerator tests share whatever the backend: fixture paths and comparisons.

use std::path::PathBuf;

use crate::model_common::max_abs_diff;

/// The workspace: `DMLFT_REPO_ROOT` when the test binary runs on another machine than the one
/// it was built on (scripts/gpu-check.sh ships it to a GPU machine), else where it was built.
pub fn repo_root() -> PathBuf {
    std::env::var_os("DMLFT_REPO_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A checkpoint folder of dmlft-model's test fixtures (tiny random BERT / RoBERTa).
pub fn model_fixture(name: &str) -> PathBuf {
    repo_root().join("crates/model/tests/fixtures").join(name)
}

/// `max |a - b| / max(max |b|, floor)`: the worst difference relative to the reference's scale.
pub fn scaled_max_diff(a: &[f32], b: &[f32], floor: f32) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(floor, |m, x| m.max(x.abs()));
    max_abs_diff(a, b) / scale
}

/// Panics when `require_var=1`, else prints why the test is skipped; returns `None`.
pub fn skip(reason: &str, require_var: &str) -> Option<std::convert::Infallible> {
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!("{require_var}=1 but {reason}");
    }
    eprintln!("skipping: {reason}");
    None
}
