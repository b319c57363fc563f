//! A metric per decile (or any equal-width bins) for several series, e.g. accuracy by
//! confidence decile or by text-length decile.

use super::canvas::{err, padded_range, render, Figure};
use super::palette::series_color;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `values[i]` is the metric in bin i + 1 (finite values; a series may be shorter than others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileSeries {
    pub name: String,
    pub values: Vec<f64>,
}

struct DecileFigure<'a> {
    series: &'a [DecileSeries],
    title: &'a str,
    y_label: &'a str,
}

/// Writes `<stem>.svg` / `<stem>.png` with bins 1..=len on the x axis.
pub fn plot_deciles(
    series: &[DecileSeries],
    title: &str,
    y_label: &str,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    if series.iter().all(|s| s.values.is_empty()) {
        return Err(PlotError::NoData("every series is empty".into()));
    }
    if series
        .iter()
        .flat_map(|s| &s.values)
        .any(|v| !v.is_finite())
    {
        return Err(PlotError::Invalid("a decile value is not finite".into()));
    }
    render(
        &DecileFigure {
            series,
            title,
            y_label,
        },
        stem,
        options,
    )
}

impl Figure for DecileFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let bins = self
            .series
            .iter()
            .map(|s| s.values.len())
            .max()
            .unwrap_or(1);
        let (y0, y1) = padded_range(self.series.iter().flat_map(|s| s.values.iter().copied()))
            .unwrap_or((0.0, 1.0));
        let mut builder = ChartBuilder::on(root);
        builder.margin(15);
        if text {
            builder
                .caption(self.title, ("sans-serif", 22))
                .x_label_area_size(40)
                .y_label_area_size(55);
        }
        let mut chart = builder
            .build_cartesian_2d(0.5..bins as f64 + 0.5, y0..y1)
            .map_err(err)?;
        if text {
            chart
                .configure_mesh()
                .x_labels(bins)
                .x_label_formatter(&|x| format!("{:.0}", x))
                .x_desc("decile")
                .y_desc(self.y_label)
                .draw()
                .map_err(err)?;
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = series_color(i);
            let points: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(b, &v)| ((b + 1) as f64, v))
                .collect();
            let drawn = chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?;
            if text {
                drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(err)?;
        }
        if text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
