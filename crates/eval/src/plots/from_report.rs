//! Plot inputs built from a [`Report`] and its runs: the results figure (every run's value,
//! the means and CIs), the heatmaps of differences to the baseline, and the loss palette they
//! share.

use super::heatmap::HeatmapPlot;
use super::palette::LossPalette;
use super::results::{ResultPanel, ResultPoint, ResultSeries, ResultsPlot, MIN_CI_RUNS};
use super::Heatmap;
use crate::report::{HolmSource, Report, ReportRow, RowKind, RunRecord};
use crate::ModeKey;
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
    let mut values: BTreeMap<(&str, usize, &str, ModeKey), Vec<f64>> = BTreeMap::new();
    for r in runs {
        if let Some(v) = r.metrics.get(&report.metric) {
            values
                .entry((r.dataset.as_str(), r.shots, r.loss.as_str(), r.mode))
                .or_default()
                .push(v * scale);
        }
    }
    let mut panels: BTreeMap<&str, BTreeMap<(usize, &str, ModeKey), ResultSeries>> =
        BTreeMap::new();
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
    let maps: Vec<MapSpec> = if datasets.len() == 1 && shots.len() > 1 {
        let d = datasets.iter().next().copied().unwrap_or_default();
        vec![(format!("{d}: {vs}"), cells.clone(), |r| {
            format!("{}-shot", r.shots)
        })]
    } else {
        shots
            .iter()
            .map(|s| {
                let here = cells.iter().copied().filter(|r| r.shots == *s).collect();
                let row: fn(&ReportRow) -> String = |r| r.dataset.clone();
                (format!("{s}-shot: {vs}"), here, row)
            })
            .collect()
    };
    maps.into_iter()
        .map(|(title, here, row_of)| {
            // rows in order: datasets by name, shots by number
            let mut keyed: Vec<((usize, String), String)> = here
                .iter()
                .map(|r| ((r.shots, r.dataset.clone()), row_of(r)))
                .collect();
            keyed.sort();
            let mut rows: Vec<String> = Vec::new();
            for (_, label) in keyed {
                if !rows.contains(&label) {
                    rows.push(label);
                }
            }
            let columns: Vec<(Option<usize>, String, ModeKey)> = here
                .iter()
                .map(|r| (rank(&r.loss), r.loss.clone(), r.mode))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let find = |row: &String, (_, loss, mode): &(Option<usize>, String, ModeKey)| {
                here.iter()
                    .find(|r| &row_of(r) == row && &r.loss == loss && &r.mode == mode)
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
                title,
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
