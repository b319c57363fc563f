//! Triplet margin loss as PML's `TripletMarginLoss`: `relu(d_ap - d_an + margin)` (or softplus
//! with `smooth_loss`) over all triplets of the batch or a miner's, AvgNonZero.

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, pick, softplus, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::reduce;
use crate::spec::{DistanceSpec, MinerSpec};
use crate::tuples::{all_triplets_checked, IndexTuple};
use crate::validate::{finite, validate_miner};

/// Hyperparameters (`kind = "triplet-margin"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TripletMarginLoss {
    /// Default 0.05 (PML).
    pub margin: f64,
    /// softplus instead of relu; default false.
    pub smooth_loss: bool,
    /// Default (`None`) PML's `LpDistance()` (normalised Euclidean).
    pub distance: Option<DistanceSpec>,
    /// Mines the tuples the loss takes; default none (all of the batch's).
    pub miner: Option<MinerSpec>,
}

impl Default for TripletMarginLoss {
    fn default() -> Self {
        Self {
            margin: 0.05,
            smooth_loss: false,
            distance: None,
            miner: None,
        }
    }
}

builders!(TripletMarginLoss {
    with_margin => margin: f64,
    with_smooth_loss => smooth_loss: bool,
    with_distance => distance: Option<DistanceSpec>,
    with_miner => miner: Option<MinerSpec>,
});

impl TupleLossConfig for TripletMarginLoss {
    fn validate(&self) -> Result<(), LossError> {
        finite("margin", self.margin)?;
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

impl TripletMarginLoss {
    /// All triplets of the batch (N^3 in the worst case: use a miner for large batches), or the
    /// triplets of a miner's `tuple` (pairs are combined where the anchors agree).
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let t = match tuple {
            Some(t) => t.to_triplets(),
            None => {
                all_triplets_checked(&host_ints(&labels), "triplet-margin loss without a miner")?
            }
        };
        if t.is_empty() {
            return Ok(zero_loss(&embeddings));
        }
        let metric = self.distance.map_or(Distance::PML_DEFAULT, Distance::from);
        let mat = metric.self_matrix(embeddings.clone());
        let ap = pick(mat.clone(), &t.a, &t.p);
        let an = pick(mat, &t.a, &t.n);
        let violation = metric.margin(ap, an).add_scalar(self.margin);
        let losses = if self.smooth_loss {
            softplus(violation)
        } else {
            violation.clamp_min(0.0)
        };
        Ok(reduce::avg_non_zero(losses, &embeddings))
    }
}
