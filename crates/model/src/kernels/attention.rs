//! The multi-head attention core: from the projected `q`, `k`, `v` (`[batch, seq, hidden]`, the
//! heads side by side along `hidden`) to the context `[batch, seq, hidden]`:
//! per head, `dropout(softmax(q k^T / sqrt(d) + mask_bias)) v`.
//!
//! burn runs this as three head splits (reshape + transposed views), a batched product, the
//! scale, the mask add, the softmax (several ops under autodiff), a dropout multiply, a second
//! batched product and a head merge that copies; backward, the transposed views turn into strided
//! copies. The kernel instead works on one (batch, head) pair per rayon task: gemm reads the
//! head's columns in place through strides, the probabilities stay in a per-pair block, and the
//! context and the gradients are written straight into their `[batch, seq, hidden]` buffers. The
//! backward state is the inputs plus the probabilities; the dropout mask is re-derived from its
//! counter-based stream, indexed as the plain path's `[batch, heads, query, key]` tensor so both
//! paths draw the same masks.

use std::sync::Arc;

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

use super::gemm::{gemm_into, Dst, View};
use super::route::{self, AdTensor, FlexTensor, Route};
use super::vector_math::{dot, exp_nonpositive, flex, max, mul_in_place, simd_fn, sum, values};
use crate::dropout::{dropout, MaskStream};

/// The attention context for `q`, `k`, `v` of shape `[batch, seq, hidden]` split into `heads`
/// heads, with `mask_bias [batch, 1, 1, seq]` (0 or a large negative value, not differentiated)
/// and dropout `drop` on the probabilities.
pub fn attention_context<B: Backend>(
    q: Tensor<B, 3>,
    k: Tensor<B, 3>,
    v: Tensor<B, 3>,
    mask_bias: Tensor<B, 4>,
    heads: usize,
    drop: &Dropout,
) -> Tensor<B, 3> {
    let [batch, seq, hidden] = q.dims();
    let fits = k.dims() == [batch, seq, hidden]
        && v.dims() == [batch, seq, hidden]
        && mask_bias.dims() == [batch, 1, 1, seq]
        && heads > 0
        && hidden % heads == 0
        && drop.prob < 1.0;
    let route = if fits {
        route::route::<B>(q.dtype())
    } else {
        Route::Plain
    };
    let dims = Dims {
        batch,
        seq,
        hidden,
        heads,
    };
    match route {
        Route::Plain => plain(q, k, v, mask_bias, heads, drop),
        Route::Inference => {
            let [q, k, v]: [FlexTensor; 3] = [q, k, v].map(route::primitive);
            let bias: FlexTensor = route::primitive(mask_bias);
            let inputs = Inputs {
                q: &values(&q),
                k: &values(&k),
                v: &values(&v),
                bias: &values(&bias),
            };
            let (context, _) = forward(&dims, &inputs, None);
            route::tensor(flex(context, dims.shape()))
        }
        Route::Autodiff => {
            let mask = if B::ad_enabled(&q.device()) {
                MaskStream::next(drop.prob)
            } else {
                None
            };
            let [q, k, v]: [AdTensor; 3] = [q, k, v].map(route::primitive);
            let bias: AdTensor = route::primitive(mask_bias);
            route::tensor(autodiff(dims, q, k, v, &bias.primitive, mask))
        }
    }
}

/// The same computation in plain burn ops (other backends; the kernel's reference in tests).
fn plain<B: Backend>(
    q: Tensor<B, 3>,
    k: Tensor<B, 3>,
    v: Tensor<B, 3>,
    mask_bias: Tensor<B, 4>,
    heads: usize,
    drop: &Dropout,
) -> Tensor<B, 3> {
    let [batch, seq, hidden] = q.dims();
    let head_dim = hidden / heads;
    let split = |x: Tensor<B, 3>| x.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2);
    let scores = split(q).matmul(split(k).swap_dims(2, 3));
    let probs = dropout(
        drop,
        softmax(scores / (head_dim as f64).sqrt() + mask_bias, 3),
    );
    probs
        .matmul(split(v))
        .swap_dims(1, 2)
        .reshape([batch, seq, hidden])
}

#[derive(Clone, Copy, Debug)]
struct Dims {
    batch: usize,
    seq: usize,
    hidden: usize,
    heads: usize,
}

