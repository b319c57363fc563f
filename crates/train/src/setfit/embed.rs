//! The body as a sentence encoder, as SetFit's sentence-transformers model is: the encoder's
//! token states, mean-pooled over non-padding tokens, then (optionally) L2-normalised like
//! all-MiniLM-L6-v2's `Normalize` module. The linear probe ([`crate::probe`]) may pool the
//! first token instead.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_data::{BatchPlan, Example, TextTokenizer};
use dmlft_model::{pool, Encoder};
use dmlft_pooling::Pooling;

use crate::error::TrainError;
use crate::tensors::BatchTensors;

/// `x / max(|x|, 1e-12)` per row (`torch.nn.functional.normalize`).
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}

/// Sentence embeddings `[batch, hidden]` of `batch` (in training mode on an autodiff backend:
/// dropout is active).
pub fn sentence_embeddings<B: Backend>(
    encoder: &Encoder<B>,
    batch: &[Example],
    tokenizer: &TextTokenizer,
    max_length: usize,
    normalize: bool,
    device: &B::Device,
) -> Result<Tensor<B, 2>, TrainError> {
    pooled_embeddings(
        encoder,
        batch,
        tokenizer,
        max_length,
        Pooling::Mean,
        normalize,
        device,
    )
}

/// [`sentence_embeddings`] with a choice of pooling.
fn pooled_embeddings<B: Backend>(
    encoder: &Encoder<B>,
    batch: &[Example],
    tokenizer: &TextTokenizer,
    max_length: usize,
    pooling: Pooling,
    normalize: bool,
    device: &B::Device,
) -> Result<Tensor<B, 2>, TrainError> {
    let encoded = tokenizer.encode(batch, max_length)?;
    let x = BatchTensors::<B>::new(&encoded, device);
    let states = encoder.forward(x.input_ids, x.attention_mask.clone(), x.token_type_ids);
    let pooled = pool(pooling, &states, &x.attention_mask);
    Ok(if normalize {
        l2_normalize(pooled)
    } else {
        pooled
    })
}

/// Embeddings of `examples` in their order, `[n][hidden]`, batched by length. Call it with a
/// backend without autodiff (SetFit's `encode` runs the body in eval mode).
pub fn embed_all<B: Backend>(
    encoder: &Encoder<B>,
    examples: &[Example],
    tokenizer: &TextTokenizer,
    max_length: usize,
    normalize: bool,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<Vec<f32>>, TrainError> {
    embed_all_pooled(
        encoder,
        examples,
        tokenizer,
        max_length,
        Pooling::Mean,
        normalize,
        batch_size,
        device,
    )
}

/// [`embed_all`] with a choice of pooling.
#[allow(clippy::too_many_arguments)]
pub fn embed_all_pooled<B: Backend>(
    encoder: &Encoder<B>,
    examples: &[Example],
    tokenizer: &TextTokenizer,
    max_length: usize,
    pooling: Pooling,
    normalize: bool,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let lengths = tokenizer.token_lengths(examples)?;
    let plan = BatchPlan::length_sorted(&lengths, batch_size);
    let mut rows = Vec::with_capacity(examples.len());
    for batch in &plan.batches {
        let items: Vec<Example> = batch.iter().map(|&i| examples[i].clone()).collect();
        let emb = pooled_embeddings(
            encoder, &items, tokenizer, max_length, pooling, normalize, device,
        )?;
        let [_, dim] = emb.dims();
        let flat: Vec<f32> = emb.into_data().iter::<f32>().collect();
        rows.extend(flat.chunks(dim.max(1)).map(<[f32]>::to_vec));
    }
    Ok(plan.restore(rows))
}
