//! `LayerNorm(dropout(x) + residual)`: the end of every post-LN transformer sub-block.
//!
//! burn runs this as a dropout multiply, an add and nine LayerNorm ops, each allocating its
//! output and each with its own backward. The kernel does one pass over each row forward and one
//! backward, keeps only the normalised row and its 1/std, and re-derives the dropout mask from
//! its counter-based stream (`crate::dropout::MaskStream`) instead of storing it. The mask is
//! drawn from the thread's stream exactly when the plain path draws it, so both give the same
//! masks for the same seed.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Flex;
use burn::nn::{Dropout, LayerNorm};
use burn::tensor::backend::Backend;
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use super::route::{self, AdTensor, FlexTensor, Route};
use super::vector_math::{dot, flex, mul_in_place, rows_per_task, simd_fn, sum, values};
use crate::dropout::{dropout, MaskStream};

/// `layer_norm(dropout(x) + residual)` with LayerNorm epsilon `epsilon` (burn's `LayerNorm`
/// keeps its epsilon private, so the caller passes the one it was built with).
pub fn add_layer_norm<B: Backend, const D: usize>(
    layer_norm: &LayerNorm<B>,
    epsilon: f64,
    x: Tensor<B, D>,
    residual: Tensor<B, D>,
    drop: &Dropout,
) -> Tensor<B, D> {
    let route = match &layer_norm.beta {
        Some(_) if drop.prob < 1.0 && x.shape() == residual.shape() => route::route::<B>(x.dtype()),
        _ => Route::Plain,
    };
    let beta = layer_norm.beta.as_ref().map(|b| b.val());
    match (route, beta) {
        (Route::Inference, Some(beta)) => {
            let shape = x.shape();
            let (x, residual): (FlexTensor, FlexTensor) =
                (route::primitive(x), route::primitive(residual));
            let (gamma, beta): (FlexTensor, FlexTensor) = (
                route::primitive(layer_norm.gamma.val()),
                route::primitive(beta),
            );
            let rows = Rows::new(&shape);
            let out = forward(&rows, &x, &residual, &gamma, &beta, epsilon, None, false);
            route::tensor(out.output)
        }
        (Route::Autodiff, Some(beta)) => {
            let mask = if B::ad_enabled(&x.device()) {
                MaskStream::next(drop.prob)
            } else {
                None
            };
            let (x, residual): (AdTensor, AdTensor) =
                (route::primitive(x), route::primitive(residual));
            let (gamma, beta): (AdTensor, AdTensor) = (
                route::primitive(layer_norm.gamma.val()),
                route::primitive(beta),
            );
            route::tensor(autodiff(x, residual, gamma, beta, epsilon, mask))
        }
        _ => layer_norm.forward(dropout(drop, x) + residual),
    }
}

/// A tensor seen as `count` rows of `len` values (the normalised last dimension).
#[derive(Clone, Debug)]
struct Rows {
    shape: Shape,
    len: usize,
    count: usize,
}

impl Rows {
    fn new(shape: &Shape) -> Self {
        let len = shape[shape.num_dims() - 1];
        Self {
            shape: shape.clone(),
            len,
            count: shape.num_elements() / len.max(1),
        }
    }
}

struct Forward {
    output: FlexTensor,
    /// The normalised rows `(z - mean) / std` and each row's `1 / std`, when asked for.
    saved: Option<(Vec<f32>, Vec<f32>)>,
}

