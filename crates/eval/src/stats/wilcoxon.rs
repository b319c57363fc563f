//! Wilcoxon signed-rank test, two-sided, as `scipy.stats.wilcoxon(x, y)` with its defaults in
//! scipy 1.17 (`zero_method="wilcox"`, `correction=False`, `method="auto"`) except where scipy
//! is not exact:
//!
//! * zeros are dropped before ranking; |d| are ranked with average ranks (mid-ranks) for ties;
//! * more than 50 differences (zeros included): normal approximation, variance corrected for
//!   ties, as scipy;
//! * otherwise the exact null distribution of the rank sum over every sign assignment of the
//!   ranks actually observed: without ties or zeros that is scipy's exact distribution; with
//!   them it is what scipy's permutation test enumerates up to 13 differences, and here also
//!   from 14 to 50, where scipy falls back to the normal approximation (its `method="exact"`
//!   would ignore the ties).
//!
//! Every difference zero gives p = 1.0 (scipy: 1.0 for n <= 13 via the permutation test,
//! NaN above, where the normal approximation divides 0 by 0).

use serde::{Deserialize, Serialize};

use super::normal_sf;

/// Which null distribution produced the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WilcoxonMethod {
    /// Exact distribution, no ties and no zeros (scipy's `exact`).
    Exact,
    /// Exact permutation distribution of the mid-ranks (ties or zeros among the differences).
    ExactTies,
    Asymptotic,
}

/// Result of a Wilcoxon signed-rank test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wilcoxon {
    /// `min(R+, R-)`, scipy's two-sided statistic.
    pub statistic: f64,
    pub p_value: f64,
    pub method: WilcoxonMethod,
    /// Non-zero differences (the effective sample size).
    pub n_nonzero: usize,
}

/// Largest sample scipy's `method="auto"` treats exactly.
const EXACT_MAX_N: usize = 50;

/// The smallest two-sided p-value the exact test can give with `n` non-zero differences:
/// every difference of one sign, `2 / 2^n`.
pub fn smallest_exact_p(n: usize) -> f64 {
    2.0 * 0.5f64.powi(n.min(i32::MAX as usize) as i32)
}

/// Two-sided Wilcoxon signed-rank test on `d = candidate - baseline`. `None` for no
/// differences. The caller guarantees finite values.
pub fn wilcoxon_signed_rank(diffs: &[f64]) -> Option<Wilcoxon> {
    if diffs.is_empty() {
        return None;
    }
    let nonzero: Vec<f64> = diffs.iter().copied().filter(|&d| d != 0.0).collect();
    let n_zero = diffs.len() - nonzero.len();
    let count = nonzero.len();
    let (ranks, tie_groups) = average_ranks_of_abs(&nonzero);
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total = (count * (count + 1)) as f64 / 2.0;
    let statistic = r_plus.min(total - r_plus);
    let has_ties = tie_groups.iter().any(|&t| t > 1);

    let method = if diffs.len() > EXACT_MAX_N {
        WilcoxonMethod::Asymptotic
    } else if !(has_ties || n_zero > 0) {
        WilcoxonMethod::Exact
    } else {
        WilcoxonMethod::ExactTies
    };
    let p_value = if count == 0 {
        1.0
    } else {
        match method {
            WilcoxonMethod::Exact | WilcoxonMethod::ExactTies => exact_p(&ranks, r_plus),
            WilcoxonMethod::Asymptotic => asymptotic_p(count, r_plus, &tie_groups),
        }
    };
    Some(Wilcoxon {
        statistic,
        p_value,
        method,
        n_nonzero: count,
    })
}

/// Average ranks (1-based) of |d| and the sizes of the groups of equal |d|.
fn average_ranks_of_abs(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].abs().total_cmp(&values[b].abs()));
    let mut ranks = vec![0.0; values.len()];
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]].abs() == values[order[start]].abs() {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their average:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        groups.push(end - start);
        start = end;
    }
    (ranks, groups)
}

/// Exact two-sided p-value `2 * min(P(T <= r), P(T >= r))` clipped to 1, where T is the sum of
/// a random subset of `ranks` (every sign assignment equally likely). Mid-ranks are multiples
/// of 1/2, so the distribution is counted over doubled ranks, which are integers: the counts
/// are exact (n <= 50 keeps them below 2^50) and the only rounding is the final division.
fn exact_p(ranks: &[f64], r_plus: f64) -> f64 {
    let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
    let max: usize = doubled.iter().sum();
    let mut counts = vec![0u64; max + 1];
    counts[0] = 1;
    let mut reach = 0;
    for &r in &doubled {
        reach += r;
        for s in (r..=reach).rev() {
            counts[s] += counts[s - r];
        }
    }
    let observed = (2.0 * r_plus).round() as usize;
    let lower: u64 = counts[..=observed].iter().sum();
    let upper: u64 = counts[observed..].iter().sum();
    let total = 2f64.powi(ranks.len() as i32);
    (2.0 * lower.min(upper) as f64 / total).min(1.0)
}

/// Normal approximation without continuity correction, variance corrected for ties.
fn asymptotic_p(n: usize, r_plus: f64, tie_groups: &[usize]) -> f64 {
    let n = n as f64;
    let mean = n * (n + 1.0) * 0.25;
    let tie_correction: f64 = tie_groups
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let se = ((n * (n + 1.0) * (2.0 * n + 1.0) - tie_correction / 2.0) / 24.0).sqrt();
    let z = (r_plus - mean) / se;
    2.0 * normal_sf(z.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_small_cases() {
        // n = 3, all positive: R+ = 6, P(T >= 6) = 1/8 -> p = 0.25.
        let w = wilcoxon_signed_rank(&[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(
            (w.statistic, w.p_value, w.method),
            (0.0, 0.25, WilcoxonMethod::Exact)
        );
        // Sign flip leaves the two-sided p unchanged.
        let v = wilcoxon_signed_rank(&[-0.1, -0.2, -0.3]).unwrap();
        assert_eq!(v.p_value, 0.25);
    }

    #[test]
    fn ranks_average_ties() {
        let (ranks, groups) = average_ranks_of_abs(&[2.0, -1.0, 2.0, 3.0]);
        assert_eq!(ranks, vec![2.5, 1.0, 2.5, 4.0]);
        assert_eq!(groups, vec![1, 2, 1]);
    }

    #[test]
    fn all_zero_and_empty() {
        assert_eq!(wilcoxon_signed_rank(&[]), None);
        let w = wilcoxon_signed_rank(&[0.0; 20]).unwrap();
        assert_eq!((w.p_value, w.n_nonzero), (1.0, 0));
    }

    #[test]
    fn exact_p_is_never_above_one() {
        // R+ at the centre of the distribution.
        let w = wilcoxon_signed_rank(&[1.0, -2.0, -3.0, 4.0]).unwrap();
        assert!(w.p_value <= 1.0 && w.p_value > 0.5);
    }
}
