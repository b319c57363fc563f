//! Helpers shared by the parity tests: fixture loading and relative comparison.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// Reads `tests/fixtures/<name>` (written by `scripts/make_stats_fixtures.py`).
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

/// `|got - want| <= rel * max(|want|, tiny)`: relative, with an absolute floor for zeros.
pub fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
    let scale = want.abs().max(1e-300);
    assert!(
        (got - want).abs() <= rel * scale || got == want,
        "{what}: got {got:e}, scipy/sklearn {want:e} (rel err {:e})",
        (got - want).abs() / scale
    );
}
