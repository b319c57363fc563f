//! PML's reducers: how per-element / per-pair / per-triplet losses become one scalar.

use burn::tensor::{backend::Backend, Tensor};

use crate::numerics::{host_floats, zero_loss};

/// `MeanReducer`: the mean of all losses (zero loss when there are none).
pub(crate) fn mean<B: Backend>(losses: Tensor<B, 1>, embeddings: &Tensor<B, 2>) -> Tensor<B, 1> {
    if losses.dims()[0] == 0 {
        return zero_loss(embeddings);
    }
    losses.mean()
}

/// `AvgNonZeroReducer`: the mean over the losses that are > 0; zero loss when none is.
pub(crate) fn avg_non_zero<B: Backend>(
    losses: Tensor<B, 1>,
    embeddings: &Tensor<B, 2>,
) -> Tensor<B, 1> {
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

/// `DivisorReducer`: the sum divided by a given divisor; zero loss when the divisor is 0.
pub(crate) fn divisor<B: Backend>(
    losses: Tensor<B, 1>,
    divisor: usize,
    embeddings: &Tensor<B, 2>,
) -> Tensor<B, 1> {
    if divisor == 0 {
        return zero_loss(embeddings);
    }
    losses.sum().div_scalar(divisor as f64)
}
