//! The metric of every loss x mode, a panel per dataset, with every seed's value beside the
//! mean and its 95% CI. With one shots value it is a dot plot (a row per series: the seeds as
//! points, the mean as a bar, the CI as a line); with several, lines over shots (evenly spaced,
//! labelled with the shots) with the seeds as points and the CI as error bars, dodged so that
//! series do not hide each other. CIs are clipped to the metric's range and left out below
//! [`ResultsPlot::min_ci_runs`] runs (the legend says so). Colours are the loss's
//! ([`LossPalette`]), markers the mode's.

use super::canvas::{err, padded_range, render, render_svg, Figure};
use super::layout::{
    draw_legend, draw_marker, draw_x_ticks, draw_y_ticks, legend_height, measure, truncate,
    LegendEntry, LABEL_FONT, NOTE_FONT, TICK_FONT, TITLE_FONT,
};
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
    pub mode: crate::InferenceMode,
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
    /// Horizontal reference lines (plot units), e.g. `("majority", 66.5)`: what a classifier
    /// that learned nothing scores. Always inside the axis.
    #[serde(default)]
    pub references: Vec<(String, f64)>,
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
    /// What the intervals are, for the legend's note (e.g. `95% t-interval of the mean`).
    #[serde(default = "default_interval_label")]
    pub interval_label: String,
}

