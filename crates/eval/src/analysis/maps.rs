//! 2-D maps of sentence embeddings (PCA and t-SNE), coloured by true label with misclassified
//! examples drawn as crosses: one SVG + PNG per model, sentence vector and projection.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::AnalysisError;
use dmlft_pooling::Pooling;

use super::outputs::ModelOutputs;
use crate::embeddings::EmbeddingView;
use crate::pca::pca_2d;
use crate::plots::{plot_scatter, PlotOptions, ScatterPoint};
use crate::tsne::{tsne_2d_with, TsneConfig, TsneInit, TsneMethod};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Projection {
    Pca,
    Tsne,
}

impl Projection {
    pub fn name(self) -> &'static str {
        match self {
            Projection::Pca => "pca",
            Projection::Tsne => "tsne",
        }
    }
}

/// One written map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapFile {
    pub model: String,
    pub embedding: Pooling,
    pub projection: Projection,
    pub svg: PathBuf,
    pub png: PathBuf,
    /// PCA: share of variance on the two axes; t-SNE: final KL divergence (NaN for a
    /// Barnes-Hut map, which does not report it).
    pub quality: f64,
}

/// t-SNE settings for `n` points: sklearn's defaults, PCA initialisation, and a perplexity
/// lowered to (n - 1) / 3 when n is small (it must stay below n).
pub(crate) fn tsne_config(n: usize, seed: u64) -> TsneConfig {
    let perplexity = 30f64.min((n.saturating_sub(1)) as f64 / 3.0).max(1.0);
    TsneConfig {
        perplexity,
        init: TsneInit::Pca,
        seed,
        ..TsneConfig::default()
    }
}

/// Projects and plots `kind` embeddings of `outputs` into `dir/<model>-<kind>-<projection>.*`.
#[allow(clippy::too_many_arguments)]
pub fn write_map(
    model: &str,
    outputs: &ModelOutputs,
    kind: Pooling,
    projection: Projection,
    labels: &[usize],
    label_names: &[String],
    dir: &Path,
    options: &PlotOptions,
    seed: u64,
) -> Result<MapFile, AnalysisError> {
    let view = EmbeddingView::new(outputs.embeddings(kind), outputs.dim)?;
    let (points, quality): (Vec<[f64; 2]>, f64) = match projection {
        Projection::Pca => {
            let pca = pca_2d(&view)?;
            let share = pca.explained_variance_ratio.iter().sum();
            (pca.projected.iter().map(|p| [p[0], p[1]]).collect(), share)
        }
        Projection::Tsne => {
            let method = TsneMethod::for_points(view.len());
            let map = tsne_2d_with(&view, &tsne_config(view.len(), seed), method)?;
            (map.points, map.kl_divergence.unwrap_or(f64::NAN))
        }
    };
    let scatter: Vec<ScatterPoint> = points
        .iter()
        .zip(labels)
        .zip(&outputs.predicted)
        .map(|((p, &label), &predicted)| ScatterPoint {
            x: p[0],
            y: p[1],
            label,
            error: predicted != label,
        })
        .collect();
    let quality_text = match projection {
        Projection::Pca => format!("{:.0}% variance", 100.0 * quality),
        Projection::Tsne if quality.is_nan() => "Barnes-Hut".to_string(),
        Projection::Tsne => format!("KL {quality:.3}"),
    };
    let title = format!(
        "{model}: {} embeddings, {} ({quality_text}; x = error)",
        kind.name(),
        projection.name().to_uppercase()
    );
    let stem = dir.join(format!(
        "{}-{}-{}",
        file_safe(model),
        kind.name(),
        projection.name()
    ));
    let files = plot_scatter(&scatter, label_names, &title, &stem, options)?;
    Ok(MapFile {
        model: model.to_string(),
        embedding: kind,
        projection,
        svg: files.svg,
        png: files.png,
        quality,
    })
}

/// A model name as a file-name part: letters, digits, `-`, `_`, `.`; anything else becomes `_`.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
