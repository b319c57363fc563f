//! Exact (erf) GELU, `x * Phi(x)`, as transformers' `gelu` activation.
//!
//! Kernel: one vectorised pass each way with [`normal_cdf_and_pdf`] instead of Flex's scalar
//! `libm::erff`; the backward keeps only the input.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Flex;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorMetadata};
use rayon::prelude::*;

use super::route::{self, AdTensor, FlexTensor, Route};
use super::vector_math::{flex, normal_cdf_and_pdf, owned_values, simd_fn, values};

/// Values per rayon task.
const CHUNK: usize = 16 * 1024;

/// `x * Phi(x)` from burn's erf. Not `burn::tensor::activation::gelu`: burn 0.21 computes that
/// exactly forward but differentiates the tanh approximation (`gelu_backward`), which put every
/// gradient of a BERT-style encoder about 5e-4 (relative) off transformers'; composed from erf,
/// autodiff differentiates the exact form.
fn plain<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone() * ((x / std::f64::consts::SQRT_2).erf() + 1.0) * 0.5
}

pub fn gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    match route::route::<B>(x.dtype()) {
        Route::Plain => plain(x),
        Route::Inference => {
            let mut x: FlexTensor = route::primitive(x);
            // Evaluation: the input (a linear layer's fresh output) is usually not shared, so
            // the activation overwrites it instead of filling a new buffer.
            match owned_values(&mut x) {
                Some(values) => {
                    values.par_chunks_mut(CHUNK).for_each(forward_in_place);
                    route::tensor(x)
                }
                None => route::tensor(forward(&x)),
            }
        }
        Route::Autodiff => {
            let x: AdTensor = route::primitive(x);
            route::tensor(autodiff(x))
        }
    }
}

fn forward(x: &FlexTensor) -> FlexTensor {
    let input = values(x);
    let mut out = vec![0.0f32; input.len()];
    out.par_chunks_mut(CHUNK)
        .zip(input.par_chunks(CHUNK))
        .for_each(|(out, input)| forward_chunk(out, input));
    flex(out, x.shape())
}

fn backward(x: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    let input = values(x);
    let grad_values = values(grad);
    let mut out = vec![0.0f32; input.len()];
    out.par_chunks_mut(CHUNK)
        .zip(input.par_chunks(CHUNK).zip(grad_values.par_chunks(CHUNK)))
        .for_each(|(out, (input, grad))| backward_chunk(out, input, grad));
    flex(out, x.shape())
}

simd_fn! {
    fn forward_chunk(out: &mut [f32], input: &[f32]) {
        for (o, &v) in out.iter_mut().zip(input) {
            *o = v * normal_cdf_and_pdf(v).0;
        }
    }
}

simd_fn! {
    fn forward_in_place(values: &mut [f32]) {
        for v in values.iter_mut() {
            *v *= normal_cdf_and_pdf(*v).0;
        }
    }
}

simd_fn! {
    fn backward_chunk(out: &mut [f32], input: &[f32], grad: &[f32]) {
        for ((o, &v), &g) in out.iter_mut().zip(input).zip(grad) {
            let (cdf, pdf) = normal_cdf_and_pdf(v);
            *o = g * (cdf + v * pdf);
        }
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    /// The input.
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [parent] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        if let Some(parent) = parent {
            grads.register::<Flex>(parent.id, backward(&ops.state, &grad));
        }
    }
}

fn autodiff(x: AdTensor) -> AdTensor {
    let out = forward(&x.primitive);
    match GeluBackward
        .prepare::<NoCheckpointing>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(x.primitive, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}