fn default_interval_label() -> String {
    "95% CI of the mean".to_string()
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
        }) || self
            .panels
            .iter()
            .flat_map(|p| &p.references)
            .any(|(_, v)| !v.is_finite());
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
                    color: self.palette.method_color(&s.loss, s.mode),
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
            format!(
                "large marker: mean; small: one per run (seed/fold); bar: {}",
                self.interval_label
            )
        } else {
            format!(
                "small points: one per run (seed/fold); vertical bar: mean; line: {}",
                self.interval_label
            )
        };
        if let Some((a, b)) = self.range {
            what.push_str(&format!(" (clipped to {a}-{b})"));
        }
        let mut notes = vec![what];
        let references: BTreeSet<&str> = self
            .panels
            .iter()
            .flat_map(|p| &p.references)
            .map(|(name, _)| name.as_str())
            .collect();
        if !references.is_empty() {
            notes.push(format!(
                "grey dashed lines: {} (from each test set's class counts)",
                references.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if small {
            notes.push(format!(
                "CI not drawn where fewer than {} runs (n = 2 gives a t-interval wider than the data)",
                self.min_ci_runs
            ));
        }
        notes
    }

    /// The notes broken into lines of `width` pixels.
    fn notes_wrapped(&self, width: i32) -> Vec<String> {
        super::layout::wrap_notes(&self.notes(), width)
    }

    /// Panels per row at `width` pixels: about 330 px (1.65 in) each for lines over shots,
    /// twice that for dot plots (their rows carry the series names).
    fn columns(&self, width: u32) -> usize {
        let n = self.panels.len().max(1);
        let each = if self.shots().len() > 1 { 330 } else { 660 };
        n.min((width / each).max(1) as usize)
    }

    fn panel_height(&self) -> u32 {
        if self.shots().len() > 1 {
            420
        } else {
            let series = self
                .panels
                .iter()
                .map(|p| p.series.len())
                .max()
                .unwrap_or(1) as u32;
            130 + 34 * series
        }
    }

    /// The axis range of a panel's values (runs, means, drawn CIs and reference lines).
    fn value_range(&self, panel: &ResultPanel) -> Option<(f64, f64)> {
        let values = panel.series.iter().flat_map(|s| &s.points).flat_map(|p| {
            let ci = self.drawn_ci(p);
            p.values
                .iter()
                .copied()
                .chain([p.mean])
                .chain(ci.map(|c| c.0))
                .chain(ci.map(|c| c.1))
        });
        let references = panel.references.iter().map(|(_, v)| *v);
        padded_range(values.chain(references)).map(|r| clamp_range(r, self.range))
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

const MARGIN: i32 = 16;
const REFERENCE_GREY: RGBColor = RGBColor(110, 110, 110);

/// Where the legend goes: across the top, or into the free cells of the last row of panels.
enum LegendPlace {
    Top(i32),
    /// The first free cell of the last row, and how many cells are free.
    Cells(usize),
}

impl ResultsFigure<'_> {
    fn legend_height(&self, width: i32) -> i32 {
        legend_height(&self.plot.legend(), &self.plot.notes_wrapped(width), width)
    }

    /// The legend in the free cells of the last row where it fits there (no empty panels),
    /// else across the top.
    fn legend_place(&self, width: u32) -> LegendPlace {
        let cols = self.plot.columns(width);
        let n = self.plot.panels.len();
        let free = (cols - n % cols) % cols;
        if free > 0 {
            let cell_w = width as i32 / cols as i32 * free as i32 - 2 * MARGIN;
            if self.legend_height(cell_w) <= self.plot.panel_height() as i32 - 2 * MARGIN {
                return LegendPlace::Cells(free);
            }
        }
        LegendPlace::Top(self.legend_height(width as i32 - 2 * MARGIN))
    }

    /// The reference lines of a panel, dashed and labelled at the right end.
    fn draw_references<DB: DrawingBackend>(
        &self,
        chart: &mut super::layout::Chart<DB>,
        area: &DrawingArea<DB, Shift>,
        panel: &ResultPanel,
        horizontal: bool,
        text: bool,
    ) -> Result<(), String> {
        let (x, y) = (chart.x_range(), chart.y_range());
        let base = area.get_base_pixel();
        for (name, v) in &panel.references {
            let (from, to) = if horizontal {
                ((x.start, *v), (x.end, *v))
            } else {
                ((*v, y.start), (*v, y.end))
            };
            let (a, b) = (chart.backend_coord(&from), chart.backend_coord(&to));
            let (a, b) = ((a.0 - base.0, a.1 - base.1), (b.0 - base.0, b.1 - base.1));
            dashed(area, a, b, REFERENCE_GREY)?;
            if text {
                let (at, pos) = if horizontal {
                    ((b.0 - 4, b.1 - 3), Pos::new(HPos::Right, VPos::Bottom))
                } else {
                    ((b.0 + 4, b.1 + 2), Pos::new(HPos::Left, VPos::Top))
                };
                area.draw(&Text::new(
                    name.clone(),
                    at,
                    ("sans-serif", NOTE_FONT)
                        .into_font()
                        .color(&REFERENCE_GREY)
                        .pos(pos),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
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
        let Some((x0, x1)) = plot.value_range(panel) else {
            return Ok(());
        };
        let (w, _) = area.dim_in_pixel();
        let label_room = (w as f64 * 0.42).max(60.0);
        let labels: Vec<String> = panel
            .series
            .iter()
            .map(|s| {
                // cut the loss name, keep the mode
                let mode = format!(" ({})", s.mode);
                let room = label_room - 12.0 - measure(LABEL_FONT, &mode);
                format!("{}{mode}", truncate(LABEL_FONT, &s.loss, room.max(20.0)))
            })
            .collect();
        let label_width = labels
            .iter()
            .map(|l| measure(LABEL_FONT, l))
            .fold(0.0f64, f64::max)
            .ceil() as u32
            + 16;
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(24);
        if text {
            builder
                .caption(&panel.title, ("sans-serif", TITLE_FONT))
                .x_label_area_size((TICK_FONT + LABEL_FONT + 24.0) as u32)
                .y_label_area_size(label_width);
        }
        let mut chart = builder
            .build_cartesian_2d(x0..x1, -0.5..(k as f64 - 0.5))
            .map_err(err)?;
        if text {
            chart
                .configure_mesh()
                .disable_mesh()
                .y_labels(0)
                .x_labels(0)
                .x_desc(plot.metric_label.as_str())
                .axis_desc_style(("sans-serif", LABEL_FONT))
                .draw()
                .map_err(err)?;
        }
        let x_ticks = super::layout::ticks(x0, x1, 5);
        draw_x_ticks(&mut chart, area, &x_ticks, text)?;
        self.draw_references(&mut chart, area, panel, false, text)?;
        let base = area.get_base_pixel();
        for (row, series) in panel.series.iter().enumerate() {
            // the first series on top
            let y = (k - 1 - row) as f64;
            let color = plot.palette.method_color(&series.loss, series.mode);
            let marker = Marker::of_mode(series.mode);
            if text {
                let (px, py) = chart.backend_coord(&(x0, y));
                area.draw(&Text::new(
                    labels[row].clone(),
                    (px - base.0 - 8, py - base.1),
                    ("sans-serif", LABEL_FONT)
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
                            PathElement::new(vec![(lo, y), (hi, y)], color.stroke_width(3)),
                            PathElement::new(
                                vec![(lo, y - 0.18), (lo, y + 0.18)],
                                color.stroke_width(3),
                            ),
                            PathElement::new(
                                vec![(hi, y - 0.18), (hi, y + 0.18)],
                                color.stroke_width(3),
                            ),
                        ])
                        .map_err(err)?;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.mean, y - 0.32), (p.mean, y + 0.32)],
                        color.stroke_width(5),
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
                        5,
                        marker,
                        color.mix(0.55).filled(),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Lines over shots (evenly spaced), each series at its own offset within a shots slot
    /// so that no series covers another.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &ResultPanel,
        shots: &[usize],
        text: bool,
    ) -> Result<(), String> {
        let plot = self.plot;
        let Some((y0, y1)) = plot.value_range(panel) else {
            return Ok(());
        };
        let m = shots.len() as f64;
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(16);
        let y_ticks = super::layout::ticks(y0, y1, 5);
        if text {
            let widest = y_ticks
                .iter()
                .map(|(_, l)| measure(TICK_FONT, l))
                .fold(0.0f64, f64::max);
            builder
                .caption(&panel.title, ("sans-serif", TITLE_FONT))
                .x_label_area_size((TICK_FONT + LABEL_FONT + 24.0) as u32)
                .y_label_area_size((widest + LABEL_FONT + 24.0) as u32);
        }
        let mut chart = builder
            .build_cartesian_2d(-0.5..(m - 0.5), y0..y1)
            .map_err(err)?;
        let base = area.get_base_pixel();
        if text {
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(0)
                .y_labels(0)
                .y_desc(plot.metric_label.as_str())
                .x_desc("shots per class")
                .axis_desc_style(("sans-serif", LABEL_FONT))
                .draw()
                .map_err(err)?;
        }
        draw_y_ticks(&mut chart, area, &y_ticks, text)?;
        let x_ticks: Vec<(f64, String)> = shots
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, s.to_string()))
            .collect();
        draw_x_ticks(&mut chart, area, &x_ticks, text)?;
        self.draw_references(&mut chart, area, panel, true, text)?;
        let k = panel.series.len().max(1) as f64;
        // the series spread over 70% of a slot
        let dodge = if k > 1.0 { 0.7 / (k - 1.0) } else { 0.0 }.min(0.2);
        for (si, series) in panel.series.iter().enumerate() {
            let offset = (si as f64 - (k - 1.0) / 2.0) * dodge;
            let color = plot.palette.method_color(&series.loss, series.mode);
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
                    color.mix(0.6).stroke_width(2),
                )))
                .map_err(err)?;
            for p in &series.points {
                let x = x_of(p.shots);
                if let Some((lo, hi)) = plot.drawn_ci(p) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            color.stroke_width(2),
                        )))
                        .map_err(err)?;
                }
                for &v in &p.values {
                    let at = chart.backend_coord(&(x, v));
                    draw_marker(
                        area,
                        (at.0 - base.0, at.1 - base.1),
                        3,
                        marker,
                        color.mix(0.4).filled(),
                    )?;
                }
                let at = chart.backend_coord(&(x, p.mean));
                draw_marker(
                    area,
                    (at.0 - base.0, at.1 - base.1),
                    6,
                    marker,
                    color.filled(),
                )?;
            }
        }
        Ok(())
    }
}

