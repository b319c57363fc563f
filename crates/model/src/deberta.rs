//! DeBERTa-v2/v3's disentangled attention (transformers' `DisentangledSelfAttention`): besides
//! the content-to-content scores, content-to-position (c2p: each query against the relative
//! embedding of its distance to the key) and position-to-content (p2c: each key against the
//! relative embedding of the distance back to the query), with distances log-bucketed beyond
//! `position_buckets / 2` and clamped to the table. The relative embeddings
//! (`encoder.rel_embeddings`, optionally normalised by `encoder.LayerNorm`) are shared by all
//! layers; each layer projects them with its own key / query projections (`share_att_key`) or
//! separate `pos_key_proj` / `pos_query_proj`. The layers are otherwise BERT's (`layer.rs`).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};

use crate::attention::{masked_attention, split_heads, SelfAttention};
use crate::config::{DebertaSettings, EncoderConfig};
use crate::dropout::dropout;
use crate::kernels::linear_tokens;
use crate::params::{self, NamedArray, ParamSource};

const REL_EMBEDDINGS: &str = "encoder.rel_embeddings";
const REL_NORM: &str = "encoder.LayerNorm";

/// The relative embeddings shared by every layer.
#[derive(Module, Debug)]
pub struct RelativeEmbeddings<B: Backend> {
    /// `[2 * span, hidden]`.
    pub rel_embeddings: Embedding<B>,
    /// `norm_rel_ebd: "layer_norm"`.
    pub layer_norm: Option<LayerNorm<B>>,
    /// transformers' `pos_dropout` (hidden dropout), drawn anew in each layer.
    pub dropout: Dropout,
}

