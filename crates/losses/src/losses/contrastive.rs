//! Contrastive loss (Hadsell et al., 2006) as PML's `ContrastiveLoss`: `relu(d_ap - m_pos)` for
//! positive pairs and `relu(m_neg - d_an)` for negative pairs, each averaged over its non-zero
//! entries (AvgNonZero), summed.

use burn::tensor::{backend::Backend, Int, Tensor};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, pick, zero_loss};
use crate::reduce;
use crate::tuples::{all_pairs, IndexTuple};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveLoss {
    /// Default 0 (PML).
    pub pos_margin: f64,
    /// Default 1 (PML).
    pub neg_margin: f64,
    /// Default PML's `LpDistance()` (normalised Euclidean).
    pub distance: Distance,
}

impl Default for ContrastiveLoss {
    fn default() -> Self {
        Self {
            pos_margin: 0.0,
            neg_margin: 1.0,
            distance: Distance::PML_DEFAULT,
        }
    }
}

impl ContrastiveLoss {
    /// All pairs of the batch, or the pairs of a miner's `tuple` (triplets give their pairs).
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let pairs = match tuple {
            Some(t) => t.to_pairs(),
            None => all_pairs(&host_ints(&labels)),
        };
        if pairs.a1.len().max(pairs.a2.len()) <= 1 {
            return Ok(zero_loss(&embeddings));
        }
        let mat = self.distance.self_matrix(embeddings.clone());
        let pos_loss = if pairs.a1.is_empty() {
            zero_loss(&embeddings)
        } else {
            let d = pick(mat.clone(), &pairs.a1, &pairs.p);
            reduce::avg_non_zero(
                self.distance.margin_tc(d, self.pos_margin).clamp_min(0.0),
                &embeddings,
            )
        };
        let neg_loss = if pairs.a2.is_empty() {
            zero_loss(&embeddings)
        } else {
            let d = pick(mat, &pairs.a2, &pairs.n);
            reduce::avg_non_zero(
                self.distance.margin_ct(self.neg_margin, d).clamp_min(0.0),
                &embeddings,
            )
        };
        Ok(pos_loss + neg_loss)
    }
}
