//! A model's view of a list of examples: its first-token and mean sentence embeddings and its
//! head's probabilities and predictions (computed by dmlft-train, analysed here).

use dmlft_pooling::Pooling;
use serde::{Deserialize, Serialize};

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
    pub fn embeddings(&self, kind: Pooling) -> &[f32] {
        match kind {
            Pooling::First => &self.first,
            Pooling::Mean => &self.mean,
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
    pub head_input: Pooling,
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
