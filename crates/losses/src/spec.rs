//! What a grid file says about the training objective: `ce_weight * CE(logits) + sum_i weight_i *
//! DML_i(embeddings_i)`. Hyperparameter defaults are pytorch-metric-learning's (v2.x) unless noted.
//! Contract between the runner (grid files) and this crate.

use serde::{Deserialize, Serialize};

pub use crate::catalog::{DmlLossKind, DmlLossSpec};

/// Which vectors a DML loss sees, each labelled with its sentence's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbeddingSelection {
    /// Every token state, padding included (the papers' setting, B*T rows).
    #[default]
    AllTokens,
    /// Every non-padding token state.
    NonPadTokens,
    /// The first token (`<s>` / `[CLS]`).
    FirstToken,
    /// Mean over non-padding tokens.
    MeanTokens,
    /// Every token state with the labels that the authors' dml_bert code actually produced (its
    /// label expansion is wrong): the first T rows get the batch's last label, every other row
    /// label 1. Only for reproducing that code's numbers.
    AllTokensDmlBertLabels,
}

/// Distance / similarity used by tuple losses and miners.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DistanceSpec {
    Cosine,
    Euclidean {
        #[serde(default)]
        squared: bool,
        #[serde(default = "yes")]
        normalize: bool,
    },
    DotProduct {
        #[serde(default = "yes")]
        normalize: bool,
    },
}

fn yes() -> bool {
    true
}

/// Triplet selection strategy of the triplet-margin miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TripletType {
    All,
    Hard,
    Semihard,
    Easy,
}

/// Miners that choose the pairs / triplets a tuple loss uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MinerSpec {
    BatchHard,
    /// PML defaults: margin 0.2, all triplets.
    TripletMargin {
        #[serde(default = "d::miner_margin")]
        margin: f64,
        #[serde(default = "d::miner_triplets")]
        triplets: TripletType,
    },
    /// PML default: epsilon 0.1.
    MultiSimilarity {
        #[serde(default = "d::miner_epsilon")]
        epsilon: f64,
    },
}

impl DmlLossKind {
    /// Names of the proxy-based losses, comma-separated, for messages.
    pub fn proxy_loss_names() -> String {
        Self::ALL
            .iter()
            .filter(|k| k.has_proxies())
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for DmlLossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DmlLossSpec {
    /// See [`DmlLossKind::has_proxies`].
    pub fn has_proxies(&self) -> bool {
        self.kind().has_proxies()
    }
}

/// One weighted DML term of the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmlTermSpec {
    pub weight: f64,
    #[serde(default)]
    pub embeddings: EmbeddingSelection,
    pub loss: DmlLossSpec,
}

/// `ce_weight * CE + sum of DML terms`. The papers' `beta * CE + (1 - beta) * DML` is
/// `ce_weight = beta` and one term of weight `1 - beta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectiveSpec {
    pub ce_weight: f64,
    pub label_smoothing: f64,
    pub dml: Vec<DmlTermSpec>,
}

impl ObjectiveSpec {
    /// The papers' objective `beta * CE + (1 - beta) * loss` on the default embeddings, with
    /// `beta = ce_weight`.
    pub fn ce_plus(loss: DmlLossSpec, ce_weight: f64) -> Self {
        Self {
            ce_weight,
            label_smoothing: 0.0,
            dml: vec![DmlTermSpec {
                weight: 1.0 - ce_weight,
                embeddings: EmbeddingSelection::default(),
                loss,
            }],
        }
    }

    /// The same objective with every DML term on `embeddings`.
    pub fn with_embeddings(mut self, embeddings: EmbeddingSelection) -> Self {
        for term in &mut self.dml {
            term.embeddings = embeddings;
        }
        self
    }
}

impl Default for ObjectiveSpec {
    fn default() -> Self {
        Self {
            ce_weight: 1.0,
            label_smoothing: 0.0,
            dml: Vec::new(),
        }
    }
}

impl ObjectiveSpec {
    /// Whether some DML term has proxies (so that proxy and mix inference are possible).
    pub fn has_proxies(&self) -> bool {
        self.dml.iter().any(|t| t.loss.has_proxies())
    }
}

/// The serde defaults of the miners' fields (PML's); each loss's are its struct's `Default`.
mod d {
    use super::TripletType;
    pub(crate) fn miner_margin() -> f64 {
        0.2
    }
    pub(crate) fn miner_triplets() -> TripletType {
        TripletType::All
    }
    pub(crate) fn miner_epsilon() -> f64 {
        0.1
    }
}
