//! Plots for reports and embedding analysis, each written as SVG and PNG (plotters' SVG and
//! bitmap backends). Text (titles, axes, legends, annotations) is drawn with a TrueType font
//! loaded at run time from a system path (see [`font`]); without one, the plots are written
//! without any text and the result carries a warning.
//!
//! * [`plot_shots_curves`]: metric against shots with 95% CI bands, a panel per dataset, a
//!   line per series (loss x mode);
//! * [`plot_heatmaps`]: annotated heatmaps (datasets x losses) of the mean difference to the
//!   baseline, a panel per shots;
//! * [`plot_scatter`]: 2-D points coloured by label with error markers (embedding maps);
//! * [`plot_deciles`]: a metric per decile for several series.
mod canvas;
mod curves;
mod deciles;
pub mod font;
mod from_report;
mod heatmap;
mod palette;
mod scatter;

pub use curves::{plot_shots_curves, CurvePanel, CurvePoint, CurveSeries};
pub use deciles::{plot_deciles, DecileSeries};
pub use from_report::{heatmaps_from_report, shots_panels_from_report};
pub use heatmap::{plot_heatmaps, Heatmap};
pub use scatter::{plot_scatter, ScatterPoint};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use thiserror::Error;

/// Whether to draw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextPolicy {
    /// Draw text if a font can be loaded, otherwise write the plot without text and warn.
    Auto,
    /// Never draw text (no font needed).
    Never,
}

/// Size and text settings shared by every plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlotOptions {
    /// Pixels (PNG) and user units (SVG).
    pub width: u32,
    pub height: u32,
    pub text: TextPolicy,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            width: 1000,
            height: 700,
            text: TextPolicy::Auto,
        }
    }
}

/// The files one plot call wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlotFiles {
    pub svg: PathBuf,
    pub png: PathBuf,
    /// Whether titles, labels and annotations were drawn.
    pub text_drawn: bool,
    pub warnings: Vec<String>,
}

/// Why a plot could not be written.
#[derive(Debug, Error)]
pub enum PlotError {
    #[error("nothing to plot: {0}")]
    NoData(String),
    #[error("invalid plot input: {0}")]
    Invalid(String),
    #[error("image size {width}x{height} is too small (at least 100x100)")]
    Size { width: u32, height: u32 },
    #[error("cannot create folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {path}: {message}")]
    Draw { path: PathBuf, message: String },
}
