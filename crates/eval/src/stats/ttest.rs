//! Paired (one-sample on differences) Student t-test, as `scipy.stats.ttest_rel`, two-sided.

use super::{mean, student_t_sf};
use serde::{Deserialize, Serialize};

/// Result of a paired t-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TTest {
    /// `mean(d) / (std(d, ddof=1) / sqrt(n))`; `None` when the differences have zero variance
    /// (scipy gives ±inf or NaN there).
    pub statistic: Option<f64>,
    pub df: usize,
    /// Two-sided p-value. Zero variance: 0.0 when the mean difference is non-zero (scipy's
    /// t = ±inf limit), 1.0 when every difference is zero (scipy gives NaN).
    pub p_value: f64,
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
    if var == 0.0 {
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
    fn symmetric_in_sign() {
        let a = paired_t_test(&[0.1, 0.3, -0.05, 0.2]).unwrap();
        let b = paired_t_test(&[-0.1, -0.3, 0.05, -0.2]).unwrap();
        assert_eq!(a.p_value, b.p_value);
        assert_eq!(a.statistic.unwrap(), -b.statistic.unwrap());
    }
}
