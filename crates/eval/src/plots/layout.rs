//! Text measuring and fitting for hand-placed labels: widths from the registered font's
//! metrics (what plotters' own layout uses), wrapping at spaces and hyphens, truncating with an
//! ellipsis, and a shared legend laid out in rows across a figure.

use super::font::font_bytes;
use super::glyphs::text_width;
use super::palette::Marker;
use ab_glyph::FontRef;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| font_bytes().and_then(|b| FontRef::try_from_slice(b).ok()))
        .as_ref()
}

/// Width in pixels of `text` at font size `size` (an estimate of 0.6 em per character when no
/// font is loaded; then no text is drawn anyway).
pub(crate) fn measure(size: f64, text: &str) -> f64 {
    match font() {
        Some(f) => text_width(f, size, text),
        None => 0.6 * size * text.chars().count() as f64,
    }
}

/// `text` cut to `max_width` pixels with a trailing ellipsis (whole when it fits).
pub(crate) fn truncate(size: f64, text: &str, max_width: f64) -> String {
    if measure(size, text) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (0..chars.len()).rev() {
        let cut: String = chars[..keep].iter().collect::<String>() + "…";
        if measure(size, &cut) <= max_width {
            return cut;
        }
    }
    "…".to_string()
}

/// `text` broken into lines of at most `max_width` pixels: at spaces where that is enough,
/// else also after hyphens; a piece wider than the line is truncated.
pub(crate) fn wrap(size: f64, text: &str, max_width: f64) -> Vec<String> {
    let at_spaces = wrap_at(size, text, max_width, &[' ']);
    if at_spaces.iter().all(|l| measure(size, l) <= max_width) {
        return at_spaces;
    }
    wrap_at(size, text, max_width, &[' ', '-'])
        .into_iter()
        .map(|l| truncate(size, &l, max_width))
        .collect()
}

/// Greedy line filling with breaks after any of `breaks` (lines may still be too wide).
fn wrap_at(size: f64, text: &str, max_width: f64, breaks: &[char]) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if breaks.contains(&c) {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        let candidate = format!("{line}{piece}");
        if line.is_empty() || measure(size, candidate.trim_end()) <= max_width {
            line = candidate;
        } else {
            lines.push(line.trim_end().to_string());
            line = piece;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// One entry of a figure legend: a marker in a colour and its name.
pub(crate) struct LegendEntry {
    pub(crate) name: String,
    pub(crate) color: RGBColor,
    /// `None`: a line only.
    pub(crate) marker: Option<Marker>,
    /// Drawn as a short line through the marker (series with lines).
    pub(crate) line: bool,
}

/// Text sizes in pixels at [`super::DPI`]: none below [`super::MIN_FONT_PT`] at print size.
pub(crate) const NOTE_FONT: f64 = 7.0 * super::DPI / 72.0;
pub(crate) const TICK_FONT: f64 = 7.5 * super::DPI / 72.0;
pub(crate) const LABEL_FONT: f64 = 8.0 * super::DPI / 72.0;
pub(crate) const TITLE_FONT: f64 = 9.0 * super::DPI / 72.0;

pub(crate) const LEGEND_FONT: f64 = LABEL_FONT;
const LEGEND_ROW: i32 = 30;
const LEGEND_MARK: i32 = 38;
const LEGEND_GAP: i32 = 30;
const NOTE_ROW: i32 = 25;

/// Rows of entry indices that fit in `width` pixels.
fn legend_rows(entries: &[LegendEntry], width: i32) -> Vec<Vec<(usize, i32)>> {
    let mut rows: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
    let mut x = 0;
    for (i, e) in entries.iter().enumerate() {
        let name_width = measure(LEGEND_FONT, &e.name).min((width - LEGEND_MARK) as f64) as i32;
        let w = LEGEND_MARK + name_width + LEGEND_GAP;
        if x > 0 && x + w > width {
            rows.push(Vec::new());
            x = 0;
        }
        rows.last_mut().expect("a row").push((i, x));
        x += w;
    }
    rows
}

/// Height of the legend (and its note lines) drawn by [`draw_legend`].
pub(crate) fn legend_height(entries: &[LegendEntry], notes: &[String], width: i32) -> i32 {
    let rows = if entries.is_empty() {
        0
    } else {
        legend_rows(entries, width).len() as i32
    };
    8 + rows * LEGEND_ROW + notes.len() as i32 * NOTE_ROW + 8
}

/// Draws a marker of `size` (radius) at `at` in `area`'s pixel coordinates.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    size: i32,
    marker: Marker,
    style: ShapeStyle,
) -> Result<(), String> {
    let (x, y) = at;
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    match marker {
        Marker::Circle => area.draw(&Circle::new(at, size, style)).map_err(e),
        Marker::Square => area
            .draw(&Rectangle::new(
                [(x - size, y - size), (x + size, y + size)],
                style,
            ))
            .map_err(e),
        Marker::Triangle => area
            .draw(&Polygon::new(
                vec![
                    (x, y - size - 1),
                    (x - size - 1, y + size),
                    (x + size + 1, y + size),
                ],
                style,
            ))
            .map_err(e),
        Marker::Diamond => area
            .draw(&Polygon::new(
                vec![
                    (x, y - size - 1),
                    (x - size - 1, y),
                    (x, y + size + 1),
                    (x + size + 1, y),
                ],
                style,
            ))
            .map_err(e),
    }
}

/// Draws the legend across the top of `area` (entries in rows, then one line per note).
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    notes: &[String],
    left: i32,
    width: i32,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let text_style = |size: f64| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    let mut y = 8 + LEGEND_ROW / 2;
    if !entries.is_empty() {
        for row in legend_rows(entries, width) {
            for (i, x) in row {
                let entry = &entries[i];
                let x = left + x;
                if entry.line {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 28, y)],
                        entry.color.stroke_width(3),
                    ))
                    .map_err(e)?;
                }
                if let Some(marker) = entry.marker {
                    draw_marker(area, (x + 14, y), 7, marker, entry.color.filled())?;
                }
                let name = truncate(LEGEND_FONT, &entry.name, (width - LEGEND_MARK) as f64);
                area.draw(&Text::new(
                    name,
                    (x + LEGEND_MARK, y),
                    text_style(LEGEND_FONT),
                ))
                .map_err(e)?;
            }
            y += LEGEND_ROW;
        }
    }
    y -= LEGEND_ROW / 2;
    for note in notes {
        let note = truncate(NOTE_FONT, note, width as f64);
        area.draw(&Text::new(
            note,
            (left, y + NOTE_ROW / 2),
            text_style(NOTE_FONT).color(&BLACK.mix(0.75)),
        ))
        .map_err(e)?;
        y += NOTE_ROW;
    }
    Ok(())
}

