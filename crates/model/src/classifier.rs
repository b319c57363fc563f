//! `SequenceClassifier`: encoder + classification head, with separate fields so a trainer can
//! give the (pretrained) encoder and the (new) head their own optimiser settings.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::config::EncoderConfig;
use crate::encoder::Encoder;
use crate::head::ClassificationHead;
use crate::params::FreshParams;

/// What one forward pass gives: token states for DML losses and pooling, and head logits.
#[derive(Debug, Clone)]
pub struct ClassifierOutput<B: Backend> {
    /// `[batch, seq, hidden]`.
    pub token_states: Tensor<B, 3>,
    /// The `[batch, seq]` mask the states were computed with (for `mean_pool`).
    pub attention_mask: Tensor<B, 2, Int>,
    /// `[batch, num_labels]`.
    pub logits: Tensor<B, 2>,
}

#[derive(Module, Debug)]
pub struct SequenceClassifier<B: Backend> {
    pub encoder: Encoder<B>,
    pub head: ClassificationHead<B>,
}

/// Separates the seed streams of a random encoder and its head.
const ENCODER_SEED_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

impl<B: Backend> SequenceClassifier<B> {
    /// A new head, initialised from `seed` as transformers does, on top of `encoder`.
    pub fn with_new_head(
        encoder: Encoder<B>,
        num_labels: usize,
        seed: u64,
        device: &B::Device,
    ) -> Self {
        let config = encoder.config.clone();
        let (mut fresh, mut fresh_out) = FreshParams::head_streams(seed, config.initializer_range);
        let head =
            ClassificationHead::build(&config, num_labels, &mut fresh, &mut fresh_out, device);
        Self { encoder, head }
    }

    /// Everything random (benchmarks, tests).
    pub fn random(
        config: &EncoderConfig,
        num_labels: usize,
        seed: u64,
        device: &B::Device,
    ) -> Self {
        let encoder = Encoder::random(config, seed ^ ENCODER_SEED_SALT, device);
        Self::with_new_head(encoder, num_labels, seed, device)
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.encoder.config
    }

    pub fn num_labels(&self) -> usize {
        self.head.num_labels()
    }

    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> ClassifierOutput<B> {
        let words = self.encoder.embeddings.word_embeddings(input_ids.clone());
        self.forward_from_word_embeddings(words, &input_ids, attention_mask, token_type_ids)
    }

    /// Forward from looked-up word embeddings `[batch, seq, hidden]` (Integrated Gradients);
    /// `input_ids` only decide RoBERTa's position ids.
    pub fn forward_from_word_embeddings(
        &self,
        word_embeddings: Tensor<B, 3>,
        input_ids: &Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
    ) -> ClassifierOutput<B> {
        let token_states = self.encoder.forward_from_word_embeddings(
            word_embeddings,
            input_ids,
            attention_mask.clone(),
            token_type_ids,
        );
        let logits = self
            .head
            .forward(self.head.pool(&token_states, &attention_mask));
        ClassifierOutput {
            token_states,
            attention_mask,
            logits,
        }
    }
}