impl<B: Backend> RelativeEmbeddings<B> {
    /// `None` without `relative_attention`.
    pub fn build(
        config: &EncoderConfig,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Option<Self> {
        let settings = config.deberta.as_ref().filter(|d| d.relative_attention)?;
        let h = config.hidden_size;
        let rel_embeddings = params::embedding(src, REL_EMBEDDINGS, 2 * settings.span(), h, device);
        let layer_norm = settings
            .norm_rel_ebd
            .then(|| params::layer_norm(src, REL_NORM, h, config.layer_norm_eps, device));
        Some(Self {
            rel_embeddings,
            layer_norm,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        })
    }

    pub fn export(&self, out: &mut Vec<NamedArray>) {
        params::export_embedding(out, REL_EMBEDDINGS, &self.rel_embeddings);
        if let Some(norm) = &self.layer_norm {
            params::export_layer_norm(out, REL_NORM, norm);
        }
    }

    /// The (normalised) table, `[2 * span, hidden]`.
    fn table(&self) -> Tensor<B, 2> {
        let table = self.rel_embeddings.weight.val();
        match &self.layer_norm {
            Some(norm) => norm.forward(table),
            None => table,
        }
    }
}

/// The relative position of key `key` seen from query `query` (`query - key`), bucketed as
/// transformers' `make_log_bucket_position` does (in f32, as torch computes it): exact up to
/// `buckets / 2`, log-spaced beyond, reaching `buckets / 2 + (buckets / 2 - 1)` at
/// `max_position - 1`. `buckets == 0`: not bucketed.
pub fn relative_position(query: usize, key: usize, buckets: usize, max_position: usize) -> i64 {
    let relative = query as i64 - key as i64;
    let mid = (buckets / 2) as i64;
    if buckets == 0 || max_position == 0 || relative.abs() <= mid {
        return relative;
    }
    let ratio = (relative.abs() as f32 / mid as f32).ln()
        / (((max_position - 1) as f64 / mid as f64) as f32).ln();
    let log_pos = (ratio * (mid - 1) as f32).ceil() + mid as f32;
    log_pos as i64 * relative.signum()
}

/// The relative table `[2 * buckets, hidden]` and the gather indices of c2p `[1, 1, q, k]` and
/// p2c `[1, 1, k, q]`.
pub type RelativeInputs<B> = (Tensor<B, 2>, Tensor<B, 4, Int>, Tensor<B, 4, Int>);

/// What every layer's attention needs, computed once per forward pass.
pub struct Context<B: Backend> {
    /// `[batch, 1, seq, seq]`: query and key both real tokens (transformers'
    /// `get_attention_mask`).
    pub allowed: Tensor<B, 4, Bool>,
    /// `None` without relative attention.
    pub relative: Option<RelativeInputs<B>>,
    pub settings: DebertaSettings,
    pub pos_dropout: Dropout,
}

impl<B: Backend> Context<B> {
    pub fn new(
        settings: &DebertaSettings,
        relative: Option<&RelativeEmbeddings<B>>,
        attention_mask: &Tensor<B, 2, Int>,
    ) -> Self {
        let [batch, seq] = attention_mask.dims();
        let real = attention_mask.clone().equal_elem(1);
        let allowed = real
            .clone()
            .reshape([batch, 1, seq, 1])
            .expand([batch, 1, seq, seq])
            .bool_and(
                real.reshape([batch, 1, 1, seq])
                    .expand([batch, 1, seq, seq]),
            );
        let device = attention_mask.device();
        let span = settings.span() as i64;
        let index = |sign: i64| {
            // row a, column b: clamp(sign * rel(a, b) + span) into the table of 2 * span rows
            let values: Vec<i64> = (0..seq)
                .flat_map(|a| {
                    (0..seq).map(move |b| {
                        let rel = relative_position(
                            a,
                            b,
                            settings.position_buckets,
                            settings.max_relative_positions,
                        );
                        (sign * rel + span).clamp(0, 2 * span - 1)
                    })
                })
                .collect();
            Tensor::<B, 4, Int>::from_data(TensorData::new(values, [1, 1, seq, seq]), &device)
        };
        let pos_dropout = relative
            .map(|r| r.dropout.clone())
            .unwrap_or_else(|| DropoutConfig::new(0.0).init());
        Self {
            allowed,
            relative: relative.map(|r| (r.table(), index(1), index(-1))),
            settings: settings.clone(),
            pos_dropout,
        }
    }
}

/// One layer's attention context `[batch, seq, hidden]` (before `attention.output`).
pub fn attend<B: Backend>(
    attention: &SelfAttention<B>,
    hidden: Tensor<B, 3>,
    context: &Context<B>,
) -> Tensor<B, 3> {
    let heads = attention.num_heads;
    let q = split_heads(linear_tokens(&attention.query, hidden.clone()), heads);
    let k = split_heads(linear_tokens(&attention.key, hidden.clone()), heads);
    let v = split_heads(linear_tokens(&attention.value, hidden), heads);
    let [batch, _, seq, head_dim] = q.dims();
    let settings = &context.settings;
    // sqrt(head_dim * scale_factor) in f32, as transformers' scaled_size_sqrt
    let scale = (head_dim as f32 * settings.scale_factor() as f32).sqrt();
    let mut scores = q.clone().matmul(k.clone().swap_dims(2, 3)) / scale;
    if let Some((table, c2p_index, p2c_index)) = &context.relative {
        let rel = dropout(&context.pos_dropout, table.clone()).unsqueeze_dim::<3>(0);
        let rows = rel.dims()[1];
        let project = |layer| {
            split_heads(linear_tokens(layer, rel.clone()), heads)
                .expand([batch, heads, rows, head_dim])
        };
        let shape = [batch, heads, seq, seq];
        if settings.c2p {
            let proj = attention.pos_key_proj.as_ref().unwrap_or(&attention.key);
            let c2p = q.matmul(project(proj).swap_dims(2, 3));
            scores = scores + c2p.gather(3, c2p_index.clone().expand(shape)) / scale;
        }
        if settings.p2c {
            let proj = attention
                .pos_query_proj
                .as_ref()
                .unwrap_or(&attention.query);
            let p2c = k.matmul(project(proj).swap_dims(2, 3));
            let gathered = p2c.gather(3, p2c_index.clone().expand(shape));
            scores = scores + gathered.swap_dims(2, 3) / scale;
        }
    }
    masked_attention(scores, context.allowed.clone(), v, &attention.dropout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_positions_follow_transformers() {
        // transformers' build_relative_position(bucket_size=8, max_position=40)[0, 0, k] for
        // k = 0..20 (query 0), and with bucket_size 256, max_position 512 (DeBERTa-v3's).
        let expected = [
            0, -1, -2, -3, -4, -5, -5, -5, -5, -6, -6, -6, -6, -6, -6, -6, -6, -6, -6, -7,
        ];
        let got: Vec<i64> = (0..20).map(|k| relative_position(0, k, 8, 40)).collect();
        assert_eq!(got, expected);
        assert_eq!(relative_position(19, 0, 8, 40), 7);
        assert_eq!(relative_position(5, 5, 8, 40), 0);
        assert_eq!(relative_position(0, 30, 0, 40), -30);
        for (key, want) in [
            (127, -127),
            (128, -128),
            (129, -129),
            (200, -169),
            (300, -207),
            (511, -255),
        ] {
            assert_eq!(relative_position(0, key, 256, 512), want, "key {key}");
        }
    }
}
