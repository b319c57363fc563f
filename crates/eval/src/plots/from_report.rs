//! Plot inputs built from a [`Report`] and its runs: the results figure (every run's value,
//! the means and CIs), the heatmaps of differences to the baseline, and the loss palette they
//! share.

use super::heatmap::HeatmapPlot;
use super::palette::LossPalette;
use super::results::{ResultPanel, ResultPoint, ResultSeries, ResultsPlot, MIN_CI_RUNS};
use super::Heatmap;
use crate::report::{
    HolmSource, Report, ReportRow, RowKind, RunRecord, PAPER_TASK_ORDER, SIGNIFICANCE_LEVEL,
};
use crate::InferenceMode;
use std::collections::{BTreeMap, BTreeSet};

/// The colours of a report: a colour per method (loss, mode), its baseline first, then its
/// other losses by name.
pub fn loss_palette(report: &Report) -> LossPalette {
    LossPalette::with_methods(
        Some(report.baseline_loss.as_str()),
        report.rows.iter().map(|r| (r.loss.as_str(), r.mode)),
    )
}

/// A task's place in the papers' order.
type TaskRank = (usize, String);

/// Position of a task: the papers' order (MR, CR, SUBJ, MPQA, SST-2, TREC, MRPC), then others
/// by name.
fn task_rank(task: &str) -> TaskRank {
    match PAPER_TASK_ORDER.iter().position(|t| *t == task) {
        Some(i) => (i, String::new()),
        None => (PAPER_TASK_ORDER.len(), task.to_string()),
    }
}

/// Plot units of a report's metric: percent for proportions.
fn scale(report: &Report) -> f64 {
    if report.percent {
        100.0
    } else {
        1.0
    }
}

