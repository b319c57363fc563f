//! Plots for reports and embedding analysis, each written as SVG and PNG (plotters' SVG and
//! bitmap backends). Text (titles, axes, legends, annotations) is drawn with a TrueType font
//! loaded at run time from a system path (see [`font`]); without one, the plots are written
//! without any text and the result carries a warning.
//!
//! * [`plot_results`]: the metric of every loss x mode per dataset, each run beside the mean
//!   and CI (a dot plot with one shots value, lines over shots with several);
//! * [`plot_heatmaps`]: annotated heatmaps (datasets x losses) of the mean difference to the
//!   baseline with Holm significance marks and a colour bar, a panel per shots;
//! * [`plot_training`]: training curves (mean and min-max band over runs) per dataset x shots;
//! * [`plot_scatter`]: 2-D points coloured by label with error markers (embedding maps);
//! * [`plot_deciles`]: a metric per decile for several series;
//! * [`plot_cd_diagram`]: the critical-difference diagram of the methods' average ranks.
//!
//! Report figures also render to an SVG string (`*_svg`) for pages that inline them. Every
//! figure of a report takes its method colours from one [`LossPalette`] (colour-blind safe).
//!
//! Sizes are for print: a figure's width in pixels is its width in inches at [`DPI`]
//! ([`PlotOptions::column`] 3.3 in, [`PlotOptions::page`] 6.9 in), the SVG says its size in
//! inches, and text is never smaller than [`MIN_FONT_PT`] at that size.
mod canvas;
mod cd_diagram;
mod deciles;
pub mod font;
mod from_report;
mod glyphs;
mod heatmap;
mod layout;
mod palette;
mod results;
mod scatter;
mod training;

pub use cd_diagram::{cd_diagram_svg, plot_cd_diagram, CdDiagram};
pub use deciles::{plot_deciles, DecileSeries};
pub use from_report::{
    add_reference_lines, diff_plot, heatmap_plot, heatmaps_from_report, holm_label, loss_palette,
    metric_label, results_plot,
};
pub use heatmap::{heatmaps_svg, plot_heatmaps, significance_stars, Heatmap, HeatmapPlot};
pub use palette::{LossPalette, DISTINCT_COLOURS};
pub use results::{
    plot_results, results_svg, ResultPanel, ResultPoint, ResultSeries, ResultsPlot, MIN_CI_RUNS,
};
pub use scatter::{plot_scatter, ScatterPoint};
pub use training::{
    distinct_quantities, plot_training, training_quantities, training_svg, TrainingPlot,
    TrainingRun,
};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use thiserror::Error;

/// Pixels per inch of the PNG files (and user units per inch of the SVG files).
pub const DPI: f64 = 200.0;
/// One column of a two-column paper, in inches.
pub const COLUMN_INCHES: f64 = 3.3;
/// Both columns (the text width), in inches.
pub const PAGE_INCHES: f64 = 6.9;
/// The smallest text of any figure, in points at the figure's print size.
pub const MIN_FONT_PT: f64 = 7.0;

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
    /// Pixels (PNG) and user units (SVG); report figures grow taller than `height` where
    /// their panels or rows need the room.
    pub width: u32,
    pub height: u32,
    pub text: TextPolicy,
}

impl PlotOptions {
    /// `inches` wide at [`DPI`], two thirds as tall (figures grow taller where they need).
    pub fn inches(inches: f64) -> Self {
        let width = (inches * DPI).round() as u32;
        Self {
            width,
            height: width * 2 / 3,
            text: TextPolicy::Auto,
        }
    }

    /// One column (3.3 in).
    pub fn column() -> Self {
        Self::inches(COLUMN_INCHES)
    }

    /// Two columns (6.9 in).
    pub fn page() -> Self {
        Self::inches(PAGE_INCHES)
    }
}

impl Default for PlotOptions {
    /// [`PlotOptions::page`].
    fn default() -> Self {
        Self::page()
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
    #[error("cannot create folder {path}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {path}: {message}")]
    Draw { path: PathBuf, message: String },
}
