//! Annotated heatmaps (rows x columns, e.g. datasets x losses) of a signed quantity such as the
//! mean difference to the baseline; one panel per heatmap (e.g. per shots). Colour is
//! symmetric around 0 (blue below, red above), scaled by the largest |value| of all panels.

use super::canvas::{err, grid, render, Figure};
use super::palette::diverging;
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `values[r][c]` for row r, column c; `None` cells are grey and unannotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    pub title: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
    /// Multiplier for the annotations (100 for proportions shown in percent points).
    pub annotation_scale: f64,
}

struct HeatmapFigure<'a> {
    maps: &'a [Heatmap],
    max_abs: f64,
}

/// Writes `<stem>.svg` / `<stem>.png`.
pub fn plot_heatmaps(
    maps: &[Heatmap],
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    if maps.is_empty() {
        return Err(PlotError::NoData("no heatmap".into()));
    }
    for m in maps {
        if m.values.len() != m.rows.len() || m.values.iter().any(|r| r.len() != m.columns.len()) {
            return Err(PlotError::Invalid(format!(
                "heatmap `{}`: values must be {} rows of {} columns",
                m.title,
                m.rows.len(),
                m.columns.len()
            )));
        }
        if m.rows.is_empty() || m.columns.is_empty() {
            return Err(PlotError::NoData(format!(
                "heatmap `{}` has no cells",
                m.title
            )));
        }
    }
    let max_abs = maps
        .iter()
        .flat_map(|m| m.values.iter().flatten().flatten())
        .filter(|v| v.is_finite())
        .fold(0.0f64, |a, v| a.max(v.abs()));
    render(&HeatmapFigure { maps, max_abs }, stem, options)
}

impl HeatmapFigure<'_> {
    /// Drawn in pixel coordinates of the panel (cells, labels and annotations placed by hand:
    /// a discrete chart axis degenerates for a single row or column).
    fn draw_map<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        map: &Heatmap,
        text: bool,
    ) -> Result<(), String> {
        let area = if text {
            area.titled(&map.title, ("sans-serif", 18)).map_err(err)?
        } else {
            area.clone()
        };
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        // Room for row labels on the left and column labels below, when there is text.
        let (left, bottom, pad) = if text { (w / 5, 30, 8) } else { (8, 8, 8) };
        let (nr, nc) = (map.rows.len() as i32, map.columns.len() as i32);
        let cell_w = ((w - left - pad) / nc).max(1);
        let cell_h = ((h - bottom - pad) / nr).max(1);
        let scale = if self.max_abs > 0.0 {
            self.max_abs
        } else {
            1.0
        };
        let centred = |size: i32| {
            ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        for (r, row) in map.values.iter().enumerate() {
            let y0 = pad + r as i32 * cell_h;
            for (c, value) in row.iter().enumerate() {
                let x0 = left + c as i32 * cell_w;
                let fill = match value {
                    Some(v) if v.is_finite() => diverging(v / scale),
                    _ => RGBColor(210, 210, 210),
                };
                area.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell_w, y0 + cell_h)],
                    fill.filled(),
                ))
                .map_err(err)?;
                area.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell_w, y0 + cell_h)],
                    WHITE.stroke_width(1),
                ))
                .map_err(err)?;
                if let (true, Some(v)) = (text, value) {
                    let color = if (v / scale).abs() > 0.6 {
                        &WHITE
                    } else {
                        &BLACK
                    };
                    area.draw(&Text::new(
                        format!("{:+.2}", v * map.annotation_scale),
                        (x0 + cell_w / 2, y0 + cell_h / 2),
                        centred(15).color(color),
                    ))
                    .map_err(err)?;
                }
            }
        }
        if text {
            for (r, name) in map.rows.iter().enumerate() {
                let y = pad + r as i32 * cell_h + cell_h / 2;
                let style = ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                area.draw(&Text::new(name.clone(), (left - 6, y), style))
                    .map_err(err)?;
            }
            for (c, name) in map.columns.iter().enumerate() {
                let x = left + c as i32 * cell_w + cell_w / 2;
                let y = pad + nr * cell_h + bottom / 2;
                area.draw(&Text::new(name.clone(), (x, y), centred(13)))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

impl Figure for HeatmapFigure<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let (rows, cols) = grid(self.maps.len());
        for (area, map) in root.split_evenly((rows, cols)).iter().zip(self.maps) {
            self.draw_map(area, map, text)?;
        }
        Ok(())
    }
}