#[allow(clippy::too_many_arguments)]
fn forward(
    rows: &Rows,
    x: &FlexTensor,
    residual: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
    mask: Option<MaskStream>,
    save: bool,
) -> Forward {
    let (x, residual, gamma, beta) = (values(x), values(residual), values(gamma), values(beta));
    let n = rows.len;
    let total = rows.count * n;
    let mut output = vec![0.0f32; total];
    let mut normalized = if save {
        vec![0.0f32; total]
    } else {
        Vec::new()
    };
    let mut inv_std = vec![0.0f32; rows.count];
    let block = rows_per_task(n);
    let eps = epsilon as f32;
    // One task: a block of rows, its outputs, its normalised rows (if saved) and its 1/std.
    let work = |index: usize, out: &mut [f32], mut norm: Option<&mut [f32]>, inv: &mut [f32]| {
        let mut z = vec![0.0f32; n];
        for (r, out_row) in out.chunks_exact_mut(n).enumerate() {
            let offset = (index * block + r) * n;
            let (x_row, res_row) = (&x[offset..offset + n], &residual[offset..offset + n]);
            match &mask {
                Some(mask) => {
                    mask.fill(offset, &mut z);
                    mask_add(&mut z, x_row, res_row);
                }
                None => add(&mut z, x_row, res_row),
            }
            let norm_row = norm
                .as_deref_mut()
                .map(|norm| &mut norm[r * n..(r + 1) * n]);
            inv[r] = normalize_row(&mut z, eps, &gamma, &beta, out_row, norm_row);
        }
    };
    let outputs = output.par_chunks_mut(block * n);
    if save {
        outputs
            .zip(normalized.par_chunks_mut(block * n))
            .zip(inv_std.par_chunks_mut(block))
            .enumerate()
            .for_each(|(i, ((out, norm), inv))| work(i, out, Some(norm), inv));
    } else {
        outputs
            .zip(inv_std.par_chunks_mut(block))
            .enumerate()
            .for_each(|(i, (out, inv))| work(i, out, None, inv));
    }
    Forward {
        output: flex(output, rows.shape.clone()),
        saved: save.then_some((normalized, inv_std)),
    }
}

simd_fn! {
    /// `z = z * x + residual` (z holds the dropout mask on entry).
    fn mask_add(z: &mut [f32], x: &[f32], residual: &[f32]) {
        for ((z, &x), &res) in z.iter_mut().zip(x).zip(residual) {
            *z = *z * x + res;
        }
    }
}

simd_fn! {
    /// `z = x + residual`.
    fn add(z: &mut [f32], x: &[f32], residual: &[f32]) {
        for ((z, &x), &res) in z.iter_mut().zip(x).zip(residual) {
            *z = x + res;
        }
    }
}

simd_fn! {
/// Normalises `z` in place into `out = (z - mean) / std * gamma + beta`, writes `(z - mean) /
/// std` to `normalized` when given, and returns `1 / std`.
fn normalize_row(
    z: &mut [f32],
    eps: f32,
    gamma: &[f32],
    beta: &[f32],
    out: &mut [f32],
    normalized: Option<&mut [f32]>,
) -> f32 {
    let n = z.len() as f32;
    let mean = sum(z) / n;
    for v in z.iter_mut() {
        *v -= mean;
    }
    let inv = 1.0 / (dot(z, z) / n + eps).sqrt();
    for (((o, &c), &g), &b) in out.iter_mut().zip(z.iter()).zip(gamma).zip(beta) {
        *o = c * inv * g + b;
    }
    if let Some(normalized) = normalized {
        for (h, &c) in normalized.iter_mut().zip(z.iter()) {
            *h = c * inv;
        }
    }
    inv
}
}

/// Gradients of `y = norm(z) * gamma + beta` with `z = mask * x + residual`.
struct Grads {
    x: FlexTensor,
    residual: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
}

fn backward(state: &State, grad: &FlexTensor) -> Grads {
    let rows = &state.rows;
    let n = rows.len;
    let dy = values(grad);
    let gamma = values(&state.gamma);
    let (normalized, inv_std) = (&state.normalized, &state.inv_std);
    let mut dz = vec![0.0f32; rows.count * n];
    let block = rows_per_task(n);
    // Each task returns its partial sums of dgamma and dbeta; they are added at the end.
    let (dgamma, dbeta) = dz
        .par_chunks_mut(block * n)
        .enumerate()
        .map(|(index, dz_block)| {
            let mut dgamma = vec![0.0f32; n];
            let mut dbeta = vec![0.0f32; n];
            for (r, dz_row) in dz_block.chunks_exact_mut(n).enumerate() {
                let row = index * block + r;
                let span = row * n..(row + 1) * n;
                row_backward(
                    &dy[span.clone()],
                    &normalized[span.clone()],
                    inv_std[row],
                    &gamma,
                    dz_row,
                    &mut dgamma,
                    &mut dbeta,
                );
            }
            (dgamma, dbeta)
        })
        .reduce(
            || (vec![0.0f32; n], vec![0.0f32; n]),
            |(mut g, mut b), (g2, b2)| {
                g.iter_mut().zip(&g2).for_each(|(a, c)| *a += c);
                b.iter_mut().zip(&b2).for_each(|(a, c)| *a += c);
                (g, b)
            },
        );
    // dz is the residual's gradient and, times the dropout mask, x's; without dropout the two
    // share one buffer (Flex tensors are reference-counted, copy-on-write).
    let dresidual = flex(dz, rows.shape.clone());
    let dx = match &state.mask {
        Some(mask) => {
            let dz = values(&dresidual);
            let mut dx = vec![0.0f32; dz.len()];
            dx.par_chunks_mut(block * n)
                .zip(dz.par_chunks(block * n))
                .enumerate()
                .for_each(|(index, (dx, dz))| {
                    mask.fill(index * block * n, dx);
                    mul_in_place(dx, dz);
                });
            flex(dx, rows.shape.clone())
        }
        None => dresidual.clone(),
    };
    let param_shape = Shape::new([n]);
    Grads {
        x: dx,
        residual: dresidual,
        gamma: flex(dgamma, param_shape.clone()),
        beta: flex(dbeta, param_shape),
    }
}

