//! Annotated heatmaps (rows x columns, e.g. datasets x loss (mode)) of a signed quantity such
//! as the mean difference to the baseline, one panel per heatmap (e.g. per shots), stacked.
//! Colour is a diverging scale centred at 0 (blue below, red above), scaled by the largest
//! |value| of all panels, with a colour bar; cells whose Holm-adjusted p is below the
//! thresholds carry `*` / `**` / `***`. Column labels wrap (at spaces and hyphens) to their
//! cell's width, row labels are cut to their margin: no label runs into another.

use super::canvas::{err, render, render_svg, Figure};
use super::layout::{
    measure, tick_labels, truncate, wrap, LABEL_FONT, NOTE_FONT, TICK_FONT, TITLE_FONT,
};
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
    /// The first this many columns are the primary comparisons; the rest (secondary) are
    /// drawn after a gap. `None`: one group.
    #[serde(default)]
    pub primary_columns: Option<usize>,
    /// The last this many rows summarise the others (e.g. their average), drawn after a gap.
    #[serde(default)]
    pub summary_rows: usize,
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
    /// Whether any cell is significant: without one the stars are not explained, the note
    /// says that none is.
    #[serde(default)]
    pub any_significant: bool,
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

    /// The colour scale's end (both signs): the largest |value| rounded up to a round
    /// number in annotation units (13.36 -> 15, 3.44 -> 3.5), so the bar reads in round steps.
    fn limit(&self) -> f64 {
        let scale = self.maps.first().map_or(1.0, |m| m.annotation_scale);
        let max = self
            .maps
            .iter()
            .flat_map(|m| m.values.iter().flatten().flatten())
            .filter(|v| v.is_finite())
            .fold(0.0f64, |a, v| a.max(v.abs()))
            * scale;
        round_limit(max) / scale
    }
}

/// `max` rounded up to a multiple of half its power of ten (1 where it is 0).
fn round_limit(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor()) / 2.0;
    ((max / step - 1e-9).ceil() * step * 1e6).round() / 1e6
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

