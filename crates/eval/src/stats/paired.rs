//! Paired comparison of a candidate against a baseline: mean difference with its interval,
//! Cohen's d_z, paired t-test, Wilcoxon signed-rank test and wins / ties / losses, with pairing
//! by key (seed or fold).

use super::{
    check_finite, cohens_d_z, mean, paired_t_test, summarize, wilcoxon_signed_rank,
    ConfidenceInterval, StatsError, TTest, Wilcoxon,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Candidate minus baseline over paired runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    pub n_pairs: usize,
    /// Mean of `candidate - baseline`.
    pub mean_diff: f64,
    /// 95% Student t interval of the mean difference (of the difference, not of either side's
    /// own mean); `None` when n < 2.
    pub diff_ci: Option<ConfidenceInterval>,
    /// Cohen's d_z (mean difference over the std of the differences); `None` when n < 2 or
    /// the differences do not vary.
    pub d_z: Option<f64>,
    /// `None` when n < 2.
    pub t_test: Option<TTest>,
    pub wilcoxon: Option<Wilcoxon>,
    /// Pairs where the candidate is higher / equal / lower.
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
}

/// A comparison by key, with the keys that had no partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedComparison {
    /// `None` when no key is shared.
    pub comparison: Option<PairedComparison>,
    /// Keys present on only one side (dropped from the comparison).
    pub unpaired_keys: Vec<String>,
}

/// Compares `candidate[i]` with `baseline[i]`.
pub fn compare_paired(candidate: &[f64], baseline: &[f64]) -> Result<PairedComparison, StatsError> {
    if candidate.len() != baseline.len() {
        return Err(StatsError::LengthMismatch {
            candidate: candidate.len(),
            baseline: baseline.len(),
        });
    }
    check_finite(candidate)?;
    check_finite(baseline)?;
    // Same operand order as scipy (x - y), so ties and zeros are the same floats.
    let diffs: Vec<f64> = candidate.iter().zip(baseline).map(|(c, b)| c - b).collect();
    Ok(PairedComparison {
        n_pairs: diffs.len(),
        mean_diff: mean(&diffs),
        diff_ci: summarize(&diffs)?.ci,
        d_z: cohens_d_z(&diffs),
        t_test: paired_t_test(&diffs),
        wilcoxon: wilcoxon_signed_rank(&diffs),
        wins: diffs.iter().filter(|&&d| d > 0.0).count(),
        ties: diffs.iter().filter(|&&d| d == 0.0).count(),
        losses: diffs.iter().filter(|&&d| d < 0.0).count(),
    })
}

/// Pairs runs by key (seed / fold) and compares the shared keys, in key order.
pub fn compare_by_key(
    candidate: &BTreeMap<String, f64>,
    baseline: &BTreeMap<String, f64>,
) -> Result<KeyedComparison, StatsError> {
    let mut cand = Vec::new();
    let mut base = Vec::new();
    let mut unpaired_keys = Vec::new();
    for (key, &value) in candidate {
        match baseline.get(key) {
            Some(&b) => {
                cand.push(value);
                base.push(b);
            }
            None => unpaired_keys.push(key.clone()),
        }
    }
    unpaired_keys.extend(
        baseline
            .keys()
            .filter(|k| !candidate.contains_key(*k))
            .cloned(),
    );
    let comparison = if cand.is_empty() {
        None
    } else {
        Some(compare_paired(&cand, &base)?)
    };
    Ok(KeyedComparison {
        comparison,
        unpaired_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_key_and_reports_unpaired() {
        let cand = BTreeMap::from([
            ("s1".to_string(), 0.9),
            ("s2".to_string(), 0.8),
            ("s4".to_string(), 0.7),
        ]);
        let base = BTreeMap::from([
            ("s1".to_string(), 0.85),
            ("s2".to_string(), 0.8),
            ("s3".to_string(), 0.1),
        ]);
        let k = compare_by_key(&cand, &base).unwrap();
        assert_eq!(k.unpaired_keys, vec!["s4".to_string(), "s3".to_string()]);
        let c = k.comparison.unwrap();
        assert_eq!((c.n_pairs, c.wins, c.ties, c.losses), (2, 1, 1, 0));
        assert!((c.mean_diff - 0.025).abs() < 1e-12);
    }

    #[test]
    fn mismatch_and_no_overlap() {
        assert!(matches!(
            compare_paired(&[1.0], &[1.0, 2.0]),
            Err(StatsError::LengthMismatch { .. })
        ));
        let a = BTreeMap::from([("a".to_string(), 1.0)]);
        let b = BTreeMap::from([("b".to_string(), 1.0)]);
        assert_eq!(compare_by_key(&a, &b).unwrap().comparison, None);
        let one = compare_paired(&[0.5], &[0.4]).unwrap();
        assert_eq!(one.t_test, None);
        assert_eq!(one.wilcoxon.unwrap().p_value, 1.0);
    }
}
