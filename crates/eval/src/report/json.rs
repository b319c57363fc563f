//! The report as pretty JSON (the `Report` struct itself; full f64 precision).

use super::{Report, ReportError};

pub fn render_json(report: &Report) -> Result<String, ReportError> {
    Ok(serde_json::to_string_pretty(report)?)
}