const ROW_LABEL_FONT: f64 = LABEL_FONT;
const COLUMN_FONT: f64 = LABEL_FONT;
const COLUMN_LINE: i32 = 25;
const TITLE: i32 = 44;
const BAR: i32 = 170;
const FOOT: i32 = 36;
const CELL_H: i32 = 46;
/// Between the primary and secondary columns, and above the summary rows.
const GAP: i32 = 14;

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
        let cell_w = ((w - left - BAR - 8 - gap_of(map)) / map.columns.len() as i32).max(8);
        // the largest size (8 down to 7 pt) at which every word of every column fits
        let words = || {
            map.columns
                .iter()
                .flat_map(|c| c.split_inclusive([' ', '-']).map(str::trim_end))
        };
        let mut font = COLUMN_FONT;
        while font > NOTE_FONT && words().any(|word| measure(font, word) > (cell_w - 6) as f64) {
            font = (font - 1.0).max(NOTE_FONT);
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
        let gap = if map.summary_rows > 0 { GAP } else { 0 };
        TITLE + map.rows.len() as i32 * CELL_H + gap + self.layout(map, w).label_h + 8
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
                cell_w: ((w - 16 - BAR - gap_of(map)) / map.columns.len() as i32).max(1),
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
                ("sans-serif", TITLE_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        }
        let nr = map.rows.len() as i32;
        let row_gap = if map.summary_rows > 0 { GAP } else { 0 };
        let cell_h = ((h - top - layout.label_h - row_gap) / nr).max(1);
        let cell_w = layout.cell_w;
        let scale = if max_abs > 0.0 { max_abs } else { 1.0 };
        let stars = if self.plot.any_significant { "***" } else { "" };
        let decimals = annotation_decimals(map);
        let widest = map
            .values
            .iter()
            .flatten()
            .flatten()
            .map(|v| format!("{:+.decimals$}{stars}", v * map.annotation_scale))
            .max_by_key(|s| s.len())
            .unwrap_or_default();
        // The annotation's size: as large as fits the cell (down to 7 pt).
        let mut font = LABEL_FONT.min(cell_h as f64 * 0.5).max(NOTE_FONT);
        while font > NOTE_FONT && measure(font, &widest) > (cell_w - 6) as f64 {
            font = (font - 1.0).max(NOTE_FONT);
        }
        let x_of = |c: usize| layout.left + c as i32 * cell_w + column_gap(map, c);
        let y_of = |r: usize| {
            let gap = if r >= map.rows.len() - map.summary_rows {
                row_gap
            } else {
                0
            };
            top + r as i32 * cell_h + gap
        };
        for (r, row) in map.values.iter().enumerate() {
            let y0 = y_of(r);
            for (c, value) in row.iter().enumerate() {
                let x0 = x_of(c);
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
                    Some(v) => format!(
                        "{:+.decimals$}{}",
                        v * map.annotation_scale,
                        significance_stars(p)
                    ),
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
            let y = y_of(r) + cell_h / 2;
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
            let x = x_of(c) + cell_w / 2;
            for (i, line) in lines.iter().enumerate() {
                let y = top + nr * cell_h + row_gap + 6 + i as i32 * COLUMN_LINE;
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
        let (x0, x1) = (w as i32 - BAR + 16, w as i32 - BAR + 40);
        let (y0, y1) = (TITLE + 8, (TITLE + 8 + 300).min(h as i32 - FOOT - 80));
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
        let tick = ("sans-serif", TICK_FONT)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let at = [1.0, 0.5, 0.0, -0.5, -1.0];
        let values: Vec<f64> = at.iter().map(|t| t * max_abs * scale).collect();
        let labels = tick_labels(&values);
        for (t, label) in at.iter().zip(labels) {
            let y = y0 + ((1.0 - t) / 2.0 * (y1 - y0) as f64).round() as i32;
            area.draw(&PathElement::new(
                vec![(x1, y), (x1 + 5, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
            let label = if label.starts_with('-') || *t == 0.0 {
                label
            } else {
                format!("+{label}")
            };
            area.draw(&Text::new(label, (x1 + 8, y), tick.clone()))
                .map_err(err)?;
        }
        // the bar's label, wrapped under it
        for (i, line) in wrap(NOTE_FONT, &self.plot.value_label, (BAR - 12) as f64)
            .iter()
            .enumerate()
        {
            area.draw(&Text::new(
                line.clone(),
                (x0 - 4, y1 + 14 + i as i32 * 24),
                ("sans-serif", NOTE_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(err)?;
        }
        Ok(())
    }

    fn footnote(&self) -> String {
        let na = if self
            .plot
            .maps
            .iter()
            .any(|m| m.values.iter().flatten().any(Option::is_none))
        {
            "; n/a: no comparison"
        } else {
            ""
        };
        if self.plot.any_significant {
            format!(
                "* p < {}, ** p < 0.01, *** p < 0.001 ({}){na}",
                crate::report::SIGNIFICANCE_LEVEL,
                self.plot.test_label
            )
        } else {
            format!(
                "no difference is significant at {} ({}){na}",
                crate::report::SIGNIFICANCE_LEVEL,
                self.plot.test_label
            )
        }
    }
}

/// The pixels between primary and secondary columns (0 for one group).
fn gap_of(map: &Heatmap) -> i32 {
    match map.primary_columns {
        Some(p) if p > 0 && p < map.columns.len() => GAP,
        _ => 0,
    }
}

/// The gap left of column `c`.
fn column_gap(map: &Heatmap, c: usize) -> i32 {
    match map.primary_columns {
        Some(p) if c >= p => gap_of(map),
        _ => 0,
    }
}

/// Annotation decimals: one for percent points (a tenth of a point is what seeds resolve),
/// two otherwise.
fn annotation_decimals(map: &Heatmap) -> usize {
    if map.annotation_scale >= 100.0 {
        1
    } else {
        2
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
        let max_abs = self.plot.limit();
        let (w, h) = root.dim_in_pixel();
        let body = if text {
            let (body, foot) = root.split_vertically(h - FOOT as u32);
            foot.draw(&Text::new(
                truncate(NOTE_FONT, &self.footnote(), w as f64 - 20.0),
                (10, FOOT / 2),
                ("sans-serif", NOTE_FONT)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_limits_are_round() {
        assert_eq!(round_limit(13.36), 15.0);
        assert_eq!(round_limit(3.44), 3.5);
        assert_eq!(round_limit(0.021), 0.025);
        assert_eq!(round_limit(5.0), 5.0);
        assert_eq!(round_limit(0.0), 1.0);
    }
}
