//! Comparison of several methods over blocks (one block per task x shots, Demšar 2006): the
//! ranks of the methods within each block, their average, the Friedman test, and two post-hoc
//! tests: Nemenyi (all pairs, studentized range; with its critical difference for the CD
//! diagram) and the pairwise Wilcoxon signed-rank test with the Holm correction.

use super::{check_finite, holm_adjust, studentized_range_quantile, studentized_range_sf};
use super::{wilcoxon_signed_rank, StatsError};
use serde::{Deserialize, Serialize};
use statrs::function::gamma::gamma_ur;

/// Friedman test over blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Friedman {
    pub n_blocks: usize,
    pub n_methods: usize,
    /// Per method (input column order), the mean over blocks of its rank in the block, rank 1
    /// for the highest value, tied values sharing their mean rank.
    pub average_ranks: Vec<f64>,
    /// Chi-squared statistic with the tie correction (`scipy.stats.friedmanchisquare`).
    pub statistic: f64,
    /// Chi-squared upper tail with `n_methods - 1` degrees of freedom. Every block tied: 1.
    pub p_value: f64,
}

/// Checks that `blocks` (rows = blocks, columns = methods) is a complete design of finite
/// values with at least 2 blocks and 2 methods, and returns its number of methods.
fn check_blocks(blocks: &[Vec<f64>]) -> Result<usize, StatsError> {
    let k = blocks.first().map_or(0, Vec::len);
    if blocks.len() < 2 || k < 2 {
        return Err(StatsError::TooSmallDesign {
            blocks: blocks.len(),
            methods: k,
        });
    }
    for (index, block) in blocks.iter().enumerate() {
        if block.len() != k {
            return Err(StatsError::RaggedBlock {
                index,
                len: block.len(),
                expected: k,
            });
        }
        check_finite(block)?;
    }
    Ok(k)
}

/// Ranks (1 = highest, ties averaged) of one block, and the sum of t^3 - t over its groups of
/// tied values.
fn rank_block(block: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..block.len()).collect();
    order.sort_by(|&a, &b| block[b].total_cmp(&block[a]));
    let mut ranks = vec![0.0; block.len()];
    let mut ties = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && block[order[end]] == block[order[start]] {
            end += 1;
        }
        for &i in &order[start..end] {
            ranks[i] = (start + 1 + end) as f64 / 2.0;
        }
        let t = (end - start) as f64;
        ties += t * t * t - t;
        start = end;
    }
    (ranks, ties)
}

/// Friedman test over `blocks` (rows = blocks, columns = methods; higher is better).
pub fn friedman(blocks: &[Vec<f64>]) -> Result<Friedman, StatsError> {
    let k = check_blocks(blocks)?;
    let n = blocks.len();
    let mut rank_sums = vec![0.0; k];
    let mut ties = 0.0;
    for block in blocks {
        let (ranks, t) = rank_block(block);
        ties += t;
        for (sum, r) in rank_sums.iter_mut().zip(ranks) {
            *sum += r;
        }
    }
    let (nf, kf) = (n as f64, k as f64);
    let correction = 1.0 - ties / (nf * kf * (kf * kf - 1.0));
    let ss: f64 = rank_sums.iter().map(|r| r * r).sum();
    let (statistic, p_value) = if correction <= 0.0 {
        (0.0, 1.0)
    } else {
        let chi2 = (12.0 / (nf * kf * (kf + 1.0)) * ss - 3.0 * nf * (kf + 1.0)) / correction;
        // equal rank sums give 0 (or a rounding residue below it), where statrs's incomplete
        // gamma refuses x = 0: the upper tail there is 1
        if chi2 <= 1e-12 {
            (chi2.max(0.0), 1.0)
        } else {
            (chi2, gamma_ur((kf - 1.0) / 2.0, chi2 / 2.0))
        }
    };
    Ok(Friedman {
        n_blocks: n,
        n_methods: k,
        average_ranks: rank_sums.iter().map(|r| r / nf).collect(),
        statistic,
        p_value,
    })
}

