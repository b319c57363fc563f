//! Supervised contrastive loss (Khosla et al., 2020) as PML's `SupConLoss` (cosine similarity,
//! all pairs of the batch, AvgNonZero over anchors).

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, label_masks, masked_logsumexp, zero_loss, TINY};
use crate::proxy::TupleLossConfig;
use crate::reduce;
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::positive;

/// Hyperparameters (`kind = "sup-con"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupConLoss {
    /// Default 0.1 (PML).
    pub temperature: f64,
}

impl Default for SupConLoss {
    fn default() -> Self {
        Self { temperature: 0.1 }
    }
}

builders!(SupConLoss {
    with_temperature => temperature: f64,
});

impl TupleLossConfig for SupConLoss {
    fn validate(&self) -> Result<(), LossError> {
        positive("temperature", self.temperature)
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

impl SupConLoss {
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let pairs = all_pairs(&host_ints(&labels));
        // PML's GenericPairLoss returns 0 unless some index list has more than one entry, and
        // SupCon needs at least one positive and one negative pair.
        if pairs.a1.len().max(pairs.a2.len()) <= 1 || pairs.a1.is_empty() || pairs.a2.is_empty() {
            return Ok(zero_loss(&embeddings));
        }
        let n = embeddings.dims()[0];
        let (pos, neg) = label_masks(&labels);
        let mat = Distance::Cosine
            .self_matrix(embeddings.clone())
            .div_scalar(self.temperature);
        let mat = mat.clone() - mat.detach().max_dim(1);
        let denominator = masked_logsumexp(mat.clone(), pos.clone().bool_or(neg), false, 1);
        let log_prob = mat - denominator;
        let pos_f = pos.float();
        let mean_log_prob_pos =
            (pos_f.clone() * log_prob).sum_dim(1) / pos_f.sum_dim(1).add_scalar(TINY);
        Ok(reduce::avg_non_zero(
            mean_log_prob_pos.neg().reshape([n]),
            &embeddings,
        ))
    }
}
