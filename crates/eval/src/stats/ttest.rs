//! Paired (one-sample on differences) Student t-test, as `scipy.stats.ttest_rel`, two-sided.

use super::{mean, student_t_sf};
use serde::{Deserialize, Serialize};

/// Result of a paired t-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TTest {
    /// `mean(d) / (std(d, ddof=1) / sqrt(n))`; `None` when the differences have zero variance,
    /// or are equal but for rounding (scipy gives ±inf or NaN there, or a huge t).
    pub statistic: Option<f64>,
    pub df: usize,
    /// Two-sided p-value. Zero variance: 0.0 when the mean difference is non-zero (scipy's
    /// t = ±inf limit), 1.0 when every difference is zero (scipy gives NaN).
    pub p_value: f64,
}

/// Fewest pairs for which a reported t-test means anything: with 2 pairs it has one degree of
/// freedom and its p-value swings from near 0 to 1 on noise.
pub const MIN_TTEST_PAIRS: usize = 3;

impl TTest {
    /// Whether this test says something: at least [`MIN_TTEST_PAIRS`] pairs and differences
    /// that vary (constant differences give t = +-inf, a p of 0 that only reflects the zero
    /// variance).
    pub fn is_applicable(&self) -> bool {
        self.df + 1 >= MIN_TTEST_PAIRS && self.statistic.is_some()
    }
}

/// Whether the differences are one value but for rounding: `0.8 - 0.75` and `0.75 - 0.7` differ
/// in their last bits, and their "variance" of about 1e-34 would give an enormous t and a p of
/// 0 (scipy does that) that reflects nothing but the rounding.
fn constant_up_to_rounding(diffs: &[f64]) -> bool {
    let (lo, hi) = diffs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| {
            (lo.min(d), hi.max(d))
        });
    let scale = lo.abs().max(hi.abs());
    hi - lo <= 16.0 * f64::EPSILON * scale
}

/// Two-sided paired t-test on differences `d = candidate - baseline`. `None` when n < 2
/// (no variance estimate). The caller guarantees finite values.
pub fn paired_t_test(diffs: &[f64]) -> Option<TTest> {
    let n = diffs.len();
    if n < 2 {
        return None;
    }
    let m = mean(diffs);
    let var = diffs.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / (n - 1) as f64;
    let df = n - 1;
    if var == 0.0 || constant_up_to_rounding(diffs) {
        let p_value = if m == 0.0 { 1.0 } else { 0.0 };
        return Some(TTest {
            statistic: None,
            df,
            p_value,
        });
    }
    let t = m / (var / n as f64).sqrt();
    let p_value = (2.0 * student_t_sf(t.abs(), df as f64)).min(1.0);
    Some(TTest {
        statistic: Some(t),
        df,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_cases_are_defined() {
        assert_eq!(paired_t_test(&[0.3]), None);
        assert_eq!(paired_t_test(&[0.0, 0.0, 0.0]).unwrap().p_value, 1.0);
        let constant = paired_t_test(&[0.1, 0.1]).unwrap();
        assert_eq!((constant.statistic, constant.p_value), (None, 0.0));
    }

    #[test]
    fn applicability_needs_three_pairs_and_varying_differences() {
        assert!(!paired_t_test(&[0.1, 0.3]).unwrap().is_applicable());
        assert!(!paired_t_test(&[0.1, 0.1, 0.1]).unwrap().is_applicable());
        assert!(paired_t_test(&[0.1, 0.3, 0.2]).unwrap().is_applicable());
        // the same accuracy gain, computed from different accuracies: equal but for rounding
        let same = [0.8 - 0.75, 0.75 - 0.7, 0.95 - 0.9];
        assert!(
            same[0] != same[2],
            "the test needs values that differ in their last bits"
        );
        let t = paired_t_test(&same).unwrap();
        assert_eq!((t.statistic, t.p_value), (None, 0.0));
        assert!(!t.is_applicable());
    }

    #[test]
    fn symmetric_in_sign() {
        let a = paired_t_test(&[0.1, 0.3, -0.05, 0.2]).unwrap();
        let b = paired_t_test(&[-0.1, -0.3, 0.05, -0.2]).unwrap();
        assert_eq!(a.p_value, b.p_value);
        assert_eq!(a.statistic.unwrap(), -b.statistic.unwrap());
    }
}
