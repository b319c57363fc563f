//! ProxyNCA loss (Movshovitz-Attias et al., ICCV 2017) as PML's `ProxyNCALoss`: NCA over the
//! squared Euclidean distances between normalised embeddings and normalised proxies.

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{check_rows, checked_labels, one_hot};
use crate::distance::Distance;
use crate::error::LossError;
use crate::init::Init;
use crate::numerics::{host_floats, log_softmax, zero_loss};
use crate::proxy::ProxyLossConfig;

/// Hyperparameters (`kind = "proxy-nca"`); default is PML's (`softmax_scale=1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyNcaConfig {
    pub softmax_scale: f64,
}

impl Default for ProxyNcaConfig {
    fn default() -> Self {
        Self { softmax_scale: 1.0 }
    }
}

builders!(ProxyNcaConfig {
    with_softmax_scale => softmax_scale: f64,
});

impl ProxyLossConfig for ProxyNcaConfig {
    type Loss<B: Backend> = ProxyNcaLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        crate::validate::positive("softmax_scale", self.softmax_scale)
    }

    /// Proxies `[C, D]` drawn as PML's default `normal_()`: N(0, 1).
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<ProxyNcaLoss<B>, LossError> {
        self.validate()?;
        let proxies = Init::standard_normal().tensor(num_classes, embedding_dim, seed, device);
        Ok(self.with_proxies(proxies))
    }
}

impl ProxyNcaConfig {
    pub fn with_proxies<B: Backend>(&self, proxies: Tensor<B, 2>) -> ProxyNcaLoss<B> {
        ProxyNcaLoss {
            num_classes: proxies.dims()[0],
            proxies: Param::from_tensor(proxies),
            softmax_scale: self.softmax_scale,
        }
    }
}

#[derive(Module, Debug)]
pub struct ProxyNcaLoss<B: Backend> {
    /// `[C, D]`.
    pub proxies: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    pub softmax_scale: f64,
}

const DISTANCE: Distance = Distance::Euclidean {
    squared: true,
    normalize: true,
};

impl<B: Backend> ProxyNcaLoss<B> {
    /// Squared distances `||x/|x| - p/|p|||^2`, `[N, C]`: what PML's `get_logits` returns.
    pub fn proxy_distances(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        DISTANCE.matrix(embeddings, self.proxies.val())
    }

    /// NEGATIVE squared distances, `[N, C]`, so that larger = more likely. PML's `get_logits`
    /// (and the papers' code, which took its argmax) return the distance itself, which picks
    /// the farthest proxy; this crate does not repeat that.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        self.proxy_distances(embeddings).neg()
    }

    /// `-log softmax_c(-scale * d_ic)[y_i]`, mean over rows whose probability is not 0.
    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        checked_labels(&labels, self.num_classes)?;
        let n = embeddings.dims()[0];
        let logits = self
            .class_scores(embeddings.clone())
            .mul_scalar(self.softmax_scale);
        let log_prob = (log_softmax(logits, 1) * one_hot(&labels, self.num_classes))
            .sum_dim(1)
            .reshape([n]);
        // PML drops rows whose softmax probability underflowed to exactly 0.
        let kept = log_prob.clone().detach().exp().greater_elem(0.0).float();
        let count = host_floats(&kept.clone().sum())[0];
        if count < 1.0 {
            return Ok(zero_loss(&embeddings));
        }
        Ok((log_prob * kept).sum().neg().div_scalar(count))
    }
}

proxy_loss!(ProxyNcaLoss, proxies, stored);
