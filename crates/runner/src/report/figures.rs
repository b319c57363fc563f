//! The report's figures and HTML page from the records: the training curves of the done
//! cells as `dmlft_eval` training runs, the figure files of `--plots`, and `report.html` of
//! `--html` (rendered by `dmlft_eval::report::render_html`).

use super::failures::FailedCell;
use super::{settings_label, ReportError};
use crate::store::{CellRecord, CellStatus};
use dmlft_eval::plots::{
    add_reference_lines, diff_plot, distinct_quantities, heatmap_plot, loss_palette, plot_heatmaps,
    plot_results, plot_training, results_plot, training_quantities, PlotError, PlotFiles,
    PlotOptions, TrainingPlot, TrainingRun,
};
use dmlft_eval::report::{
    analysis_links, render_html, HtmlFailure, HtmlReport, HtmlSection, Report, RunRecord,
};
use dmlft_train::spec::DevMetric;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The training curve of every done cell that recorded one, by settings section. Quantities:
/// `loss`, `term <name>` per loss term, `lr <group>` per parameter group, `grad norm`,
/// `grad norm <term>` (sampled steps), `dev accuracy <mode>` / `dev macro_f1 <mode>` (the dev
/// curve of `eval_every`).
pub fn training_runs(records: &BTreeMap<String, CellRecord>) -> BTreeMap<String, Vec<TrainingRun>> {
    let mut out: BTreeMap<String, Vec<TrainingRun>> = BTreeMap::new();
    for r in records.values().filter(|r| r.status == CellStatus::Done) {
        let Some(curve) = r.result.as_ref().and_then(|res| res.curve.as_ref()) else {
            continue;
        };
        let Some(first) = curve.points.first() else {
            continue;
        };
        // Every recorded step and every dev evaluation's step (NaN where a quantity has none).
        let dev = curve.dev.as_ref();
        let steps: BTreeSet<usize> = curve
            .points
            .iter()
            .map(|p| p.step)
            .chain(
                dev.into_iter()
                    .flat_map(|d| d.points.iter().map(|p| p.step)),
            )
            .collect();
        let at: BTreeMap<usize, &dmlft_train::curve::CurvePoint> =
            curve.points.iter().map(|p| (p.step, p)).collect();
        let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut push = |key: String, f: &dyn Fn(&dmlft_train::curve::CurvePoint) -> Option<f64>| {
            let v = steps
                .iter()
                .map(|s| at.get(s).and_then(|p| f(p)).unwrap_or(f64::NAN))
                .collect();
            values.insert(key, v);
        };
        push("loss".into(), &|p| Some(p.loss));
        for term in first.terms.keys() {
            push(format!("term {term}"), &|p| p.terms.get(term).copied());
        }
        for group in first.lr.keys() {
            push(format!("lr {group}"), &|p| p.lr.get(group).copied());
        }
        push("grad norm".into(), &|p| Some(p.grad_norm));
        let terms: BTreeSet<&String> = curve
            .points
            .iter()
            .flat_map(|p| p.term_grad_norms.keys())
            .collect();
        for term in terms {
            push(format!("grad norm {term}"), &|p| {
                p.term_grad_norms.get(term).copied()
            });
        }
        if let Some(dev) = dev {
            let by_step: BTreeMap<usize, &dmlft_train::curve::DevPoint> =
                dev.points.iter().map(|p| (p.step, p)).collect();
            let modes: BTreeSet<_> = dev.points.iter().flat_map(|p| p.scores.keys()).collect();
            for mode in modes {
                for (name, metric) in [
                    ("accuracy", DevMetric::Accuracy),
                    ("macro_f1", DevMetric::MacroF1),
                ] {
                    let v = steps
                        .iter()
                        .map(|s| {
                            by_step
                                .get(s)
                                .and_then(|p| p.scores.get(mode))
                                .map_or(f64::NAN, |m| m.get(metric))
                        })
                        .collect();
                    values.insert(format!("dev {name} {mode}"), v);
                }
            }
        }
        out.entry(settings_label(r)).or_default().push(TrainingRun {
            dataset: r.cell.dataset_name.clone(),
            shots: r.cell.split.shots,
            loss: r.cell.loss_name.clone(),
            steps: steps.iter().map(|&s| s as f64).collect(),
            values,
        });
    }
    out
}

