//! The report as a Markdown (GitHub pipe) table.

use super::format::{caption, human_cells, human_headers};
use super::{Report, ReportRow};

/// Markdown table with a caption line; undefined values are `-`. Under the `primary` Holm
/// family the secondary rows (proxy / mixed / kNN / centroid predictions) are a second table.
pub fn render_markdown(report: &Report) -> String {
    let mut out = format!("{}\n\n", caption(report));
    let (primary, secondary) = split_families(report);
    out.push_str(&table(report, &primary));
    if !secondary.is_empty() {
        out.push_str(&format!("\n{SECONDARY_HEADING}:\n\n"));
        out.push_str(&table(report, &secondary));
    }
    for w in &report.warnings {
        out.push_str(&format!("\nWarning: {}\n", one_line(w)));
    }
    out
}

/// What introduces the secondary rows of the `primary` Holm family.
pub(crate) const SECONDARY_HEADING: &str =
    "Secondary family: proxy and mixed predictions, Holm-corrected apart";

/// The report's rows in the primary family (every row unless `--holm-family primary`) and in
/// the secondary one.
pub(crate) fn split_families(report: &Report) -> (Vec<&ReportRow>, Vec<&ReportRow>) {
    report
        .rows
        .iter()
        .partition(|r| !report.holm_family.is_secondary(r.mode))
}

fn table(report: &Report, rows: &[&ReportRow]) -> String {
    let headers = human_headers(report);
    let mut out = format!("| {} |\n", headers.join(" | "));
    let align: Vec<&str> = (0..headers.len())
        .map(|i| if i < 4 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for row in rows {
        // the text columns (dataset, shots, loss, mode) come from user input; the rest are numbers
        let cells: Vec<String> = human_cells(report, row)
            .into_iter()
            .enumerate()
            .map(|(i, c)| match c {
                None => "-".to_string(),
                Some(s) if i < 4 => markdown_cell(&s),
                Some(s) => s,
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text for one cell of a pipe table: a `|` would start a new cell and a line break would end
/// the row, and a `<` could open raw HTML where the page is rendered; other text is kept.
pub fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("\\<"),
            _ => out.push(c),
        }
    }
    out
}

/// Line breaks and other control characters as spaces.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(markdown_cell("a|b\nc<script>"), "a\\|b c\\<script>");
        assert_eq!(markdown_cell("plain_name 1.5"), "plain_name 1.5");
    }
}
