//! `dmlft analyze` as one library call: given several models' outputs on the same examples,
//! write embedding maps, decile tables and plots, and the embedding-metrics table, and return
//! everything as one serialisable report.
//!
//! Files under `out`: `maps/<model>-<first|mean>-<pca|tsne>.{svg,png}`,
//! `deciles-distance.{md,svg,png}`, `deciles-length.{md,svg,png}`, `metrics.{md,json}`,
//! `summary.md` (all tables) and `analysis.json` (the report).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::deciles::{
    decile_rows, distances_to_mean, whitespace_lengths, DecileTable, ModelDeciles,
};
use super::error::AnalysisError;
use super::maps::{write_map, MapFile, Projection};
use dmlft_pooling::Pooling;

use super::outputs::{ModelProxies, NamedOutputs};
use super::space_metrics::{metrics_markdown, space_metrics, SpaceMetrics};
use crate::plots::{plot_deciles, DecileSeries, PlotOptions};

/// Whose embedding space the distance-to-mean deciles are measured in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceSpace {
    /// One model's space for every model (the notebook used the CE model): equal bins for all.
    Reference(String),
    /// Each model's own space.
    Own,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    /// Number of equal-size groups (10 = deciles); lowered to n when fewer examples.
    pub groups: usize,
    pub distance_space: DistanceSpace,
    /// Sentence vector for the distances; `None` = the one the (reference) model's head reads.
    pub distance_embedding: Option<Pooling>,
    /// k of the k-NN accuracy (capped at n - 1).
    pub knn_k: usize,
    pub projections: Vec<Projection>,
    /// Seed of t-SNE.
    pub seed: u64,
    pub plot: PlotOptions,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            groups: 10,
            distance_space: DistanceSpace::Own,
            distance_embedding: None,
            knn_k: 10,
            projections: vec![Projection::Pca, Projection::Tsne],
            seed: 0,
            plot: PlotOptions {
                width: 800,
                height: 600,
                ..PlotOptions::default()
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAccuracy {
    pub model: String,
    /// The sentence vector the model's head reads.
    #[serde(rename = "head_pooling")]
    pub head_input: Pooling,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    pub n: usize,
    pub label_names: Vec<String>,
    pub accuracies: Vec<ModelAccuracy>,
    pub metrics: Vec<SpaceMetrics>,
    pub distance_deciles: DecileTable,
    pub length_deciles: DecileTable,
    pub maps: Vec<MapFile>,
    /// Every file written.
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

fn write(path: &Path, text: &str, files: &mut Vec<PathBuf>) -> Result<(), AnalysisError> {
    std::fs::write(path, text).map_err(|e| AnalysisError::io(path, e))?;
    files.push(path.to_path_buf());
    Ok(())
}

fn check_inputs(
    models: &[NamedOutputs],
    texts: &[&str],
    labels: &[usize],
    label_names: &[String],
) -> Result<(), AnalysisError> {
    if models.is_empty() {
        return Err(AnalysisError::Empty("no models".into()));
    }
    if texts.len() != labels.len() {
        return Err(AnalysisError::setting(
            "labels",
            format!("{} labels for {} texts", labels.len(), texts.len()),
            "one label per text",
        ));
    }
    if texts.len() < 2 {
        return Err(AnalysisError::Empty(format!(
            "{} example(s); at least 2 are needed",
            texts.len()
        )));
    }
    for m in models {
        if m.outputs.n != texts.len() {
            return Err(AnalysisError::setting(
                &format!("outputs of {}", m.name),
                m.outputs.n,
                format!("one per example ({})", texts.len()),
            ));
        }
        if let Some(p) = m
            .outputs
            .probabilities
            .first()
            .filter(|p| p.len() != label_names.len())
        {
            return Err(AnalysisError::setting(
                &format!("classes of {}", m.name),
                p.len(),
                format!(
                    "the task's {} classes ({})",
                    label_names.len(),
                    label_names.join(", ")
                ),
            ));
        }
    }
    if let Some(&label) = labels.iter().find(|&&l| l >= label_names.len()) {
        return Err(AnalysisError::setting(
            "example label",
            label,
            format!("below {}", label_names.len()),
        ));
    }
    Ok(())
}

/// Runs every analysis of the examples `texts` with true `labels` (class indices into
/// `label_names`) and writes its files under `out`.
pub fn analyze(
    models: &[NamedOutputs],
    texts: &[&str],
    labels: &[usize],
    label_names: &[String],
    out: &Path,
    options: &AnalyzeOptions,
) -> Result<AnalysisReport, AnalysisError> {
    check_inputs(models, texts, labels, label_names)?;
    let n = texts.len();
    let mut notes = Vec::new();
    let groups = options.groups.clamp(1, n);
    if groups != options.groups {
        notes.push(format!(
            "{} groups asked, {n} examples: using {groups} groups",
            options.groups
        ));
    }
    let maps_dir = out.join("maps");
    std::fs::create_dir_all(&maps_dir).map_err(|e| AnalysisError::io(&maps_dir, e))?;
    let mut files = Vec::new();

    let accuracies: Vec<ModelAccuracy> = models
        .iter()
        .map(|m| ModelAccuracy {
            model: m.name.clone(),
            head_input: m.head_input,
            accuracy: m.outputs.accuracy(labels),
        })
        .collect();

    let mut metrics = Vec::new();
    for m in models {
        metrics.extend(space_metrics(
            &m.name,
            &m.outputs,
            &m.proxies,
            labels,
            options.knn_k,
        )?);
        if let ModelProxies::Missing(why) = &m.proxies {
            notes.push(format!("{}: proxy alignment n/a: {why}", m.name));
        }
    }

    let mut maps = Vec::new();
    for m in models {
        for kind in Pooling::ALL {
            for &projection in &options.projections {
                let map = write_map(
                    &m.name,
                    &m.outputs,
                    kind,
                    projection,
                    labels,
                    label_names,
                    &maps_dir,
                    &options.plot,
                    options.seed,
                )?;
                files.extend([map.svg.clone(), map.png.clone()]);
                maps.push(map);
            }
        }
    }

    let distance_deciles = distance_table(models, labels, groups, options)?;
    let lengths = whitespace_lengths(texts.iter().copied());
    let length_deciles = DecileTable {
        quantity: "sentence length (whitespace tokens)".into(),
        shared_bins: true,
        models: models
            .iter()
            .map(|m| {
                Ok(ModelDeciles {
                    model: m.name.clone(),
                    rows: decile_rows(&lengths, &m.outputs.correct(labels), groups)?,
                })
            })
            .collect::<Result<_, AnalysisError>>()?,
    };
    for (table, stem) in [
        (&distance_deciles, "deciles-distance"),
        (&length_deciles, "deciles-length"),
    ] {
        write(
            &out.join(format!("{stem}.md")),
            &table.to_markdown(),
            &mut files,
        )?;
        let series: Vec<DecileSeries> = table
            .models
            .iter()
            .map(|m| DecileSeries {
                name: m.model.clone(),
                values: m.rows.iter().map(|r| r.accuracy).collect(),
                counts: m.rows.iter().map(|r| r.count).collect(),
            })
            .collect();
        let title = format!("Accuracy by decile of {}", table.quantity);
        let plotted = plot_deciles(&series, &title, "accuracy", &out.join(stem), &options.plot)?;
        notes.extend(plotted.warnings);
        files.extend([plotted.svg, plotted.png]);
    }

    let metrics_md = metrics_markdown(&metrics);
    write(&out.join("metrics.md"), &metrics_md, &mut files)?;
    write(&out.join("metrics.json"), &to_json(&metrics), &mut files)?;
    let mut report = AnalysisReport {
        n,
        label_names: label_names.to_vec(),
        accuracies,
        metrics,
        distance_deciles,
        length_deciles,
        maps,
        files,
        notes,
    };
    let summary = summary_markdown(&report, &metrics_md);
    let (summary_path, json_path) = (out.join("summary.md"), out.join("analysis.json"));
    report
        .files
        .extend([summary_path.clone(), json_path.clone()]);
    std::fs::write(&summary_path, summary).map_err(|e| AnalysisError::io(&summary_path, e))?;
    std::fs::write(&json_path, to_json(&report)).map_err(|e| AnalysisError::io(&json_path, e))?;
    Ok(report)
}

fn distance_table(
    models: &[NamedOutputs],
    labels: &[usize],
    groups: usize,
    options: &AnalyzeOptions,
) -> Result<DecileTable, AnalysisError> {
    let kind_of = |m: &NamedOutputs| options.distance_embedding.unwrap_or(m.head_input);
    let distances =
        |m: &NamedOutputs| distances_to_mean(m.outputs.embeddings(kind_of(m)), m.outputs.dim);
    match &options.distance_space {
        DistanceSpace::Reference(name) => {
            let reference = models.iter().find(|m| &m.name == name).ok_or_else(|| {
                AnalysisError::setting(
                    "reference model",
                    name,
                    format!("one of the analysed models: {}", models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")),
                )
            })?;
            let values = distances(reference);
            Ok(DecileTable {
                quantity: format!(
                    "L2 distance to the centroid of the {} embeddings in {}'s space",
                    kind_of(reference).name(),
                    reference.name
                ),
                shared_bins: true,
                models: models
                    .iter()
                    .map(|m| Ok(ModelDeciles { model: m.name.clone(), rows: decile_rows(&values, &m.outputs.correct(labels), groups)? }))
                    .collect::<Result<_, AnalysisError>>()?,
            })
        }
        DistanceSpace::Own => Ok(DecileTable {
            quantity: match options.distance_embedding {
                Some(kind) => format!("L2 distance to the centroid of the {} embeddings in each model's own space", kind.name()),
                None => "L2 distance to the centroid of the head-input embeddings in each model's own space".into(),
            },
            shared_bins: false,
            models: models
                .iter()
                .map(|m| Ok(ModelDeciles { model: m.name.clone(), rows: decile_rows(&distances(m), &m.outputs.correct(labels), groups)? }))
                .collect::<Result<_, AnalysisError>>()?,
        }),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("analysis results serialise") + "\n"
}

fn summary_markdown(report: &AnalysisReport, metrics_md: &str) -> String {
    let mut out = format!("# Embedding analysis ({} examples)\n\n## Head accuracy\n\n| model | head pooling | accuracy |\n| --- | --- | ---: |\n", report.n);
    for a in &report.accuracies {
        let pooling = a.head_input.name();
        out.push_str(&format!(
            "| {} | {pooling} | {:.4} |\n",
            a.model, a.accuracy
        ));
    }
    out.push_str("\n## Embedding space\n\n");
    out.push_str(metrics_md);
    out.push_str("\n## Deciles\n\n");
    out.push_str(&report.distance_deciles.to_markdown());
    out.push('\n');
    out.push_str(&report.length_deciles.to_markdown());
    if !report.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &report.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    out
}
