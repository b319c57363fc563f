//! Aggregation of run records into a report (summary statistics per dataset x shots x loss x
//! mode, paired comparisons against a baseline loss, Holm correction, averages over datasets)
//! and its renderers: Markdown, CSV, LaTeX (booktabs), JSON and one self-contained HTML page
//! with the figures. Used by `dmlft report`.
mod across;
mod aggregate;
mod csv_table;
mod format;
mod html;
mod html_assets;
mod json;
mod latex;
mod markdown;
mod markdown_html;
mod paper;
mod power_line;
mod record;
mod sensitivity;

pub use across::{across_summary, AcrossSummary, AcrossTaskRow, Ranking};
pub use aggregate::{
    aggregate, aggregate_with, aggregate_without_baseline, AggregateOptions, HolmFamily,
    HolmSource, Report, ReportRow, RowComparison, RowKind, AVERAGE_LABEL,
};
pub use csv_table::render_csv;
pub use format::NOT_APPLICABLE;
pub use html::{
    analysis_links, render_html, HtmlExtras, HtmlFailure, HtmlLink, HtmlReport, HtmlSection,
};
pub use json::render_json;
pub use latex::{escape as latex_escape, render_latex};
pub use markdown::{markdown_cell, one_line, render_markdown};
pub use paper::{
    paper_tables, reference_levels, reference_values, Highlight, PaperCell, PaperOptions, PaperRow,
    PaperTable, ReferenceRow, PAPER_TASK_ORDER,
};
pub use power_line::holm_power_line;
pub use record::RunRecord;
pub use sensitivity::{sensitivity_csv, sensitivity_markdown, SensitivityGroup, SensitivityValue};

/// Level below which a (Holm-adjusted) p-value marks a row or cell as significant.
pub const SIGNIFICANCE_LEVEL: f64 = 0.05;

use thiserror::Error;

/// Why a report cannot be built or rendered.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("no run records to report")]
    NoRecords,
    #[error("run {run} has no metric `{metric}` (it has: {available})")]
    MissingMetric {
        run: String,
        metric: crate::Metric,
        available: String,
    },
    #[error("run {run}: metric `{metric}` is {value}, not a finite number")]
    NonFinite {
        run: String,
        metric: crate::Metric,
        value: f64,
    },
    #[error("run {run} appears twice (same dataset, shots, loss, mode and pair key)")]
    Duplicate { run: String },
    #[error("baseline loss `{baseline}` has no runs; losses present: {available}")]
    UnknownBaseline { baseline: String, available: String },
    #[error("cannot write CSV")]
    Csv(#[from] csv::Error),
    #[error("cannot write JSON")]
    Json(#[from] serde_json::Error),
}
