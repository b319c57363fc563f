//! Training curves: one quantity (the total loss, a loss term, a learning rate or the gradient
//! norm) against optimizer steps, a panel per dataset x shots, a line per loss: the mean over
//! the runs (seeds / folds) with a band from their minimum to their maximum. Inputs are plain
//! numbers ([`TrainingRun`]): the caller turns its own curve records into them.

use super::canvas::{err, padded_range, render, render_svg, Figure};
use super::layout::{draw_legend, legend_height, LegendEntry};
use super::palette::LossPalette;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The recorded curve of one run: `steps[i]` with each quantity's `values[name][i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRun {
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub steps: Vec<f64>,
    /// e.g. `loss`, `term ce`, `lr encoder`, `grad norm`; each as long as `steps`.
    pub values: BTreeMap<String, Vec<f64>>,
}

/// One quantity of every run, ready to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingPlot {
    /// The quantity (a key of [`TrainingRun::values`]), also the y axis label.
    pub quantity: String,
    pub runs: Vec<TrainingRun>,
    pub palette: LossPalette,
}

/// Every quantity some run has, in a reading order: the total loss, the terms, the gradient
/// norm, then the rest (learning rates).
pub fn training_quantities(runs: &[TrainingRun]) -> Vec<String> {
    let all: BTreeSet<&String> = runs.iter().flat_map(|r| r.values.keys()).collect();
    let rank = |q: &str| match q {
        "loss" => 0,
        _ if q.starts_with("term") => 1,
        _ if q.starts_with("grad") => 2,
        _ => 3,
    };
    let mut out: Vec<String> = all.into_iter().cloned().collect();
    out.sort_by_key(|q| (rank(q), q.clone()));
    out
}

/// The mean and min / max over runs at each step all of them recorded.
struct Band {
    steps: Vec<f64>,
    mean: Vec<f64>,
    low: Vec<f64>,
    high: Vec<f64>,
}

