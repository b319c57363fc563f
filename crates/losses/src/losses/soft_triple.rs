//! SoftTriple loss (Qian et al., ICCV 2019) as PML's `SoftTripleLoss`, with the paper's optional
//! center regulariser (PML's `SparseCentersRegularizer` passed as weight regulariser, weight tau).

use burn::module::{Module, Param};
use burn::tensor::{activation::softmax, backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{check_rows, checked_labels, cross_entropy_rows, one_hot};
use crate::error::LossError;
use crate::init::Init;
use crate::numerics::{l2_normalize, pick, TINY};
use crate::proxy::ProxyLossConfig;
use crate::validate::{finite, non_negative, positive};

/// Hyperparameters (`kind = "soft-triple"`); defaults are PML's (`centers_per_class=10, la=20,
/// gamma=0.1, margin=0.01`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoftTripleConfig {
    pub centers_per_class: usize,
    /// Scale of the logits (lambda).
    pub la: f64,
    /// Softmax temperature over the centers of a class (PML stores 1 / gamma).
    pub gamma: f64,
    /// Margin subtracted from the true class's similarity (delta).
    pub margin: f64,
    /// Weight of the center regulariser of the SoftTriple paper; 0 = off (PML's default).
    /// Ignored with one center.
    pub tau: f64,
}

impl Default for SoftTripleConfig {
    fn default() -> Self {
        Self {
            centers_per_class: 10,
            la: 20.0,
            gamma: 0.1,
            margin: 0.01,
            tau: 0.0,
        }
    }
}

builders!(SoftTripleConfig {
    with_centers_per_class => centers_per_class: usize,
    with_la => la: f64,
    with_gamma => gamma: f64,
    with_margin => margin: f64,
    with_tau => tau: f64,
});

/// Largest `centers_per_class`: far above any meaningful setting, low enough that classes x
/// centers x hidden size neither overflows nor asks for absurd memory.
const MAX_CENTERS_PER_CLASS: usize = 1_000;

impl ProxyLossConfig for SoftTripleConfig {
    type Loss<B: Backend> = SoftTripleLoss<B>;

    fn validate(&self) -> Result<(), LossError> {
        let max = MAX_CENTERS_PER_CLASS;
        if !(1..=max).contains(&self.centers_per_class) {
            return Err(LossError::invalid(
                "centers_per_class",
                self.centers_per_class,
                format!("in [1, {max}] (at most {max}: a bound against runaway memory)"),
            ));
        }
        positive("la", self.la)?;
        positive("gamma", self.gamma)?;
        finite("margin", self.margin)?;
        non_negative("tau", self.tau)
    }

    /// Centers `[D, C*K]` drawn as PML's `kaiming_uniform_(a=sqrt 5)`: U(-1/sqrt(C*K), 1/sqrt(C*K)).
    fn init<B: Backend>(
        &self,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<SoftTripleLoss<B>, LossError> {
        self.validate()?;
        let total = num_classes * self.centers_per_class;
        let centers = Init::kaiming_uniform_sqrt5(total).tensor(embedding_dim, total, seed, device);
        Ok(self.with_centers(centers, num_classes))
    }
}

impl SoftTripleConfig {
    /// The loss with the given centers `[D, C*K]` (e.g. loaded from a checkpoint or fixture).
    pub fn with_centers<B: Backend>(
        &self,
        centers: Tensor<B, 2>,
        num_classes: usize,
    ) -> SoftTripleLoss<B> {
        SoftTripleLoss {
            centers: Param::from_tensor(centers),
            num_classes,
            centers_per_class: self.centers_per_class,
            la: self.la,
            gamma: self.gamma,
            margin: self.margin,
            tau: self.tau,
        }
    }
}

#[derive(Module, Debug)]
pub struct SoftTripleLoss<B: Backend> {
    /// `[D, C*K]`, PML's `fc`: column `c*K + k` is center k of class c.
    pub centers: Param<Tensor<B, 2>>,
    pub num_classes: usize,
    pub centers_per_class: usize,
    pub la: f64,
    pub gamma: f64,
    pub margin: f64,
    pub tau: f64,
}

impl<B: Backend> SoftTripleLoss<B> {
    /// Soft class similarity `S_ic = sum_k softmax_k(s_ick / gamma) * s_ick`, `[N, C]` (no la, no
    /// margin): PML's `get_logits`, larger = more likely.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        let n = embeddings.dims()[0];
        let x = l2_normalize(embeddings, 1);
        let w = l2_normalize(self.centers.val().transpose(), 1);
        let sim = x
            .matmul(w.transpose())
            .reshape([n, self.num_classes, self.centers_per_class]);
        let prob = softmax(sim.clone().div_scalar(self.gamma), 2);
        (prob * sim).sum_dim(2).reshape([n, self.num_classes])
    }

    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        check_rows(&embeddings, &labels)?;
        checked_labels(&labels, self.num_classes)?;
        let scores = self.class_scores(embeddings);
        let margin = one_hot(&labels, self.num_classes).mul_scalar(self.margin);
        let loss = cross_entropy_rows((scores - margin).mul_scalar(self.la), &labels).mean();
        if self.tau > 0.0 && self.centers_per_class > 1 {
            Ok(loss + self.center_regularizer().mul_scalar(self.tau))
        } else {
            Ok(loss)
        }
    }

    /// The SoftTriple paper's regulariser, as PML's `SparseCentersRegularizer`:
    /// `sum_{c, k<k'} sqrt(2 + tiny - 2 cos(w_ck, w_ck')) / (C K (K-1))`.
    pub(crate) fn center_regularizer(&self) -> Tensor<B, 1> {
        let w = l2_normalize(self.centers.val().transpose(), 1);
        let sim = w.clone().matmul(w.transpose());
        let k = self.centers_per_class as i64;
        let (mut rows, mut cols) = (Vec::new(), Vec::new());
        for c in 0..self.num_classes as i64 {
            for i in 0..k {
                for j in (i + 1)..k {
                    rows.push(c * k + i);
                    cols.push(c * k + j);
                }
            }
        }
        let divisor = 2 * rows.len();
        let same = pick(sim, &rows, &cols).mul_scalar(2.0).clamp_max(2.0);
        let reg = same.neg().add_scalar(2.0 + TINY as f64).sqrt();
        reg.sum().div_scalar(divisor as f64)
    }
}

// Row `c*K + k` of the centers is center k of class c.
proxy_loss!(
    SoftTripleLoss,
    centers,
    transposed,
    per_class = centers_per_class
);
