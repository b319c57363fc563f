//! sentence-transformers' `CosineSimilarityLoss` (SetFit's default body loss): the mean over
//! the batch of `(cos(u_b, v_b) - label_b)^2` (`MSELoss` on `torch.cosine_similarity`).

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// `torch.cosine_similarity`'s eps: the product of the norms is clamped from below by it.
const EPS: f64 = 1e-8;

/// Cosine similarity of each row pair: `u`, `v` `[batch, dim]` -> `[batch]`.
pub fn cosine_similarity<B: Backend>(u: Tensor<B, 2>, v: Tensor<B, 2>) -> Tensor<B, 1> {
    let dot = (u.clone() * v.clone()).sum_dim(1);
    let norms = (u.square().sum_dim(1) * v.square().sum_dim(1))
        .sqrt()
        .clamp_min(EPS);
    (dot / norms).squeeze_dim(1)
}

/// The loss, `[1]`; `labels` `[batch]` are the pairs' targets (1 = same class, 0 = not).
pub fn cosine_similarity_loss<B: Backend>(
    u: Tensor<B, 2>,
    v: Tensor<B, 2>,
    labels: Tensor<B, 1>,
) -> Tensor<B, 1> {
    (cosine_similarity(u, v) - labels).square().mean()
}
