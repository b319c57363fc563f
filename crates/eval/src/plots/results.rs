//! The metric of every loss x mode, a panel per dataset, with every seed's value beside the
//! mean and its 95% CI. With one shots value it is a dot plot (a row per series: the seeds as
//! points, the mean as a bar, the CI as a line); with several, lines over shots (evenly spaced,
//! labelled with the shots) with the seeds as points and the CI as error bars, dodged so that
//! series do not hide each other. CIs are clipped to the metric's range and left out below
//! [`ResultsPlot::min_ci_runs`] runs (the legend says so). Colours are the loss's
//! ([`LossPalette`]), markers the mode's.

use super::canvas::{err, padded_range, render, render_svg, Figure};
use super::layout::{draw_legend, draw_marker, legend_height, measure, truncate, LegendEntry};
use super::palette::{LossPalette, Marker};
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// One shots value of a series: each run's value (in plot units) and their summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultPoint {
    pub shots: usize,
    /// Every run's value (a seed or fold each).
    pub values: Vec<f64>,
    pub mean: f64,
    /// The 95% CI of the mean, where defined.
    pub ci: Option<(f64, f64)>,
}

/// A loss in one inference mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultSeries {
    pub loss: String,
    pub mode: crate::ModeKey,
    /// Sorted by shots.
    pub points: Vec<ResultPoint>,
}

impl ResultSeries {
    /// `loss (mode)`, as the tables name it.
    pub fn name(&self) -> String {
        format!("{} ({})", self.loss, self.mode)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultPanel {
    /// The dataset.
    pub title: String,
    pub series: Vec<ResultSeries>,
}

/// Everything the figure shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsPlot {
    pub panels: Vec<ResultPanel>,
    /// Axis label of the metric, e.g. `accuracy (%)`.
    pub metric_label: String,
    /// The metric's possible range in plot units (e.g. 0-100 for percent): CIs are clipped
    /// to it and the axis does not go beyond it.
    pub range: Option<(f64, f64)>,
    /// CIs of fewer runs are not drawn.
    pub min_ci_runs: usize,
    pub palette: LossPalette,
}

/// Fewest runs whose 95% CI is drawn: with two, the t quantile (12.7) makes it span most of
/// the axis and says nothing.
pub const MIN_CI_RUNS: usize = 3;

impl ResultsPlot {
    fn shots(&self) -> Vec<usize> {
        self.points()
            .map(|p| p.shots)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    fn points(&self) -> impl Iterator<Item = &ResultPoint> {
        self.panels
            .iter()
            .flat_map(|p| &p.series)
            .flat_map(|s| &s.points)
    }

    fn check(&self) -> Result<(), PlotError> {
        if self.points().next().is_none() {
            return Err(PlotError::NoData("no result to plot".into()));
        }
        let bad = self.points().any(|p| {
            !p.mean.is_finite()
                || p.values.iter().any(|v| !v.is_finite())
                || p.ci.is_some_and(|(l, h)| !l.is_finite() || !h.is_finite())
        });
        if bad {
            return Err(PlotError::Invalid("a result has a non-finite value".into()));
        }
        Ok(())
    }

    /// The CI as drawn: clipped to the range, `None` below the run threshold.
    fn drawn_ci(&self, p: &ResultPoint) -> Option<(f64, f64)> {
        if p.values.len() < self.min_ci_runs {
            return None;
        }
        let (lo, hi) = p.ci?;
        Some(match self.range {
            Some((a, b)) => (lo.max(a), hi.min(b)),
            None => (lo, hi),
        })
    }

    /// Legend entries: each series once, in panel order.
    fn legend(&self) -> Vec<LegendEntry> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for s in self.panels.iter().flat_map(|p| &p.series) {
            if seen.insert(s.name()) {
                out.push(LegendEntry {
                    name: s.name(),
                    color: self.palette.color(&s.loss),
                    marker: Some(Marker::of_mode(s.mode)),
                    line: self.shots().len() > 1,
                });
            }
        }
        out
    }

    fn notes(&self) -> Vec<String> {
        let small = self
            .points()
            .any(|p| p.values.len() < self.min_ci_runs && !p.values.is_empty());
        let mut what = if self.shots().len() > 1 {
            "line: mean; small points: one per run (seed/fold); bars: 95% CI of the mean"
                .to_string()
        } else {
            "small points: one per run (seed/fold); vertical bar: mean; line: 95% CI of the mean"
                .to_string()
        };
        if let Some((a, b)) = self.range {
            what.push_str(&format!(" (clipped to {a}-{b})"));
        }
        let mut notes = vec![what];
        if small {
            notes.push(format!(
                "CI not drawn where fewer than {} runs (n = 2 gives a t-interval wider than the data)",
                self.min_ci_runs
            ));
        }
        notes
    }

    fn columns(&self) -> usize {
        let n = self.panels.len().max(1);
        if self.shots().len() > 1 {
            n.min(3)
        } else {
            n.min(2)
        }
    }