impl Dims {
    fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
    fn divisor(&self) -> f32 {
        (self.head_dim() as f32).sqrt()
    }
    fn pairs(&self) -> usize {
        self.batch * self.heads
    }
    fn shape(&self) -> Shape {
        Shape::new([self.batch, self.seq, self.hidden])
    }
    /// Head `h` of batch `b` in a `[batch, seq, hidden]` buffer: `seq x head_dim`.
    fn head(&self, data: &[f32], pair: usize) -> View {
        View::block(
            data,
            self.head_offset(pair),
            self.seq,
            self.head_dim(),
            self.hidden,
        )
    }
    fn head_offset(&self, pair: usize) -> usize {
        let (b, h) = (pair / self.heads, pair % self.heads);
        b * self.seq * self.hidden + h * self.head_dim()
    }
}

struct Inputs<'a> {
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    bias: &'a [f32],
}

/// The context `[batch, seq, hidden]` and the probabilities before dropout, `[batch, heads,
/// seq, seq]` (the backward state).
fn forward(dims: &Dims, inputs: &Inputs, mask: Option<MaskStream>) -> (Vec<f32>, Vec<f32>) {
    let (seq, block) = (dims.seq, dims.seq * dims.seq);
    // Neither buffer is zero-filled first: gemm writes every value before anything reads it.
    let mut probs = Vec::<f32>::with_capacity(dims.pairs() * block);
    let mut context = Vec::<f32>::with_capacity(dims.batch * seq * dims.hidden);
    let (all_probs, out) = (
        Dst {
            ptr: probs.as_mut_ptr(),
            row_stride: seq,
        },
        Dst {
            ptr: context.as_mut_ptr(),
            row_stride: dims.hidden,
        },
    );
    let divisor = dims.divisor();
    (0..dims.pairs()).into_par_iter().for_each(|pair| {
        let (q, k, v) = (
            dims.head(inputs.q, pair),
            dims.head(inputs.k, pair),
            dims.head(inputs.v, pair),
        );
        let p_dst = all_probs.at(pair * block);
        // SAFETY: this pair's block of `probs` is its own; gemm writes all of it, after which it
        // is initialised and may be borrowed. The views lie within the inputs.
        let p = unsafe {
            gemm_into(p_dst, q, k.t(), false, false);
            std::slice::from_raw_parts_mut(p_dst.ptr, block)
        };
        let batch = pair / dims.heads;
        let bias = &inputs.bias[batch * seq..(batch + 1) * seq];
        for row in p.chunks_exact_mut(seq) {
            softmax_row(row, bias, divisor);
        }
        let dropped = mask.map(|mask| dropped_weights(&mask, pair, p));
        let weights = dropped.as_deref().unwrap_or(p);
        // SAFETY: each pair writes only its head's columns of its batch's rows of `context`.
        unsafe {
            gemm_into(
                out.at(dims.head_offset(pair)),
                View::block(weights, 0, seq, seq, seq),
                v,
                false,
                false,
            )
        };
    });
    // SAFETY: the pairs together wrote every value of both buffers (heads tile `hidden`).
    unsafe {
        probs.set_len(dims.pairs() * block);
        context.set_len(dims.batch * seq * dims.hidden);
    }
    (context, probs)
}

/// The probabilities of `pair` after dropout: `p * mask` (the mask's elements indexed as the
/// plain path's `[batch, heads, query, key]` tensor).
fn dropped_weights(mask: &MaskStream, pair: usize, p: &[f32]) -> Vec<f32> {
    let mut weights = vec![0.0f32; p.len()];
    mask.fill(pair * p.len(), &mut weights);
    mul_in_place(&mut weights, p);
    weights
}

simd_fn! {
    /// In place: `row = softmax(row / divisor + bias)`.
    fn softmax_row(row: &mut [f32], bias: &[f32], divisor: f32) {
        for (x, &b) in row.iter_mut().zip(bias) {
            *x = *x / divisor + b;
        }
        let top = max(row);
        for x in row.iter_mut() {
            *x = exp_nonpositive(*x - top);
        }
        let inv = 1.0 / sum(row);
        for x in row.iter_mut() {
            *x *= inv;
        }
    }
}

simd_fn! {
    /// In place: `dp = p * (dp - sum(dp * p)) / divisor` for one row (softmax backward, scaled).
    fn softmax_backward_row(dp: &mut [f32], p: &[f32], divisor: f32) {
        let weighted = dot(dp, p);
        for (d, &p) in dp.iter_mut().zip(p) {
            *d = p * (*d - weighted) / divisor;
        }
    }
}

