//! Distances and similarities between rows, as PML's `LpDistance`, `CosineSimilarity` and
//! `DotProductSimilarity`. Similarities are "inverted" (larger = closer); losses express margins
//! through [`Distance::margin`] so that the same code serves both kinds.

use burn::tensor::{backend::Backend, Tensor};

use crate::numerics::{l2_normalize, sqrt_zero_safe};
use crate::spec::DistanceSpec;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// Dot product of L2-normalised rows.
    Cosine,
    /// Euclidean distance (`squared` = PML's `power=2`), optionally on L2-normalised rows.
    Euclidean { squared: bool, normalize: bool },
    /// Dot product, optionally of L2-normalised rows.
    DotProduct { normalize: bool },
}

impl From<DistanceSpec> for Distance {
    fn from(spec: DistanceSpec) -> Self {
        match spec {
            DistanceSpec::Cosine => Distance::Cosine,
            DistanceSpec::Euclidean { squared, normalize } => {
                Distance::Euclidean { squared, normalize }
            }
            DistanceSpec::DotProduct { normalize } => Distance::DotProduct { normalize },
        }
    }
}

impl Distance {
    /// PML's default `LpDistance()`: normalised, not squared.
    pub const PML_DEFAULT: Distance = Distance::Euclidean {
        squared: false,
        normalize: true,
    };

    /// Similarities are inverted: larger means closer.
    pub fn is_inverted(&self) -> bool {
        !matches!(self, Distance::Euclidean { .. })
    }

    fn normalizes(&self) -> bool {
        match self {
            Distance::Cosine => true,
            Distance::Euclidean { normalize, .. } | Distance::DotProduct { normalize } => {
                *normalize
            }
        }
    }

    /// Rows normalised if this distance normalises.
    pub(crate) fn maybe_normalize<B: Backend>(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        if self.normalizes() {
            l2_normalize(x, 1)
        } else {
            x
        }
    }

    /// `[Nq, Nr]` matrix between query rows and reference rows.
    pub fn matrix<B: Backend>(&self, query: Tensor<B, 2>, reference: Tensor<B, 2>) -> Tensor<B, 2> {
        let q = self.maybe_normalize(query);
        let r = self.maybe_normalize(reference);
        match self {
            Distance::Cosine | Distance::DotProduct { .. } => q.matmul(r.transpose()),
            Distance::Euclidean { squared, .. } => {
                let q_sq = q.clone().square().sum_dim(1);
                let r_sq = r.clone().square().sum_dim(1).transpose();
                let sq = (q_sq + r_sq - q.matmul(r.transpose()).mul_scalar(2.0)).clamp_min(0.0);
                if *squared {
                    sq
                } else {
                    sqrt_zero_safe(sq)
                }
            }
        }
    }

    /// `[N, N]` matrix of a batch with itself.
    pub fn self_matrix<B: Backend>(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.matrix(x.clone(), x)
    }

    /// PML's `distance.margin(x, y)`: how far `x` is past `y` in the "farther" direction.
    pub fn margin<B: Backend, const D: usize>(
        &self,
        x: Tensor<B, D>,
        y: Tensor<B, D>,
    ) -> Tensor<B, D> {
        if self.is_inverted() {
            y - x
        } else {
            x - y
        }
    }

    /// `margin(x, c)` for a constant `c`.
    pub fn margin_tc<B: Backend, const D: usize>(&self, x: Tensor<B, D>, c: f64) -> Tensor<B, D> {
        if self.is_inverted() {
            x.neg().add_scalar(c)
        } else {
            x.sub_scalar(c)
        }
    }

    /// `margin(c, x)` for a constant `c`.
    pub fn margin_ct<B: Backend, const D: usize>(&self, c: f64, x: Tensor<B, D>) -> Tensor<B, D> {
        if self.is_inverted() {
            x.sub_scalar(c)
        } else {
            x.neg().add_scalar(c)
        }
    }
}
