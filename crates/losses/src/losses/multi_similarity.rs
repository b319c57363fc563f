//! Multi-similarity loss (Wang et al., CVPR 2019) as PML's `MultiSimilarityLoss`: per anchor,
//! `log(1 + sum_p e^{-alpha (s_ap - base)}) / alpha + log(1 + sum_n e^{beta (s_an - base)}) / beta`,
//! mean over anchors.

use burn::tensor::{backend::Backend, Bool, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, label_masks, masked_logsumexp, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::reduce;
use crate::spec::MinerSpec;
use crate::tuples::{all_pairs, IndexTuple, Pairs};
use crate::validate::{finite, positive, validate_miner};

/// Hyperparameters (`kind = "multi-similarity"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiSimilarityLoss {
    /// Default 2 (PML).
    pub alpha: f64,
    /// Default 50 (PML).
    pub beta: f64,
    /// Default 0.5 (PML).
    pub base: f64,
    /// Mines the pairs the loss takes; default none (all pairs of the batch).
    pub miner: Option<MinerSpec>,
}

/// PML's default for this loss: cosine similarity.
const DISTANCE: Distance = Distance::Cosine;

impl Default for MultiSimilarityLoss {
    fn default() -> Self {
        Self {
            alpha: 2.0,
            beta: 50.0,
            base: 0.5,
            miner: None,
        }
    }
}

fn pair_mask<B: Backend>(
    rows: &[i64],
    cols: &[i64],
    n: usize,
    device: &B::Device,
) -> Tensor<B, 2, Bool> {
    let mut mask = vec![false; n * n];
    for (r, c) in rows.iter().zip(cols) {
        mask[*r as usize * n + *c as usize] = true;
    }
    Tensor::from_data(TensorData::new(mask, [n, n]), device)
}

builders!(MultiSimilarityLoss {
    with_alpha => alpha: f64,
    with_beta => beta: f64,
    with_base => base: f64,
    with_miner => miner: Option<MinerSpec>,
});

impl TupleLossConfig for MultiSimilarityLoss {
    fn validate(&self) -> Result<(), LossError> {
        positive("alpha", self.alpha)?;
        positive("beta", self.beta)?;
        finite("base", self.base)?;
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

impl MultiSimilarityLoss {
    /// All pairs of the batch, or the pairs of a miner's `tuple` (a pair selected twice counts once).
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let n = embeddings.dims()[0];
        let device = embeddings.device();
        let (pairs, masks): (Pairs, _) = match tuple {
            Some(t) => {
                let p = t.to_pairs();
                let masks = (
                    pair_mask::<B>(&p.a1, &p.p, n, &device),
                    pair_mask::<B>(&p.a2, &p.n, n, &device),
                );
                (p, masks)
            }
            None => (all_pairs(&host_ints(&labels)), label_masks(&labels)),
        };
        if pairs.a1.len().max(pairs.a2.len()) <= 1 {
            return Ok(zero_loss(&embeddings));
        }
        let (pos, neg) = masks;
        let mat = DISTANCE.self_matrix(embeddings.clone());
        let pos_exp = DISTANCE
            .margin_tc(mat.clone(), self.base)
            .mul_scalar(self.alpha);
        let neg_exp = DISTANCE.margin_ct(self.base, mat).mul_scalar(self.beta);
        let pos_loss = masked_logsumexp(pos_exp, pos, true, 1).div_scalar(self.alpha);
        let neg_loss = masked_logsumexp(neg_exp, neg, true, 1).div_scalar(self.beta);
        Ok(reduce::mean(
            (pos_loss + neg_loss).reshape([n]),
            &embeddings,
        ))
    }
}
