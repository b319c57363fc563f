//! Training curves: one quantity (the total loss, a loss term, a learning rate or the gradient
//! norm) against the fraction of the run done (runs of 3 and of 480 steps share the width), a
//! panel per dataset x shots with one y axis for all, a line per loss: the mean over the runs
//! (seeds / folds) with a band from their minimum to their maximum. Losses and their terms are
//! on a log scale (objectives differ by orders of magnitude); learning rates are drawn once
//! per distinct schedule, labelled with the methods that share it. Inputs are plain numbers
//! ([`TrainingRun`]): the caller turns its own curve records into them.

use super::canvas::{err, padded_range, render, render_svg, Figure};
use super::layout::{
    draw_legend, draw_x_ticks, draw_y_ticks, legend_height, log_ticks, measure, ticks, wrap_notes,
    LegendEntry, LABEL_FONT, TICK_FONT, TITLE_FONT,
};
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
    /// Other quantities with the same values in every run (e.g. two parameter groups on one
    /// schedule), named in the note instead of a figure of their own.
    #[serde(default)]
    pub same_as: Vec<String>,
}

/// Quantities drawn on a log scale: objectives, whose sizes differ by orders of magnitude.
fn log_quantity(quantity: &str) -> bool {
    quantity == "loss" || quantity.starts_with("term ")
}

/// Learning rates: one curve per distinct schedule.
fn schedule_quantity(quantity: &str) -> bool {
    quantity.starts_with("lr ")
}