    fn panel_height(&self) -> u32 {
        if self.shots().len() > 1 {
            320
        } else {
            let series = self
                .panels
                .iter()
                .map(|p| p.series.len())
                .max()
                .unwrap_or(1) as u32;
            90 + 26 * series
        }
    }
}

/// Writes `<stem>.svg` / `<stem>.png`.
pub fn plot_results(
    plot: &ResultsPlot,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    plot.check()?;
    render(&ResultsFigure { plot }, stem, options)
}

/// The same figure as an SVG document (for pages that inline it).
pub fn results_svg(plot: &ResultsPlot, options: &PlotOptions) -> Result<String, PlotError> {
    plot.check()?;
    render_svg(&ResultsFigure { plot }, options)
}

struct ResultsFigure<'a> {
    plot: &'a ResultsPlot,
}

const MARGIN: i32 = 12;

impl ResultsFigure<'_> {
    fn legend_height(&self, width: u32) -> i32 {
        legend_height(
            &self.plot.legend(),
            &self.plot.notes(),
            width as i32 - 2 * MARGIN,
        )
    }

    /// Dot plot: a row per series, the metric on x.
    fn draw_strip<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &ResultPanel,
        text: bool,
    ) -> Result<(), String> {
        let plot = self.plot;
        let k = panel.series.len();
        let values = panel.series.iter().flat_map(|s| &s.points).flat_map(|p| {
            let ci = plot.drawn_ci(p);
            p.values
                .iter()
                .copied()
                .chain([p.mean])
                .chain(ci.map(|c| c.0))
                .chain(ci.map(|c| c.1))
        });
        let Some((x0, x1)) = padded_range(values).map(|r| clamp_range(r, plot.range)) else {
            return Ok(());
        };
        let (w, _) = area.dim_in_pixel();
        let label_font = 13.0;
        let label_room = (w as f64 * 0.42).max(60.0);
        let labels: Vec<String> = panel
            .series
            .iter()
            .map(|s| {
                // cut the loss name, keep the mode
                let mode = format!(" ({})", s.mode);
                let room = label_room - 12.0 - measure(label_font, &mode);
                format!("{}{mode}", truncate(label_font, &s.loss, room.max(20.0)))
            })
            .collect();
        let label_width = labels
            .iter()
            .map(|l| measure(label_font, l))
            .fold(0.0f64, f64::max)
            .ceil() as u32
            + 12;
        let mut builder = ChartBuilder::on(area);
        builder.margin(8).margin_right(16);
        if text {
            builder
                .caption(&panel.title, ("sans-serif", 18))
                .x_label_area_size(40)
                .y_label_area_size(label_width);
        }
        let mut chart = builder
            .build_cartesian_2d(x0..x1, -0.5..(k as f64 - 0.5))
            .map_err(err)?;
        if text {
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(6)
                .x_desc(plot.metric_label.as_str())
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
        }
        let base = area.get_base_pixel();
        for (row, series) in panel.series.iter().enumerate() {
            // the first series on top
            let y = (k - 1 - row) as f64;
            let color = plot.palette.color(&series.loss);
            let marker = Marker::of_mode(series.mode);
            if text {
                let (px, py) = chart.backend_coord(&(x0, y));
                area.draw(&Text::new(
                    labels[row].clone(),
                    (px - base.0 - 8, py - base.1),
                    ("sans-serif", label_font)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(err)?;
            }
            for p in &series.points {
                if let Some((lo, hi)) = plot.drawn_ci(p) {
                    chart
                        .draw_series([
                            PathElement::new(vec![(lo, y), (hi, y)], color.stroke_width(2)),
                            PathElement::new(
                                vec![(lo, y - 0.18), (lo, y + 0.18)],
                                color.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(hi, y - 0.18), (hi, y + 0.18)],
                                color.stroke_width(2),
                            ),
                        ])
                        .map_err(err)?;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.mean, y - 0.32), (p.mean, y + 0.32)],
                        color.stroke_width(4),
                    )))
                    .map_err(err)?;
                let n = p.values.len();
                for (i, &v) in p.values.iter().enumerate() {
                    // spread the runs vertically so equal values stay visible
                    let jitter = if n > 1 {
                        -0.22 + 0.44 * i as f64 / (n - 1) as f64
                    } else {
                        0.0
                    };
                    let at = chart.backend_coord(&(v, y + jitter));
                    draw_marker(
                        area,
                        (at.0 - base.0, at.1 - base.1),
                        4,
                        marker,
                        color.mix(0.55).filled(),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Lines over shots (evenly spaced), dodged per series.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &ResultPanel,
        shots: &[usize],
        text: bool,
    ) -> Result<(), String> {
        let plot = self.plot;
        let values = panel.series.iter().flat_map(|s| &s.points).flat_map(|p| {
            let ci = plot.drawn_ci(p);
            p.values
                .iter()
                .copied()
                .chain([p.mean])
                .chain(ci.map(|c| c.0))
                .chain(ci.map(|c| c.1))
        });
        let Some((y0, y1)) = padded_range(values).map(|r| clamp_range(r, plot.range)) else {
            return Ok(());
        };
        let m = shots.len() as f64;
        let mut builder = ChartBuilder::on(area);
        builder.margin(8).margin_right(16);
        if text {
            builder
                .caption(&panel.title, ("sans-serif", 18))
                .x_label_area_size(40)
                .y_label_area_size(56);
        }
        let mut chart = builder
            .build_cartesian_2d(-0.5..(m - 0.5), y0..y1)
            .map_err(err)?;
        let base = area.get_base_pixel();
        if text {
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(6)
                .y_desc(plot.metric_label.as_str())
                .x_desc("shots")
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            for (i, s) in shots.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(i as f64, y0));
                area.draw(&Text::new(
                    s.to_string(),
                    (px - base.0, py - base.1 + 6),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(err)?;
            }
        }
        let k = panel.series.len().max(1) as f64;
        let dodge = (0.6 / k).min(0.08);
        for (si, series) in panel.series.iter().enumerate() {
            let offset = (si as f64 - (k - 1.0) / 2.0) * dodge;
            let color = plot.palette.color(&series.loss);
            let marker = Marker::of_mode(series.mode);
            let x_of = |shots_value: usize| {
                shots.iter().position(|&s| s == shots_value).unwrap_or(0) as f64 + offset
            };
            let line: Vec<(f64, f64)> = series
                .points
                .iter()
                .map(|p| (x_of(p.shots), p.mean))
                .collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    line.clone(),
                    color.stroke_width(2),
                )))
                .map_err(err)?;
            for p in &series.points {
                let x = x_of(p.shots);
                if let Some((lo, hi)) = plot.drawn_ci(p) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            color.stroke_width(1),
                        )))
                        .map_err(err)?;
                }
                for &v in &p.values {
                    let at = chart.backend_coord(&(x, v));
                    draw_marker(
                        area,
                        (at.0 - base.0, at.1 - base.1),
                        2,
                        marker,
                        color.mix(0.45).filled(),
                    )?;
                }
                let at = chart.backend_coord(&(x, p.mean));
                draw_marker(
                    area,
                    (at.0 - base.0, at.1 - base.1),
                    5,
                    marker,
                    color.filled(),
                )?;
            }
        }
        Ok(())
    }
}

