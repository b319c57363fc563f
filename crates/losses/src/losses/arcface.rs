//! ArcFace (Deng et al., CVPR 2019) as PML's `ArcFaceLoss`: additive angular margin.

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::large_margin::{cosine, margin_cross_entropy};
use super::{check_rows, checked_labels};
use crate::error::LossError;
use crate::init::Init;
use crate::proxy::ProxyLossConfig;

/// Hyperparameters (`kind = "arc-face"`); defaults are PML's (`margin=28.6` degrees, `scale=64`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArcFaceConfig {
    /// Angular margin in degrees (`margin` in a grid file).
    #[serde(rename = "margin")]
    pub margin_degrees: f64,
    pub scale: f64,
    /// PML >= 2.0 (default, true): for angles past `pi - m` use `cos(theta) - m sin(m)` so the
    /// logit keeps decreasing with the angle. PML 1.6.2 (the papers' version, false): always
    /// `cos(theta + m)`. Not a grid-file setting: grids train with the default.
    #[serde(skip, default = "monotonic_default")]
    pub monotonic: bool,
}

fn monotonic_default() -> bool {
    ArcFaceConfig::default().monotonic
}

impl Default for ArcFaceConfig {
    fn default() -> Self {
        Self {
            margin_degrees: 28.6,
            scale: 64.0,
            monotonic: true,
        }
    }
}

builders!(ArcFaceConfig {
    with_margin_degrees => margin_degrees: f64,
    with_scale => scale: f64,
    with_monotonic => monotonic: bool,
});

impl ProxyLossConfig for ArcFaceConfig {
    type Loss<B: Backend> = ArcFaceLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        if !(0.0..180.0).contains(&self.margin_degrees) {
            return Err(LossError::invalid(
                "margin",
                self.margin_degrees,
                "in [0, 180) degrees",
            ));
        }
        crate::validate::positive("scale", self.scale)
    }

    /// Class weights `[D, C]` drawn as PML's default `normal_()`.
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<ArcFaceLoss<B>, LossError> {
        self.validate()?;
        Ok(self.with_weights(Init::standard_normal().tensor(
            embedding_dim,
            num_classes,
            seed,
            device,
        )))
    }
}

impl ArcFaceConfig {
    pub fn with_weights<B: Backend>(&self, weights: Tensor<B, 2>) -> ArcFaceLoss<B> {
        ArcFaceLoss {
            num_classes: weights.dims()[1],
            weights: Param::from_tensor(weights),
            margin: self.margin_degrees.to_radians(),
            scale: self.scale,
            monotonic: self.monotonic,
        }
    }
}

#[derive(Module, Debug)]
pub struct ArcFaceLoss<B: Backend> {
    /// `[D, C]`, PML's `W`.
    pub weights: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    /// Margin in radians.
    pub margin: f64,
    pub scale: f64,
    pub monotonic: bool,
}

impl<B: Backend> ArcFaceLoss<B> {
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
        let m = self.margin;
        let cos = cosine(embeddings, self.weights.val());
        Ok(margin_cross_entropy(cos, &labels, self.scale, |target| {
            let angles = target.clamp(-1.0, 1.0).acos();
            let plus_margin = angles.clone().add_scalar(m).cos();
            if self.monotonic {
                let in_range = angles
                    .clone()
                    .detach()
                    .lower_equal_elem(std::f64::consts::PI - m);
                let fallback = angles.cos().sub_scalar(m * m.sin());
                fallback.mask_where(in_range, plus_margin)
            } else {
                plus_margin
            }
        }))
    }
}

proxy_loss!(ArcFaceLoss, weights, transposed);