#[derive(Clone, Debug)]
struct State {
    dims: Dims,
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    probs: Arc<Vec<f32>>,
    mask: Option<MaskStream>,
}

/// `[dq, dk, dv]` for the context gradient `grad`.
fn backward(state: &State, grad: &FlexTensor) -> [Vec<f32>; 3] {
    let dims = &state.dims;
    let (seq, block) = (dims.seq, dims.seq * dims.seq);
    let (q, k, v, dctx) = (
        values(&state.q),
        values(&state.k),
        values(&state.v),
        values(grad),
    );
    let len = dims.batch * seq * dims.hidden;
    let mut out = [(); 3].map(|_| Vec::<f32>::with_capacity(len));
    let [dq, dk, dv] = [0, 1, 2].map(|i| Dst {
        ptr: out[i].as_mut_ptr(),
        row_stride: dims.hidden,
    });
    let divisor = dims.divisor();
    state
        .probs
        .par_chunks(block)
        .enumerate()
        .for_each(|(pair, p)| {
            let at = dims.head_offset(pair);
            let (q_h, k_h) = (dims.head(&q, pair), dims.head(&k, pair));
            let (v_h, dctx_h) = (dims.head(&v, pair), dims.head(&dctx, pair));
            let mask = state.mask.map(|mask| {
                let mut m = vec![0.0f32; block];
                mask.fill(pair * block, &mut m);
                m
            });
            // The weights the forward used: p, or p * mask.
            let dropped = mask.as_deref().map(|m| {
                let mut w = m.to_vec();
                mul_in_place(&mut w, p);
                w
            });
            let weights = dropped.as_deref().unwrap_or(p);
            let mut ds = vec![0.0f32; block];
            let ds_dst = Dst {
                ptr: ds.as_mut_ptr(),
                row_stride: seq,
            };
            // SAFETY (all gemm calls): each pair writes only its own head's columns of dq, dk, dv
            // and its own scratch `ds`; the views lie within live buffers.
            unsafe {
                // dv = weights^T dctx
                gemm_into(
                    dv.at(at),
                    View::block(weights, 0, seq, seq, seq).t(),
                    dctx_h,
                    false,
                    false,
                );
                // d weights = dctx v^T
                gemm_into(ds_dst, dctx_h, v_h.t(), false, false);
            }
            if let Some(m) = &mask {
                mul_in_place(&mut ds, m);
            }
            for (ds_row, p_row) in ds.chunks_exact_mut(seq).zip(p.chunks_exact(seq)) {
                softmax_backward_row(ds_row, p_row, divisor);
            }
            let ds_view = View::block(&ds, 0, seq, seq, seq);
            unsafe {
                // dq = ds k, dk = ds^T q
                gemm_into(dq.at(at), ds_view, k_h, false, false);
                gemm_into(dk.at(at), ds_view.t(), q_h, false, false);
            }
        });
    // SAFETY: the pairs together wrote every element of the three buffers.
    for buffer in &mut out {
        unsafe { buffer.set_len(len) };
    }
    out
}

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 3> for AttentionBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let shape = ops.state.dims.shape();
        let gradients = backward(&ops.state, &grad);
        for (parent, values) in ops.parents.into_iter().zip(gradients) {
            if let Some(parent) = parent {
                grads.register::<Flex>(parent.id, flex(values, shape.clone()));
            }
        }
    }
}

fn autodiff(
    dims: Dims,
    q: AdTensor,
    k: AdTensor,
    v: AdTensor,
    bias: &FlexTensor,
    mask: Option<MaskStream>,
) -> AdTensor {
    let (context, probs) = {
        let (qv, kv, vv, bv) = (
            values(&q.primitive),
            values(&k.primitive),
            values(&v.primitive),
            values(bias),
        );
        let inputs = Inputs {
            q: &qv,
            k: &kv,
            v: &vv,
            bias: &bv,
        };
        forward(&dims, &inputs, mask)
    };
    let out = flex(context, dims.shape());
    debug_assert_eq!(out.shape(), dims.shape());
    let nodes = [q.node.clone(), k.node.clone(), v.node.clone()];
    match AttentionBackward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let state = State {
                dims,
                q: q.primitive,
                k: k.primitive,
                v: v.primitive,
                probs: Arc::new(probs),
                mask,
            };
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}
