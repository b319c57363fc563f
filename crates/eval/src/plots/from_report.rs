//! Plot inputs built from a [`Report`]: curves over shots and heatmaps of differences.

use super::{CurvePanel, CurvePoint, CurveSeries, Heatmap};
use crate::report::{Report, RowKind};
use std::collections::{BTreeMap, BTreeSet};

/// One panel per dataset, one series per `loss (mode)`, points at each shots value with the
/// 95% CI as band (values scaled to percent for proportion metrics).
pub fn shots_panels_from_report(report: &Report) -> Vec<CurvePanel> {
    let scale = if report.percent { 100.0 } else { 1.0 };
    let mut panels: BTreeMap<&str, BTreeMap<String, Vec<CurvePoint>>> = BTreeMap::new();
    for row in report.rows.iter().filter(|r| r.kind == RowKind::Cell) {
        panels
            .entry(&row.dataset)
            .or_default()
            .entry(format!("{} ({})", row.loss, row.mode))
            .or_default()
            .push(CurvePoint {
                x: row.shots as f64,
                mean: row.mean * scale,
                low: row.ci_low.map(|v| v * scale),
                high: row.ci_high.map(|v| v * scale),
            });
    }
    panels
        .into_iter()
        .map(|(dataset, series)| CurvePanel {
            title: dataset.to_string(),
            series: series
                .into_iter()
                .map(|(name, mut points)| {
                    points.sort_by(|a, b| a.x.total_cmp(&b.x));
                    CurveSeries { name, points }
                })
                .collect(),
        })
        .collect()
}

/// One heatmap per shots value: rows = datasets, columns = `loss (mode)` of the non-baseline
/// losses, values = mean difference to the baseline.
pub fn heatmaps_from_report(report: &Report) -> Vec<Heatmap> {
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
            let columns: Vec<String> = here
                .iter()
                .map(|r| format!("{} ({})", r.loss, r.mode))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let values = rows
                .iter()
                .map(|d| {
                    columns
                        .iter()
                        .map(|c| {
                            here.iter()
                                .find(|r| {
                                    &r.dataset == d && &format!("{} ({})", r.loss, r.mode) == c
                                })
                                .and_then(|r| r.comparison.as_ref().map(|c| c.mean_diff))
                        })
                        .collect()
                })
                .collect();
            Heatmap {
                title: format!(
                    "{}-shot: {} minus {}",
                    s, report.metric, report.baseline_loss
                ),
                rows,
                columns,
                values,
                annotation_scale: if report.percent { 100.0 } else { 1.0 },
            }
        })
        .collect()
}
