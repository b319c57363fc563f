//! Lifted structure loss (Oh Song et al., CVPR 2016) as PML's `LiftedStructureLoss`: for each
//! positive pair (a, p), `relu(log sum_{n of a or p} e^{m_neg - d} + d_ap - m_pos)^2 / 2`,
//! mean over positive pairs.

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, label_masks, masked_logsumexp, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::finite;

/// Hyperparameters (`kind = "lifted-structure"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiftedStructureLoss {
    /// Default 0 (PML).
    pub pos_margin: f64,
    /// Default 1 (PML).
    pub neg_margin: f64,
}

/// PML's default `LpDistance()` (normalised Euclidean).
const DISTANCE: Distance = Distance::PML_DEFAULT;

impl Default for LiftedStructureLoss {
    fn default() -> Self {
        Self {
            pos_margin: 0.0,
            neg_margin: 1.0,
        }
    }
}

builders!(LiftedStructureLoss {
    with_pos_margin => pos_margin: f64,
    with_neg_margin => neg_margin: f64,
});

impl TupleLossConfig for LiftedStructureLoss {
    fn validate(&self) -> Result<(), LossError> {
        finite("pos_margin", self.pos_margin)?;
        finite("neg_margin", self.neg_margin)
    }

    fn forward_mined<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        _tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        self.forward(embeddings, labels)
    }
}

impl LiftedStructureLoss {
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let pairs = all_pairs(&host_ints(&labels));
        if pairs.a1.len().max(pairs.a2.len()) <= 1 || pairs.a1.is_empty() || pairs.a2.is_empty() {
            return Ok(zero_loss(&embeddings));
        }
        let n = embeddings.dims()[0];
        let (pos, neg) = label_masks(&labels);
        let mat = DISTANCE.self_matrix(embeddings);
        let remaining_neg = DISTANCE.margin_ct(self.neg_margin, mat.clone());
        // With all pairs and at least two labels every row has negatives; the negatives of the
        // pair (a, p) are those of row a and those of row p, so their logsumexp is the
        // log-add-exp of the two row logsumexps.
        let row_lse = masked_logsumexp(remaining_neg, neg, false, 1);
        let la = row_lse.clone().expand([n, n]);
        let lp = row_lse.transpose().expand([n, n]);
        let top = la.clone().detach().max_pair(lp.clone().detach());
        let union = top.clone() + ((la - top.clone()).exp() + (lp - top).exp()).log();
        let per_pair = (union + DISTANCE.margin_tc(mat, self.pos_margin))
            .clamp_min(0.0)
            .square()
            .div_scalar(2.0);
        Ok((per_pair * pos.float())
            .sum()
            .div_scalar(pairs.a1.len() as f64))
    }
}
