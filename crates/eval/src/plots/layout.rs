//! Text measuring and fitting for hand-placed labels: widths from the registered font's
//! metrics (what plotters' own layout uses), wrapping at spaces and hyphens, truncating with an
//! ellipsis, and a shared legend laid out in rows across a figure.

use super::font::font_bytes;
use super::glyphs::text_width;
use super::palette::Marker;
use ab_glyph::FontRef;
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

pub(crate) const LEGEND_FONT: f64 = 14.0;
const LEGEND_ROW: i32 = 22;
const LEGEND_MARK: i32 = 26;
const LEGEND_GAP: i32 = 22;

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
    8 + rows * LEGEND_ROW + notes.len() as i32 * 18 + 6
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
                        vec![(x, y), (x + 18, y)],
                        entry.color.stroke_width(2),
                    ))
                    .map_err(e)?;
                }
                if let Some(marker) = entry.marker {
                    draw_marker(area, (x + 9, y), 5, marker, entry.color.filled())?;
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
        let note = truncate(12.0, note, width as f64);
        area.draw(&Text::new(
            note,
            (left, y + 9),
            text_style(12.0).color(&BLACK.mix(0.75)),
        ))
        .map_err(e)?;
        y += 18;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
