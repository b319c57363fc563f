//! NormalizedSoftmax loss (Zhai & Wu, 2018) as PML's `NormalizedSoftmaxLoss`: cross-entropy on
//! cosine similarities to normalised class weights divided by a temperature.

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{check_rows, checked_labels, cross_entropy_rows};
use crate::distance::Distance;
use crate::error::LossError;
use crate::init::Init;
use crate::proxy::ProxyLossConfig;

/// Hyperparameters (`kind = "normalized-softmax"`); default is PML's (`temperature=0.05`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizedSoftmaxConfig {
    pub temperature: f64,
}

impl Default for NormalizedSoftmaxConfig {
    fn default() -> Self {
        Self { temperature: 0.05 }
    }
}

builders!(NormalizedSoftmaxConfig {
    with_temperature => temperature: f64,
});

impl ProxyLossConfig for NormalizedSoftmaxConfig {
    type Loss<B: Backend> = NormalizedSoftmaxLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        crate::validate::positive("temperature", self.temperature)
    }

    /// Class weights `[D, C]` drawn as PML's default `normal_()`.
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<NormalizedSoftmaxLoss<B>, LossError> {
        self.validate()?;
        Ok(self.with_weights(Init::standard_normal().tensor(
            embedding_dim,
            num_classes,
            seed,
            device,
        )))
    }
}

impl NormalizedSoftmaxConfig {
    pub fn with_weights<B: Backend>(&self, weights: Tensor<B, 2>) -> NormalizedSoftmaxLoss<B> {
        NormalizedSoftmaxLoss {
            num_classes: weights.dims()[1],
            weights: Param::from_tensor(weights),
            temperature: self.temperature,
        }
    }
}

#[derive(Module, Debug)]
pub struct NormalizedSoftmaxLoss<B: Backend> {
    /// `[D, C]`, PML's `W`.
    pub weights: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    pub temperature: f64,
}

impl<B: Backend> NormalizedSoftmaxLoss<B> {
    /// Cosine logits `cos(x, w_c) / temperature`, `[N, C]`.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        Distance::Cosine
            .matrix(embeddings, self.weights.val().transpose())
            .div_scalar(self.temperature)
    }

    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        checked_labels(&labels, self.num_classes)?;
        Ok(cross_entropy_rows(self.class_scores(embeddings), &labels).mean())
    }
}

proxy_loss!(NormalizedSoftmaxLoss, weights, transposed);
