//! N-pairs loss (Sohn, NeurIPS 2016) as PML's `NPairsLoss`: one (anchor, positive) pair per
//! label present at least twice, cross-entropy of each anchor against all positives with the
//! dot product of normalised embeddings, mean.

use std::collections::BTreeMap;

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{check_rows, cross_entropy_rows};
use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_ints, int_tensor, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::tuples::{all_pairs, IndexTuple};

/// Hyperparameters (`kind = "n-pairs"`): none.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NPairsLoss {}

impl TupleLossConfig for NPairsLoss {
    fn validate(&self) -> Result<(), LossError> {
        Ok(())
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

impl NPairsLoss {
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let host = host_ints(&labels);
        let pairs = all_pairs(&host);
        // First positive pair (in row-major order) of each label, labels in ascending order
        // (`np.unique(..., return_index=True)`).
        let mut first: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (a, p) in pairs.a1.iter().zip(&pairs.p) {
            first.entry(host[*a as usize]).or_insert((*a, *p));
        }
        if first.is_empty() {
            return Ok(zero_loss(&embeddings));
        }
        let device = embeddings.device();
        let anchors: Vec<i64> = first.values().map(|(a, _)| *a).collect();
        let positives: Vec<i64> = first.values().map(|(_, p)| *p).collect();
        let k = anchors.len();
        let a = embeddings
            .clone()
            .select(0, int_tensor::<B>(&anchors, &device));
        let p = embeddings.select(0, int_tensor::<B>(&positives, &device));
        let sim = Distance::DotProduct { normalize: true }.matrix(a, p);
        let targets = Tensor::<B, 1, Int>::arange(0..k as i64, &device);
        Ok(cross_entropy_rows(sim, &targets).mean())
    }
}
