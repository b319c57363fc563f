//! Numerically careful building blocks shared by the losses (PML/torch semantics).

use burn::tensor::{backend::Backend, Bool, Int, Tensor, TensorData};

/// torch.nn.functional.normalize's eps: rows with a smaller norm are divided by eps, so a zero
/// vector stays zero instead of becoming NaN.
pub(crate) const NORMALIZE_EPS: f64 = 1e-12;
/// PML's `c_f.neg_inf`: the most negative finite f32, used to mask entries out of a logsumexp
/// (finite, so that `0 * masked` never produces NaN in a backward pass).
pub(crate) const NEG_INF: f32 = f32::MIN;
/// PML's `c_f.small_val` for f32 (`torch.finfo(float32).tiny`).
pub(crate) const TINY: f32 = f32::MIN_POSITIVE;

/// L2-normalise along `dim` as `torch.nn.functional.normalize(x, p=2, dim, eps=1e-12)`.
/// The norm's gradient is 0 at a zero row (as torch.norm's), not NaN.
pub(crate) fn l2_normalize<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    dim: usize,
) -> Tensor<B, D> {
    let norm = l2_norm(x.clone(), dim).clamp_min(NORMALIZE_EPS);
    x / norm
}

/// L2 norm along `dim` (kept), as `torch.norm(p=2)` (gradient 0 at a zero row).
pub(crate) fn l2_norm<B: Backend, const D: usize>(x: Tensor<B, D>, dim: usize) -> Tensor<B, D> {
    sqrt_zero_safe(x.square().sum_dim(dim))
}

/// PML's `lmu.logsumexp(x, keep_mask, add_one, dim)` for 2-D input: entries outside `keep` are
/// ignored, `add_one` adds a zero logit (log(1 + sum exp)), and a row (or column) with nothing
/// kept gives 0. The maximum is subtracted before exponentiating.
pub(crate) fn masked_logsumexp<B: Backend>(
    x: Tensor<B, 2>,
    keep: Tensor<B, 2, Bool>,
    add_one: bool,
    dim: usize,
) -> Tensor<B, 2> {
    let filled = x.mask_fill(keep.clone().bool_not(), NEG_INF);
    let mut max = filled.clone().detach().max_dim(dim);
    if add_one {
        max = max.clamp_min(0.0);
    }
    let mut sum = (filled - max.clone()).exp().sum_dim(dim);
    if add_one {
        sum = sum + max.clone().neg().exp();
    }
    let out = max + sum.log();
    let any_kept = keep.int().sum_dim(dim).greater_elem(0);
    out.mask_fill(any_kept.bool_not(), 0.0)
}

/// `log(sum(exp(x)))` along `dim` with the maximum subtracted.
pub(crate) fn logsumexp<B: Backend, const D: usize>(x: Tensor<B, D>, dim: usize) -> Tensor<B, D> {
    let max = x.clone().detach().max_dim(dim);
    max.clone() + (x - max).exp().sum_dim(dim).log()
}

/// Stable log-softmax along `dim`.
pub(crate) fn log_softmax<B: Backend, const D: usize>(x: Tensor<B, D>, dim: usize) -> Tensor<B, D> {
    let lse = logsumexp(x.clone(), dim);
    x - lse
}

/// torch's `softplus(x, beta=1, threshold=20)`: linear above the threshold.
pub(crate) fn softplus<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let linear = x.clone().greater_elem(20.0);
    let soft = x.clone().clamp_max(20.0).exp().log1p();
    soft.mask_where(linear, x)
}

/// `sqrt` whose value and gradient are 0 where the input is exactly 0 (as torch.cdist's backward),
/// so unused zero distances (the diagonal) do not poison the backward pass with NaN.
pub(crate) fn sqrt_zero_safe<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let zero = x.clone().detach().lower_equal_elem(0.0);
    let zero_f = zero.clone().float();
    let safe = (x + zero_f.clone()).sqrt();
    safe * (zero_f.neg() + 1.0)
}

/// `mat[rows[i], cols[i]]` for index lists (differentiable gather through the flattened matrix).
pub(crate) fn pick<B: Backend>(mat: Tensor<B, 2>, rows: &[i64], cols: &[i64]) -> Tensor<B, 1> {
    let [_, n_cols] = mat.dims();
    let device = mat.device();
    let flat: Vec<i64> = rows
        .iter()
        .zip(cols)
        .map(|(r, c)| r * n_cols as i64 + c)
        .collect();
    let idx = int_tensor::<B>(&flat, &device);
    mat.reshape([-1]).select(0, idx)
}

/// A 1-D Int tensor from host indices.
pub(crate) fn int_tensor<B: Backend>(values: &[i64], device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Host copy of an Int tensor.
pub(crate) fn host_ints<B: Backend, const D: usize>(t: &Tensor<B, D, Int>) -> Vec<i64> {
    t.to_data().iter::<i64>().collect()
}

/// Host copy of a float tensor.
pub(crate) fn host_floats<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f32> {
    t.to_data().iter::<f32>().collect()
}

/// The scalar PML returns when a loss has nothing to average: `sum(embeddings * 0)`, kept in the
/// graph so that backward still reaches the embeddings (with zero gradient).
pub(crate) fn zero_loss<B: Backend>(embeddings: &Tensor<B, 2>) -> Tensor<B, 1> {
    embeddings.clone().sum().mul_scalar(0.0)
}

/// `[N, N]` masks of same-label pairs without the diagonal (positives) and different-label
/// pairs (negatives), built on the device.
pub(crate) fn label_masks<B: Backend>(
    labels: &Tensor<B, 1, Int>,
) -> (Tensor<B, 2, Bool>, Tensor<B, 2, Bool>) {
    let n = labels.dims()[0];
    let col = labels.clone().reshape([n, 1]).expand([n, n]);
    let row = labels.clone().reshape([1, n]).expand([n, n]);
    let same = col.equal(row);
    let eye = Tensor::<B, 2, Int>::eye(n, &labels.device()).equal_elem(1);
    let pos = same.clone().bool_and(eye.bool_not());
    (pos, same.bool_not())
}
