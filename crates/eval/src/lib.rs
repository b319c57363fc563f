//! dmlft-eval: metrics of one run (accuracy, F1, per-class, confusion matrix), statistics
//! across runs (mean, std, confidence intervals, paired tests, Holm correction), report tables
//! (Markdown, CSV, LaTeX, JSON), plots (SVG and PNG) and embedding analysis (silhouette, k-NN,
//! PCA, t-SNE, decile tables, maps, the analysis and explanation reports). Needs only
//! predictions, labels and numbers: no model, no burn.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
pub mod analysis;
pub mod embedding_metrics;
pub mod embeddings;
pub mod inference_mode;
pub mod metric;
pub mod metrics;
pub mod pca;
pub mod plots;
pub mod report;
mod rng;
pub mod scores;
pub mod stats;
pub mod tsne;
pub mod tsne_barnes_hut;

pub use inference_mode::{InferenceMode, ModeParseError, ModeTable, MODE_SHORTHANDS};
pub use metric::Metric;
pub use metrics::{ClassMetrics, Metrics, MetricsError};
pub use report::{aggregate, Report, RunRecord};
