//! Multi-head self-attention (`attention.self.*`, MPNet's `attention.attn.*`, DeBERTa's
//! `attention.self.*_proj`) and the residual output block shared by `attention.output.*` and
//! `output.*` (dense, dropout, add, LayerNorm: post-LN); [`masked_attention`], the plain-ops
//! attention of the families whose scores the fused kernel does not take (DeBERTa, ModernBERT).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use crate::config::{EncoderConfig, ModelFamily};
use crate::dropout::dropout;
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
            ModelFamily::DebertaV2 => AttentionNames {
                query: "attention.self.query_proj",
                key: "attention.self.key_proj",
                value: "attention.self.value_proj",
                output_dense: "attention.output.dense",
                output_norm: "attention.output.LayerNorm",
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
    /// DeBERTa without `share_att_key`: the projections of the relative embeddings for c2p
    /// (`pos_key_proj`) and p2c (`pos_query_proj`).
    pub pos_key_proj: Option<Linear<B>>,
    pub pos_query_proj: Option<Linear<B>>,
    pub dropout: Dropout,
    pub num_heads: usize,
}

/// DeBERTa's separate position projections, relative to the layer.
const POS_KEY_PROJ: &str = "attention.self.pos_key_proj";
const POS_QUERY_PROJ: &str = "attention.self.pos_query_proj";

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
        let separate = config
            .deberta
            .as_ref()
            .filter(|d| d.relative_attention && !d.share_att_key);
        let query = params::linear(src, &format!("{layer}.{}", names.query), h, h, device);
        let key = params::linear(src, &format!("{layer}.{}", names.key), h, h, device);
        let value = params::linear(src, &format!("{layer}.{}", names.value), h, h, device);
        // transformers' order: pos_key_proj (c2p) before pos_query_proj (p2c)
        let pos_key_proj = separate
            .filter(|d| d.c2p)
            .map(|_| params::linear(src, &format!("{layer}.{POS_KEY_PROJ}"), h, h, device));
        let pos_query_proj = separate
            .filter(|d| d.p2c)
            .map(|_| params::linear(src, &format!("{layer}.{POS_QUERY_PROJ}"), h, h, device));
        Self {
            query,
            key,
            value,
            pos_key_proj,
            pos_query_proj,
            dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            num_heads: config.num_attention_heads,
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, layer: &str, names: &AttentionNames) {
        params::export_linear(out, &format!("{layer}.{}", names.query), &self.query);
        params::export_linear(out, &format!("{layer}.{}", names.key), &self.key);
        params::export_linear(out, &format!("{layer}.{}", names.value), &self.value);
        if let Some(proj) = &self.pos_key_proj {
            params::export_linear(out, &format!("{layer}.{POS_KEY_PROJ}"), proj);
        }
        if let Some(proj) = &self.pos_query_proj {
            params::export_linear(out, &format!("{layer}.{POS_QUERY_PROJ}"), proj);
        }
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

/// `[batch, seq, hidden]` -> `[batch, heads, seq, head_dim]`.
pub fn split_heads<B: Backend>(x: Tensor<B, 3>, heads: usize) -> Tensor<B, 4> {
    let [batch, seq, hidden] = x.dims();
    x.reshape([batch, seq, heads, hidden / heads])
        .swap_dims(1, 2)
}

/// Softmax attention over `scores [batch, heads, seq, seq]` (already scaled and biased) where
/// only `allowed [batch, 1, seq, seq]` pairs count: the others get MASK_VALUE in place of their
/// score, as transformers' `masked_fill` does, so a query with no allowed key attends uniformly
/// to every key as in transformers. `v [batch, heads, seq, head_dim]`; the context comes back
/// as `[batch, seq, hidden]`.
pub fn masked_attention<B: Backend>(
    scores: Tensor<B, 4>,
    allowed: Tensor<B, 4, Bool>,
    v: Tensor<B, 4>,
    attention_dropout: &Dropout,
) -> Tensor<B, 3> {
    let [batch, heads, seq, head_dim] = v.dims();
    let blocked = allowed.bool_not().expand([batch, heads, seq, seq]);
    let probs = softmax(scores.mask_fill(blocked, MASK_VALUE), 3);
    let context = dropout(attention_dropout, probs).matmul(v);
    context
        .swap_dims(1, 2)
        .reshape([batch, seq, heads * head_dim])
}
