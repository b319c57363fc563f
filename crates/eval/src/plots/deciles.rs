//! A metric per decile (or any equal-width bins) for several series, e.g. accuracy by
//! confidence decile or by text-length decile: a line per series with the 95% Wilson interval
//! of each bin's proportion where its example count is known, the title wrapped to the width,
//! the legend above the plot (never on the data).

use super::canvas::{err, padded_range, render, Figure};
use super::layout::{
    draw_legend, draw_x_ticks, draw_y_ticks, legend_height, measure, ticks, wrap, wrap_notes,
    LegendEntry, LABEL_FONT, TICK_FONT, TITLE_FONT,
};
use super::palette::series_color;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `values[i]` is the metric in bin i + 1 (finite values; a series may be shorter than others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileSeries {
    pub name: String,
    pub values: Vec<f64>,
    /// Examples in each bin, where the values are proportions of them (accuracy): then each
    /// point gets its 95% Wilson interval. Empty: no intervals.
    #[serde(default)]
    pub counts: Vec<usize>,
}

struct DecileFigure<'a> {
    series: &'a [DecileSeries],
    title: &'a str,
    y_label: &'a str,
}

/// The 95% Wilson score interval of `p` observed in `n` trials (stays inside [0, 1], unlike
/// the normal approximation at 40 examples and p near 0 or 1).
pub(crate) fn wilson(p: f64, n: usize) -> Option<(f64, f64)> {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let z = 1.959_963_984_540_054f64;
    let n = n as f64;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
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
    if let Some(s) = series
        .iter()
        .find(|s| !s.counts.is_empty() && s.counts.len() != s.values.len())
    {
        return Err(PlotError::Invalid(format!(
            "decile series `{}`: {} values but {} counts",
            s.name,
            s.values.len(),
            s.counts.len()
        )));
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

const MARGIN: i32 = 16;
const TITLE_LINE: i32 = 32;

impl DecileFigure<'_> {
    fn interval(&self, s: &DecileSeries, i: usize) -> Option<(f64, f64)> {
        wilson(s.values[i], *s.counts.get(i)?)
    }

    fn legend(&self) -> Vec<LegendEntry> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                name: s.name.clone(),
                color: series_color(i),
                marker: Some(super::palette::Marker::Circle),
                line: true,
            })
            .collect()
    }

    fn notes(&self, width: i32) -> Vec<String> {
        if self.series.iter().any(|s| !s.counts.is_empty()) {
            wrap_notes(
                &["bars: 95% Wilson interval of the bin's proportion".to_string()],
                width,
            )
        } else {
            Vec::new()
        }
    }

    fn header_height(&self, w: i32) -> i32 {
        let inner = w - 2 * MARGIN;
        let title = wrap(TITLE_FONT, self.title, inner as f64).len() as i32 * TITLE_LINE;
        MARGIN + title + legend_height(&self.legend(), &self.notes(inner), inner)
    }
}

impl Figure for DecileFigure<'_> {
    fn size(&self, options: &PlotOptions, text: bool) -> (u32, u32) {
        let header = if text {
            self.header_height(options.width as i32) as u32
        } else {
            0
        };
        (options.width, options.height.max(header + 300))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (w, _) = root.dim_in_pixel();
        let w = w as i32;
        let inner = w - 2 * MARGIN;
        let body = if text {
            let lines = wrap(TITLE_FONT, self.title, inner as f64);
            for (i, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (w / 2, MARGIN + i as i32 * TITLE_LINE + TITLE_LINE / 2),
                    ("sans-serif", TITLE_FONT)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(err)?;
            }
            let top = MARGIN + lines.len() as i32 * TITLE_LINE;
            let legend_area = root.margin(top as u32, 0, 0, 0);
            draw_legend(
                &legend_area,
                &self.legend(),
                &self.notes(inner),
                MARGIN,
                inner,
            )?;
            root.margin(self.header_height(w) as u32, 0, 0, 0)
        } else {
            root.clone()
        };
        let bins = self
            .series
            .iter()
            .map(|s| s.values.len())
            .max()
            .unwrap_or(1);
        let values = self.series.iter().flat_map(|s| {
            (0..s.values.len()).flat_map(move |i| {
                let ci = self.interval(s, i);
                [s.values[i]]
                    .into_iter()
                    .chain(ci.map(|c| c.0))
                    .chain(ci.map(|c| c.1))
            })
        });
        let (y0, y1) = padded_range(values).unwrap_or((0.0, 1.0));
        let y_ticks = ticks(y0, y1, 5);
        let widest = y_ticks
            .iter()
            .map(|(_, l)| measure(TICK_FONT, l))
            .fold(0.0f64, f64::max);
        let mut builder = ChartBuilder::on(&body);
        builder
            .margin(MARGIN as u32)
            .margin_right(2 * MARGIN as u32);
        if text {
            builder
                .x_label_area_size((TICK_FONT + LABEL_FONT + 24.0) as u32)
                .y_label_area_size((widest + LABEL_FONT + 24.0) as u32);
        }
        let mut chart = builder
            .build_cartesian_2d(0.5..bins as f64 + 0.5, y0..y1)
            .map_err(err)?;
        if text {
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(0)
                .y_labels(0)
                .x_desc("decile")
                .y_desc(self.y_label)
                .axis_desc_style(("sans-serif", LABEL_FONT))
                .draw()
                .map_err(err)?;
        }
        draw_y_ticks(&mut chart, &body, &y_ticks, text)?;
        let x_ticks: Vec<(f64, String)> = (1..=bins).map(|b| (b as f64, b.to_string())).collect();
        draw_x_ticks(&mut chart, &body, &x_ticks, text)?;
        let k = self.series.len().max(1) as f64;
        // series side by side within a bin, so intervals do not cover each other
        let dodge = if k > 1.0 {
            (0.3 / (k - 1.0)).min(0.15)
        } else {
            0.0
        };
        for (si, s) in self.series.iter().enumerate() {
            let color = series_color(si);
            let offset = (si as f64 - (k - 1.0) / 2.0) * dodge;
            let points: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(b, &v)| ((b + 1) as f64 + offset, v))
                .collect();
            for (i, &(x, _)) in points.iter().enumerate() {
                if let Some((lo, hi)) = self.interval(s, i) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            color.mix(0.7).stroke_width(2),
                        )))
                        .map_err(err)?;
                }
            }
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
                .map_err(err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 6, color.filled())))
                .map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_statsmodels() {
        // statsmodels.stats.proportion.proportion_confint(20, 40, method="wilson")
        let (lo, hi) = wilson(0.5, 40).unwrap();
        assert!((lo - 0.351_995_3).abs() < 1e-6, "{lo}");
        assert!((hi - 0.648_004_7).abs() < 1e-6, "{hi}");
        let (lo, hi) = wilson(1.0, 40).unwrap();
        assert!(hi == 1.0 && lo > 0.9 && lo < 0.92, "{lo}");
        assert_eq!(wilson(0.5, 0), None);
    }
}
