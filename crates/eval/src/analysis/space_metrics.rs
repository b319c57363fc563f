//! Embedding-space quality per model and sentence vector: silhouette (Euclidean), leave-one-out
//! k-NN accuracy (cosine), intra/inter class distance ratio, all against the true labels, and
//! the alignment of the loss's class representatives with the class means when the model has
//! them (a saved folder with loss parameters); otherwise n/a with the reason.

use serde::{Deserialize, Serialize};

use super::error::AnalysisError;
use dmlft_pooling::Pooling;

use super::outputs::{ModelOutputs, ModelProxies};
use crate::embedding_metrics::{embedding_metrics, ClassProxies, EmbeddingMetrics};
use crate::embeddings::EmbeddingView;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceMetrics {
    pub model: String,
    pub embedding: Pooling,
    /// Head accuracy on the same examples (for reading the metrics side by side).
    pub accuracy: f64,
    pub metrics: EmbeddingMetrics,
    /// The class representatives the proxy alignment used, or why it is n/a.
    #[serde(default)]
    pub proxy_note: String,
}

/// Metrics of both sentence vectors of one model; `k` is capped at n - 1.
pub fn space_metrics(
    model: &str,
    outputs: &ModelOutputs,
    proxies: &ModelProxies,
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
    let proxy_rows = proxies
        .loaded()
        .map(|p| EmbeddingView::new(&p.rows, p.dim))
        .transpose()?;
    let proxy_note = match proxies {
        ModelProxies::Loaded(p) => format!("proxy alignment of {model}: {}", p.source),
        ModelProxies::Missing(why) => format!("proxy alignment of {model} n/a: {why}"),
    };
    Pooling::ALL
        .into_iter()
        .map(|kind| {
            let view = EmbeddingView::new(outputs.embeddings(kind), outputs.dim)?;
            let class_proxies =
                proxy_rows
                    .as_ref()
                    .zip(proxies.loaded())
                    .map(|(rows, p)| ClassProxies {
                        rows,
                        classes: &p.classes,
                    });
            Ok(SpaceMetrics {
                model: model.to_string(),
                embedding: kind,
                accuracy: outputs.accuracy(labels),
                metrics: embedding_metrics(&view, labels, k, class_proxies)?,
                proxy_note: proxy_note.clone(),
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
    out.push_str(
        "\nProxy alignment: cosine between each class's mean embedding and its proxy (with several \
         per class, the best-aligned one), averaged over the classes.\n",
    );
    let mut notes: Vec<&str> = rows.iter().map(|r| r.proxy_note.as_str()).collect();
    notes.dedup();
    for note in notes.into_iter().filter(|n| !n.is_empty()) {
        out.push_str(&format!("- {note}\n"));
    }
    out
}