fn band(runs: &[&TrainingRun], quantity: &str) -> Option<Band> {
    let mut at: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let mut count = 0;
    for r in runs {
        let Some(values) = r.values.get(quantity) else {
            continue;
        };
        count += 1;
        for (s, v) in r.steps.iter().zip(values) {
            if s.is_finite() && v.is_finite() {
                at.entry(s.to_bits()).or_default().push(*v);
            }
        }
    }
    let mut rows: Vec<(f64, Vec<f64>)> = at
        .into_iter()
        .filter(|(_, v)| v.len() == count)
        .map(|(s, v)| (f64::from_bits(s), v))
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    if rows.is_empty() {
        return None;
    }
    let mut b = Band {
        steps: Vec::new(),
        mean: Vec::new(),
        low: Vec::new(),
        high: Vec::new(),
    };
    for (s, v) in rows {
        b.steps.push(s);
        b.mean.push(v.iter().sum::<f64>() / v.len() as f64);
        b.low.push(v.iter().copied().fold(f64::INFINITY, f64::min));
        b.high
            .push(v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    Some(b)
}

/// A panel: (dataset, shots).
type PanelKey = (String, usize);
/// The runs of a panel by loss.
type RunsByLoss<'a> = BTreeMap<&'a str, Vec<&'a TrainingRun>>;

impl TrainingPlot {
    /// Panels: (dataset, shots) with the runs of each loss.
    fn panels(&self) -> Vec<(PanelKey, RunsByLoss<'_>)> {
        let mut panels: BTreeMap<PanelKey, RunsByLoss<'_>> = BTreeMap::new();
        for r in &self.runs {
            if r.values.contains_key(&self.quantity) {
                panels
                    .entry((r.dataset.clone(), r.shots))
                    .or_default()
                    .entry(r.loss.as_str())
                    .or_default()
                    .push(r);
            }
        }
        panels.into_iter().collect()
    }

    fn check(&self) -> Result<(), PlotError> {
        if let Some(r) = self.runs.iter().find(|r| {
            r.values
                .get(&self.quantity)
                .is_some_and(|v| v.len() != r.steps.len())
        }) {
            return Err(PlotError::Invalid(format!(
                "training curve of {} / {}-shot / {}: {} steps but {} values of `{}`",
                r.dataset,
                r.shots,
                r.loss,
                r.steps.len(),
                r.values[&self.quantity].len(),
                self.quantity
            )));
        }
        if self.panels().is_empty() {
            return Err(PlotError::NoData(format!(
                "no run recorded `{}`",
                self.quantity
            )));
        }
        Ok(())
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let losses: BTreeSet<&str> = self
            .runs
            .iter()
            .filter(|r| r.values.contains_key(&self.quantity))
            .map(|r| r.loss.as_str())
            .collect();
        let mut ordered: Vec<&str> = self
            .palette
            .losses()
            .iter()
            .map(String::as_str)
            .filter(|l| losses.contains(l))
            .collect();
        let unknown: Vec<&str> = losses
            .iter()
            .copied()
            .filter(|l| !ordered.contains(l))
            .collect();
        ordered.extend(unknown);
        ordered
            .into_iter()
            .map(|loss| LegendEntry {
                name: loss.to_string(),
                color: self.palette.color(loss),
                marker: None,
                line: true,
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "{}: line = mean over runs (seeds/folds), band = their min-max, x = optimizer step",
            self.quantity
        )]
    }
}

/// Writes `<stem>.svg` / `<stem>.png`.
pub fn plot_training(
    plot: &TrainingPlot,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    plot.check()?;
    render(&TrainingFigure { plot }, stem, options)
}

/// The same figure as an SVG document.
pub fn training_svg(plot: &TrainingPlot, options: &PlotOptions) -> Result<String, PlotError> {
    plot.check()?;
    render_svg(&TrainingFigure { plot }, options)
}

struct TrainingFigure<'a> {
    plot: &'a TrainingPlot,
}

const MARGIN: i32 = 12;
const PANEL_H: u32 = 280;

fn columns(panels: usize) -> usize {
    panels.clamp(1, 3)
}

impl Figure for TrainingFigure<'_> {
    fn size(&self, options: &PlotOptions, text: bool) -> (u32, u32) {
        let n = self.plot.panels().len();
        let rows = n.div_ceil(columns(n)).max(1) as u32;
        let legend = if text {
            legend_height(
                &self.plot.legend(),
                &self.plot.notes(),
                options.width as i32 - 2 * MARGIN,
            ) as u32
        } else {
            0
        };
        let needed = legend + rows * PANEL_H + 2 * MARGIN as u32;
        (options.width, needed)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (w, _) = root.dim_in_pixel();
        let body = if text {
            let legend = self.plot.legend();
            let notes = self.plot.notes();
            draw_legend(root, &legend, &notes, MARGIN, w as i32 - 2 * MARGIN)?;
            root.split_vertically(legend_height(&legend, &notes, w as i32 - 2 * MARGIN) as u32)
                .1
        } else {
            root.clone()
        };
        let panels = self.plot.panels();
        let cols = columns(panels.len());
        let rows = panels.len().div_ceil(cols).max(1);
        for (area, ((dataset, shots), losses)) in
            body.split_evenly((rows, cols)).iter().zip(&panels)
        {
            let bands: Vec<(&str, Band)> = losses
                .iter()
                .filter_map(|(loss, runs)| Some((*loss, band(runs, &self.plot.quantity)?)))
                .collect();
            let xs = bands.iter().flat_map(|(_, b)| b.steps.iter().copied());
            let ys = bands
                .iter()
                .flat_map(|(_, b)| b.low.iter().chain(&b.high).copied());
            let (Some((x0, x1)), Some((y0, y1))) = (padded_range(xs), padded_range(ys)) else {
                continue;
            };
            let mut builder = ChartBuilder::on(area);
            builder.margin(8).margin_right(16);
            if text {
                builder
                    .caption(format!("{dataset}, {shots}-shot"), ("sans-serif", 16))
                    .x_label_area_size(36)
                    .y_label_area_size(64);
            }
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
            if text {
                chart
                    .configure_mesh()
                    .x_labels(6)
                    .y_labels(6)
                    .x_desc("step")
                    .y_desc(self.plot.quantity.as_str())
                    .x_label_formatter(&|v| format!("{v:.0}"))
                    .y_label_formatter(&|v| format_tick(*v, y1 - y0))
                    .label_style(("sans-serif", 12))
                    .axis_desc_style(("sans-serif", 13))
                    .light_line_style(WHITE.mix(0.0))
                    .draw()
                    .map_err(err)?;
            }
            for (loss, b) in &bands {
                let color = self.plot.palette.color(loss);
                if b.low != b.high {
                    let mut outline: Vec<(f64, f64)> = b
                        .steps
                        .iter()
                        .copied()
                        .zip(b.high.iter().copied())
                        .collect();
                    outline.extend(b.steps.iter().copied().zip(b.low.iter().copied()).rev());
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            outline,
                            color.mix(0.18).filled(),
                        )))
                        .map_err(err)?;
                }
                let line: Vec<(f64, f64)> = b
                    .steps
                    .iter()
                    .copied()
                    .zip(b.mean.iter().copied())
                    .collect();
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        line,
                        color.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

/// Tick labels that stay short for learning rates (1e-5) and losses (0.52) alike: as many
/// decimals as the axis `span` needs, scientific for very small or large values.
fn format_tick(v: f64, span: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) || !(1e-3..1e5).contains(&span) {
        format!("{v:.1e}")
    } else {
        let decimals = (1 - span.log10().floor() as i32).clamp(0, 4) as usize;
        format!("{v:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(loss: &str, seed: f64) -> TrainingRun {
        TrainingRun {
            dataset: "cr".into(),
            shots: 16,
            loss: loss.into(),
            steps: vec![1.0, 2.0, 3.0],
            values: BTreeMap::from([("loss".to_string(), vec![1.0 + seed, 0.5, 0.25 + seed])]),
        }
    }

    #[test]
    fn band_is_mean_min_max_over_runs() {
        let (a, b) = (run("ce", 0.0), run("ce", 1.0));
        let band = band(&[&a, &b], "loss").unwrap();
        assert_eq!(band.mean, [1.5, 0.5, 0.75]);
        assert_eq!(band.low, [1.0, 0.5, 0.25]);
        assert_eq!(band.high, [2.0, 0.5, 1.25]);
        assert_eq!(format_tick(5e-5, 5e-5), "5.0e-5");
        assert_eq!(format_tick(0.52, 1.0), "0.5");
        assert_eq!(format_tick(0.52, 0.2), "0.52");
        assert_eq!(format_tick(12.0, 30.0), "12");
    }

    #[test]
    fn quantities_in_reading_order() {
        let mut r = run("ce", 0.0);
        for q in ["lr encoder", "grad norm", "term ce"] {
            r.values.insert(q.into(), vec![0.0; 3]);
        }
        assert_eq!(
            training_quantities(&[r]),
            ["loss", "term ce", "grad norm", "lr encoder"]
        );
    }
}