/// Groups `quantities` whose values are identical in every run (in order; the first of each
/// group names it): the figures worth drawing, with what each stands for.
pub fn distinct_quantities(
    runs: &[TrainingRun],
    quantities: &[String],
) -> Vec<(String, Vec<String>)> {
    let same = |a: &str, b: &str| {
        runs.iter()
            .all(|r| match (r.values.get(a), r.values.get(b)) {
                (Some(x), Some(y)) => {
                    x.len() == y.len()
                        && x.iter().zip(y).all(|(p, q)| {
                            p.to_bits() == q.to_bits()
                                || (p - q).abs() <= 1e-12 * p.abs().max(q.abs())
                        })
                }
                (None, None) => true,
                _ => false,
            })
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for q in quantities {
        match out.iter_mut().find(|(first, _)| same(first, q)) {
            Some((_, others)) => others.push(q.clone()),
            None => out.push((q.clone(), Vec::new())),
        }
    }
    out
}

/// Every quantity some run has, in a reading order: the total loss, the terms, the gradient
/// norms, the dev curve (`dev <metric> <mode>`), then the rest (learning rates).
pub fn training_quantities(runs: &[TrainingRun]) -> Vec<String> {
    let all: BTreeSet<&String> = runs.iter().flat_map(|r| r.values.keys()).collect();
    let rank = |q: &str| match q {
        "loss" => 0,
        _ if q.starts_with("term") => 1,
        _ if q.starts_with("grad") => 2,
        _ if q.starts_with("dev ") => 3,
        _ => 4,
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

impl Band {
    fn same_curve(&self, other: &Band) -> bool {
        self.steps == other.steps
            && self
                .mean
                .iter()
                .zip(&other.mean)
                .all(|(a, b)| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300))
    }
}

fn band(runs: &[&TrainingRun], quantity: &str) -> Option<Band> {
    let mut at: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let mut count = 0;
    for r in runs {
        let Some(values) = r.values.get(quantity) else {
            continue;
        };
        count += 1;
        let last = r
            .steps
            .iter()
            .copied()
            .filter(|s| s.is_finite())
            .fold(0.0f64, f64::max);
        for (s, v) in r.steps.iter().zip(values) {
            if s.is_finite() && v.is_finite() && last > 0.0 {
                // the fraction of the run, rounded so equal fractions of equal runs meet
                let f = (s / last * 1e9).round() / 1e9;
                at.entry(f.to_bits()).or_default().push(*v);
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
        if schedule_quantity(&self.quantity) {
            let mut groups: Vec<Vec<&str>> = Vec::new();
            for (_, losses) in self.panels() {
                for (names, _) in self.curves(&losses) {
                    if !groups.contains(&names) {
                        groups.push(names);
                    }
                }
            }
            return groups
                .into_iter()
                .map(|names| LegendEntry {
                    name: names.join(", "),
                    color: self.palette.color(names[0]),
                    marker: None,
                    line: true,
                })
                .collect();
        }
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
        let mut what = format!(
            "{}{}: line = mean over runs (seeds/folds), band = their min-max; x = optimizer step / the run's steps",
            self.quantity,
            if self.quantity.starts_with("grad") {
                " (before clipping)"
            } else {
                ""
            }
        );
        if self.log() {
            what.push_str("; log scale");
            let floor = self.floor();
            if self.values().any(|v| v < floor) {
                what.push_str(&format!(", values below {floor:e} drawn at it"));
            }
        }
        if self.quantity.starts_with("dev ") {
            what.push_str("; the dev examples scored during training (eval_every)");
        }
        let mut notes = vec![what];
        if !self.same_as.is_empty() {
            notes.push(format!(
                "{} has the same values in every run",
                self.same_as.join(", ")
            ));
        }
        if schedule_quantity(&self.quantity) {
            notes.push(
                "one line per distinct schedule; the legend names the methods that share it".into(),
            );
        }
        notes
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.runs
            .iter()
            .filter_map(|r| r.values.get(&self.quantity))
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
    }

    /// On a log scale: an objective whose recorded values are all >= 0, some > 0.
    fn log(&self) -> bool {
        log_quantity(&self.quantity)
            && self.values().all(|v| v >= 0.0)
            && self.values().any(|v| v > 0.0)
    }

    /// The smallest value a log scale shows: 4 decades under the largest (a loss that reached
    /// 0 is drawn there, not at minus infinity).
    fn floor(&self) -> f64 {
        let max = self.values().fold(0.0f64, f64::max);
        let floor = max * 1e-4;
        10f64.powf(floor.log10().floor())
    }

    /// A value in drawn units: log10 on a log scale (at least the floor), else itself.
    fn drawn(&self, v: f64) -> f64 {
        if self.log() {
            v.max(self.floor()).log10()
        } else {
            v
        }
    }

    /// The drawn curves of a panel: (losses sharing the curve, band). Learning rates with the
    /// same mean curve are one curve; other quantities one per loss.
    fn curves<'a>(&self, losses: &RunsByLoss<'a>) -> Vec<(Vec<&'a str>, Band)> {
        let mut out: Vec<(Vec<&'a str>, Band)> = Vec::new();
        let mut order: Vec<&'a str> = losses.keys().copied().collect();
        order.sort_by_key(|l| {
            self.palette
                .losses()
                .iter()
                .position(|p| p == l)
                .unwrap_or(usize::MAX)
        });
        for loss in order {
            let Some(b) = band(&losses[loss], &self.quantity) else {
                continue;
            };
            let shared = schedule_quantity(&self.quantity)
                .then(|| out.iter_mut().find(|(_, o)| o.same_curve(&b)))
                .flatten();
            match shared {
                Some((names, _)) => names.push(loss),
                None => out.push((vec![loss], b)),
            }
        }
        out
    }

    /// One y range for every panel (so panels compare), in drawn units (log10 on a log
    /// scale); non-negative linear quantities start at 0.
    fn y_range(&self) -> Option<(f64, f64)> {
        let log = self.log();
        let values = self
            .panels()
            .into_iter()
            .flat_map(|(_, losses)| self.curves(&losses))
            .flat_map(|(_, b)| b.low.into_iter().chain(b.high))
            .map(|v| self.drawn(v))
            .collect::<Vec<f64>>();
        let (lo, hi) = padded_range(values.iter().copied())?;
        let nonnegative = values.iter().all(|v| *v >= 0.0);
        Some(if !log && nonnegative {
            (0.0, hi)
        } else {
            (lo, hi)
        })
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

const MARGIN: i32 = 16;
const PANEL_H: u32 = 400;

/// Four panels a row at page width (1.7 in each).
fn columns(panels: usize) -> usize {
    panels.clamp(1, 4)
}

impl Figure for TrainingFigure<'_> {
    fn size(&self, options: &PlotOptions, text: bool) -> (u32, u32) {
        let n = self.plot.panels().len();
        let rows = n.div_ceil(columns(n)).max(1) as u32;
        let legend = if text {
            legend_height(
                &self.plot.legend(),
                &wrap_notes(&self.plot.notes(), options.width as i32 - 2 * MARGIN),
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
            let notes = wrap_notes(&self.plot.notes(), w as i32 - 2 * MARGIN);
            draw_legend(root, &legend, &notes, MARGIN, w as i32 - 2 * MARGIN)?;
            root.split_vertically(legend_height(&legend, &notes, w as i32 - 2 * MARGIN) as u32)
                .1
        } else {
            root.clone()
        };
        let panels = self.plot.panels();
        let cols = columns(panels.len());
        let rows = panels.len().div_ceil(cols).max(1);
        let log = self.plot.log();
        let Some((y0, y1)) = self.plot.y_range() else {
            return Ok(());
        };
        let y_ticks = if log {
            log_ticks(y0, y1)
        } else {
            ticks(y0, y1, 5)
        };
        let x_ticks = ticks(0.0, 100.0, 4);
        let widest = y_ticks
            .iter()
            .map(|(_, l)| measure(TICK_FONT, l))
            .fold(0.0f64, f64::max);
        for (area, ((dataset, shots), losses)) in
            body.split_evenly((rows, cols)).iter().zip(&panels)
        {
            let curves = self.plot.curves(losses);
            let mut builder = ChartBuilder::on(area);
            builder.margin(10).margin_right(20);
            if text {
                builder
                    .caption(
                        format!("{dataset}, {shots} shots/class"),
                        ("sans-serif", TITLE_FONT),
                    )
                    .x_label_area_size((TICK_FONT + LABEL_FONT + 24.0) as u32)
                    .y_label_area_size((widest + LABEL_FONT + 24.0) as u32);
            }
            let mut chart = builder
                .build_cartesian_2d(-2.0..102.0, y0..y1)
                .map_err(err)?;
            if text {
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(0)
                    .y_labels(0)
                    .x_desc("% of the run's steps")
                    .y_desc(self.plot.quantity.as_str())
                    .axis_desc_style(("sans-serif", LABEL_FONT))
                    .draw()
                    .map_err(err)?;
            }
            draw_y_ticks(&mut chart, area, &y_ticks, text)?;
            draw_x_ticks(&mut chart, area, &x_ticks, text)?;
            let y_of = |v: f64| self.plot.drawn(v);
            for (names, b) in &curves {
                let color = self.plot.palette.color(names[0]);
                let xs: Vec<f64> = b.steps.iter().map(|f| f * 100.0).collect();
                if b.low != b.high {
                    let mut outline: Vec<(f64, f64)> = xs
                        .iter()
                        .copied()
                        .zip(b.high.iter().map(|v| y_of(*v)))
                        .collect();
                    outline.extend(xs.iter().copied().zip(b.low.iter().map(|v| y_of(*v))).rev());
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            outline,
                            color.mix(0.18).filled(),
                        )))
                        .map_err(err)?;
                }
                let line: Vec<(f64, f64)> = xs
                    .iter()
                    .copied()
                    .zip(b.mean.iter().map(|v| y_of(*v)))
                    .collect();
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        line,
                        color.stroke_width(3),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
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
    }

    #[test]
    fn quantities_in_reading_order() {
        let mut r = run("ce", 0.0);
        for q in ["lr encoder", "dev accuracy head", "grad norm", "term ce"] {
            r.values.insert(q.into(), vec![0.0; 3]);
        }
        assert_eq!(
            training_quantities(&[r]),
            [
                "loss",
                "term ce",
                "grad norm",
                "dev accuracy head",
                "lr encoder"
            ]
        );
    }

    #[test]
    fn a_sparse_quantity_is_drawn_at_the_steps_every_run_has() {
        // A dev curve scored at steps 2 and 3 of the curve's steps (NaN elsewhere).
        let mut a = run("ce", 0.0);
        let mut b = run("ce", 1.0);
        a.values
            .insert("dev accuracy head".into(), vec![f64::NAN, 0.5, 0.7]);
        b.values
            .insert("dev accuracy head".into(), vec![f64::NAN, 0.7, 0.9]);
        let band = band(&[&a, &b], "dev accuracy head").unwrap();
        // (fractions of the run, rounded to 1e-9)
        assert_eq!(band.steps, [0.666666667, 1.0]);
        assert!((band.mean[0] - 0.6).abs() < 1e-12 && (band.mean[1] - 0.8).abs() < 1e-12);
    }
}
