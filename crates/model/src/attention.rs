//! Multi-head self-attention (`attention.self.*`, MPNet's `attention.attn.*`) and the residual
//! output block shared by `attention.output.*` and `output.*` (dense, dropout, add, LayerNorm:
//! post-LN).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::config::{EncoderConfig, ModelFamily};
use crate::kernels::{add_layer_norm, attention_context, linear_tokens};
use crate::params::{self, NamedArray, ParamSource};

/// Added to attention scores of padding keys. Large enough that exp() underflows to exactly 0
/// in f32 (like transformers' finfo.min) while staying finite in f16, so a row whose keys are
/// all padding gives uniform weights instead of NaN.
pub const MASK_VALUE: f32 = -1.0e4;

/// Where a layer's attention tensors live, relative to the layer (`encoder.layer.{i}`): the
/// blocks are the same in every family, only the names differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    /// The projection of the context back to `hidden` (BERT's `attention.output.dense`).
    pub output_dense: &'static str,
    pub output_norm: &'static str,
}

impl AttentionNames {
    pub fn for_family(family: ModelFamily) -> Self {
        match family {
            ModelFamily::Mpnet => AttentionNames {
                query: "attention.attn.q",
                key: "attention.attn.k",
                value: "attention.attn.v",
                output_dense: "attention.attn.o",
                output_norm: "attention.LayerNorm",
            },
            _ => AttentionNames {
                query: "attention.self.query",
                key: "attention.self.key",
                value: "attention.self.value",
                output_dense: "attention.output.dense",
                output_norm: "attention.output.LayerNorm",
            },
        }
    }
}

#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    pub query: Linear<B>,
    pub key: Linear<B>,
    pub value: Linear<B>,
    pub dropout: Dropout,
    pub num_heads: usize,
}

impl<B: Backend> SelfAttention<B> {
    /// `layer` is the layer's path (`encoder.layer.{i}`).
    pub fn build(
        config: &EncoderConfig,
        layer: &str,
        names: &AttentionNames,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Self {
        let h = config.hidden_size;
        Self {
            query: params::linear(src, &format!("{layer}.{}", names.query), h, h, device),
            key: params::linear(src, &format!("{layer}.{}", names.key), h, h, device),
            value: params::linear(src, &format!("{layer}.{}", names.value), h, h, device),
            dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            num_heads: config.num_attention_heads,
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, layer: &str, names: &AttentionNames) {
        params::export_linear(out, &format!("{layer}.{}", names.query), &self.query);
        params::export_linear(out, &format!("{layer}.{}", names.key), &self.key);
        params::export_linear(out, &format!("{layer}.{}", names.value), &self.value);
    }

    /// `hidden [batch, seq, hidden]`; `bias` added to the scaled scores: the padding mask
    /// `[batch, 1, 1, seq]` (0 or MASK_VALUE), or with MPNet's position bias `[batch, heads, seq, seq]`.
    pub fn forward(&self, hidden: Tensor<B, 3>, bias: Tensor<B, 4>) -> Tensor<B, 3> {
        let q = linear_tokens(&self.query, hidden.clone());
        let k = linear_tokens(&self.key, hidden.clone());
        let v = linear_tokens(&self.value, hidden);
        attention_context(q, k, v, bias, self.num_heads, &self.dropout)
    }
}

/// `LayerNorm(dropout(dense(x)) + residual)`.
#[derive(Module, Debug)]
pub struct ResidualOutput<B: Backend> {
    pub dense: Linear<B>,
    pub layer_norm: LayerNorm<B>,
    pub dropout: Dropout,
    /// The LayerNorm's epsilon (burn's `LayerNorm` keeps its own private; the fused kernel
    /// needs it).
    pub layer_norm_eps: f64,
}

impl<B: Backend> ResidualOutput<B> {
    /// `dense` and `norm` are the two layers' full paths.
    pub fn build(
        config: &EncoderConfig,
        dense: &str,
        norm: &str,
        d_in: usize,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Self {
        let h = config.hidden_size;
        Self {
            dense: params::linear(src, dense, d_in, h, device),
            layer_norm: params::layer_norm(src, norm, h, config.layer_norm_eps, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, dense: &str, norm: &str) {
        params::export_linear(out, dense, &self.dense);
        params::export_layer_norm(out, norm, &self.layer_norm);
    }

    pub fn forward(&self, x: Tensor<B, 3>, residual: Tensor<B, 3>) -> Tensor<B, 3> {
        let projected = linear_tokens(&self.dense, x);
        add_layer_norm(
            &self.layer_norm,
            self.layer_norm_eps,
            projected,
            residual,
            &self.dropout,
        )
    }
}

/// The additive attention bias from a `[batch, seq]` 1/0 mask: `[batch, 1, 1, seq]`.
pub fn mask_bias<B: Backend>(attention_mask: &Tensor<B, 2, Int>) -> Tensor<B, 4> {
    let [batch, seq] = attention_mask.dims();
    let keep = attention_mask.clone().float();
    ((keep.neg() + 1.0) * MASK_VALUE).reshape([batch, 1, 1, seq])
}