/// The results figure: a panel per dataset, a series per loss (mode) with every run's value
/// (from `runs`, the records the report aggregated) beside the report's mean and CI.
pub fn results_plot(report: &Report, runs: &[RunRecord], palette: &LossPalette) -> ResultsPlot {
    let scale = scale(report);
    let mut values: BTreeMap<(&str, usize, &str, InferenceMode), Vec<f64>> = BTreeMap::new();
    for r in runs {
        if let Some(v) = r.metrics.get(&report.metric) {
            values
                .entry((r.dataset.as_str(), r.shots, r.loss.as_str(), r.mode))
                .or_default()
                .push(v * scale);
        }
    }
    type Panels<'a> = BTreeMap<
        ((usize, String), &'a str),
        BTreeMap<(usize, &'a str, InferenceMode), ResultSeries>,
    >;
    let mut panels: Panels = BTreeMap::new();
    let rank = |loss: &str| {
        palette
            .losses()
            .iter()
            .position(|l| l == loss)
            .unwrap_or(usize::MAX)
    };
    for row in report.rows.iter().filter(|r| r.kind == RowKind::Cell) {
        let series = panels
            .entry((task_rank(&row.dataset), &row.dataset))
            .or_default()
            .entry((rank(&row.loss), &row.loss, row.mode))
            .or_insert_with(|| ResultSeries {
                loss: row.loss.clone(),
                mode: row.mode,
                points: Vec::new(),
            });
        series.points.push(ResultPoint {
            shots: row.shots,
            values: values
                .get(&(row.dataset.as_str(), row.shots, row.loss.as_str(), row.mode))
                .cloned()
                .unwrap_or_default(),
            mean: row.mean * scale,
            ci: row
                .ci_low
                .zip(row.ci_high)
                .map(|(l, h)| (l * scale, h * scale)),
        });
    }
    ResultsPlot {
        panels: panels
            .into_iter()
            .map(|((_, dataset), series)| ResultPanel {
                title: dataset.to_string(),
                references: Vec::new(),
                series: series
                    .into_values()
                    .map(|mut s| {
                        s.points.sort_by_key(|p| p.shots);
                        s
                    })
                    .collect(),
            })
            .collect(),
        metric_label: metric_label(report),
        range: report.percent.then_some((0.0, 100.0)),
        min_ci_runs: MIN_CI_RUNS,
        palette: palette.clone(),
        interval_label: "95% t-interval of the method's mean".to_string(),
    }
}

/// Adds each panel's majority-class and chance lines from `levels` (per task, the metric's
/// (majority, chance) as a proportion, e.g. [`crate::report::reference_levels`]).
pub fn add_reference_lines(
    plot: &mut ResultsPlot,
    report: &Report,
    levels: &BTreeMap<String, (f64, f64)>,
) {
    let scale = scale(report);
    for panel in &mut plot.panels {
        if let Some((majority, chance)) = levels.get(&panel.title) {
            panel.references = vec![
                ("majority".to_string(), majority * scale),
                ("chance".to_string(), chance * scale),
            ];
        }
    }
}

/// The comparison figure: per task, each method's paired differences to the baseline (one
/// per seed / fold both ran), their mean and the 95% t-interval of the mean difference, with
/// the baseline as the line at 0. `None` without any pair.
pub fn diff_plot(
    report: &Report,
    runs: &[RunRecord],
    palette: &LossPalette,
) -> Option<ResultsPlot> {
    let scale = scale(report);
    let baseline = report.baseline_loss.as_str();
    // (dataset, shots, mode) -> pair key -> baseline value; the baseline's head value is
    // the partner of every mode (CE has no proxies)
    let mut base: BTreeMap<(&str, usize), BTreeMap<&str, f64>> = BTreeMap::new();
    for r in runs
        .iter()
        .filter(|r| r.loss == baseline && r.mode == InferenceMode::Head)
    {
        if let Some(v) = r.metrics.get(&report.metric) {
            base.entry((r.dataset.as_str(), r.shots))
                .or_default()
                .insert(r.pair_key.as_str(), *v);
        }
    }
    let mut diffs: BTreeMap<(&str, usize, &str, InferenceMode), Vec<f64>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.loss != baseline) {
        let (Some(v), Some(b)) = (
            r.metrics.get(&report.metric),
            base.get(&(r.dataset.as_str(), r.shots))
                .and_then(|m| m.get(r.pair_key.as_str())),
        ) else {
            continue;
        };
        diffs
            .entry((r.dataset.as_str(), r.shots, r.loss.as_str(), r.mode))
            .or_default()
            .push((v - b) * scale);
    }
    if diffs.is_empty() {
        return None;
    }
    let mut plot = results_plot(report, &[], palette);
    for panel in &mut plot.panels {
        panel.series.retain(|s| s.loss != baseline);
        for series in &mut panel.series {
            series.points.retain_mut(|p| {
                let Some(d) = diffs.get(&(
                    panel.title.as_str(),
                    p.shots,
                    series.loss.as_str(),
                    series.mode,
                )) else {
                    return false;
                };
                let Ok(summary) = crate::stats::summarize(d) else {
                    return false;
                };
                p.values = d.clone();
                p.mean = summary.mean;
                p.ci = summary.ci.map(|c| (c.low, c.high));
                true
            });
        }
        panel.series.retain(|s| !s.points.is_empty());
        panel.references = vec![(baseline.to_string(), 0.0)];
    }
    plot.panels.retain(|p| !p.series.is_empty());
    plot.metric_label = format!(
        "{} minus {}{}",
        report.metric,
        baseline,
        if report.percent { " (points)" } else { "" }
    );
    plot.range = None;
    plot.interval_label = "95% t-interval of the paired difference".to_string();
    Some(plot)
}

/// `accuracy (%)` or the metric's bare name.
pub fn metric_label(report: &Report) -> String {
    if report.percent {
        format!("{} (%)", report.metric)
    } else {
        report.metric.to_string()
    }
}

/// A heatmap to build: its title, its cells, and the row label of a cell.
type MapSpec<'a> = (String, Vec<&'a ReportRow>, fn(&ReportRow) -> String);

