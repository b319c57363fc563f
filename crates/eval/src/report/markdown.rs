//! The report as a Markdown (GitHub pipe) table.

use super::format::{caption, human_cells, human_headers};
use super::Report;

/// Markdown table with a caption line; undefined values are `-`.
pub fn render_markdown(report: &Report) -> String {
    let headers = human_headers(report);
    let mut out = format!("{}\n\n", caption(report));
    out.push_str(&format!("| {} |\n", headers.join(" | ")));
    let align: Vec<&str> = (0..headers.len())
        .map(|i| if i < 4 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for row in &report.rows {
        let cells: Vec<String> = human_cells(report, row)
            .into_iter()
            .map(|c| c.map_or_else(|| "-".to_string(), |s| s.replace('|', "\\|")))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    for w in &report.warnings {
        out.push_str(&format!("\nWarning: {w}\n"));
    }
    out
}
