//! PML's reducers: how per-element / per-pair / per-triplet losses become one scalar.

use burn::tensor::{backend::Backend, Tensor};

use crate::numerics::{host_floats, zero_loss};

/// `MeanReducer`: the mean of all losses (zero loss when there are none).
pub fn mean<B: Backend>(losses: Tensor<B, 1>, embeddings: &Tensor<B, 2>) -> Tensor<B, 1> {
    if losses.dims()[0] == 0 {
        return zero_loss(embeddings);
    }
    losses.mean()
}

/// `AvgNonZeroReducer`: the mean over the losses that are > 0; zero loss when none is.
pub fn avg_non_zero<B: Backend>(losses: Tensor<B, 1>, embeddings: &Tensor<B, 2>) -> Tensor<B, 1> {
    if losses.dims()[0] == 0 {
        return zero_loss(embeddings);
    }
    let positive = losses.clone().detach().greater_elem(0.0).float();
    let count: f32 = host_floats(&positive.clone().sum())[0];
    if count < 1.0 {
        return zero_loss(embeddings);
    }
    (losses * positive).sum().div_scalar(count)
}

/// `AvgNonZeroReducer` over a loss matrix whose entries are weighted by how often each pair
/// was selected (`counts`, 0 = not selected).
pub fn avg_non_zero_counted<B: Backend>(
    losses: Tensor<B, 2>,
    counts: Tensor<B, 2>,
    embeddings: &Tensor<B, 2>,
) -> Tensor<B, 1> {
    let weight = losses.clone().detach().greater_elem(0.0).float() * counts;
    let total: f32 = host_floats(&weight.clone().sum())[0];
    if total < 0.5 {
        return zero_loss(embeddings);
    }
    (losses * weight).sum().div_scalar(total)
}

/// Mean over the selected entries of a loss matrix, weighted by selection counts.
pub fn mean_counted<B: Backend>(
    losses: Tensor<B, 2>,
    counts: Tensor<B, 2>,
    embeddings: &Tensor<B, 2>,
) -> Tensor<B, 1> {
    let total: f32 = host_floats(&counts.clone().sum())[0];
    if total < 0.5 {
        return zero_loss(embeddings);
    }
    (losses * counts).sum().div_scalar(total)
}

/// `DivisorReducer`: the sum divided by a given divisor; zero loss when the divisor is 0.
pub fn divisor<B: Backend>(
    losses: Tensor<B, 1>,
    divisor: usize,
    embeddings: &Tensor<B, 2>,
) -> Tensor<B, 1> {
    if divisor == 0 {
        return zero_loss(embeddings);
    }
    losses.sum().div_scalar(divisor as f64)
}
