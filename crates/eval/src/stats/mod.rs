//! Statistics across runs: summaries (mean, std, median, confidence interval), paired
//! comparisons against a baseline (paired t-test, Wilcoxon signed-rank, wins/ties/losses) and
//! the Holm correction for a family of comparisons. Every function matches numpy / scipy
//! (`tests/suite/stats_parity.rs` compares against committed scipy outputs).
mod distributions;
mod holm;
mod paired;
mod summary;
mod ttest;
mod wilcoxon;

pub use distributions::{normal_sf, student_t_quantile, student_t_sf};
pub use holm::holm_adjust;
pub use paired::{compare_by_key, compare_paired, KeyedComparison, PairedComparison};
pub use summary::{summarize, summarize_with_level, ConfidenceInterval, Summary};
pub use ttest::{paired_t_test, TTest, MIN_TTEST_PAIRS};
pub use wilcoxon::{smallest_exact_p, wilcoxon_signed_rank, Wilcoxon, WilcoxonMethod};

use thiserror::Error;

/// Invalid input to a statistic.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    #[error("no values: a statistic needs at least one value")]
    Empty,
    #[error("value {value} at position {index} is not a finite number")]
    NonFinite { index: usize, value: f64 },
    #[error("{candidate} candidate values but {baseline} baseline values: paired samples must have the same length")]
    LengthMismatch { candidate: usize, baseline: usize },
    #[error("confidence level {0} is not in (0, 1)")]
    ConfidenceLevel(f64),
}

/// Rejects empty input and NaN / infinity, which would otherwise poison every statistic.
fn check_finite(values: &[f64]) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty);
    }
    match values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(StatsError::NonFinite { index, value }),
        None => Ok(()),
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}
