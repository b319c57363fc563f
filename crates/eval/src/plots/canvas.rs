//! Runs one drawing function on both backends (SVG, then PNG) and reports the files, or on the
//! SVG backend alone into a string (for pages that inline their figures).

use super::font::{font_bytes, plot_font};
use super::glyphs::GlyphText;
use super::{PlotError, PlotFiles, PlotOptions, TextPolicy, DPI};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The drawing of one figure, generic over the backend so both files share one code path.
/// `text` says whether text may be drawn.
pub(crate) trait Figure {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String>;

    /// The size to draw at: the options' size, or taller where the figure needs room (many
    /// panels or rows); never smaller.
    fn size(&self, options: &PlotOptions, _text: bool) -> (u32, u32) {
        (options.width, options.height)
    }
}

/// Whether text is drawn under `policy`, and the warning when it cannot be.
fn text_allowed(policy: TextPolicy) -> (bool, Option<String>) {
    match policy {
        TextPolicy::Never => (false, None),
        TextPolicy::Auto => match plot_font() {
            Ok(_) => (true, None),
            Err(why) => {
                tracing::warn!("{why}");
                (false, Some(why.to_string()))
            }
        },
    }
}

/// The figure as an SVG document in a string.
pub(crate) fn render_svg(figure: &impl Figure, options: &PlotOptions) -> Result<String, PlotError> {
    let (width, height) = (options.width, options.height);
    if width < 100 || height < 100 {
        return Err(PlotError::Size { width, height });
    }
    let (text, _) = text_allowed(options.text);
    svg_string(figure, figure.size(options, text), text).map_err(|message| PlotError::Draw {
        path: PathBuf::from("(inline SVG)"),
        message,
    })
}

/// The SVG document of `figure` at `size`, which says its print size in inches (at [`DPI`]),
/// so that a document that includes it gets the figure at the size its fonts were chosen for.
fn svg_string(figure: &impl Figure, size: (u32, u32), text: bool) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw_and_present(figure, &root, text)?;
    }
    let (w, h) = size;
    let pixels = format!("<svg width=\"{w}\" height=\"{h}\"");
    let inches = format!("<svg width=\"{}in\" height=\"{}in\"", inches(w), inches(h));
    Ok(out.replacen(&pixels, &inches, 1))
}

/// Pixels at [`DPI`] as inches, without float residue (`3.3`, not `3.3000000000000003`).
fn inches(pixels: u32) -> String {
    let s = format!("{:.3}", pixels as f64 / DPI);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes `<stem>.svg` and `<stem>.png`.
pub(crate) fn render(
    figure: &impl Figure,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    let (width, height) = (options.width, options.height);
    if width < 100 || height < 100 {
        return Err(PlotError::Size { width, height });
    }
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| PlotError::Folder {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let (text, warning) = text_allowed(options.text);
    let warnings: Vec<String> = warning.into_iter().collect();
    let size = figure.size(options, text);
    let svg = with_extension(stem, "svg");
    let png = with_extension(stem, "png");
    let draw_error = |path: &PathBuf, message: String| PlotError::Draw {
        path: path.clone(),
        message,
    };
    let document = svg_string(figure, size, text).map_err(|m| draw_error(&svg, m))?;
    std::fs::write(&svg, document).map_err(|e| draw_error(&svg, e.to_string()))?;
    {
        // Bitmap text through our glyph placement (see `glyphs`), where a font is loaded.
        let bitmap = BitMapBackend::new(&png, size);
        let fixed = match font_bytes().filter(|_| text) {
            Some(font) => GlyphText::new(bitmap, font),
            None => Err(bitmap),
        };
        match fixed {
            Ok(fixed) => draw_and_present(figure, &fixed.into_drawing_area(), text),
            Err(plain) => draw_and_present(figure, &plain.into_drawing_area(), text),
        }
        .map_err(|m| draw_error(&png, m))?;
    }
    Ok(PlotFiles {
        svg,
        png,
        text_drawn: text,
        warnings,
    })
}

fn draw_and_present<DB: DrawingBackend>(
    figure: &impl Figure,
    root: &DrawingArea<DB, Shift>,
    text: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    figure.draw(root, text)?;
    root.present().map_err(|e| e.to_string())
}

/// `stem` + `.ext` (keeps dots already in the stem, e.g. `acc.8-shot`).
fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Padded [min, max] of finite values (a flat range is widened so axes stay valid).
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some((lo - pad, hi + pad))
}

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(padded_range([1.0, 1.0].into_iter()), Some((0.95, 1.05)));
        assert_eq!(padded_range([f64::NAN].into_iter()), None);
        assert_eq!(inches(660), "3.3");
        assert_eq!(inches(1380), "6.9");
        assert_eq!(inches(1001), "5.005");
        assert_eq!(
            with_extension(Path::new("out/acc.8-shot"), "svg"),
            PathBuf::from("out/acc.8-shot.svg")
        );
    }
}