/// `range` limited to the metric's possible values (kept valid when that empties it).
fn clamp_range((lo, hi): (f64, f64), limits: Option<(f64, f64)>) -> (f64, f64) {
    match limits {
        Some((a, b)) if lo.max(a) < hi.min(b) => (lo.max(a), hi.min(b)),
        _ => (lo, hi),
    }
}

impl Figure for ResultsFigure<'_> {
    fn size(&self, options: &PlotOptions, text: bool) -> (u32, u32) {
        let cols = self.plot.columns();
        let rows = self.plot.panels.len().div_ceil(cols).max(1) as u32;
        let legend = if text {
            self.legend_height(options.width) as u32
        } else {
            0
        };
        let needed = legend + rows * self.plot.panel_height() + 2 * MARGIN as u32;
        (options.width, needed.max(200))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (w, _) = root.dim_in_pixel();
        let body = if text {
            let legend = self.legend_height(w);
            draw_legend(
                root,
                &self.plot.legend(),
                &self.plot.notes(),
                MARGIN,
                w as i32 - 2 * MARGIN,
            )?;
            root.split_vertically(legend as u32).1
        } else {
            root.clone()
        };
        let shots = self.plot.shots();
        let cols = self.plot.columns();
        let rows = self.plot.panels.len().div_ceil(cols).max(1);
        for (area, panel) in body
            .split_evenly((rows, cols))
            .iter()
            .zip(&self.plot.panels)
        {
            if shots.len() > 1 {
                self.draw_lines(area, panel, &shots, text)?;
            } else {
                self.draw_strip(area, panel, text)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot(range: Option<(f64, f64)>) -> ResultsPlot {
        ResultsPlot {
            panels: Vec::new(),
            metric_label: "accuracy (%)".into(),
            range,
            min_ci_runs: MIN_CI_RUNS,
            palette: LossPalette::new(None, []),
        }
    }

    fn point(n: usize, ci: (f64, f64)) -> ResultPoint {
        ResultPoint {
            shots: 16,
            values: vec![80.0; n],
            mean: 80.0,
            ci: Some(ci),
        }
    }

    #[test]
    fn intervals_are_clipped_to_the_range_and_dropped_below_three_runs() {
        let p = plot(Some((0.0, 100.0)));
        assert_eq!(p.drawn_ci(&point(2, (-20.0, 160.0))), None);
        assert_eq!(p.drawn_ci(&point(3, (-20.0, 160.0))), Some((0.0, 100.0)));
        assert_eq!(
            plot(None).drawn_ci(&point(3, (-20.0, 160.0))),
            Some((-20.0, 160.0))
        );
        assert_eq!(clamp_range((-5.0, 103.0), Some((0.0, 100.0))), (0.0, 100.0));
    }
}
