//! Attention probabilities: `dropout(softmax(scores / sqrt(d) + mask_bias))` over the keys.
//!
//! One pass per row of `[batch, heads, query, key]` scores forward and one backward; the state
//! is the probabilities alone (the dropout mask is re-derived from its counter-based stream).
//! burn runs a scalar division, an add, the softmax (itself several ops under autodiff) and a
//! dropout multiply, each with its own output and backward.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Flex;
use burn::nn::Dropout;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor, TensorMetadata};
use rayon::prelude::*;
use std::sync::Arc;

use super::route::{self, AdTensor, FlexTensor, Route};
use super::vector_math::{exp_nonpositive, flex, mul_in_place, rows_per_task, simd_fn, values};
use crate::dropout::{dropout, MaskStream};

/// `dropout(softmax(scores / divisor + mask_bias, 3))` for `scores [batch, heads, query, key]`
/// and `mask_bias [batch, 1, 1, key]` (0 or a large negative value; never differentiated).
pub fn attention_probs<B: Backend>(
    scores: Tensor<B, 4>,
    mask_bias: Tensor<B, 4>,
    divisor: f64,
    drop: &Dropout,
) -> Tensor<B, 4> {
    let [batch, _, _, keys] = scores.dims();
    let route = if mask_bias.dims() == [batch, 1, 1, keys] && drop.prob < 1.0 {
        route::route::<B>(scores.dtype())
    } else {
        Route::Plain
    };
    match route {
        Route::Plain => dropout(drop, softmax(scores / divisor + mask_bias, 3)),
        Route::Inference => {
            let (scores, bias): (FlexTensor, FlexTensor) =
                (route::primitive(scores), route::primitive(mask_bias));
            let probs = forward(&scores, &values(&bias), divisor as f32);
            route::tensor(flex(probs, scores.shape()))
        }
        Route::Autodiff => {
            let mask = if B::ad_enabled(&scores.device()) {
                MaskStream::next(drop.prob)
            } else {
                None
            };
            let (scores, bias): (AdTensor, AdTensor) =
                (route::primitive(scores), route::primitive(mask_bias));
            route::tensor(autodiff(scores, &bias.primitive, divisor as f32, mask))
        }
    }
}

/// The probabilities (before dropout) of every row.
fn forward(scores: &FlexTensor, bias: &[f32], divisor: f32) -> Vec<f32> {
    let shape = scores.shape();
    let keys = shape[3];
    let rows_per_batch = shape[1] * shape[2];
    let scores = values(scores);
    let mut probs = vec![0.0f32; scores.len()];
    let block = rows_per_task(keys);
    probs
        .par_chunks_mut(block * keys)
        .zip(scores.par_chunks(block * keys))
        .enumerate()
        .for_each(|(index, (probs, scores))| {
            for (r, (p, s)) in probs
                .chunks_exact_mut(keys)
                .zip(scores.chunks_exact(keys))
                .enumerate()
            {
                let batch = (index * block + r) / rows_per_batch;
                let bias = &bias[batch * keys..(batch + 1) * keys];
                softmax_row(s, bias, divisor, p);
            }
        });
    probs
}

simd_fn! {
    fn softmax_row(scores: &[f32], bias: &[f32], divisor: f32, out: &mut [f32]) {
        let mut max = f32::NEG_INFINITY;
        for ((o, &s), &b) in out.iter_mut().zip(scores).zip(bias) {
            *o = s / divisor + b;
            max = max.max(*o);
        }
        let mut sum = 0.0f32;
        for o in out.iter_mut() {
            *o = exp_nonpositive(*o - max);
            sum += *o;
        }
        let inv = 1.0 / sum;
        for o in out.iter_mut() {
            *o *= inv;
        }
    }
}

simd_fn! {
    /// In place: `dp = p * (dp - sum(dp * p)) / divisor` for one row.
    fn softmax_backward_row(dp: &mut [f32], p: &[f32], divisor: f32) {
        let dot: f32 = dp.iter().zip(p).map(|(&d, &p)| d * p).sum();
        for (d, &p) in dp.iter_mut().zip(p) {
            *d = p * (*d - dot) / divisor;
        }
    }
}

/// Applies the dropout mask of elements `start..` to `values` in place.
fn apply_mask(mask: &MaskStream, values: &mut [f32], keys: usize) {
    let block = rows_per_task(keys) * keys;
    values
        .par_chunks_mut(block)
        .enumerate()
        .for_each(|(index, chunk)| {
            let mut m = vec![0.0f32; chunk.len()];
            mask.fill(index * block, &mut m);
            mul_in_place(chunk, &m);
        });
}

#[derive(Clone, Debug)]
struct State {
    shape: Shape,
    probs: Arc<Vec<f32>>,
    divisor: f32,
    mask: Option<MaskStream>,
}

/// `dscores = P * (dP - sum(dP * P)) / divisor` with `dP = dout * mask`.
fn backward(state: &State, grad: &FlexTensor) -> FlexTensor {
    let keys = state.shape[3];
    let mut dp = values(grad).into_owned();
    if let Some(mask) = &state.mask {
        apply_mask(mask, &mut dp, keys);
    }
    let block = rows_per_task(keys);
    let divisor = state.divisor;
    dp.par_chunks_mut(block * keys)
        .zip(state.probs.par_chunks(block * keys))
        .for_each(|(dp, p)| {
            for (dp, p) in dp.chunks_exact_mut(keys).zip(p.chunks_exact(keys)) {
                softmax_backward_row(dp, p, divisor);
            }
        });
    flex(dp, state.shape.clone())
}

#[derive(Debug)]
struct AttentionProbsBackward;

impl Backward<Flex, 1> for AttentionProbsBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [parent] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        if let Some(parent) = parent {
            grads.register::<Flex>(parent.id, backward(&ops.state, &grad));
        }
    }
}

fn autodiff(
    scores: AdTensor,
    bias: &FlexTensor,
    divisor: f32,
    mask: Option<MaskStream>,
) -> AdTensor {
    let shape = scores.primitive.shape();
    let keys = shape[3];
    let probs = forward(&scores.primitive, &values(bias), divisor);
    let output = |mut probs: Vec<f32>| {
        if let Some(mask) = &mask {
            apply_mask(mask, &mut probs, keys);
        }
        flex(probs, shape.clone())
    };
    match AttentionProbsBackward
        .prepare::<NoCheckpointing>([scores.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = output(probs.clone());
            let state = State {
                shape: shape.clone(),
                probs: Arc::new(probs),
                divisor,
                mask,
            };
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(output(probs)),
    }
}
