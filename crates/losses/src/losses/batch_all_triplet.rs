//! sentence-transformers' `BatchAllTripletLoss`: Euclidean distances of the UNNORMALISED
//! embeddings, `relu(d_ap - d_an + margin)` over every valid triplet, summed and divided by the
//! number of triplets with positive loss (> 1e-16).

use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::check_rows;
use crate::error::LossError;
use crate::numerics::{host_floats, host_ints, int_tensor, pick, zero_loss};
use crate::proxy::TupleLossConfig;
use crate::tuples::{all_pairs, IndexTuple};
use crate::validate::finite;

/// Hyperparameters (`kind = "batch-all-triplet"`): the loss itself, as it has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchAllTripletLoss {
    /// Default 5 (sentence-transformers).
    pub margin: f64,
}

impl Default for BatchAllTripletLoss {
    fn default() -> Self {
        Self { margin: 5.0 }
    }
}

/// sentence-transformers' `euclidean_distance`: `|a|^2 - 2ab + |b|^2` from one Gram matrix,
/// clamped at 0, with value and gradient 0 where the squared distance is exactly 0.
fn euclidean<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let n = x.dims()[0];
    let dot = x.clone().matmul(x.transpose());
    let eye = Tensor::<B, 2>::eye(n, &dot.device());
    let square_norm = (dot.clone() * eye).sum_dim(1);
    let sq = (square_norm.clone().transpose() - dot.mul_scalar(2.0) + square_norm).clamp_min(0.0);
    let zero = sq.clone().detach().equal_elem(0.0).float();
    (sq + zero.clone().mul_scalar(1e-16)).sqrt() * (zero.neg() + 1.0)
}

builders!(BatchAllTripletLoss {
    with_margin => margin: f64,
});

impl TupleLossConfig for BatchAllTripletLoss {
    fn validate(&self) -> Result<(), LossError> {
        finite("margin", self.margin)
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

impl BatchAllTripletLoss {
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let host = host_ints(&labels);
        let pairs = all_pairs(&host);
        if pairs.a1.is_empty() {
            return Ok(zero_loss(&embeddings));
        }
        let n = embeddings.dims()[0];
        // sentence-transformers compares every anchor-positive pair with every row: P x N values.
        let cells = pairs.a1.len() as u64 * n as u64;
        if cells > crate::tuples::MAX_TRIPLETS {
            return Err(LossError::Unsupported(format!(
                "batch-all-triplet: {n} rows give {cells} anchor-positive x row values (more than {}); use fewer rows (e.g. embeddings = \"first-token\")",
                crate::tuples::MAX_TRIPLETS
            )));
        }
        let device = embeddings.device();
        let dist = euclidean(embeddings);
        let d_ap = pick(dist.clone(), &pairs.a1, &pairs.p).reshape([pairs.a1.len(), 1]);
        let d_an = dist.select(0, int_tensor::<B>(&pairs.a1, &device));
        let host = &host;
        let negatives: Vec<f32> = pairs
            .a1
            .iter()
            .flat_map(|&a| {
                let la = host[a as usize];
                host.iter().map(move |&l| if l != la { 1.0 } else { 0.0 })
            })
            .collect();
        let negatives = Tensor::<B, 2>::from_data(
            burn::tensor::TensorData::new(negatives, [pairs.a1.len(), n]),
            &device,
        );
        let losses = ((d_ap - d_an).add_scalar(self.margin) * negatives).clamp_min(0.0);
        let count = host_floats(&losses.clone().detach().greater_elem(1e-16).float().sum())[0];
        Ok(losses.sum().div_scalar(count as f64 + 1e-16))
    }
}
