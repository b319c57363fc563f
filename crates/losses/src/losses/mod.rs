//! One loss per file. Losses with learnable parameters are burn `Module`s; tuple losses are
//! plain hyperparameter structs. Every loss takes `embeddings: [N, D]` and `labels: [N]` and
//! returns a scalar `[1]` tensor; defaults are pytorch-metric-learning's.
//!
//! Each file declares its loss once: the hyperparameter struct (what a grid file's loss table
//! holds, with serde defaults), its `validate`, and its [`crate::proxy`] trait impl.

/// `with_<field>` builder methods of a hyperparameter struct, for Rust users:
/// `SoftTripleConfig::default().with_la(8.0)`.
macro_rules! builders {
    ($ty:ty { $($with:ident => $field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("The same hyperparameters with `", stringify!($field), "` set.")]
                pub fn $with(mut self, $field: $t) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

/// [`crate::proxy::ProxyLoss`] for a loss whose inherent `forward` and `class_scores` do the
/// work and whose one parameter is the field `$param`, stored `[C*K, D]` (`stored`) or `[D, C*K]`
/// (`transposed`), with `per_class` consecutive rows per class (a field name, or 1).
macro_rules! proxy_loss {
    ($loss:ident, $param:ident, $layout:ident) => {
        proxy_loss!(@impl $loss, $param, $layout, |_loss| 1);
    };
    ($loss:ident, $param:ident, $layout:ident, per_class = $per_class:ident) => {
        proxy_loss!(@impl $loss, $param, $layout, |loss| loss.$per_class);
    };
    (@rows stored, $t:expr) => { $t };
    (@rows transposed, $t:expr) => { $t.transpose() };
    (@impl $loss:ident, $param:ident, $layout:ident, |$l:ident| $per_class:expr) => {
        impl<B: burn::tensor::backend::Backend> crate::proxy::ProxyLoss<B> for $loss<B> {
            fn forward(
                &self,
                embeddings: burn::tensor::Tensor<B, 2>,
                labels: burn::tensor::Tensor<B, 1, burn::tensor::Int>,
            ) -> Result<burn::tensor::Tensor<B, 1>, crate::error::LossError> {
                Self::forward(self, embeddings, labels)
            }

            fn class_scores(&self, embeddings: burn::tensor::Tensor<B, 2>) -> burn::tensor::Tensor<B, 2> {
                Self::class_scores(self, embeddings)
            }

            fn parameter(&self) -> (&'static str, burn::tensor::Tensor<B, 2>) {
                (stringify!($param), self.$param.val())
            }

            fn set_parameter(&mut self, value: burn::tensor::Tensor<B, 2>) {
                self.$param = self.$param.clone().map(|_| value);
            }

            fn class_rows(&self) -> (burn::tensor::Tensor<B, 2>, usize) {
                let $l = self;
                (proxy_loss!(@rows $layout, $l.$param.val()), $per_class)
            }
        }
    };
}

mod arcface;
mod batch_all_triplet;
mod circle;
mod contrastive;
mod cosface;
mod cross_entropy;
mod large_margin;
mod lifted_structure;
mod multi_similarity;
mod normalized_softmax;
mod npairs;
mod ntxent;
mod proxy_anchor;
mod proxy_nca;
mod soft_triple;
mod supcon;
mod triplet_margin;

pub use arcface::{ArcFaceConfig, ArcFaceLoss};
pub use batch_all_triplet::BatchAllTripletLoss;
pub use circle::CircleLoss;
pub use contrastive::ContrastiveLoss;
pub use cosface::{CosFaceConfig, CosFaceLoss};
pub use cross_entropy::{cross_entropy_rows, CrossEntropyLoss};
pub use lifted_structure::LiftedStructureLoss;
pub use multi_similarity::MultiSimilarityLoss;
pub use normalized_softmax::{NormalizedSoftmaxConfig, NormalizedSoftmaxLoss};
pub use npairs::NPairsLoss;
pub use ntxent::NtXentLoss;
pub use proxy_anchor::{ProxyAnchorConfig, ProxyAnchorLoss};
pub use proxy_nca::{ProxyNcaConfig, ProxyNcaLoss};
pub use soft_triple::{SoftTripleConfig, SoftTripleLoss};
pub use supcon::SupConLoss;
pub use triplet_margin::TripletMarginLoss;

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::error::LossError;
use crate::numerics::host_ints;

/// Host copy of the labels, checked to lie in `0..num_classes`.
pub(crate) fn checked_labels<B: Backend>(
    labels: &Tensor<B, 1, Int>,
    num_classes: usize,
) -> Result<Vec<i64>, LossError> {
    let host = host_ints(labels);
    if let Some(&bad) = host.iter().find(|&&l| l < 0 || l as usize >= num_classes) {
        return Err(LossError::LabelOutOfRange {
            label: bad,
            num_classes,
        });
    }
    Ok(host)
}

/// Embeddings and labels must have the same number of rows.
pub(crate) fn check_rows<B: Backend>(
    embeddings: &Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
) -> Result<(), LossError> {
    let (n, m) = (embeddings.dims()[0], labels.dims()[0]);
    if n != m {
        return Err(LossError::Shape(format!(
            "{n} embedding rows but {m} labels"
        )));
    }
    Ok(())
}

/// One-hot float matrix `[N, C]` of the labels (also for C = 1, which burn's `one_hot` refuses).
pub(crate) fn one_hot<B: Backend>(labels: &Tensor<B, 1, Int>, num_classes: usize) -> Tensor<B, 2> {
    let n = labels.dims()[0];
    let classes = Tensor::<B, 1, Int>::arange(0..num_classes as i64, &labels.device())
        .reshape([1, num_classes])
        .expand([n, num_classes]);
    labels
        .clone()
        .reshape([n, 1])
        .expand([n, num_classes])
        .equal(classes)
        .float()
}
