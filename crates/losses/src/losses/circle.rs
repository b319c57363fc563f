//! Circle loss (Sun et al., CVPR 2020) as PML's `CircleLoss` (pairwise labels, cosine
//! similarity, AvgNonZero over anchors).

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, label_masks, masked_logsumexp, softplus, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::reduce;
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::{finite, positive};

/// Hyperparameters (`kind = "circle"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircleLoss {
    /// Relaxation factor; default 0.4 (PML).
    pub m: f64,
    /// Scale; default 80 (PML).
    pub gamma: f64,
}

impl Default for CircleLoss {
    fn default() -> Self {
        Self {
            m: 0.4,
            gamma: 80.0,
        }
    }
}

builders!(CircleLoss {
    with_m => m: f64,
    with_gamma => gamma: f64,
});

impl TupleLossConfig for CircleLoss {
    fn validate(&self) -> Result<(), LossError> {
        finite("m", self.m)?;
        positive("gamma", self.gamma)
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

impl CircleLoss {
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let pairs = all_pairs(&host_ints(&labels));
        if pairs.a1.len().max(pairs.a2.len()) <= 1 {
            return Ok(zero_loss(&embeddings));
        }
        let n = embeddings.dims()[0];
        let (pos, neg) = label_masks(&labels);
        let mat = Distance::Cosine.self_matrix(embeddings.clone());
        let detached = mat.clone().detach();
        // Positive pairs: -gamma * relu(1 + m - s) * (s - (1 - m)); negatives: gamma *
        // relu(s + m) * (s - m). The weights use the detached similarity, as the paper.
        let pos_logits = detached
            .clone()
            .neg()
            .add_scalar(1.0 + self.m)
            .clamp_min(0.0)
            * mat.clone().sub_scalar(1.0 - self.m)
            * (-self.gamma);
        let neg_logits =
            detached.add_scalar(self.m).clamp_min(0.0) * mat.sub_scalar(self.m) * self.gamma;
        let lse_pos = masked_logsumexp(pos_logits, pos.clone(), false, 1);
        let lse_neg = masked_logsumexp(neg_logits, neg.clone(), false, 1);
        let losses = softplus(lse_pos + lse_neg);
        let has_both = pos
            .int()
            .sum_dim(1)
            .greater_elem(0)
            .bool_and(neg.int().sum_dim(1).greater_elem(0));
        let losses = losses * has_both.float();
        Ok(reduce::avg_non_zero(losses.reshape([n]), &embeddings))
    }
}
