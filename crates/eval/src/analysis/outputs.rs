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

/// One model's outputs on the analysed examples, with the sentence vector its head reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedOutputs {
    pub name: String,
    /// The sentence vector the model's head reads (its head pooling).
    #[serde(rename = "head_pooling")]
    pub head_input: EmbeddingKind,
    pub outputs: ModelOutputs,
}
