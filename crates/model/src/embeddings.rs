//! Word + position + token-type embeddings, LayerNorm and dropout (`*.embeddings.*`), of width
//! `embedding_size` (ELECTRA's projection to `hidden_size` is the encoder's). DeBERTa-v3 has
//! neither positions nor token types; ModernBERT's are word embeddings and a norm only
//! (`embeddings.tok_embeddings`, `embeddings.norm`).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::config::{EncoderConfig, ModelFamily};
use crate::dropout::dropout;
use crate::params::{self, NamedArray, ParamSource};

#[derive(Module, Debug)]
pub struct Embeddings<B: Backend> {
    pub word_embeddings: Embedding<B>,
    /// Absent for ModernBERT (rotary positions) and DeBERTa without `position_biased_input`.
    pub position_embeddings: Option<Embedding<B>>,
    /// Absent for MPNet and ModernBERT, which have no token types, and DeBERTa-v3.
    pub token_type_embeddings: Option<Embedding<B>>,
    pub layer_norm: LayerNorm<B>,
    pub dropout: Dropout,
    /// RoBERTa: positions count non-pad tokens from `pad_token_id + 1`; BERT: `0..seq_len`.
    pub positions_follow_padding: bool,
    pub pad_token_id: usize,
}

/// (word embeddings, norm) tensor paths of a family.
fn names(family: ModelFamily) -> (&'static str, &'static str) {
    match family {
        ModelFamily::ModernBert => ("embeddings.tok_embeddings", "embeddings.norm"),
        _ => ("embeddings.word_embeddings", "embeddings.LayerNorm"),
    }
}

impl<B: Backend> Embeddings<B> {
    pub fn build(config: &EncoderConfig, src: &mut dyn ParamSource, device: &B::Device) -> Self {
        let h = config.embedding_size;
        let (word, norm) = names(config.family);
        let norm_bias = config.modernbert.as_ref().is_none_or(|m| m.norm_bias);
        let dropout = match &config.modernbert {
            Some(m) => m.embedding_dropout,
            None => config.hidden_dropout_prob,
        };
        Self {
            word_embeddings: params::embedding(src, word, config.vocab_size, h, device),
            position_embeddings: config.has_absolute_positions().then(|| {
                params::embedding(
                    src,
                    "embeddings.position_embeddings",
                    config.max_position_embeddings,
                    h,
                    device,
                )
            }),
            token_type_embeddings: config.has_token_types().then(|| {
                params::embedding(
                    src,
                    "embeddings.token_type_embeddings",
                    config.type_vocab_size,
                    h,
                    device,
                )
            }),
            layer_norm: params::layer_norm_with_bias(
                src,
                norm,
                h,
                config.layer_norm_eps,
                norm_bias,
                device,
            ),
            dropout: DropoutConfig::new(dropout).init(),
            positions_follow_padding: config.family.positions_follow_padding(),
            pad_token_id: config.pad_token_id,
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, family: ModelFamily) {
        let (word, norm) = names(family);
        params::export_embedding(out, word, &self.word_embeddings);
        if let Some(positions) = &self.position_embeddings {
            params::export_embedding(out, "embeddings.position_embeddings", positions);
        }
        if let Some(token_types) = &self.token_type_embeddings {
            params::export_embedding(out, "embeddings.token_type_embeddings", token_types);
        }
        params::export_layer_norm(out, norm, &self.layer_norm);
    }

    /// Looks up word embeddings: `[batch, seq]` ids -> `[batch, seq, hidden]`.
    pub fn word_embeddings(&self, input_ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        self.word_embeddings.forward(input_ids)
    }

    /// Position ids as transformers computes them from `input_ids`.
    pub fn position_ids(&self, input_ids: &Tensor<B, 2, Int>) -> Tensor<B, 2, Int> {
        let [batch, seq] = input_ids.dims();
        if self.positions_follow_padding {
            // create_position_ids_from_input_ids: cumsum(non-pad) * non-pad + padding_idx, so
            // left and right padding both give real tokens positions padding_idx+1, +2, ...
            let not_pad = input_ids
                .clone()
                .not_equal_elem(self.pad_token_id as i64)
                .int();
            not_pad.clone().cumsum(1) * not_pad + self.pad_token_id as i64
        } else {
            Tensor::<B, 1, Int>::arange(0..seq as i64, &input_ids.device())
                .reshape([1, seq])
                .expand([batch, seq])
        }
    }

    /// Embeddings from already looked-up word embeddings (the Integrated Gradients entry point);
    /// `input_ids` only decide the RoBERTa position ids.
    pub fn forward_from_word_embeddings(
        &self,
        word_embeddings: Tensor<B, 3>,
        input_ids: &Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let mut summed = word_embeddings;
        if let Some(table) = &self.position_embeddings {
            summed = summed + table.forward(self.position_ids(input_ids));
        }
        if let Some(table) = &self.token_type_embeddings {
            summed = summed + table.forward(token_type_ids);
        }
        dropout(&self.dropout, self.layer_norm.forward(summed))
    }

    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let words = self.word_embeddings(input_ids.clone());
        self.forward_from_word_embeddings(words, &input_ids, token_type_ids)
    }
}
