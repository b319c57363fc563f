//! Plot inputs built from a [`Report`] and its runs: the results figure (every run's value,
//! the means and CIs), the heatmaps of differences to the baseline, and the loss palette they
//! share.

use super::heatmap::HeatmapPlot;
use super::palette::LossPalette;
use super::results::{ResultPanel, ResultPoint, ResultSeries, ResultsPlot, MIN_CI_RUNS};
use super::Heatmap;
use crate::report::{HolmSource, Report, RowKind, RunRecord};
use std::collections::{BTreeMap, BTreeSet};

/// The colours of a report: its baseline first, then its other losses by name.
pub fn loss_palette(report: &Report) -> LossPalette {
    LossPalette::new(
        Some(report.baseline_loss.as_str()),
        report.rows.iter().map(|r| r.loss.as_str()),
    )
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
    let mut values: BTreeMap<(&str, usize, &str, &str), Vec<f64>> = BTreeMap::new();
    for r in runs {
        if let Some(v) = r.metrics.get(&report.metric) {
            values
                .entry((&r.dataset, r.shots, &r.loss, &r.mode))
                .or_default()
                .push(v * scale);
        }
    }
    let mut panels: BTreeMap<&str, BTreeMap<(usize, &str, &str), ResultSeries>> = BTreeMap::new();
    let rank = |loss: &str| {
        palette
            .losses()
            .iter()
            .position(|l| l == loss)
            .unwrap_or(usize::MAX)
    };
    for row in report.rows.iter().filter(|r| r.kind == RowKind::Cell) {
        let series = panels
            .entry(&row.dataset)
            .or_default()
            .entry((rank(&row.loss), &row.loss, &row.mode))
            .or_insert_with(|| ResultSeries {
                loss: row.loss.clone(),
                mode: row.mode.clone(),
                points: Vec::new(),
            });
        series.points.push(ResultPoint {
            shots: row.shots,
            values: values
                .get(&(
                    row.dataset.as_str(),
                    row.shots,
                    row.loss.as_str(),
                    row.mode.as_str(),
                ))
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
            .map(|(dataset, series)| ResultPanel {
                title: dataset.to_string(),
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
    }
}

/// `accuracy (%)` or the metric's bare name.
pub fn metric_label(report: &Report) -> String {
    if report.percent {
        format!("{} (%)", report.metric)
    } else {
        report.metric.clone()
    }
}

/// One heatmap per shots value: rows = datasets, columns = `loss (mode)` of the non-baseline
/// losses (in palette order), values = mean difference to the baseline, with the Holm p.
pub fn heatmaps_from_report(report: &Report) -> Vec<Heatmap> {
    let palette = loss_palette(report);
    let rank = |loss: &str| palette.losses().iter().position(|l| l == loss);
    let cells: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Cell && r.loss != report.baseline_loss)
        .collect();
    let shots: BTreeSet<usize> = cells.iter().map(|r| r.shots).collect();
    shots
        .into_iter()
        .map(|s| {
            let here: Vec<_> = cells.iter().filter(|r| r.shots == s).collect();
            let rows: Vec<String> = here
                .iter()
                .map(|r| r.dataset.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let columns: Vec<(Option<usize>, String, String)> = here
                .iter()
                .map(|r| (rank(&r.loss), r.loss.clone(), r.mode.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let find = |d: &String, (_, loss, mode): &(Option<usize>, String, String)| {
                here.iter()
                    .find(|r| &r.dataset == d && &r.loss == loss && &r.mode == mode)
                    .and_then(|r| r.comparison.as_ref())
            };
            let values = rows
                .iter()
                .map(|d| {
                    columns
                        .iter()
                        .map(|c| find(d, c).map(|c| c.mean_diff))
                        .collect()
                })
                .collect();
            let p_holm = rows
                .iter()
                .map(|d| {
                    columns
                        .iter()
                        .map(|c| find(d, c).and_then(|c| c.p_holm))
                        .collect()
                })
                .collect();
            Heatmap {
                title: format!(
                    "{}-shot: {} minus {}",
                    s, report.metric, report.baseline_loss
                ),
                rows,
                columns: columns
                    .into_iter()
                    .map(|(_, loss, mode)| format!("{loss} ({mode})"))
                    .collect(),
                values,
                p_holm,
                annotation_scale: scale(report),
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
    })
}

/// What the report's Holm-adjusted p-values test.
pub fn holm_label(source: HolmSource) -> &'static str {
    match source {
        HolmSource::TTest => "Holm-adjusted paired t-test",
        HolmSource::Wilcoxon => "Holm-adjusted Wilcoxon signed-rank test",
    }
}
