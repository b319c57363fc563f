//! `dmlft report RESULTS_DIR`: turns every done cell record into one `dmlft_eval` run record per
//! inference mode, aggregates them with `dmlft_eval::report::aggregate` (mean, std, CI, paired
//! tests against the baseline, Holm correction) and renders Markdown (stdout and file), CSV,
//! LaTeX and JSON, plus plots with `--plots`. Cells that differ in swept settings (e.g. the
//! learning rate) are reported as separate sections, each compared with the baseline loss at the
//! same settings.

use crate::store::{CellRecord, CellStatus, ResultsStore, StoreError};
use dmlft_eval::report::{
    aggregate, render_csv, render_json, render_latex, render_markdown, Report, RunRecord,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Csv,
    Tex,
    Json,
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub baseline: Option<String>,
    pub metric: String,
    pub formats: Vec<Format>,
    pub plots: bool,
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: no done cell to report (run the grid first)")]
    Empty(PathBuf),
    #[error("no loss to compare against: give --baseline (losses: {0})")]
    NoBaseline(String),
    #[error("{section}{source}")]
    Eval {
        section: String,
        #[source]
        source: dmlft_eval::report::ReportError,
    },
    #[error("plot: {0}")]
    Plot(#[from] dmlft_eval::plots::PlotError),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// Swept settings of a record (beyond dataset / loss / shots / seed / fold) as `key=value`s.
pub fn settings_label(r: &CellRecord) -> String {
    r.axes
        .iter()
        .filter(|(k, _)| !["dataset", "loss", "shots", "seed", "fold"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One run record per (done cell, inference mode), grouped by swept settings.
pub fn run_records(records: &BTreeMap<String, CellRecord>) -> BTreeMap<String, Vec<RunRecord>> {
    let mut out: BTreeMap<String, Vec<RunRecord>> = BTreeMap::new();
    for r in records.values().filter(|r| r.status == CellStatus::Done) {
        let Some(result) = &r.result else { continue };
        let pair_key = match r.cell.split.fold {
            Some(f) => format!("seed={} fold={f}", r.cell.split.seed),
            None => format!("seed={}", r.cell.split.seed),
        };
        for (mode, m) in &result.metrics {
            out.entry(settings_label(r)).or_default().push(RunRecord {
                dataset: r.cell.dataset_name.clone(),
                shots: r.cell.split.shots,
                loss: r.cell.loss_name.clone(),
                mode: mode.clone(),
                pair_key: pair_key.clone(),
                metrics: m.scalars(),
            });
        }
    }
    out
}

/// Default baseline: `ce` if present, else the first loss (by name) without DML terms.
pub fn default_baseline(records: &BTreeMap<String, CellRecord>) -> Option<String> {
    let mut done: Vec<&CellRecord> = records
        .values()
        .filter(|r| r.status == CellStatus::Done)
        .collect();
    done.sort_by(|a, b| a.cell.loss_name.cmp(&b.cell.loss_name));
    if done.iter().any(|r| r.cell.loss_name == "ce") {
        return Some("ce".into());
    }
    done.iter()
        .find(|r| r.cell.objective.dml.is_empty())
        .map(|r| r.cell.loss_name.clone())
}

/// Builds the report; returns the Markdown (for stdout) and the files written.
pub fn run(
    results_dir: &Path,
    opts: &ReportOptions,
) -> Result<(String, Vec<PathBuf>), ReportError> {
    let records = ResultsStore::open(results_dir).all()?;
    let sections = run_records(&records);
    if sections.is_empty() {
        return Err(ReportError::Empty(results_dir.to_path_buf()));
    }
    let baseline = match &opts.baseline {
        Some(b) => b.clone(),
        None => default_baseline(&records).ok_or_else(|| {
            let mut losses: Vec<&str> = records
                .values()
                .map(|r| r.cell.loss_name.as_str())
                .collect();
            losses.sort();
            losses.dedup();
            ReportError::NoBaseline(losses.join(", "))
        })?,
    };
    let mut reports: Vec<(String, Report)> = Vec::new();
    for (settings, runs) in &sections {
        let report =
            aggregate(runs, &baseline, &opts.metric).map_err(|source| ReportError::Eval {
                section: if settings.is_empty() {
                    String::new()
                } else {
                    format!("settings {settings}: ")
                },
                source,
            })?;
        reports.push((settings.clone(), report));
    }
    let titled = |render: &dyn Fn(&Report) -> String, heading: &dyn Fn(&str) -> String| -> String {
        let mut text = String::new();
        for (settings, report) in &reports {
            if !settings.is_empty() {
                text.push_str(&heading(settings));
            }
            text.push_str(&render(report));
            text.push('\n');
        }
        text
    };
    let markdown = titled(&|r| render_markdown(r), &|s| {
        format!("### Settings: {s}\n\n")
    });
    let out_dir = opts
        .out
        .clone()
        .unwrap_or_else(|| results_dir.join("report"));
    let mut written = Vec::new();
    let mut write = |name: String, text: String| -> Result<(), ReportError> {
        std::fs::create_dir_all(&out_dir).map_err(|e| ReportError::Write(out_dir.clone(), e))?;
        let path = out_dir.join(name);
        crate::store::write_atomic(&path, text.as_bytes())
            .map_err(|e| ReportError::Write(path.clone(), e))?;
        written.push(path);
        Ok(())
    };
    // one file per settings section for the machine-readable formats
    let suffix = |i: usize| {
        if reports.len() == 1 {
            String::new()
        } else {
            format!("-{i}")
        }
    };
    for format in &opts.formats {
        match format {
            Format::Md => write("report.md".into(), markdown.clone())?,
            Format::Tex => write(
                "report.tex".into(),
                titled(&|r| render_latex(r), &|s| format!("% settings: {s}\n")),
            )?,
            Format::Csv | Format::Json => {
                for (i, (settings, report)) in reports.iter().enumerate() {
                    let eval_err = |source| ReportError::Eval {
                        section: format!("settings {settings}: "),
                        source,
                    };
                    let (ext, text) = match format {
                        Format::Csv => ("csv", render_csv(report).map_err(eval_err)?),
                        _ => ("json", render_json(report).map_err(eval_err)?),
                    };
                    write(format!("report{}.{ext}", suffix(i)), text)?;
                }
            }
        }
    }
    let mut runs_json = Vec::new();
    for (settings, runs) in &sections {
        runs_json.push(serde_json::json!({ "settings": settings, "runs": runs }));
    }
    write(
        "runs.json".into(),
        serde_json::to_string_pretty(&runs_json).unwrap_or_default(),
    )?;
    if opts.plots {
        use dmlft_eval::plots::{
            heatmaps_from_report, plot_heatmaps, plot_shots_curves, shots_panels_from_report,
            PlotOptions,
        };
        let plot_opts = PlotOptions::default();
        for (i, (_, report)) in reports.iter().enumerate() {
            let panels = shots_panels_from_report(report);
            if !panels.is_empty() {
                let files = plot_shots_curves(
                    &panels,
                    "shots",
                    &opts.metric,
                    &out_dir.join(format!("shots{}", suffix(i))),
                    &plot_opts,
                )?;
                written.extend([files.svg, files.png]);
                files.warnings.iter().for_each(|w| tracing::warn!("{w}"));
            }
            let maps = heatmaps_from_report(report);
            if !maps.is_empty() {
                let files = plot_heatmaps(
                    &maps,
                    &out_dir.join(format!("diff-vs-baseline{}", suffix(i))),
                    &plot_opts,
                )?;
                written.extend([files.svg, files.png]);
                files.warnings.iter().for_each(|w| tracing::warn!("{w}"));
            }
        }
    }
    Ok((markdown, written))
}
