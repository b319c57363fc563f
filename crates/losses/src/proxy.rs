//! What the losses share, as traits: a proxy loss's config validates, then draws the loss's one
//! parameter tensor (proxies, centers or class weights); a tuple loss has no parameters, so its
//! hyperparameters are the loss. [`crate::DmlLoss`] and [`crate::spec::DmlLossSpec`] dispatch
//! through these, so a new loss implements one of them in its own file.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::error::LossError;
use crate::spec::MinerSpec;
use crate::tuples::IndexTuple;

/// The hyperparameters of a loss with learned per-class parameters.
pub trait ProxyLossConfig {
    type Loss<B: Backend>: ProxyLoss<B>;

    /// Each error names the field (as a grid file spells it), the value and the valid range.
    fn validate(&self) -> Result<(), LossError>;

    /// Validates, then draws the parameter with `seed` as pytorch-metric-learning initialises it.
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self::Loss<B>, LossError>;
}

/// A built proxy loss: one parameter tensor, and class scores for proxy inference.
pub trait ProxyLoss<B: Backend> {
    fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError>;

    /// `[N, C]`, larger = more likely.
    fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2>;

    /// The parameter's name (`"proxies"`, `"centers"` or `"weights"`) and its value.
    fn parameter(&self) -> (&'static str, Tensor<B, 2>);

    /// Replaces the parameter's value (the caller has checked the shape).
    fn set_parameter(&mut self, value: Tensor<B, 2>);

    /// The parameter as rows `[R, D]` in the embedding space, and how many consecutive rows
    /// belong to each class (row `r` is of class `r / per_class`).
    fn class_rows(&self) -> (Tensor<B, 2>, usize);
}

/// A loss without parameters: its hyperparameters, with an optional miner.
pub trait TupleLossConfig {
    /// Each error names the field (as a grid file spells it), the value and the valid range.
    fn validate(&self) -> Result<(), LossError>;

    /// The miner whose pairs or triplets the loss takes, if it takes any.
    fn miner(&self) -> Option<&MinerSpec> {
        None
    }

    /// The loss on `embeddings` with the mined `tuple` where the loss takes one, else all of the
    /// batch's pairs or triplets.
    fn forward_mined<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError>;
}
