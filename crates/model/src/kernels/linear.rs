//! Linear layers: `y = x W + b` over the tokens of a `[batch, seq, d_in]` tensor.
//!
//! Two things burn does that cost here. Its `Linear` on a 3-D input broadcasts the weight over the
//! batch: `batch` small products forward and, backward, a `[batch, d_in, d_out]` weight gradient
//! summed over the batch afterwards. [`linear_tokens`] flattens the tokens first (a free reshape),
//! so every backend gets one `[batch * seq, d_in] x [d_in, d_out]` product each way.
//!
//! On Flex / Autodiff<Flex> the product also runs through `gemm` directly: the output starts as
//! the broadcast bias and gemm accumulates into it (Flex zero-fills a fresh buffer, copies it once
//! more on wrapping, then adds the bias in a third pass), the gradients are written into
//! uninitialised buffers, and the bias gradient is one vectorised column sum.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Flex;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor, TensorMetadata};
use rayon::prelude::*;

use super::gemm::{gemm_into, product, Dst, View};
use super::route::{self, AdTensor, FlexTensor, Route};
use super::vector_math::{flex, rows_per_task, simd_fn, values};

/// `linear.forward(x)` for `x [batch, seq, d_in]`, as one 2-D product.
pub fn linear_tokens<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [batch, seq, d_in] = x.dims();
    let out = linear_rows(linear, x.reshape([batch * seq, d_in]));
    let d_out = out.dims()[1];
    out.reshape([batch, seq, d_out])
}

/// `linear.forward(x)` for `x [rows, d_in]`.
pub fn linear_rows<B: Backend>(linear: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let route = match &linear.bias {
        Some(_) => route::route::<B>(x.dtype()),
        None => Route::Plain,
    };
    let bias = linear.bias.as_ref().map(|b| b.val());
    match (route, bias) {
        (Route::Inference, Some(bias)) => {
            let x: FlexTensor = route::primitive(x);
            let weight: FlexTensor = route::primitive(linear.weight.val());
            let bias: FlexTensor = route::primitive(bias);
            route::tensor(forward(&x, &weight, &bias))
        }
        (Route::Autodiff, Some(bias)) => {
            let x: AdTensor = route::primitive(x);
            let weight: AdTensor = route::primitive(linear.weight.val());
            let bias: AdTensor = route::primitive(bias);
            route::tensor(autodiff(x, weight, bias))
        }
        _ => linear.forward(x),
    }
}

fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> FlexTensor {
    let (x, w) = (View::of(x), View::of(weight));
    let bias = values(bias);
    // The output starts as the bias in every row (written once, no zero-fill first).
    let len = x.rows * w.cols;
    let mut out = Vec::<f32>::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(rows_per_task(w.cols) * w.cols)
        .for_each(|rows| {
            for row in rows.chunks_exact_mut(w.cols) {
                for (slot, &b) in row.iter_mut().zip(bias.iter()) {
                    slot.write(b);
                }
            }
        });
    // SAFETY: every one of the `len` values was written just above.
    unsafe { out.set_len(len) };
    let dst = Dst {
        ptr: out.as_mut_ptr(),
        row_stride: w.cols,
    };
    // SAFETY: `out` holds `x.rows * w.cols` initialised values.
    unsafe { gemm_into(dst, x, w, true, true) };
    flex(out, Shape::new([x.rows, w.cols]))
}

simd_fn! {
    /// `sums += row` for each `cols`-long row of `rows`.
    fn add_rows(sums: &mut [f32], rows: &[f32]) {
        for row in rows.chunks_exact(sums.len()) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += v;
            }
        }
    }
}

/// Column sums of a `[rows, cols]` tensor (the bias gradient).
fn column_sums(grad: &[f32], cols: usize) -> Vec<f32> {
    let block = rows_per_task(cols) * cols;
    grad.par_chunks(block)
        .map(|rows| {
            let mut sums = vec![0.0f32; cols];
            add_rows(&mut sums, rows);
            sums
        })
        .reduce(
            || vec![0.0f32; cols],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
}

#[derive(Clone, Debug)]
struct State {
    x: FlexTensor,
    weight: FlexTensor,
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let dy = View::of(&grad);
        if let Some(node) = node_x {
            // dx = dy W^T
            let w = View::of(&ops.state.weight).t();
            let dx = product(dy, w);
            grads.register::<Flex>(node.id, flex(dx, Shape::new([dy.rows, w.cols])));
        }
        if let Some(node) = node_weight {
            // dW = x^T dy
            let xt = View::of(&ops.state.x).t();
            let dw = product(xt, dy);
            grads.register::<Flex>(node.id, flex(dw, Shape::new([xt.rows, dy.cols])));
        }
        if let Some(node) = node_bias {
            let db = column_sums(&values(&grad), dy.cols);
            grads.register::<Flex>(node.id, flex(db, Shape::new([dy.cols])));
        }
    }
}

fn autodiff(x: AdTensor, weight: AdTensor, bias: AdTensor) -> AdTensor {
    let out = forward(&x.primitive, &weight.primitive, &bias.primitive);
    debug_assert_eq!(out.shape().num_dims(), 2);
    let nodes = [x.node.clone(), weight.node.clone(), bias.node.clone()];
    match LinearBackward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let state = State {
                x: x.primitive,
                weight: weight.primitive,
            };
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}
