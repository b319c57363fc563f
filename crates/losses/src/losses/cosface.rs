//! CosFace (Wang et al., CVPR 2018) as PML's `CosFaceLoss`: additive cosine margin.

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::large_margin::{cosine, margin_cross_entropy};
use super::{check_rows, checked_labels};
use crate::error::LossError;
use crate::init::Init;
use crate::proxy::ProxyLossConfig;

/// Hyperparameters (`kind = "cos-face"`); defaults are PML's (`margin=0.35, scale=64`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CosFaceConfig {
    pub margin: f64,
    pub scale: f64,
}

impl Default for CosFaceConfig {
    fn default() -> Self {
        Self {
            margin: 0.35,
            scale: 64.0,
        }
    }
}

builders!(CosFaceConfig {
    with_margin => margin: f64,
    with_scale => scale: f64,
});

impl ProxyLossConfig for CosFaceConfig {
    type Loss<B: Backend> = CosFaceLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        crate::validate::finite("margin", self.margin)?;
        crate::validate::positive("scale", self.scale)
    }

    /// Class weights `[D, C]` drawn as PML's default `normal_()`.
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<CosFaceLoss<B>, LossError> {
        self.validate()?;
        Ok(self.with_weights(Init::standard_normal().tensor(
            embedding_dim,
            num_classes,
            seed,
            device,
        )))
    }
}

impl CosFaceConfig {
    pub fn with_weights<B: Backend>(&self, weights: Tensor<B, 2>) -> CosFaceLoss<B> {
        CosFaceLoss {
            num_classes: weights.dims()[1],
            weights: Param::from_tensor(weights),
            margin: self.margin,
            scale: self.scale,
        }
    }
}

#[derive(Module, Debug)]
pub struct CosFaceLoss<B: Backend> {
    /// `[D, C]`, PML's `W`.
    pub weights: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    pub margin: f64,
    pub scale: f64,
}

impl<B: Backend> CosFaceLoss<B> {
    /// Scaled cosine logits `scale * cos(x, w_c)`, `[N, C]` (PML's `get_logits`).
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        cosine(embeddings, self.weights.val()).mul_scalar(self.scale)
    }

    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        checked_labels(&labels, self.num_classes)?;
        let cos = cosine(embeddings, self.weights.val());
        Ok(margin_cross_entropy(cos, &labels, self.scale, |target| {
            target.sub_scalar(self.margin)
        }))
    }
}

proxy_loss!(CosFaceLoss, weights, transposed);
