//! Global gradient-norm clipping as `torch.nn.utils.clip_grad_norm_`: the L2 norm over ALL
//! gradients together, and one common scale factor `min(1, max_norm / (norm + 1e-6))`.
//! (burn's built-in clipping works per tensor, which is not the same.) The norm is also how the
//! loop learns that a gradient is inf or NaN (loss scaling).

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, ElementConversion, Tensor};

/// The L2 norm of all gradients of `module`'s parameters found in `grads`.
pub fn global_grad_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    let mut visitor = SquaredNorm::<B> { grads, total: None };
    module.visit(&mut visitor);
    visitor
        .total
        .map(|t| t.into_scalar().elem::<f64>().sqrt())
        .unwrap_or(0.0)
}

/// The factor PyTorch multiplies every gradient by.
pub fn clip_scale(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            // In f32: a sum of squared f16 gradients overflows f16 (max 65504) long before
            // any gradient does, which loss scaling would take for an overflow.
            let g = if g.dtype() == DType::F32 {
                g
            } else {
                g.cast(DType::F32)
            };
            let sq = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t.add(sq),
                None => sq,
            });
        }
    }
}
