//! Metric against number of shots with confidence bands: a panel per dataset, a line per
//! series (loss x mode), the band spanning each point's CI.

use super::canvas::{err, grid, padded_range, render, Figure};
use super::palette::series_color;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One x position of a series; `low` / `high` bound the band (omitted where undefined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveSeries {
    pub name: String,
    /// Drawn in the given order (sort by x first).
    pub points: Vec<CurvePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePanel {
    pub title: String,
    pub series: Vec<CurveSeries>,
}

struct CurvesFigure<'a> {
    panels: &'a [CurvePanel],
    x_label: &'a str,
    y_label: &'a str,
}

/// Writes `<stem>.svg` / `<stem>.png`. Series keep their colour across panels by name.
pub fn plot_shots_curves(
    panels: &[CurvePanel],
    x_label: &str,
    y_label: &str,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    if panels.is_empty()
        || panels
            .iter()
            .all(|p| p.series.iter().all(|s| s.points.is_empty()))
    {
        return Err(PlotError::NoData("no curve has a point".into()));
    }
    let bad = panels
        .iter()
        .flat_map(|p| &p.series)
        .flat_map(|s| &s.points)
        .any(|p| !p.x.is_finite() || !p.mean.is_finite());
    if bad {
        return Err(PlotError::Invalid(
            "a curve point has a non-finite x or mean".into(),
        ));
    }
    render(
        &CurvesFigure {
            panels,
            x_label,
            y_label,
        },
        stem,
        options,
    )
}

impl CurvesFigure<'_> {
    /// Index of a series name in first-seen order over all panels (stable colours).
    fn color_index(&self, name: &str) -> usize {
        let mut seen: Vec<&str> = Vec::new();
        for s in self.panels.iter().flat_map(|p| &p.series) {
            if !seen.contains(&s.name.as_str()) {
                seen.push(&s.name);
            }
        }
        seen.iter().position(|n| *n == name).unwrap_or(0)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &CurvePanel,
        text: bool,
    ) -> Result<(), String> {
        let points = || panel.series.iter().flat_map(|s| &s.points);
        let Some((x0, x1)) = padded_range(points().map(|p| p.x)) else {
            return Ok(()); // an empty panel stays blank
        };
        let ys = points().flat_map(|p| [Some(p.mean), p.low, p.high].into_iter().flatten());
        let (y0, y1) = padded_range(ys).unwrap_or((0.0, 1.0));
        let mut builder = ChartBuilder::on(area);
        builder.margin(10);
        if text {
            builder
                .caption(&panel.title, ("sans-serif", 18))
                .x_label_area_size(35)
                .y_label_area_size(50);
        }
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
        if text {
            chart
                .configure_mesh()
                .x_desc(self.x_label)
                .y_desc(self.y_label)
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
        }
        for series in &panel.series {
            let color = series_color(self.color_index(&series.name));
            let banded: Vec<(f64, f64, f64)> = series
                .points
                .iter()
                .filter_map(|p| Some((p.x, p.low?, p.high?)))
                .collect();
            if banded.len() >= 2 {
                let mut outline: Vec<(f64, f64)> =
                    banded.iter().map(|&(x, _, hi)| (x, hi)).collect();
                outline.extend(banded.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(err)?;
            } else {
                // A single band point: an error bar instead of an area.
                chart
                    .draw_series(banded.iter().map(|&(x, lo, hi)| {
                        PathElement::new(vec![(x, lo), (x, hi)], color.stroke_width(1))
                    }))
                    .map_err(err)?;
            }
            let line: Vec<(f64, f64)> = series.points.iter().map(|p| (p.x, p.mean)).collect();
            let drawn = chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .map_err(err)?;
            if text {
                drawn.label(series.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
        if text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

impl Figure for CurvesFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (rows, cols) = grid(self.panels.len());
        for (area, panel) in root.split_evenly((rows, cols)).iter().zip(self.panels) {
            self.draw_panel(area, panel, text)?;
        }
        Ok(())
    }
}
