//! PML's `TripletMarginMiner`: triplets whose margin `d(a,n) - d(a,p)` is at most `margin`
//! ("all"), and of those the ones with the negative closer than the positive ("hard") or not
//! ("semihard"); "easy" takes the triplets past the margin.

use crate::distance::Distance;
use crate::error::LossError;
use crate::spec::TripletType;
use crate::tuples::{all_triplets_checked, Triplets};

#[derive(Debug, Clone, PartialEq)]
pub struct TripletMarginMiner {
    pub margin: f64,
    pub triplets: TripletType,
    /// PML default: `LpDistance()` on normalised embeddings.
    pub distance: Distance,
}

impl TripletMarginMiner {
    pub fn mine(&self, mat: &[f32], n: usize, labels: &[i64]) -> Result<Triplets, LossError> {
        let all = all_triplets_checked(labels, "triplet-margin miner")?;
        let margin = self.margin as f32;
        let mut out = Triplets::default();
        for i in 0..all.len() {
            let (a, p, ng) = (all.a[i] as usize, all.p[i] as usize, all.n[i] as usize);
            let ap = mat[a * n + p];
            let an = mat[a * n + ng];
            let m = if self.distance.is_inverted() {
                ap - an
            } else {
                an - ap
            };
            let keep = match self.triplets {
                TripletType::Easy => m > margin,
                TripletType::All => m <= margin,
                TripletType::Hard => m <= margin && m <= 0.0,
                TripletType::Semihard => m <= margin && m > 0.0,
            };
            if keep {
                out.a.push(all.a[i]);
                out.p.push(all.p[i]);
                out.n.push(all.n[i]);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_triplets_by_margin() {
        // labels [0,0,1]: triplets (0,1,2) and (1,0,2).
        let n = 3;
        let mut mat = vec![0.0f32; 9];
        mat[1] = 0.5; // d(0,1)
        mat[3] = 0.5; // d(1,0)
        mat[2] = 0.6; // d(0,2): margin 0.1
        mat[5] = 0.3; // d(1,2): margin -0.2
        let mine = |t| {
            TripletMarginMiner {
                margin: 0.2,
                triplets: t,
                distance: Distance::PML_DEFAULT,
            }
            .mine(&mat, n, &[0, 0, 1])
            .unwrap()
        };
        assert_eq!(mine(TripletType::All).a, vec![0, 1]);
        assert_eq!(mine(TripletType::Semihard).a, vec![0]);
        assert_eq!(mine(TripletType::Hard).a, vec![1]);
        assert!(mine(TripletType::Easy).is_empty());
    }
}
