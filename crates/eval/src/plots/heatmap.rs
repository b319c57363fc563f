//! Annotated heatmaps (rows x columns, e.g. datasets x loss (mode)) of a signed quantity such
//! as the mean difference to the baseline, one panel per heatmap (e.g. per shots), stacked.
//! Colour is a diverging scale centred at 0 (blue below, red above), scaled by the largest
//! |value| of all panels, with a colour bar; cells whose Holm-adjusted p is below the
//! thresholds carry `*` / `**` / `***`. Column labels wrap (at spaces and hyphens) to their
//! cell's width, row labels are cut to their margin: no label runs into another.

use super::canvas::{err, render, render_svg, Figure};
use super::layout::{measure, truncate, wrap};
use super::palette::{diverging, ink_on};
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `values[r][c]` for row r, column c; `None` cells are grey and marked `n/a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    pub title: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
    /// Holm-adjusted p of each cell (same shape as `values`; empty for none).
    #[serde(default)]
    pub p_holm: Vec<Vec<Option<f64>>>,
    /// Multiplier for the annotations (100 for proportions shown in percent points).
    pub annotation_scale: f64,
}

/// The stars of a p-value: `***` < 0.001, `**` < 0.01, `*` < 0.05, else none.
pub fn significance_stars(p: Option<f64>) -> &'static str {
    match p {
        Some(p) if p < 0.001 => "***",
        Some(p) if p < 0.01 => "**",
        Some(p) if p < crate::report::SIGNIFICANCE_LEVEL => "*",
        _ => "",
    }
}

/// The figure: the heatmaps, what the colour means, and what the stars test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapPlot {
    pub maps: Vec<Heatmap>,
    /// Colour bar label, e.g. `accuracy minus ce (points)`.
    pub value_label: String,
    /// What the stars are, e.g. `Holm-adjusted paired t-test`.
    pub test_label: String,
}

impl HeatmapPlot {
    fn check(&self) -> Result<(), PlotError> {
        if self.maps.is_empty() {
            return Err(PlotError::NoData("no heatmap".into()));
        }
        for m in &self.maps {
            let shape_ok = |v: &Vec<Vec<Option<f64>>>| {
                v.len() == m.rows.len() && v.iter().all(|r| r.len() == m.columns.len())
            };
            if !shape_ok(&m.values) || !(m.p_holm.is_empty() || shape_ok(&m.p_holm)) {
                return Err(PlotError::Invalid(format!(
                    "heatmap `{}`: values (and p-values) must be {} rows of {} columns",
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
        Ok(())
    }

    fn max_abs(&self) -> f64 {
        self.maps
            .iter()
            .flat_map(|m| m.values.iter().flatten().flatten())
            .filter(|v| v.is_finite())
            .fold(0.0f64, |a, v| a.max(v.abs()))
    }
}

/// Writes `<stem>.svg` / `<stem>.png`.
pub fn plot_heatmaps(
    plot: &HeatmapPlot,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    plot.check()?;
    render(&HeatmapFigure { plot }, stem, options)
}

/// The same figure as an SVG document.
pub fn heatmaps_svg(plot: &HeatmapPlot, options: &PlotOptions) -> Result<String, PlotError> {
    plot.check()?;
    render_svg(&HeatmapFigure { plot }, options)
}

struct HeatmapFigure<'a> {
    plot: &'a HeatmapPlot,
}

const ROW_LABEL_FONT: f64 = 14.0;
const COLUMN_FONT: f64 = 13.0;
const COLUMN_LINE: i32 = 16;
const TITLE: i32 = 30;
const BAR: i32 = 90;
const FOOT: i32 = 26;
const CELL_H: i32 = 36;

/// Pixel layout of one panel of width `w`.
struct Layout {
    left: i32,
    cell_w: i32,
    column_font: f64,
    column_lines: Vec<Vec<String>>,
    label_h: i32,
}

impl HeatmapFigure<'_> {
    fn layout(&self, map: &Heatmap, w: i32) -> Layout {
        let widest_row = map
            .rows
            .iter()
            .map(|r| measure(ROW_LABEL_FONT, r))
            .fold(0.0f64, f64::max);
        let left = (widest_row as i32 + 16).clamp(40, w / 4);
        let cell_w = ((w - left - BAR - 8) / map.columns.len() as i32).max(8);
        // the largest size (13 down to 10 px) at which every word of every column fits
        let words = || {
            map.columns
                .iter()
                .flat_map(|c| c.split_inclusive([' ', '-']).map(str::trim_end))
        };
        let mut font = COLUMN_FONT;
        while font > 10.0 && words().any(|word| measure(font, word) > (cell_w - 6) as f64) {
            font -= 1.0;
        }
        let column_lines: Vec<Vec<String>> = map
            .columns
            .iter()
            .map(|c| wrap(font, c, (cell_w - 6) as f64))
            .collect();
        let lines = column_lines.iter().map(Vec::len).max().unwrap_or(1) as i32;
        Layout {
            left,
            cell_w,
            column_font: font,
            column_lines,
            label_h: lines * COLUMN_LINE + 10,
        }
    }

    fn panel_height(&self, map: &Heatmap, w: i32) -> i32 {
        TITLE + map.rows.len() as i32 * CELL_H + self.layout(map, w).label_h + 8
    }

    fn draw_map<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        map: &Heatmap,
        max_abs: f64,
        text: bool,
    ) -> Result<(), String> {
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let layout = if text {
            self.layout(map, w)
        } else {
            Layout {
                left: 8,
                cell_w: ((w - 16 - BAR) / map.columns.len() as i32).max(1),
                column_font: COLUMN_FONT,
                column_lines: Vec::new(),
                label_h: 8,
            }
        };
        let top = if text { TITLE } else { 8 };
        if text {
            area.draw(&Text::new(
                map.title.clone(),
                (layout.left, TITLE / 2),
                ("sans-serif", 17)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        }
        let nr = map.rows.len() as i32;
        let cell_h = ((h - top - layout.label_h) / nr).max(1);
        let cell_w = layout.cell_w;
        let scale = if max_abs > 0.0 { max_abs } else { 1.0 };
        let widest = map
            .values
            .iter()
            .flatten()
            .flatten()
            .map(|v| format!("{:+.2}***", v * map.annotation_scale))
            .max_by_key(|s| s.len())
            .unwrap_or_default();
        // The annotation's size: as large as fits the cell (down to 9 px).
        let mut font = 15.0f64.min(cell_h as f64 * 0.45);
        while font > 9.0 && measure(font, &widest) > (cell_w - 6) as f64 {
            font -= 1.0;
        }
        for (r, row) in map.values.iter().enumerate() {
            let y0 = top + r as i32 * cell_h;
            for (c, value) in row.iter().enumerate() {
                let x0 = layout.left + c as i32 * cell_w;
                let fill = match value {
                    Some(v) if v.is_finite() => diverging(v / scale),
                    _ => RGBColor(215, 215, 215),
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
                if !text {
                    continue;
                }
                let p = map
                    .p_holm
                    .get(r)
                    .and_then(|row| row.get(c))
                    .copied()
                    .flatten();
                let label = match value {
                    Some(v) => format!("{:+.2}{}", v * map.annotation_scale, significance_stars(p)),
                    None => crate::report::NOT_APPLICABLE.to_string(),
                };
                area.draw(&Text::new(
                    truncate(font, &label, (cell_w - 4) as f64),
                    (x0 + cell_w / 2, y0 + cell_h / 2),
                    ("sans-serif", font)
                        .into_font()
                        .color(&ink_on(fill))
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(err)?;
            }
        }
        if !text {
            return Ok(());
        }
        for (r, name) in map.rows.iter().enumerate() {
            let y = top + r as i32 * cell_h + cell_h / 2;
            area.draw(&Text::new(
                truncate(ROW_LABEL_FONT, name, (layout.left - 12) as f64),
                (layout.left - 8, y),
                ("sans-serif", ROW_LABEL_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(err)?;
        }
        for (c, lines) in layout.column_lines.iter().enumerate() {
            let x = layout.left + c as i32 * cell_w + cell_w / 2;
            for (i, line) in lines.iter().enumerate() {
                let y = top + nr * cell_h + 6 + i as i32 * COLUMN_LINE;
                area.draw(&Text::new(
                    line.clone(),
                    (x, y),
                    ("sans-serif", layout.column_font)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    }

    /// The colour bar at the right of `area`: -max .. 0 .. +max.
    fn draw_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        max_abs: f64,
        scale: f64,
        text: bool,
    ) -> Result<(), String> {
        let (w, h) = area.dim_in_pixel();
        let (x0, x1) = (w as i32 - BAR + 10, w as i32 - BAR + 28);
        let (y0, y1) = (TITLE + 8, (TITLE + 8 + 220).min(h as i32 - FOOT - 10));
        if y1 <= y0 + 20 {
            return Ok(());
        }
        let steps = y1 - y0;
        for i in 0..steps {
            let t = 1.0 - 2.0 * i as f64 / (steps - 1).max(1) as f64;
            area.draw(&Rectangle::new(
                [(x0, y0 + i), (x1, y0 + i + 1)],
                diverging(t).filled(),
            ))
            .map_err(err)?;
        }
        area.draw(&Rectangle::new(
            [(x0, y0), (x1, y1)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(err)?;
        if !text {
            return Ok(());
        }
        let tick = ("sans-serif", 12)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (t, y) in [(1.0, y0), (0.0, (y0 + y1) / 2), (-1.0, y1)] {
            area.draw(&PathElement::new(
                vec![(x1, y), (x1 + 4, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
            let v = t * max_abs * scale;
            let label = if t == 0.0 {
                "0".to_string()
            } else {
                format!("{v:+.2}")
            };
            area.draw(&Text::new(label, (x1 + 6, y), tick.clone()))
                .map_err(err)?;
        }
        // the bar's label, wrapped under it
        for (i, line) in wrap(11.0, &self.plot.value_label, (BAR - 8) as f64)
            .iter()
            .enumerate()
        {
            area.draw(&Text::new(
                line.clone(),
                (x0 - 4, y1 + 10 + i as i32 * 14),
                ("sans-serif", 11)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(err)?;
        }
        Ok(())
    }

    fn footnote(&self) -> String {
        format!(
            "* p < {}, ** p < 0.01, *** p < 0.001 ({}); n/a: no comparison",
            crate::report::SIGNIFICANCE_LEVEL,
            self.plot.test_label
        )
    }
}

impl Figure for HeatmapFigure<'_> {
    fn size(&self, options: &PlotOptions, text: bool) -> (u32, u32) {
        if !text {
            return (options.width, options.height);
        }
        let w = options.width as i32 - BAR;
        let needed: i32 = self
            .plot
            .maps
            .iter()
            .map(|m| self.panel_height(m, w))
            .sum::<i32>()
            + FOOT
            + 10;
        (options.width, (needed as u32).max(260))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let max_abs = self.plot.max_abs();
        let (w, h) = root.dim_in_pixel();
        let body = if text {
            let (body, foot) = root.split_vertically(h - FOOT as u32);
            foot.draw(&Text::new(
                truncate(12.0, &self.footnote(), w as f64 - 20.0),
                (10, FOOT / 2),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK.mix(0.75))
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
            body
        } else {
            root.clone()
        };
        // stacked panels, heights in proportion to their rows (+ label room)
        let (_, body_h) = body.dim_in_pixel();
        let wanted: Vec<i32> = self
            .plot
            .maps
            .iter()
            .map(|m| self.panel_height(m, w as i32 - BAR).max(1))
            .collect();
        let total: i32 = wanted.iter().sum();
        let mut cuts = Vec::new();
        let mut acc = 0;
        for wv in &wanted[..wanted.len() - 1] {
            acc += wv;
            cuts.push(acc * body_h as i32 / total);
        }
        let panels = body.split_by_breakpoints::<i32, i32, _, _>(Vec::<i32>::new(), cuts);
        let scale = self
            .plot
            .maps
            .first()
            .map(|m| m.annotation_scale)
            .unwrap_or(1.0);
        for (area, map) in panels.iter().zip(&self.plot.maps) {
            self.draw_map(area, map, max_abs, text)?;
        }
        self.draw_bar(&body, max_abs, scale, text)?;
        Ok(())
    }
}
