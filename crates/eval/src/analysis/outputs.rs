//! A model's view of a list of examples: its first-token and mean sentence embeddings and its
//! head's probabilities and predictions (computed by dmlft-train, analysed here).

use serde::{Deserialize, Serialize};

/// Which sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbeddingKind {
    /// The first token's last-layer state (`<s>` / `[CLS]`; the papers' t-SNE maps).
    First,
    /// Mean of the last-layer states of the non-padding tokens.
    Mean,
}

impl EmbeddingKind {
    pub const ALL: [EmbeddingKind; 2] = [EmbeddingKind::First, EmbeddingKind::Mean];

    pub fn name(self) -> &'static str {
        match self {
            EmbeddingKind::First => "first",
            EmbeddingKind::Mean => "mean",
        }
    }
}

/// A model's view of `n` examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelOutputs {
    pub n: usize,
    pub dim: usize,
    /// Row-major `n x dim`.
    pub first: Vec<f32>,
    /// Row-major `n x dim`.
    pub mean: Vec<f32>,
    /// Softmax of the head's logits, `[n][classes]`.
    pub probabilities: Vec<Vec<f64>>,
    /// argmax of the logits.
    pub predicted: Vec<usize>,
}

impl ModelOutputs {
    pub fn embeddings(&self, kind: EmbeddingKind) -> &[f32] {
        match kind {
            EmbeddingKind::First => &self.first,
            EmbeddingKind::Mean => &self.mean,
        }
    }

    /// Whether each prediction equals `labels[i]`.
    pub fn correct(&self, labels: &[usize]) -> Vec<bool> {
        self.predicted
            .iter()
            .zip(labels)
            .map(|(p, l)| p == l)
            .collect()
    }

    pub fn accuracy(&self, labels: &[usize]) -> f64 {
        let correct = self.correct(labels);
        correct.iter().filter(|&&c| c).count() as f64 / correct.len().max(1) as f64
    }
}

/// One model's outputs on the analysed examples, with the sentence vector its head reads and the
/// class representatives of its DML loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedOutputs {
    pub name: String,
    /// The sentence vector the model's head reads (its head pooling).
    #[serde(rename = "head_pooling")]
    pub head_input: EmbeddingKind,
    pub outputs: ModelOutputs,
    pub proxies: ModelProxies,
}

/// A model's trained class representatives (proxies, SoftTriple centers, weight columns), or why
/// it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelProxies {
    Loaded(LossProxies),
    /// Why there are none, in words (e.g. the folder holds no loss parameters).
    Missing(String),
}

impl ModelProxies {
    pub fn loaded(&self) -> Option<&LossProxies> {
        match self {
            ModelProxies::Loaded(p) => Some(p),
            ModelProxies::Missing(_) => None,
        }
    }
}

/// Class representatives in the sentence-vector space: row r (of `dim` values) belongs to class
/// `classes[r]`; a class may have several rows (SoftTriple's centers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossProxies {
    /// Which loss term and parameter they are, in words (for reports).
    pub source: String,
    pub dim: usize,
    /// Row-major `classes.len() x dim`.
    pub rows: Vec<f32>,
    pub classes: Vec<usize>,
}