/// Nemenyi critical difference at `alpha`: two methods whose average ranks differ by more are
/// different. `q_alpha sqrt(k (k + 1) / (6 N))` with `q_alpha` the studentized range quantile
/// over sqrt 2 (Demšar 2006).
pub fn nemenyi_critical_difference(n_methods: usize, n_blocks: usize, alpha: f64) -> f64 {
    let k = n_methods as f64;
    let q = studentized_range_quantile(1.0 - alpha, n_methods) / std::f64::consts::SQRT_2;
    q * (k * (k + 1.0) / (6.0 * n_blocks as f64)).sqrt()
}

/// Nemenyi p-values of every pair of methods from their average ranks over `n_blocks` blocks,
/// as scikit-posthocs' `posthoc_nemenyi_friedman` (a symmetric matrix, 1 on the diagonal).
pub fn nemenyi_p_values(average_ranks: &[f64], n_blocks: usize) -> Vec<Vec<f64>> {
    let k = average_ranks.len();
    let scale = (k as f64 * (k as f64 + 1.0) / (6.0 * n_blocks as f64)).sqrt();
    pairwise(k, |i, j| {
        let q = (average_ranks[i] - average_ranks[j]).abs() / scale;
        studentized_range_sf(q * std::f64::consts::SQRT_2, k)
    })
}

/// Wilcoxon signed-rank test of every pair of methods over the blocks, Holm-corrected over the
/// `k (k - 1) / 2` pairs (scikit-posthocs' `posthoc_wilcoxon(p_adjust="holm")`, with ties
/// handled exactly as in [`wilcoxon_signed_rank`]). A symmetric matrix, 1 on the diagonal.
pub fn wilcoxon_holm_p_values(blocks: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, StatsError> {
    let k = check_blocks(blocks)?;
    let raw = pairwise(k, |i, j| {
        let diffs: Vec<f64> = blocks.iter().map(|b| b[i] - b[j]).collect();
        wilcoxon_signed_rank(&diffs).map_or(1.0, |w| w.p_value)
    });
    let adjusted = holm_adjust(&pairs(k).map(|(i, j)| raw[i][j]).collect::<Vec<_>>());
    let mut matrix = raw;
    for ((i, j), p) in pairs(k).zip(adjusted) {
        matrix[i][j] = p;
        matrix[j][i] = p;
    }
    Ok(matrix)
}

/// The pairs `(i, j)`, `i < j < k`, row by row (scikit-posthocs' order).
fn pairs(k: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..k).flat_map(move |i| (i + 1..k).map(move |j| (i, j)))
}

/// A symmetric matrix of `f(i, j)` for i < j, 1 on the diagonal.
fn pairwise(k: usize, f: impl Fn(usize, usize) -> f64) -> Vec<Vec<f64>> {
    let mut matrix = vec![vec![1.0; k]; k];
    for (i, j) in pairs(k) {
        let v = f(i, j);
        matrix[i][j] = v;
        matrix[j][i] = v;
    }
    matrix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_best_first_with_ties() {
        let (ranks, ties) = rank_block(&[0.5, 0.9, 0.5, 0.1]);
        assert_eq!(ranks, vec![2.5, 1.0, 2.5, 4.0]);
        assert_eq!(ties, 6.0);
    }

    #[test]
    fn equal_rank_sums_give_p_one() {
        // each method best in one block: rank sums 3 and 3, chi-squared 0
        let f = friedman(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
        assert_eq!((f.statistic, f.p_value), (0.0, 1.0));
    }

    #[test]
    fn all_tied_blocks_and_bad_designs() {
        let f = friedman(&[vec![1.0, 1.0, 1.0], vec![2.0, 2.0, 2.0]]).unwrap();
        assert_eq!((f.statistic, f.p_value), (0.0, 1.0));
        assert_eq!(f.average_ranks, vec![2.0, 2.0, 2.0]);
        assert_eq!(
            friedman(&[vec![1.0, 2.0]]),
            Err(StatsError::TooSmallDesign {
                blocks: 1,
                methods: 2
            })
        );
        assert_eq!(
            friedman(&[vec![1.0, 2.0], vec![1.0]]).unwrap_err().to_string(),
            "block 1 has 1 values but the first block has 2: every block needs one value per method"
        );
        assert!(matches!(
            wilcoxon_holm_p_values(&[vec![1.0, f64::INFINITY], vec![1.0, 2.0]]),
            Err(StatsError::NonFinite { .. })
        ));
    }
}
