//! Building burn layers from named host arrays, and reading them back out, in torch layout.
//!
//! One builder path serves both a checkpoint (`ParamSource` backed by safetensors) and fresh
//! initialisation (`ParamSource` backed by a seeded RNG), so names and shapes are stated once
//! per module. Names are transformers' names relative to the encoder (`embeddings.LayerNorm.weight`).

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::init::NormalInit;

/// What a parameter is, which decides its fresh initial value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Linear and embedding weights: normal(0, initializer_range).
    Weight,
    /// Linear biases and LayerNorm shifts: zero.
    Zero,
    /// LayerNorm scales: one.
    One,
}

/// Supplies f32 values, row-major in torch layout, for a named parameter of a given shape.
pub trait ParamSource {
    fn take(&mut self, name: &str, shape: &[usize], kind: ParamKind) -> Vec<f32>;
}

/// Fresh parameters as transformers initialises them, from a seed.
pub struct FreshParams {
    normal: NormalInit,
}

impl FreshParams {
    pub fn new(seed: u64, initializer_range: f64) -> Self {
        Self {
            normal: NormalInit::new(seed, initializer_range),
        }
    }

    /// The two streams of a new classification head (dense, out_proj), so that each layer's
    /// initial values depend only on the seed, not on which other layer was loaded.
    pub fn head_streams(seed: u64, initializer_range: f64) -> (Self, Self) {
        (
            Self::new(seed, initializer_range),
            Self::new(seed.wrapping_add(1), initializer_range),
        )
    }
}

impl ParamSource for FreshParams {
    fn take(&mut self, _name: &str, shape: &[usize], kind: ParamKind) -> Vec<f32> {
        let len = shape.iter().product();
        match kind {
            ParamKind::Weight => self.normal.sample(len),
            ParamKind::Zero => vec![0.0; len],
            ParamKind::One => vec![1.0; len],
        }
    }
}

fn join(path: &str, leaf: &str) -> String {
    format!("{path}.{leaf}")
}

fn tensor<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// torch `nn.Linear` at `path` (`weight [out, in]`, `bias [out]`) as a burn `Linear` (`[in, out]`).
pub fn linear<B: Backend>(
    src: &mut dyn ParamSource,
    path: &str,
    d_in: usize,
    d_out: usize,
    device: &B::Device,
) -> Linear<B> {
    linear_with_bias(src, path, d_in, d_out, true, device)
}

/// As [`linear`]; without `bias` (ModernBERT's layers) the layer has no bias parameter.
pub fn linear_with_bias<B: Backend>(
    src: &mut dyn ParamSource,
    path: &str,
    d_in: usize,
    d_out: usize,
    bias: bool,
    device: &B::Device,
) -> Linear<B> {
    let torch_weight = src.take(&join(path, "weight"), &[d_out, d_in], ParamKind::Weight);
    let weight = transpose(&torch_weight, d_out, d_in);
    let bias = bias.then(|| {
        let values = src.take(&join(path, "bias"), &[d_out], ParamKind::Zero);
        Param::from_tensor(tensor(values, [d_out], device))
    });
    Linear {
        weight: Param::from_tensor(tensor(weight, [d_in, d_out], device)),
        bias,
    }
}

pub fn embedding<B: Backend>(
    src: &mut dyn ParamSource,
    path: &str,
    count: usize,
    dim: usize,
    device: &B::Device,
) -> Embedding<B> {
    let weight = src.take(&join(path, "weight"), &[count, dim], ParamKind::Weight);
    Embedding {
        weight: Param::from_tensor(tensor(weight, [count, dim], device)),
    }
}

pub fn layer_norm<B: Backend>(
    src: &mut dyn ParamSource,
    path: &str,
    dim: usize,
    eps: f64,
    device: &B::Device,
) -> LayerNorm<B> {
    layer_norm_with_bias(src, path, dim, eps, true, device)
}

/// As [`layer_norm`]; without `bias` (ModernBERT's `norm_bias: false`) there is no shift.
pub fn layer_norm_with_bias<B: Backend>(
    src: &mut dyn ParamSource,
    path: &str,
    dim: usize,
    eps: f64,
    bias: bool,
    device: &B::Device,
) -> LayerNorm<B> {
    let gamma = src.take(&join(path, "weight"), &[dim], ParamKind::One);
    // The epsilon field is private: build through the config, then replace the parameters.
    let mut norm = LayerNormConfig::new(dim).with_epsilon(eps).init(device);
    norm.gamma = Param::from_tensor(tensor(gamma, [dim], device));
    norm.beta = bias.then(|| {
        let beta = src.take(&join(path, "bias"), &[dim], ParamKind::Zero);
        Param::from_tensor(tensor(beta, [dim], device))
    });
    norm
}

/// Row-major `[rows, cols]` -> `[cols, rows]`.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// A parameter as it goes into a checkpoint: transformers name, torch shape, f32 values.
pub struct NamedArray {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> (Vec<usize>, Vec<f32>) {
    let shape = t.dims().to_vec();
    let data = t.into_data().convert::<f32>();
    let values = data.to_vec::<f32>().expect("converted tensor data is f32");
    (shape, values)
}

fn push<B: Backend, const D: usize>(out: &mut Vec<NamedArray>, name: String, t: Tensor<B, D>) {
    let (shape, values) = host(t);
    out.push(NamedArray {
        name,
        shape,
        values,
    });
}

pub fn export_linear<B: Backend>(out: &mut Vec<NamedArray>, path: &str, layer: &Linear<B>) {
    let (shape, values) = host(layer.weight.val());
    let (d_in, d_out) = (shape[0], shape[1]);
    out.push(NamedArray {
        name: join(path, "weight"),
        shape: vec![d_out, d_in],
        values: transpose(&values, d_in, d_out),
    });
    if let Some(bias) = &layer.bias {
        push(out, join(path, "bias"), bias.val());
    }
}

pub fn export_embedding<B: Backend>(out: &mut Vec<NamedArray>, path: &str, layer: &Embedding<B>) {
    push(out, join(path, "weight"), layer.weight.val());
}

pub fn export_layer_norm<B: Backend>(out: &mut Vec<NamedArray>, path: &str, layer: &LayerNorm<B>) {
    push(out, join(path, "weight"), layer.gamma.val());
    if let Some(beta) = &layer.beta {
        push(out, join(path, "bias"), beta.val());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_rows_and_columns() {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        assert_eq!(
            transpose(&[1., 2., 3., 4., 5., 6.], 2, 3),
            vec![1., 4., 2., 5., 3., 6.]
        );
    }
}
