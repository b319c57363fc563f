//! The element loop of the trainer's fused AdamW (`dmlft-train`'s `optim::fused` owns the
//! moments, the step count and the threading). It lives here because this crate is built with
//! full optimisation in every profile and has the run-time SIMD dispatch; `dmlft-train` is not
//! (its many generic instantiations would make a fully optimised dev build slow).

use super::vector_math::simd_fn;

/// The per-step constants of the update, rounded to f32 as burn's tensor ops round them.
#[derive(Clone, Copy, Debug)]
pub struct AdamWStep {
    /// Multiplies the gradient first (gradient clipping), when set.
    pub grad_scale: Option<f32>,
    pub beta1: f32,
    pub one_minus_beta1: f32,
    pub beta2: f32,
    pub one_minus_beta2: f32,
    /// `1 - lr * weight_decay`, when there is weight decay.
    pub decay_factor: Option<f32>,
    /// `1 - beta2^step`.
    pub bias2: f32,
    pub eps: f32,
    /// `lr / (1 - beta1^step)`.
    pub step_size: f32,
}

simd_fn! {
    /// One AdamW step over equal-length slices, in PyTorch's order of operations:
    /// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`, `p *= 1 - lr wd`,
    /// `p -= step_size * m / (sqrt(v / bias2) + eps)`.
    pub fn adamw_update(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: AdamWStep) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = match k.grad_scale {
                Some(s) => g * s,
                None => g,
            };
            *m = *m * k.beta1 + g * k.one_minus_beta1;
            *v = *v * k.beta2 + g * g * k.one_minus_beta2;
            if let Some(f) = k.decay_factor {
                *p *= f;
            }
            let denom = (*v / k.bias2).sqrt() + k.eps;
            *p -= *m / denom * k.step_size;
        }
    }
}
