//! Summary of one group of runs: n, mean, sample and population std, median and a Student t
//! confidence interval of the mean.

use super::{check_finite, mean, student_t_quantile, StatsError};
use serde::{Deserialize, Serialize};

/// A two-sided confidence interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// e.g. 0.95.
    pub level: f64,
    pub low: f64,
    pub high: f64,
}

/// Summary statistics of a sample of run results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (ddof 1, `np.std(x, ddof=1)`); `None` when n < 2.
    pub std: Option<f64>,
    /// Population standard deviation (ddof 0, `np.std(x)`), what the papers and SetFit
    /// report; 0 when n = 1.
    pub std_pop: f64,
    pub median: f64,
    /// Student t interval `mean ± t_{(1+level)/2, n-1} * std / sqrt(n)` (scipy's
    /// `t.interval(level, n-1, loc=mean, scale=sem)`); `None` when n < 2. With zero variance
    /// it is the single point `[mean, mean]` (scipy would give NaN).
    pub ci: Option<ConfidenceInterval>,
}

/// Summary with a 95% confidence interval.
pub fn summarize(values: &[f64]) -> Result<Summary, StatsError> {
    summarize_with_level(values, 0.95)
}

/// Summary with a confidence interval at `level` (in (0, 1)).
pub fn summarize_with_level(values: &[f64], level: f64) -> Result<Summary, StatsError> {
    check_finite(values)?;
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::ConfidenceLevel(level));
    }
    let n = values.len();
    let m = mean(values);
    let sum_sq: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    let std_pop = (sum_sq / n as f64).sqrt();
    let std = (n > 1).then(|| (sum_sq / (n - 1) as f64).sqrt());
    let ci = std.map(|s| {
        let sem = s / (n as f64).sqrt();
        let df = (n - 1) as f64;
        let low_q = student_t_quantile((1.0 - level) / 2.0, df);
        let high_q = student_t_quantile((1.0 + level) / 2.0, df);
        ConfidenceInterval {
            level,
            low: m + sem * low_q,
            high: m + sem * high_q,
        }
    });
    Ok(Summary {
        n,
        mean: m,
        std,
        std_pop,
        median: median(values),
        ci,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_value_has_no_sample_std_or_ci() {
        let s = summarize(&[0.8]).unwrap();
        assert_eq!((s.n, s.mean, s.std_pop, s.median), (1, 0.8, 0.0, 0.8));
        assert_eq!(s.std, None);
        assert_eq!(s.ci, None);
    }

    #[test]
    fn zero_variance_gives_point_interval() {
        let s = summarize(&[0.5, 0.5, 0.5]).unwrap();
        let ci = s.ci.unwrap();
        assert_eq!((ci.low, ci.high, s.std), (0.5, 0.5, Some(0.0)));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(summarize(&[]), Err(StatsError::Empty));
        assert_eq!(
            summarize(&[1.0, f64::NAN]).unwrap_err().to_string(),
            "value NaN at position 1 is not a finite number"
        );
        assert_eq!(
            summarize_with_level(&[1.0, 2.0], 1.0),
            Err(StatsError::ConfidenceLevel(1.0))
        );
    }

    #[test]
    fn hand_computed_values() {
        // 1, 2, 3, 4: mean 2.5, population var 1.25, sample var 5/3, median 2.5.
        let s = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!((s.std_pop - 1.25f64.sqrt()).abs() < 1e-15);
        assert!((s.std.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }
}
