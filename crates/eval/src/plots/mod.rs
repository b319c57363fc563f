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
//! figure of a report takes its loss colours from one [`LossPalette`].
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
    heatmap_plot, heatmaps_from_report, holm_label, loss_palette, metric_label, results_plot,
};
pub use heatmap::{heatmaps_svg, plot_heatmaps, significance_stars, Heatmap, HeatmapPlot};
pub use palette::LossPalette;
pub use results::{
    plot_results, results_svg, ResultPanel, ResultPoint, ResultSeries, ResultsPlot, MIN_CI_RUNS,
};
pub use scatter::{plot_scatter, ScatterPoint};
pub use training::{plot_training, training_quantities, training_svg, TrainingPlot, TrainingRun};

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
    /// Pixels (PNG) and user units (SVG); report figures grow taller than `height` where
    /// their panels or rows need the room.
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
