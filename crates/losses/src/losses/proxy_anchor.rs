//! Proxy-Anchor loss (Kim et al., CVPR 2020) as PML's `ProxyAnchorLoss`.

use std::collections::BTreeSet;

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{check_rows, checked_labels, one_hot};
use crate::distance::Distance;
use crate::error::LossError;
use crate::init::Init;
use crate::numerics::masked_logsumexp;
use crate::proxy::ProxyLossConfig;
use crate::reduce;

/// Hyperparameters (`kind = "proxy-anchor"`); defaults are PML's (`alpha=32, margin=0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyAnchorConfig {
    pub alpha: f64,
    pub margin: f64,
}

impl Default for ProxyAnchorConfig {
    fn default() -> Self {
        Self {
            alpha: 32.0,
            margin: 0.1,
        }
    }
}

builders!(ProxyAnchorConfig {
    with_alpha => alpha: f64,
    with_margin => margin: f64,
});

impl ProxyLossConfig for ProxyAnchorConfig {
    type Loss<B: Backend> = ProxyAnchorLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        crate::validate::positive("alpha", self.alpha)?;
        crate::validate::finite("margin", self.margin)
    }

    /// Proxies `[C, D]` drawn as PML's `kaiming_normal_(mode="fan_out")`: N(0, 2 / C).
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<ProxyAnchorLoss<B>, LossError> {
        self.validate()?;
        let proxies = Init::kaiming_normal_fan_out(num_classes).tensor(
            num_classes,
            embedding_dim,
            seed,
            device,
        );
        Ok(self.with_proxies(proxies))
    }
}

impl ProxyAnchorConfig {
    pub fn with_proxies<B: Backend>(&self, proxies: Tensor<B, 2>) -> ProxyAnchorLoss<B> {
        ProxyAnchorLoss {
            num_classes: proxies.dims()[0],
            proxies: Param::from_tensor(proxies),
            alpha: self.alpha,
            margin: self.margin,
        }
    }
}

#[derive(Module, Debug)]
pub struct ProxyAnchorLoss<B: Backend> {
    /// `[C, D]`.
    pub proxies: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    pub alpha: f64,
    pub margin: f64,
}

impl<B: Backend> ProxyAnchorLoss<B> {
    /// Cosine similarity to each proxy, `[N, C]`.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        Distance::Cosine.matrix(embeddings, self.proxies.val())
    }

    /// `sum_c log(1 + sum_{i in c} e^{-alpha (cos - m)}) / |classes in batch|
    ///  + sum_c log(1 + sum_{i not in c} e^{alpha (cos + m)}) / C`.
    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        let host = checked_labels(&labels, self.num_classes)?;
        let with_positives = host.iter().collect::<BTreeSet<_>>().len();
        let cos = self.class_scores(embeddings.clone());
        let pos_mask = one_hot(&labels, self.num_classes).greater_elem(0.5);
        let neg_mask = pos_mask.clone().bool_not();
        let pos_exp = Distance::Cosine
            .margin_tc(cos.clone(), self.margin)
            .mul_scalar(self.alpha);
        let neg_exp = Distance::Cosine
            .margin_ct(-self.margin, cos)
            .mul_scalar(self.alpha);
        let pos_term = masked_logsumexp(pos_exp, pos_mask, true, 0).reshape([self.num_classes]);
        let neg_term = masked_logsumexp(neg_exp, neg_mask, true, 0).reshape([self.num_classes]);
        Ok(reduce::divisor(pos_term, with_positives, &embeddings)
            + reduce::divisor(neg_term, self.num_classes, &embeddings))
    }
}

proxy_loss!(ProxyAnchorLoss, proxies, stored);