/// A chart of two linear f64 axes (log scales are drawn as the log of the values).
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// `(position, label)` of round ticks over `[lo, hi]`, labelled alike (see [`tick_labels`]).
pub(crate) fn ticks(lo: f64, hi: f64, most: usize) -> Vec<(f64, String)> {
    let at = nice_ticks(lo, hi, most);
    let labels = tick_labels(&at);
    at.into_iter().zip(labels).collect()
}

/// Ticks of a log axis drawn as log10 of the values over `[lo, hi]` (in log10): the powers of
/// ten where the range spans one (labelled `1e-2`, `1e-1`, `1e0` where any is below 1), else
/// round values inside it.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let (first, last) = (lo.ceil() as i32, hi.floor() as i32);
    if last > first {
        let step = ((last - first) as usize).div_ceil(6).max(1);
        let powers: Vec<i32> = (first..=last).step_by(step).collect();
        return powers
            .iter()
            .map(|&k| {
                let label = if first >= 0 {
                    format!("{}", 10f64.powi(k))
                } else {
                    format!("1e{k}")
                };
                (k as f64, label)
            })
            .collect();
    }
    let linear = nice_ticks(10f64.powf(lo), 10f64.powf(hi), 5);
    let labels = tick_labels(&linear);
    linear
        .into_iter()
        .zip(labels)
        .filter(|(v, _)| *v > 0.0)
        .map(|(v, l)| (v.log10(), l))
        .collect()
}

