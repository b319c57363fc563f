//! NT-Xent (normalised temperature-scaled cross-entropy, SimCLR) as PML's `NTXentLoss`: for
//! each positive pair, `-log(e^{s_ap} / (e^{s_ap} + sum_n e^{s_an}))` with s = cos / temperature,
//! mean over positive pairs.

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, label_masks, zero_loss, NEG_INF, TINY};
use crate::proxy::TupleLossConfig;
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::positive;

/// Hyperparameters (`kind = "nt-xent"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NtXentLoss {
    /// Default 0.07 (PML).
    pub temperature: f64,
}

impl Default for NtXentLoss {
    fn default() -> Self {
        Self { temperature: 0.07 }
    }
}

builders!(NtXentLoss {
    with_temperature => temperature: f64,
});

impl TupleLossConfig for NtXentLoss {
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

impl NtXentLoss {
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
        let num_pos = pairs.a1.len();
        let (pos, neg) = label_masks(&labels);
        let v = Distance::Cosine
            .self_matrix(embeddings)
            .div_scalar(self.temperature);
        // The negatives of an anchor are shared by all its positive pairs: their sum of
        // exponentials is computed once per row around the row's largest negative, then moved
        // to each pair's own shift max(s_ap, max_n s_an), as PML shifts.
        let neg_filled = v.clone().mask_fill(neg.clone().bool_not(), NEG_INF);
        let neg_max = neg_filled.clone().detach().max_dim(1);
        let neg_sum = (neg_filled - neg_max.clone())
            .exp()
            .mask_fill(neg.bool_not(), 0.0)
            .sum_dim(1);
        let shift = v
            .clone()
            .detach()
            .max_pair(neg_max.clone().expand(v.dims()));
        let numerator = (v - shift.clone()).exp();
        let denominator = (neg_max - shift).exp() * neg_sum + numerator.clone();
        let losses = (numerator / denominator).add_scalar(TINY).log().neg();
        Ok((losses * pos.float()).sum().div_scalar(num_pos as f64))
    }
}
