//! The encoder: embeddings and the stack of layers (a `BertModel` / `RobertaModel` without pooler).

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::attention::mask_bias;
use crate::config::EncoderConfig;
use crate::embeddings::Embeddings;
use crate::layer::EncoderLayer;
use crate::params::{FreshParams, NamedArray, ParamSource};

#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    pub embeddings: Embeddings<B>,
    pub layers: Vec<EncoderLayer<B>>,
    #[module(skip)]
    pub config: EncoderConfig,
}

impl<B: Backend> Encoder<B> {
    /// Builds every parameter from `src` (a checkpoint or a fresh initialiser).
    pub fn build(config: &EncoderConfig, src: &mut dyn ParamSource, device: &B::Device) -> Self {
        Self {
            embeddings: Embeddings::build(config, src, device),
            layers: (0..config.num_hidden_layers)
                .map(|i| EncoderLayer::build(config, i, src, device))
                .collect(),
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

    /// All parameters under transformers' names, without the `bert.` / `roberta.` prefix.
    pub fn export(&self, out: &mut Vec<NamedArray>) {
        self.embeddings.export(out);
        for (i, layer) in self.layers.iter().enumerate() {
            layer.export(out, i);
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
        let bias = mask_bias(&attention_mask);
        let mut hidden = self.embeddings.forward_from_word_embeddings(
            word_embeddings,
            input_ids,
            token_type_ids,
        );
        for layer in &self.layers {
            hidden = layer.forward(hidden, bias.clone());
        }
        hidden
    }
}
