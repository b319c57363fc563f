//! The classifier's forward pass with a choice of what the head reads (first token or mean of
//! the tokens; `ModelSpec::head_pooling`). The same sentence vector feeds the proxy inference
//! modes, so head and proxies always judge the same representation.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use dmlft_model::{pool, SequenceClassifier};
use dmlft_pooling::Pooling;

use crate::tensors::BatchTensors;

pub struct Forward<B: Backend> {
    /// `[batch, seq, hidden]`, for the DML losses.
    pub token_states: Tensor<B, 3>,
    pub attention_mask: Tensor<B, 2, Int>,
    /// `[batch, hidden]`: what the head read.
    pub sentence: Tensor<B, 2>,
    /// `[batch, classes]`.
    pub logits: Tensor<B, 2>,
}

pub fn classify<B: Backend>(
    model: &SequenceClassifier<B>,
    x: BatchTensors<B>,
    pooling: Pooling,
) -> Forward<B> {
    let token_states =
        model
            .encoder
            .forward(x.input_ids, x.attention_mask.clone(), x.token_type_ids);
    let sentence = pool(pooling, &token_states, &x.attention_mask);
    let logits = model.head.forward(sentence.clone());
    Forward {
        token_states,
        attention_mask: x.attention_mask,
        sentence,
        logits,
    }
}
