//! Cross-entropy on logits, as `torch.nn.CrossEntropyLoss(label_smoothing=eps)` (mean).

use burn::tensor::{backend::Backend, Int, Tensor};

use super::{check_rows, checked_labels, one_hot};
use crate::error::LossError;
use crate::numerics::log_softmax;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CrossEntropyLoss {
    /// torch's `label_smoothing`: the target is `(1 - eps) * onehot + eps / C`.
    pub label_smoothing: f64,
}

impl CrossEntropyLoss {
    pub fn new(label_smoothing: f64) -> Result<Self, LossError> {
        if !(0.0..=1.0).contains(&label_smoothing) {
            return Err(LossError::invalid(
                "label_smoothing",
                label_smoothing,
                "in [0, 1]",
            ));
        }
        Ok(Self { label_smoothing })
    }

    /// Mean loss over the rows of `logits` [N, C].
    pub fn forward<B: Backend>(
        &self,
        logits: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&logits, &labels)?;
        checked_labels(&labels, logits.dims()[1])?;
        Ok(self.rows(logits, &labels).mean())
    }

    /// Per-row losses `[N]` (labels assumed valid).
    pub(crate) fn rows<B: Backend>(
        &self,
        logits: Tensor<B, 2>,
        labels: &Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        let [n, c] = logits.dims();
        let logp = log_softmax(logits, 1);
        let nll = (logp.clone() * one_hot(labels, c)).sum_dim(1).neg();
        let rows = if self.label_smoothing > 0.0 {
            let uniform = logp.mean_dim(1).neg();
            nll.mul_scalar(1.0 - self.label_smoothing) + uniform.mul_scalar(self.label_smoothing)
        } else {
            nll
        };
        rows.reshape([n])
    }
}

/// Per-row cross-entropy `[N]` without smoothing (labels assumed valid).
pub fn cross_entropy_rows<B: Backend>(
    logits: Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
) -> Tensor<B, 1> {
    CrossEntropyLoss::default().rows(logits, labels)
}
