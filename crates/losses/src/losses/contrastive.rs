//! Contrastive loss (Hadsell et al., 2006) as PML's `ContrastiveLoss`: `relu(d_ap - m_pos)` for
//! positive pairs and `relu(m_neg - d_an)` for negative pairs, each averaged over its non-zero
//! entries (AvgNonZero), summed.

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, pick, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::reduce;
use crate::spec::{DistanceSpec, MinerSpec};
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::{finite, validate_miner};

/// Hyperparameters (`kind = "contrastive"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContrastiveLoss {
    /// Default 0 (PML).
    pub pos_margin: f64,
    /// Default 1 (PML).
    pub neg_margin: f64,
    /// Default (`None`) PML's `LpDistance()` (normalised Euclidean).
    pub distance: Option<DistanceSpec>,
    /// Mines the tuples the loss takes; default none (all of the batch's).
    pub miner: Option<MinerSpec>,
}

impl Default for ContrastiveLoss {
    fn default() -> Self {
        Self {
            pos_margin: 0.0,
            neg_margin: 1.0,
            distance: None,
            miner: None,
        }
    }
}

builders!(ContrastiveLoss {
    with_pos_margin => pos_margin: f64,
    with_neg_margin => neg_margin: f64,
    with_distance => distance: Option<DistanceSpec>,
    with_miner => miner: Option<MinerSpec>,
});

impl TupleLossConfig for ContrastiveLoss {
    fn validate(&self) -> Result<(), LossError> {
        finite("pos_margin", self.pos_margin)?;
        finite("neg_margin", self.neg_margin)?;
        validate_miner(self.miner.as_ref())
    }

    fn miner(&self) -> Option<&MinerSpec> {
        self.miner.as_ref()
    }

    fn forward_mined<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        self.forward(embeddings, labels, tuple)
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
        let metric = self.distance.map_or(Distance::PML_DEFAULT, Distance::from);
        let mat = metric.self_matrix(embeddings.clone());
        let pos_loss = if pairs.a1.is_empty() {
            zero_loss(&embeddings)
        } else {
            let d = pick(mat.clone(), &pairs.a1, &pairs.p);
            reduce::avg_non_zero(
                metric.margin_tc(d, self.pos_margin).clamp_min(0.0),
                &embeddings,
            )
        };
        let neg_loss = if pairs.a2.is_empty() {
            zero_loss(&embeddings)
        } else {
            let d = pick(mat, &pairs.a2, &pairs.n);
            reduce::avg_non_zero(
                metric.margin_ct(self.neg_margin, d).clamp_min(0.0),
                &embeddings,
            )
        };
        Ok(pos_loss + neg_loss)
    }
}
