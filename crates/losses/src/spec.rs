//! What a grid file says about the training objective: `ce_weight * CE(logits) + sum_i weight_i *
//! DML_i(embeddings_i)`. Hyperparameter defaults are pytorch-metric-learning's (v2.x) unless noted.
//! Contract between the runner (grid files) and this crate.

use dmlft_pooling::Pooling;
use serde::{Deserialize, Serialize};

pub use crate::catalog::{DmlLossKind, DmlLossSpec};

/// Which vectors a DML loss sees, each labelled with its sentence's label: token states, or one
/// sentence vector per sentence ([`Pooling`], the same choice as the classification head's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbeddingSelection {
    /// Every token state, padding included (the papers' setting, B*T rows).
    #[default]
    AllTokens,
    /// Every non-padding token state.
    NonPadTokens,
    /// One sentence vector per sentence: `first-token` or `mean-tokens` in a grid file.
    Pooled(Pooling),
    /// Every token state with the labels that the authors' dml_bert code actually produced (its
    /// label expansion is wrong): the first T rows get the batch's last label, every other row
    /// label 1. Only for reproducing that code's numbers.
    AllTokensDmlBertLabels,
}

impl EmbeddingSelection {
    /// Every selection, in the order messages list them.
    pub const ALL: [EmbeddingSelection; 5] = [
        EmbeddingSelection::AllTokens,
        EmbeddingSelection::NonPadTokens,
        EmbeddingSelection::Pooled(Pooling::First),
        EmbeddingSelection::Pooled(Pooling::Mean),
        EmbeddingSelection::AllTokensDmlBertLabels,
    ];
    const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The name a grid file writes it as (`all-tokens`, `first-token`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            EmbeddingSelection::AllTokens => "all-tokens",
            EmbeddingSelection::NonPadTokens => "non-pad-tokens",
            EmbeddingSelection::Pooled(Pooling::First) => "first-token",
            EmbeddingSelection::Pooled(Pooling::Mean) => "mean-tokens",
            EmbeddingSelection::AllTokensDmlBertLabels => "all-tokens-dml-bert-labels",
        }
    }
}

impl std::fmt::Display for EmbeddingSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for EmbeddingSelection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EmbeddingSelection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &Self::NAMES))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_selections_keep_their_grid_names() {
        let names: Vec<String> = EmbeddingSelection::ALL
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                r#""all-tokens""#,
                r#""non-pad-tokens""#,
                r#""first-token""#,
                r#""mean-tokens""#,
                r#""all-tokens-dml-bert-labels""#
            ]
        );
        for s in EmbeddingSelection::ALL {
            let back: EmbeddingSelection =
                serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
            assert_eq!(back, s);
        }
        let err = serde_json::from_str::<EmbeddingSelection>(r#""first""#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown variant `first`, expected one of `all-tokens`, `non-pad-tokens`, `first-token`"),
            "{err}"
        );
    }
}