/// One heatmap per shots value: rows = datasets, columns = `loss (mode)` of the non-baseline
/// losses (in palette order), values = mean difference to the baseline, with the Holm p. A
/// study of one dataset gets one heatmap with a row per shots value instead.
pub fn heatmaps_from_report(report: &Report) -> Vec<Heatmap> {
    let palette = loss_palette(report);
    let rank = |loss: &str| palette.losses().iter().position(|l| l == loss);
    let cells: Vec<&ReportRow> = report
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Cell && r.loss != report.baseline_loss)
        .collect();
    let datasets: BTreeSet<&str> = cells.iter().map(|r| r.dataset.as_str()).collect();
    let shots: BTreeSet<usize> = cells.iter().map(|r| r.shots).collect();
    let vs = format!("{} minus {}", report.metric, report.baseline_loss);
    // rows are tasks (with their average), or the shots of a study of one task
    let rows_are_tasks = !(datasets.len() == 1 && shots.len() > 1);
    let maps: Vec<MapSpec> = if !rows_are_tasks {
        let d = datasets.iter().next().copied().unwrap_or_default();
        vec![(format!("{d}: {vs}"), cells.clone(), |r| {
            format!("{} shots/class", r.shots)
        })]
    } else {
        shots
            .iter()
            .map(|s| {
                let here = cells.iter().copied().filter(|r| r.shots == *s).collect();
                let row: fn(&ReportRow) -> String = |r| r.dataset.clone();
                (format!("{s} shots per class: {vs}"), here, row)
            })
            .collect()
    };
    maps.into_iter()
        .map(|(title, here, row_of)| {
            // rows in order: datasets in the papers' order, shots by number
            let mut keyed: Vec<((usize, TaskRank), String)> = here
                .iter()
                .map(|r| ((r.shots, task_rank(&r.dataset)), row_of(r)))
                .collect();
            keyed.sort();
            let mut rows: Vec<String> = Vec::new();
            for (_, label) in keyed {
                if !rows.contains(&label) {
                    rows.push(label);
                }
            }
            // the primary comparisons (head predictions) first, the secondary (proxy, mixed)
            // after a gap
            let columns: Vec<(bool, Option<usize>, String, InferenceMode)> = here
                .iter()
                .map(|r| (r.mode != InferenceMode::Head, rank(&r.loss), r.loss.clone(), r.mode))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let primary = columns.iter().filter(|c| !c.0).count();
            let find = |row: &String, (_, _, loss, mode): &(bool, Option<usize>, String, InferenceMode)| {
                here.iter()
                    .find(|r| &row_of(r) == row && &r.loss == loss && &r.mode == mode)
                    .and_then(|r| r.comparison.as_ref())
            };
            let mut values: Vec<Vec<Option<f64>>> = rows
                .iter()
                .map(|d| {
                    columns
                        .iter()
                        .map(|c| find(d, c).map(|c| c.mean_diff))
                        .collect()
                })
                .collect();
            let mut p_holm: Vec<Vec<Option<f64>>> = rows
                .iter()
                .map(|d| {
                    columns
                        .iter()
                        .map(|c| find(d, c).and_then(|c| c.p_holm))
                        .collect()
                })
                .collect();
            // the average over the tasks (the papers' question), where every task has the cell
            let mut summary_rows = 0;
            if rows_are_tasks && rows.len() > 1 {
                let average: Vec<Option<f64>> = (0..columns.len())
                    .map(|c| {
                        let column: Option<Vec<f64>> = values.iter().map(|r| r[c]).collect();
                        column.map(|v| v.iter().sum::<f64>() / v.len() as f64)
                    })
                    .collect();
                if average.iter().any(Option::is_some) {
                    values.push(average);
                    p_holm.push(vec![None; columns.len()]);
                    rows.push("average".to_string());
                    summary_rows = 1;
                }
            }
            Heatmap {
                title,
                rows,
                columns: columns
                    .into_iter()
                    .map(|(_, _, loss, mode)| format!("{loss} ({mode})"))
                    .collect(),
                values,
                p_holm,
                annotation_scale: scale(report),
                primary_columns: Some(primary),
                summary_rows,
            }
        })
        .collect()
}

/// The heatmap figure of a report (`None` when no row is compared with the baseline, e.g.
/// every baseline cell failed).
pub fn heatmap_plot(report: &Report) -> Option<HeatmapPlot> {
    let maps = heatmaps_from_report(report);
    let compared = maps
        .iter()
        .any(|m| m.values.iter().flatten().any(Option::is_some));
    if !compared {
        return None;
    }
    Some(HeatmapPlot {
        maps,
        value_label: format!(
            "{} minus {}{}",
            report.metric,
            report.baseline_loss,
            if report.percent { " (points)" } else { "" }
        ),
        test_label: holm_label(report.holm_source).to_string(),
        any_significant: report
            .rows
            .iter()
            .filter_map(|r| r.comparison.as_ref()?.p_holm)
            .any(|p| p < SIGNIFICANCE_LEVEL),
    })
}

/// What the report's Holm-adjusted p-values test.
pub fn holm_label(source: HolmSource) -> &'static str {
    match source {
        HolmSource::TTest => "Holm-adjusted paired t-test",
        HolmSource::Wilcoxon => "Holm-adjusted Wilcoxon signed-rank test",
    }
}
