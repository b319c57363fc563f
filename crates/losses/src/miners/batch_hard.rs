//! PML's `BatchHardMiner`: for each anchor, its farthest positive and closest negative.

use crate::distance::Distance;
use crate::tuples::Triplets;

#[derive(Debug, Clone, PartialEq)]
pub struct BatchHardMiner {
    /// PML default: `LpDistance()` on normalised embeddings.
    pub distance: Distance,
}

impl Default for BatchHardMiner {
    fn default() -> Self {
        Self {
            distance: Distance::PML_DEFAULT,
        }
    }
}

impl BatchHardMiner {
    /// One triplet per anchor that has both a positive and a negative.
    pub fn mine(&self, mat: &[f32], n: usize, labels: &[i64]) -> Triplets {
        let inverted = self.distance.is_inverted();
        let mut out = Triplets::default();
        for a in 0..n {
            let row = &mat[a * n..(a + 1) * n];
            // Hardest positive: farthest (largest distance, smallest similarity).
            let pos = pick_extreme(row, |j| j != a && labels[j] == labels[a], !inverted);
            // Hardest negative: closest.
            let neg = pick_extreme(row, |j| labels[j] != labels[a], inverted);
            if let (Some(p), Some(ng)) = (pos, neg) {
                out.a.push(a as i64);
                out.p.push(p as i64);
                out.n.push(ng as i64);
            }
        }
        out
    }
}

/// Index of the largest (`want_max`) or smallest value among the columns that `keep`; the first
/// one on ties, as torch.max / torch.min on CPU.
fn pick_extreme(row: &[f32], keep: impl Fn(usize) -> bool, want_max: bool) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (j, &v) in row.iter().enumerate() {
        if !keep(j) {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) => (want_max && v > b) || (!want_max && v < b),
        };
        if better {
            best = Some((j, v));
        }
    }
    best.map(|(j, _)| j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_farthest_positive_and_closest_negative() {
        // Distances from anchor 0: to 1 (pos) 0.5, to 2 (pos) 0.9, to 3 (neg) 0.7, to 4 (neg) 0.2.
        let n = 5;
        let mut mat = vec![1.0f32; n * n];
        mat[1] = 0.5;
        mat[2] = 0.9;
        mat[3] = 0.7;
        mat[4] = 0.2;
        let t = BatchHardMiner::default().mine(&mat, n, &[0, 0, 0, 1, 1]);
        assert_eq!((t.a[0], t.p[0], t.n[0]), (0, 2, 4));
    }

    #[test]
    fn no_triplets_without_negatives() {
        let mat = vec![0.3f32; 9];
        assert!(BatchHardMiner::default()
            .mine(&mat, 3, &[1, 1, 1])
            .is_empty());
    }
}