simd_fn! {
/// One row: `dz = inv_std * (g - mean(g) - xhat * mean(g * xhat))` with `g = dy * gamma`, and the
/// row's contributions to dgamma (`dy * xhat`) and dbeta (`dy`).
fn row_backward(
    dy: &[f32],
    xhat: &[f32],
    inv_std: f32,
    gamma: &[f32],
    dz: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let n = dy.len() as f32;
    // dz holds g = dy * gamma until the last loop.
    let columns = dy.iter().zip(xhat).zip(gamma).zip(dgamma.iter_mut().zip(dbeta.iter_mut()));
    for ((((&dy, &xhat), &gamma), (dgamma, dbeta)), g) in columns.zip(dz.iter_mut()) {
        *g = dy * gamma;
        *dgamma += dy * xhat;
        *dbeta += dy;
    }
    let (mean_g, mean_gx) = (sum(dz) / n, dot(dz, xhat) / n);
    for (g, &xhat) in dz.iter_mut().zip(xhat) {
        *g = inv_std * (*g - mean_g - xhat * mean_gx);
    }
}
}

#[derive(Clone, Debug)]
struct State {
    rows: Rows,
    normalized: std::sync::Arc<Vec<f32>>,
    inv_std: std::sync::Arc<Vec<f32>>,
    gamma: FlexTensor,
    mask: Option<MaskStream>,
}

#[derive(Debug)]
struct AddLayerNormBackward;

impl Backward<Flex, 4> for AddLayerNormBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x, residual, gamma, beta] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let g = backward(&ops.state, &grad);
        for (parent, value) in [
            (x, g.x),
            (residual, g.residual),
            (gamma, g.gamma),
            (beta, g.beta),
        ] {
            if let Some(parent) = parent {
                grads.register::<Flex>(parent.id, value);
            }
        }
    }
}

fn autodiff(
    x: AdTensor,
    residual: AdTensor,
    gamma: AdTensor,
    beta: AdTensor,
    epsilon: f64,
    mask: Option<MaskStream>,
) -> AdTensor {
    let rows = Rows::new(&burn::tensor::TensorMetadata::shape(&x.primitive));
    let nodes = [
        x.node.clone(),
        residual.node.clone(),
        gamma.node.clone(),
        beta.node.clone(),
    ];
    let kind = AddLayerNormBackward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful();
    // The normalised rows are kept only when a backward pass will need them.
    let save = matches!(kind, OpsKind::Tracked(_));
    let (x, residual, beta) = (&x.primitive, &residual.primitive, &beta.primitive);
    let out = forward(
        &rows,
        x,
        residual,
        &gamma.primitive,
        beta,
        epsilon,
        mask,
        save,
    );
    match kind {
        OpsKind::Tracked(prep) => {
            let (normalized, inv_std) = out.saved.expect("saved when asked");
            let state = State {
                rows,
                normalized: normalized.into(),
                inv_std: inv_std.into(),
                gamma: gamma.primitive,
                mask,
            };
            prep.finish(state, out.output)
        }
        OpsKind::UnTracked(prep) => prep.finish(out.output),
    }
}
