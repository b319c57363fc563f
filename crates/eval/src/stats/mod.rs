//! Statistics across runs: summaries (mean, std, median, confidence interval), paired
//! comparisons against a baseline (paired t-test, Wilcoxon signed-rank, wins/ties/losses,
//! Cohen's d_z, the interval of the difference), the Holm correction for a family of
//! comparisons, comparisons over tasks (hierarchical bootstrap, tests over tasks), ranks of
//! several methods over blocks (Friedman, Nemenyi, Holm-corrected Wilcoxon post-hoc) and the
//! power of the paired t-test. Every function matches numpy / scipy / statsmodels /
//! scikit-posthocs (`tests/suite/stats_parity.rs` and `stats_across.rs` compare against
//! committed outputs of `scripts/make_stats_fixtures.py`).
mod across_tasks;
mod distributions;
mod effect;
mod friedman;
mod holm;
mod paired;
mod power;
mod studentized_range;
mod summary;
mod ttest;
mod wilcoxon;

pub use across_tasks::{
    compare_across_tasks, hierarchical_bootstrap, AcrossTasks, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED,
};
pub use distributions::{normal_sf, student_t_quantile, student_t_sf};
pub use effect::cohens_d_z;
pub use friedman::{
    friedman, nemenyi_critical_difference, nemenyi_p_values, wilcoxon_holm_p_values, Friedman,
};
pub use holm::holm_adjust;
pub use paired::{compare_by_key, compare_paired, KeyedComparison, PairedComparison};
pub use power::{detectable_d_z, paired_t_power};
pub use studentized_range::{
    studentized_range_cdf, studentized_range_quantile, studentized_range_sf,
};
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
    #[error("{blocks} blocks of {methods} methods: ranking needs at least 2 blocks and 2 methods")]
    TooSmallDesign { blocks: usize, methods: usize },
    #[error("block {index} has {len} values but the first block has {expected}: every block needs one value per method")]
    RaggedBlock {
        index: usize,
        len: usize,
        expected: usize,
    },
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
