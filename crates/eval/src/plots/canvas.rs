//! Runs one drawing function on both backends (SVG, then PNG) and reports the files.

use super::font::plot_font;
use super::{PlotError, PlotFiles, PlotOptions, TextPolicy};
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
    let mut warnings = Vec::new();
    let text = match options.text {
        TextPolicy::Never => false,
        TextPolicy::Auto => match plot_font() {
            Ok(_) => true,
            Err(why) => {
                tracing::warn!("{why}");
                warnings.push(why.to_string());
                false
            }
        },
    };
    let svg = with_extension(stem, "svg");
    let png = with_extension(stem, "png");
    let draw_error = |path: &PathBuf, message: String| PlotError::Draw {
        path: path.clone(),
        message,
    };
    {
        let root = SVGBackend::new(&svg, (width, height)).into_drawing_area();
        draw_and_present(figure, &root, text).map_err(|m| draw_error(&svg, m))?;
    }
    {
        let root = BitMapBackend::new(&png, (width, height)).into_drawing_area();
        draw_and_present(figure, &root, text).map_err(|m| draw_error(&png, m))?;
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

/// A grid of `n` panels about as wide as tall.
pub(crate) fn grid(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    let rows = n.div_ceil(cols).max(1);
    (rows, cols)
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
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(5), (2, 3));
        assert_eq!(grid(9), (3, 3));
        assert_eq!(padded_range([1.0, 1.0].into_iter()), Some((0.95, 1.05)));
        assert_eq!(padded_range([f64::NAN].into_iter()), None);
        assert_eq!(
            with_extension(Path::new("out/acc.8-shot"), "svg"),
            PathBuf::from("out/acc.8-shot.svg")
        );
    }
}
