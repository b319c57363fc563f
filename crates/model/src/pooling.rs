//! Sentence embeddings from token states.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// The first token's state (`<s>` / `[CLS]`): `[batch, seq, hidden]` -> `[batch, hidden]`.
pub fn first_token<B: Backend>(token_states: &Tensor<B, 3>) -> Tensor<B, 2> {
    token_states.clone().narrow(1, 0, 1).squeeze_dim(1)
}

/// Mean of the states of non-padding tokens (sentence-transformers' mean pooling):
/// `[batch, seq, hidden]`, `[batch, seq]` 1/0 mask -> `[batch, hidden]`. A row with no token
/// gives zeros rather than NaN.
pub fn mean_pool<B: Backend>(
    token_states: &Tensor<B, 3>,
    attention_mask: &Tensor<B, 2, Int>,
) -> Tensor<B, 2> {
    let mask = attention_mask.clone().float().unsqueeze_dim::<3>(2);
    let summed = (token_states.clone() * mask.clone())
        .sum_dim(1)
        .squeeze_dim::<2>(1);
    let counts = mask.sum_dim(1).squeeze_dim::<2>(1).clamp_min(1e-9);
    summed / counts
}
