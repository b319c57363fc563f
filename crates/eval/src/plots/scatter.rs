//! Scatter plot of 2-D points (PCA / t-SNE maps) coloured by label; misclassified points are
//! drawn as crosses, correct ones as dots.

use super::canvas::{err, padded_range, render, Figure};
use super::palette::series_color;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    pub x: f64,
    pub y: f64,
    /// Index into the label names (the colour).
    pub label: usize,
    /// Marks an error (e.g. a misclassified example).
    pub error: bool,
}

struct ScatterFigure<'a> {
    points: &'a [ScatterPoint],
    label_names: &'a [String],
    title: &'a str,
}

/// Writes `<stem>.svg` / `<stem>.png`; every label must index `label_names`.
pub fn plot_scatter(
    points: &[ScatterPoint],
    label_names: &[String],
    title: &str,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    if points.is_empty() {
        return Err(PlotError::NoData("no points".into()));
    }
    if let Some(p) = points.iter().find(|p| p.label >= label_names.len()) {
        return Err(PlotError::Invalid(format!(
            "point label {} has no name ({} label names)",
            p.label,
            label_names.len()
        )));
    }
    if points.iter().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
        return Err(PlotError::Invalid(
            "a point has a non-finite coordinate".into(),
        ));
    }
    render(
        &ScatterFigure {
            points,
            label_names,
            title,
        },
        stem,
        options,
    )
}

impl Figure for ScatterFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (x0, x1) = padded_range(self.points.iter().map(|p| p.x)).unwrap_or((0.0, 1.0));
        let (y0, y1) = padded_range(self.points.iter().map(|p| p.y)).unwrap_or((0.0, 1.0));
        let mut builder = ChartBuilder::on(root);
        builder.margin(15);
        if text {
            builder
                .caption(self.title, ("sans-serif", 22))
                .x_label_area_size(35)
                .y_label_area_size(50);
        }
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
        if text {
            chart.configure_mesh().draw().map_err(err)?;
        }
        for (label, name) in self.label_names.iter().enumerate() {
            let color = series_color(label);
            let mine = || self.points.iter().filter(move |p| p.label == label);
            let dots = chart
                .draw_series(
                    mine()
                        .filter(|p| !p.error)
                        .map(|p| Circle::new((p.x, p.y), 3, color.mix(0.8).filled())),
                )
                .map_err(err)?;
            if text {
                dots.label(name.as_str())
                    .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
            }
            chart
                .draw_series(
                    mine()
                        .filter(|p| p.error)
                        .map(|p| Cross::new((p.x, p.y), 5, color.stroke_width(2))),
                )
                .map_err(err)?;
        }
        if text {
            chart
                .draw_series(std::iter::once(Cross::new(
                    (x0, y0),
                    0,
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?
                .label("error (cross)")
                .legend(|(x, y)| Cross::new((x + 8, y), 5, BLACK.stroke_width(2)));
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
