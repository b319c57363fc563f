//! The encoder: embeddings and the stack of layers (a `BertModel` / `RobertaModel` /
//! `ElectraModel` / `MPNetModel` / `DebertaV2Model` / `ModernBertModel` without pooler).

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::attention::{mask_bias, AttentionNames};
use crate::config::EncoderConfig;
use crate::deberta::{self, RelativeEmbeddings};
use crate::embeddings::Embeddings;
use crate::kernels::linear_tokens;
use crate::layer::EncoderLayer;
use crate::modernbert::{self, ModernBertLayers};
use crate::mpnet_bias;
use crate::params::{self, FreshParams, NamedArray, ParamSource};

/// ELECTRA's projection of the embeddings to the hidden width.
const EMBEDDINGS_PROJECT: &str = "embeddings_project";
/// MPNet's position-bias table, `[buckets, heads]`.
const RELATIVE_ATTENTION_BIAS: &str = "encoder.relative_attention_bias";

#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    pub embeddings: Embeddings<B>,
    /// ELECTRA with `embedding_size != hidden_size`: `embeddings_project`.
    pub embeddings_project: Option<Linear<B>>,
    /// The post-LN layers (empty for ModernBERT).
    pub layers: Vec<EncoderLayer<B>>,
    /// MPNet: `encoder.relative_attention_bias`, shared by all layers.
    pub relative_attention_bias: Option<Embedding<B>>,
    /// DeBERTa: `encoder.rel_embeddings` (and its LayerNorm), shared by all layers.
    pub rel_embeddings: Option<RelativeEmbeddings<B>>,
    /// ModernBERT: its pre-norm layers and final norm.
    pub modernbert: Option<ModernBertLayers<B>>,
    #[module(skip)]
    pub config: EncoderConfig,
}

impl<B: Backend> Encoder<B> {
    /// Builds every parameter from `src` (a checkpoint or a fresh initialiser).
    pub fn build(config: &EncoderConfig, src: &mut dyn ParamSource, device: &B::Device) -> Self {
        let embeddings = Embeddings::build(config, src, device);
        let embeddings_project = (config.embedding_size != config.hidden_size).then(|| {
            params::linear(
                src,
                EMBEDDINGS_PROJECT,
                config.embedding_size,
                config.hidden_size,
                device,
            )
        });
        let modernbert = ModernBertLayers::build(config, src, device);
        let post_ln_layers = if modernbert.is_some() {
            0
        } else {
            config.num_hidden_layers
        };
        let layers = (0..post_ln_layers)
            .map(|i| EncoderLayer::build(config, i, src, device))
            .collect();
        let rel_embeddings = RelativeEmbeddings::build(config, src, device);
        let relative_attention_bias = (config.relative_attention_num_buckets > 0).then(|| {
            params::embedding(
                src,
                RELATIVE_ATTENTION_BIAS,
                config.relative_attention_num_buckets,
                config.num_attention_heads,
                device,
            )
        });
        Self {
            embeddings,
            embeddings_project,
            layers,
            relative_attention_bias,
            rel_embeddings,
            modernbert,
            config: config.clone(),
        }
    }

    /// A randomly initialised encoder (transformers' init scheme) for benchmarks and tests.
    pub fn random(config: &EncoderConfig, seed: u64, device: &B::Device) -> Self {
        Self::build(
            config,
            &mut FreshParams::new(seed, config.initializer_range),
            device,
        )
    }

    /// All parameters under transformers' names, without the `bert.` / `roberta.` / ... prefix.
    pub fn export(&self, out: &mut Vec<NamedArray>) {
        self.embeddings.export(out, self.config.family);
        if let Some(project) = &self.embeddings_project {
            params::export_linear(out, EMBEDDINGS_PROJECT, project);
        }
        let names = AttentionNames::for_family(self.config.family);
        for (i, layer) in self.layers.iter().enumerate() {
            layer.export(out, i, &names);
        }
        if let Some(table) = &self.relative_attention_bias {
            params::export_embedding(out, RELATIVE_ATTENTION_BIAS, table);
        }
        if let Some(relative) = &self.rel_embeddings {
            relative.export(out);
        }
        if let Some(modern) = &self.modernbert {
            modern.export(out);
        }
    }

    pub fn hidden_size(&self) -> usize {
        self.config.hidden_size
    }

    /// Token states `[batch, seq, hidden]` (transformers' `last_hidden_state`).
    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let words = self.embeddings.word_embeddings(input_ids.clone());
        self.forward_from_word_embeddings(words, &input_ids, attention_mask, token_type_ids)
    }

    /// As `forward`, from word embeddings already looked up (so gradients can be taken with
    /// respect to them); `input_ids` only decide RoBERTa's position ids.
    pub fn forward_from_word_embeddings(
        &self,
        word_embeddings: Tensor<B, 3>,
        input_ids: &Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        if let Some(modern) = &self.modernbert {
            let context = modernbert::Context::new(&self.config, &attention_mask);
            let hidden = self.embeddings.forward_from_word_embeddings(
                word_embeddings,
                input_ids,
                token_type_ids,
            );
            return modern.forward(hidden, &context);
        }
        if let Some(settings) = &self.config.deberta {
            let context =
                deberta::Context::new(settings, self.rel_embeddings.as_ref(), &attention_mask);
            let embedded = self.embeddings.forward_from_word_embeddings(
                word_embeddings,
                input_ids,
                token_type_ids,
            );
            // DebertaV2Embeddings zeroes the padding positions
            let mut hidden = embedded * attention_mask.float().unsqueeze_dim::<3>(2);
            for layer in &self.layers {
                let attended =
                    deberta::attend(&layer.attention.self_attention, hidden.clone(), &context);
                hidden = layer.after_attention(attended, hidden);
            }
            return hidden;
        }
        let mut bias = mask_bias(&attention_mask);
        if let Some(table) = &self.relative_attention_bias {
            let [batch, _, _, seq] = bias.dims();
            let heads = self.config.num_attention_heads;
            let shape = [batch, heads, seq, seq];
            bias = mpnet_bias::position_bias(table, seq).expand(shape) + bias.expand(shape);
        }
        let mut hidden = self.embeddings.forward_from_word_embeddings(
            word_embeddings,
            input_ids,
            token_type_ids,
        );
        if let Some(project) = &self.embeddings_project {
            hidden = linear_tokens(project, hidden);
        }
        for layer in &self.layers {
            hidden = layer.forward(hidden, bias.clone());
        }
        hidden
    }
}
