//! What ArcFace and CosFace share (PML's `LargeMarginSoftmaxLoss` base): class weights `[D, C]`
//! initialised N(0, 1), cosine to each class, a margin applied to the true class's cosine,
//! scaled cross-entropy.

use burn::tensor::{backend::Backend, Int, Tensor};

use super::{cross_entropy_rows, one_hot};
use crate::distance::Distance;

/// `cos(x_i, w_c)`, `[N, C]`.
pub(crate) fn cosine<B: Backend>(embeddings: Tensor<B, 2>, weights: Tensor<B, 2>) -> Tensor<B, 2> {
    Distance::Cosine.matrix(embeddings, weights.transpose())
}

/// Mean cross-entropy of `scale * (cos + onehot * (modified(target) - target))`, where
/// `target` is each row's cosine to its own class `[N, 1]`.
pub(crate) fn margin_cross_entropy<B: Backend>(
    cos: Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
    scale: f64,
    modify: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Tensor<B, 1> {
    let c = cos.dims()[1];
    let mask = one_hot(labels, c);
    let target = (cos.clone() * mask.clone()).sum_dim(1);
    let diff = modify(target.clone()) - target;
    let logits = (cos + mask * diff).mul_scalar(scale);
    cross_entropy_rows(logits, labels).mean()
}
