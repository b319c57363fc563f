//! Embedding-space quality per model and sentence vector: silhouette (Euclidean), leave-one-out
//! k-NN accuracy (cosine), intra/inter class distance ratio, all against the true labels.
//!
//! Proxy-to-class-mean alignment needs the loss parameters (proxies / SoftTriple centers), which
//! `run_cell`'s save does not write (only the classifier in HF layout): it is reported as absent,
//! with that note, until the save stores them.

use serde::{Deserialize, Serialize};

use super::error::AnalysisError;
use super::outputs::{EmbeddingKind, ModelOutputs};
use crate::embedding_metrics::{embedding_metrics, EmbeddingMetrics};
use crate::embeddings::EmbeddingView;

/// Why proxy alignment is missing.
pub const NO_PROXIES_NOTE: &str =
    "proxy alignment not computed: the saved model folder holds no loss parameters (run_cell saves only the classifier)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceMetrics {
    pub model: String,
    pub embedding: EmbeddingKind,
    /// Head accuracy on the same examples (for reading the metrics side by side).
    pub accuracy: f64,
    pub metrics: EmbeddingMetrics,
}

/// Metrics of both sentence vectors of one model; `k` is capped at n - 1.
pub fn space_metrics(
    model: &str,
    outputs: &ModelOutputs,
    labels: &[usize],
    k: usize,
) -> Result<Vec<SpaceMetrics>, AnalysisError> {
    if outputs.n < 2 {
        return Err(AnalysisError::Empty(format!(
            "{} example(s): metrics need at least 2",
            outputs.n
        )));
    }
    let k = k.clamp(1, outputs.n - 1);
    EmbeddingKind::ALL
        .into_iter()
        .map(|kind| {
            let view = EmbeddingView::new(outputs.embeddings(kind), outputs.dim)?;
            Ok(SpaceMetrics {
                model: model.to_string(),
                embedding: kind,
                accuracy: outputs.accuracy(labels),
                metrics: embedding_metrics(&view, labels, k, None)?,
            })
        })
        .collect()
}

fn opt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// Markdown table, one row per model and sentence vector.
pub fn metrics_markdown(rows: &[SpaceMetrics]) -> String {
    let k = rows.first().map_or(0, |r| r.metrics.knn_k);
    let mut out = String::from(
        "| model | embedding | n | head acc | silhouette | k-NN acc | intra/inter | proxy alignment |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let m = &r.metrics;
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} | {} | {:.4} | {} | {} |\n",
            r.model,
            r.embedding.name(),
            m.n,
            r.accuracy,
            opt(m.silhouette),
            m.knn_accuracy,
            opt(m.intra_inter_ratio),
            opt(m.proxy_alignment.as_ref().map(|p| p.mean)),
        ));
    }
    out.push_str(&format!(
        "\nk-NN: leave-one-out, cosine, k = {k}. Silhouette and intra/inter: Euclidean. \
         Lower intra/inter = tighter classes.\n"
    ));
    if rows.iter().all(|r| r.metrics.proxy_alignment.is_none()) {
        out.push_str(&format!("\n{NO_PROXIES_NOTE}.\n"));
    }
    out
}