/// Light grid lines across the plotting area and labels left of it at `ticks` of the y axis.
pub(crate) fn draw_y_ticks<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    area: &DrawingArea<DB, Shift>,
    ticks: &[(f64, String)],
    text: bool,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let x = chart.x_range();
    let base = area.get_base_pixel();
    for (v, label) in ticks {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x.start, *v), (x.end, *v)],
                BLACK.mix(0.15).stroke_width(1),
            )))
            .map_err(|e| e.to_string())?;
        if text {
            let (px, py) = chart.backend_coord(&(x.start, *v));
            area.draw(&Text::new(
                label.clone(),
                (px - base.0 - 8, py - base.1),
                ("sans-serif", TICK_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(e)?;
        }
    }
    Ok(())
}

/// Labels under the plotting area at `ticks` of the x axis, with short tick marks.
pub(crate) fn draw_x_ticks<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    area: &DrawingArea<DB, Shift>,
    ticks: &[(f64, String)],
    text: bool,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let y = chart.y_range();
    let base = area.get_base_pixel();
    for (v, label) in ticks {
        let (px, py) = chart.backend_coord(&(*v, y.start));
        let (px, py) = (px - base.0, py - base.1);
        area.draw(&PathElement::new(
            vec![(px, py), (px, py + 6)],
            BLACK.stroke_width(1),
        ))
        .map_err(e)?;
        if text {
            area.draw(&Text::new(
                label.clone(),
                (px, py + 9),
                ("sans-serif", TICK_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(e)?;
        }
    }
    Ok(())
}

/// `notes` broken into lines of `width` pixels at the notes' size.
pub(crate) fn wrap_notes(notes: &[String], width: i32) -> Vec<String> {
    notes
        .iter()
        .flat_map(|n| wrap(NOTE_FONT, n, width as f64))
        .collect()
}

/// Round tick values in [`lo`, `hi`]: multiples of 1, 2, 2.5 or 5 x 10^k, at most about
/// `most` of them (computed as integer multiples of the step, so no accumulated residue).
pub(crate) fn nice_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    if hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / most.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step + 0.0).collect()
}

/// One format for every tick of an axis: the fewest decimals at which the labels are distinct
/// and read as their values (so `80` beside `85`, never `80.0`, and no `-8.5e-22` for 0);
/// scientific for very small or very large magnitudes.
pub(crate) fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let biggest = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let tolerance = if step.is_finite() { step * 1e-6 } else { 1e-12 };
    let distinct = |labels: &[String]| {
        labels
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == labels.len()
    };
    let zero = |v: f64| if v.abs() <= tolerance { 0.0 } else { v };
    let scientific = biggest > 0.0 && !(1e-3..1e5).contains(&biggest);
    for decimals in 0..=6usize {
        let labels: Vec<String> = ticks
            .iter()
            .map(|&v| {
                let v = zero(v);
                if v == 0.0 && scientific {
                    "0".to_string()
                } else if scientific {
                    format!("{v:.decimals$e}")
                } else {
                    format!("{v:.decimals$}")
                }
            })
            .collect();
        let exact = labels.iter().zip(ticks).all(|(l, &v)| {
            l.parse::<f64>()
                .is_ok_and(|p| (p - zero(v)).abs() <= tolerance.max(v.abs() * 1e-9))
        });
        if distinct(&labels) && exact {
            return labels;
        }
    }
    ticks.iter().map(|v| format!("{:.3e}", zero(*v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_labelled_alike() {
        assert_eq!(nice_ticks(41.0, 79.0, 5), [50.0, 60.0, 70.0]);
        assert_eq!(tick_labels(&nice_ticks(41.0, 79.0, 5)), ["50", "60", "70"]);
        assert_eq!(tick_labels(&[0.0, 2.5, 5.0]), ["0.0", "2.5", "5.0"]);
        assert_eq!(
            tick_labels(&nice_ticks(0.1, 0.35, 5)),
            ["0.10", "0.15", "0.20", "0.25", "0.30", "0.35"]
        );
        assert_eq!(
            tick_labels(&[-1e-5, -8.5e-22, 1e-5]),
            ["-1e-5", "0", "1e-5"]
        );
        assert_eq!(tick_labels(&[2.0e-5, 4.0e-5]), ["2e-5", "4e-5"]);
        assert_eq!(
            tick_labels(&nice_ticks(0.0, 1.0, 4)),
            ["0.00", "0.25", "0.50", "0.75", "1.00"]
        );
        assert_eq!(tick_labels(&[-0.5, 0.0, 0.5]), ["-0.5", "0.0", "0.5"]);
        let log: Vec<String> = log_ticks(-2.2, 0.4).into_iter().map(|(_, l)| l).collect();
        assert_eq!(log, ["1e-2", "1e-1", "1e0"]);
        let log: Vec<String> = log_ticks(2f64.log10(), 5f64.log10())
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(log, ["2", "3", "4", "5"]);
        assert_eq!(nice_ticks(1.0, 3.0, 6), [1.0, 1.5, 2.0, 2.5, 3.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 3).is_empty());
    }

    #[test]
    fn wrapping_and_truncating_respect_the_width() {
        let lines = wrap(13.0, "ce-proxyanchor (mix-0.5)", 90.0);
        assert!(lines.len() >= 2, "{lines:?}");
        for l in &lines {
            assert!(measure(13.0, l) <= 90.0, "{l}");
        }
        assert_eq!(wrap(13.0, "ce", 90.0), ["ce"]);
        // a space is the better break: "(mix-0.5)" stays whole when it fits
        let w = measure(13.0, "ce-proxyanchor") + 2.0;
        assert_eq!(
            wrap(13.0, "ce-proxyanchor (mix-0.5)", w),
            ["ce-proxyanchor", "(mix-0.5)"]
        );
        let cut = truncate(13.0, &"x".repeat(200), 50.0);
        assert!(cut.ends_with('…') && measure(13.0, &cut) <= 50.0, "{cut}");
    }
}
