//! PML's `MultiSimilarityMiner`: positives less similar than the hardest negative plus epsilon,
//! negatives more similar than the hardest positive minus epsilon.

use crate::distance::Distance;
use crate::tuples::Pairs;

#[derive(Debug, Clone, PartialEq)]
pub struct MultiSimilarityMiner {
    pub epsilon: f64,
    /// PML default: cosine similarity.
    pub distance: Distance,
}

impl MultiSimilarityMiner {
    pub fn mine(&self, mat: &[f32], n: usize, labels: &[i64]) -> Pairs {
        let eps = self.epsilon as f32;
        let inverted = self.distance.is_inverted();
        let has_pos = (0..n).any(|i| (0..n).any(|j| i != j && labels[i] == labels[j]));
        let has_neg = (0..n).any(|i| (0..n).any(|j| labels[i] != labels[j]));
        let mut out = Pairs::default();
        if !has_pos || !has_neg {
            return out;
        }
        for a in 0..n {
            let row = &mat[a * n..(a + 1) * n];
            let pos: Vec<usize> = (0..n)
                .filter(|&j| j != a && labels[j] == labels[a])
                .collect();
            let neg: Vec<usize> = (0..n).filter(|&j| labels[j] != labels[a]).collect();
            if pos.is_empty() || neg.is_empty() {
                continue;
            }
            let fold =
                |idx: &[usize], max: bool| {
                    idx.iter().map(|&j| row[j]).fold(
                        if max { f32::MIN } else { f32::MAX },
                        |acc, v| if max { acc.max(v) } else { acc.min(v) },
                    )
                };
            if inverted {
                // Similarities: hardest negative = most similar, hardest positive = least similar.
                let hardest_neg = fold(&neg, true);
                let hardest_pos = fold(&pos, false);
                push_sorted(
                    &mut out.a1,
                    &mut out.p,
                    a,
                    row,
                    pos.iter().copied().filter(|&j| row[j] - eps < hardest_neg),
                );
                push_sorted(
                    &mut out.a2,
                    &mut out.n,
                    a,
                    row,
                    neg.iter().copied().filter(|&j| row[j] + eps > hardest_pos),
                );
            } else {
                let hardest_neg = fold(&neg, false);
                let hardest_pos = fold(&pos, true);
                push_sorted(
                    &mut out.a1,
                    &mut out.p,
                    a,
                    row,
                    pos.iter().copied().filter(|&j| row[j] + eps > hardest_neg),
                );
                push_sorted(
                    &mut out.a2,
                    &mut out.n,
                    a,
                    row,
                    neg.iter().copied().filter(|&j| row[j] - eps < hardest_pos),
                );
            }
        }
        out
    }
}

/// Appends the chosen columns in ascending order of their value (PML sorts each row).
fn push_sorted(
    anchors: &mut Vec<i64>,
    others: &mut Vec<i64>,
    a: usize,
    row: &[f32],
    chosen: impl Iterator<Item = usize>,
) {
    let mut cols: Vec<usize> = chosen.collect();
    cols.sort_by(|&x, &y| row[x].total_cmp(&row[y]));
    for c in cols {
        anchors.push(a as i64);
        others.push(c as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_hard_pairs() {
        // Anchor 0: positives 1 (sim 0.9), 2 (sim 0.3); negative 3 (sim 0.5).
        let n = 4;
        let mut mat = vec![1.0f32; 16];
        for (j, v) in [(1, 0.9), (2, 0.3), (3, 0.5)] {
            mat[j] = v;
            mat[j * n] = v;
        }
        mat[n + 2] = 0.8;
        mat[2 * n + 1] = 0.8;
        mat[n + 3] = -0.9;
        mat[3 * n + 1] = -0.9;
        mat[2 * n + 3] = -0.9;
        mat[3 * n + 2] = -0.9;
        let pairs = MultiSimilarityMiner {
            epsilon: 0.1,
            distance: Distance::Cosine,
        }
        .mine(&mat, n, &[0, 0, 0, 1]);
        // Anchor 0: positive 2 (0.3 - 0.1 < 0.5) kept, 1 (0.9 - 0.1 >= 0.5) dropped;
        // negative 3 (0.5 + 0.1 > 0.3) kept.
        let for0: Vec<i64> = pairs
            .a1
            .iter()
            .zip(&pairs.p)
            .filter(|(a, _)| **a == 0)
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(for0, vec![2]);
        assert!(pairs
            .a2
            .iter()
            .zip(&pairs.n)
            .any(|(a, n)| *a == 0 && *n == 3));
    }
}