/// A file-name part for a quantity (`term softtriple` -> `term-softtriple`).
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// `--plots`: `results<suffix>` (with each task's majority-class and chance lines from
/// `references`, per task (majority, chance) as proportions), `diff-intervals<suffix>` (paired
/// differences to the baseline with their intervals), `diff-vs-baseline<suffix>` and
/// `training-<quantity><suffix>` (one per distinct quantity), as SVG and PNG at two-column
/// width, into `out_dir`. Returns the files and warnings (e.g. no curves recorded).
pub fn write_plots(
    out_dir: &Path,
    suffix: &str,
    report: &Report,
    runs: &[RunRecord],
    training: &[TrainingRun],
    references: &BTreeMap<String, (f64, f64)>,
) -> Result<(Vec<PathBuf>, Vec<String>), ReportError> {
    let options = PlotOptions::page();
    let mut written = Vec::new();
    let mut warnings = Vec::new();
    let mut keep = |files: PlotFiles| {
        warnings.extend(files.warnings);
        written.extend([files.svg, files.png]);
    };
    let palette = loss_palette(report);
    let mut results = results_plot(report, runs, &palette);
    add_reference_lines(&mut results, report, references);
    match plot_results(
        &results,
        &out_dir.join(format!("results{suffix}")),
        &options,
    ) {
        Ok(files) => keep(files),
        Err(PlotError::NoData(_)) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(diffs) = diff_plot(report, runs, &palette) {
        keep(plot_results(
            &diffs,
            &out_dir.join(format!("diff-intervals{suffix}")),
            &options,
        )?);
    }
    if let Some(plot) = heatmap_plot(report) {
        keep(plot_heatmaps(
            &plot,
            &out_dir.join(format!("diff-vs-baseline{suffix}")),
            &options,
        )?);
    }
    // a quantity equal to another in every run (two parameter groups on one schedule) is
    // named in that one's figure instead of drawn again
    for (quantity, same_as) in distinct_quantities(training, &training_quantities(training)) {
        let plot = TrainingPlot {
            quantity: quantity.clone(),
            runs: training.to_vec(),
            palette: palette.clone(),
            same_as,
        };
        let stem = out_dir.join(format!("training-{}{suffix}", slug(&quantity)));
        keep(plot_training(&plot, &stem, &options)?);
    }
    if training.is_empty() {
        warnings.push(
            "no record has a training curve (records written before dmlft recorded curves): no training plots"
                .into(),
        );
    }
    Ok((written, warnings))
}

/// One settings section as the page sees it.
pub struct PageSection<'a> {
    pub settings: &'a str,
    pub report: Option<&'a Report>,
    pub runs: &'a [RunRecord],
    pub training: &'a [TrainingRun],
    /// The paper tables and the comparison over tasks, as HTML.
    pub lead: &'a str,
}

/// `--html`: the text of `report.html` for the page folder `out_dir`.
pub fn html_page(
    results_dir: &Path,
    out_dir: &Path,
    records: &BTreeMap<String, CellRecord>,
    sections: Vec<PageSection>,
    failed: &[FailedCell],
    warnings: &[String],
    extras: dmlft_eval::report::HtmlExtras,
) -> Result<String, ReportError> {
    let title = records
        .values()
        .map(|r| r.grid.as_str())
        .next()
        .unwrap_or("study")
        .to_string();
    let grid_text = std::fs::read_to_string(results_dir.join("grid.toml")).ok();
    let fingerprints: Vec<(String, String)> = records
        .values()
        .map(|r| (r.cell.dataset_name.clone(), r.data_fingerprint.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let failed: Vec<HtmlFailure> = failed
        .iter()
        .map(|f| HtmlFailure {
            cell_id: f.cell_id.clone(),
            settings: f.settings.clone(),
            dataset: f.dataset.clone(),
            shots: f.shots,
            loss: f.loss.clone(),
            run: match f.fold {
                Some(fold) => format!("seed={} fold={fold}", f.seed),
                None => format!("seed={}", f.seed),
            },
            failed_step: f.failed_step,
            error: f.error.clone(),
        })
        .collect();
    let links = analysis_links(results_dir, out_dir);
    let generator = format!("dmlft {}", env!("CARGO_PKG_VERSION"));
    let page = HtmlReport {
        title: &title,
        generator: &generator,
        grid_text: grid_text.as_deref(),
        sections: sections
            .into_iter()
            .map(|s| HtmlSection {
                settings: s.settings,
                report: s.report,
                runs: s.runs,
                training: s.training,
                lead: s.lead,
            })
            .collect(),
        failed: &failed,
        fingerprints: &fingerprints,
        links: &links,
        warnings,
        extras,
    };
    Ok(render_html(&page, &PlotOptions::default())?)
}