/// A dashed line from `a` to `b` (pixels of `area`).
fn dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: (i32, i32),
    b: (i32, i32),
    color: RGBColor,
) -> Result<(), String> {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let length = (dx * dx + dy * dy).sqrt();
    let (dash, gap) = (10.0, 6.0);
    let mut t = 0.0;
    while t < length {
        let end = (t + dash).min(length);
        let at = |s: f64| {
            (
                a.0 + (dx * s / length).round() as i32,
                a.1 + (dy * s / length).round() as i32,
            )
        };
        area.draw(&PathElement::new(
            vec![at(t), at(end)],
            color.stroke_width(2),
        ))
        .map_err(err)?;
        t += dash + gap;
    }
    Ok(())
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
        let cols = self.plot.columns(options.width);
        let rows = self.plot.panels.len().div_ceil(cols).max(1) as u32;
        let legend = match (text, self.legend_place(options.width)) {
            (true, LegendPlace::Top(h)) => h as u32,
            _ => 0,
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
        let place = self.legend_place(w);
        let body = match (text, &place) {
            (true, LegendPlace::Top(h)) => {
                let width = w as i32 - 2 * MARGIN;
                draw_legend(
                    root,
                    &self.plot.legend(),
                    &self.plot.notes_wrapped(width),
                    MARGIN,
                    width,
                )?;
                root.split_vertically(*h as u32).1
            }
            _ => root.clone(),
        };
        let body = body.margin(0, MARGIN, 0, 0);
        let shots = self.plot.shots();
        let cols = self.plot.columns(w);
        let rows = self.plot.panels.len().div_ceil(cols).max(1);
        let cells = body.split_evenly((rows, cols));
        for (area, panel) in cells.iter().zip(&self.plot.panels) {
            if shots.len() > 1 {
                self.draw_lines(area, panel, &shots, text)?;
            } else {
                self.draw_strip(area, panel, text)?;
            }
        }
        if let (true, LegendPlace::Cells(free)) = (text, place) {
            let first = &cells[self.plot.panels.len()];
            let (cell_w, _) = first.dim_in_pixel();
            let width = cell_w as i32 * free as i32 - 2 * MARGIN;
            let (x, y) = first.get_base_pixel();
            let (rx, ry) = root.get_base_pixel();
            let area = root.margin((y - ry + MARGIN) as u32, 0, (x - rx) as u32, 0);
            draw_legend(
                &area,
                &self.plot.legend(),
                &self.plot.notes_wrapped(width),
                MARGIN,
                width,
            )?;
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
            interval_label: default_interval_label(),
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
