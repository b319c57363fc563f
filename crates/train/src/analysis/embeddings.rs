//! Sentence embeddings (first token and mean over non-padding tokens) and head predictions of a
//! model over a list of examples: batched, length-sorted, returned in the examples' order.
//! Call it with a backend without autodiff (the inner backend, or a model after `.valid()`), so
//! that no graph is recorded.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_data::{BatchPlan, Example, TextTokenizer};
use dmlft_model::spec::HeadPooling;
use dmlft_model::{first_token, mean_pool, SequenceClassifier};
use serde::{Deserialize, Serialize};

use super::error::AnalysisError;
use super::integrated_gradients::softmax;
use crate::forward::classify;
use crate::tensors::BatchTensors;

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

    /// The vector the head reads under `pooling`.
    pub fn of_head(pooling: HeadPooling) -> Self {
        match pooling {
            HeadPooling::First => EmbeddingKind::First,
            HeadPooling::Mean => EmbeddingKind::Mean,
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

fn rows<B: Backend>(t: Tensor<B, 2>) -> (usize, Vec<f32>) {
    let [_, c] = t.dims();
    (c, t.into_data().iter::<f32>().collect())
}

/// Embeds and classifies `examples` with `pooling` feeding the head.
pub fn compute_outputs<B: Backend>(
    model: &SequenceClassifier<B>,
    pooling: HeadPooling,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    max_length: usize,
    batch_size: usize,
    device: &B::Device,
) -> Result<ModelOutputs, AnalysisError> {
    if examples.is_empty() {
        return Err(AnalysisError::Empty("no examples to embed".into()));
    }
    let lengths = tokenizer.token_lengths(examples)?;
    let plan = BatchPlan::length_sorted(&lengths, batch_size);
    let dim = model.config().hidden_size;
    let (mut first, mut mean, mut logits) = (Vec::new(), Vec::new(), Vec::new());
    for batch in &plan.batches {
        let items: Vec<Example> = batch.iter().map(|&i| examples[i].clone()).collect();
        let encoded = tokenizer.encode(&items, max_length)?;
        let out = classify(model, BatchTensors::<B>::new(&encoded, device), pooling);
        let (_, f) = rows(first_token(&out.token_states));
        let (_, m) = rows(mean_pool(&out.token_states, &out.attention_mask));
        let (c, l) = rows(out.logits);
        first.extend(f.chunks(dim).map(<[f32]>::to_vec));
        mean.extend(m.chunks(dim).map(<[f32]>::to_vec));
        logits.extend(
            l.chunks(c)
                .map(|r| r.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>()),
        );
    }
    let logits = plan.restore(logits);
    let probabilities: Vec<Vec<f64>> = logits.iter().map(|l| softmax(l)).collect();
    let predicted = probabilities
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > p[best] { i } else { best })
        })
        .collect();
    Ok(ModelOutputs {
        n: examples.len(),
        dim,
        first: plan.restore(first).concat(),
        mean: plan.restore(mean).concat(),
        probabilities,
        predicted,
    })
}
