//! The report's "all statistics" appendix table as LaTeX: booktabs `longtable`s (needs
//! `\usepackage{booktabs,longtable}`), split into the summaries and the comparisons so that each
//! part fits the width of a page, and broken across pages by length.

use super::format::{caption, human_cells, human_headers};
use super::markdown::{split_families, SECONDARY_HEADING};
use super::{Report, ReportRow, RowKind};

/// The key columns (dataset, shots, loss, mode) that every part repeats.
const KEY: std::ops::Range<usize> = 0..4;
/// n, mean, std, std_pop.
const SUMMARY: std::ops::Range<usize> = 4..8;
/// Median, CI low, CI high (apart from the above: all seven overrun a page's width).
const SPREAD: std::ops::Range<usize> = 8..11;
/// Difference, p t-test, p Wilcoxon, p Holm, wins/ties/losses.
const COMPARISON: std::ops::Range<usize> = 11..16;

/// The table in three parts, summaries, spread, then comparisons (the second only where some row is
/// compared with a baseline);
/// undefined values are `--`, every text is escaped, average rows come after a `\midrule`,
/// and under the `primary` Holm family the secondary rows follow under their own heading.
pub fn render_latex(report: &Report) -> String {
    let compared = report.rows.iter().any(|r| r.comparison.is_some());
    let parts = if compared { 3 } else { 2 };
    let mut out = part(
        report,
        SUMMARY,
        &format!("All statistics (1 of {parts}): {}", caption(report)),
    );
    out.push_str(&part(
        report,
        SPREAD,
        &format!("All statistics (2 of {parts}): median and 95% interval of the mean."),
    ));
    if compared {
        out.push_str(&part(
            report,
            COMPARISON,
            &format!(
                "All statistics (3 of 3): paired comparisons with `{}` ({}) in {}{}.",
                report.baseline_loss,
                report.holm_family_text(),
                report.metric,
                if report.percent { " (%)" } else { "" }
            ),
        ));
    }
    out
}

/// One `longtable` of the key columns and `columns`.
fn part(report: &Report, columns: std::ops::Range<usize>, title: &str) -> String {
    let headers = human_headers(report);
    let pick = |cells: Vec<String>| -> String {
        KEY.chain(columns.clone())
            .map(|i| cells[i].clone())
            .collect::<Vec<_>>()
            .join(" & ")
    };
    let spec = format!("llll{}", "r".repeat(columns.len()));
    let head = pick(headers.iter().map(|h| escape(h)).collect());
    let mut out = format!(
        "{{\\scriptsize\n\\setlength{{\\tabcolsep}}{{2pt}}\n\\begin{{longtable}}{{{spec}}}\n\
         \\caption{{{}}}\\\\\n\\toprule\n{head} \\\\\n\\midrule\n\\endfirsthead\n\
         \\toprule\n{head} \\\\\n\\midrule\n\\endhead\n\\bottomrule\n\\endfoot\n",
        escape(title)
    );
    let line = |row: &ReportRow| {
        let cells: Vec<String> = human_cells(report, row)
            .into_iter()
            .map(|c| c.map_or_else(|| "--".to_string(), |s| escape(&s)))
            .collect();
        format!("{} \\\\\n", pick(cells))
    };
    let rows = |out: &mut String, rows: &[&ReportRow]| {
        let mut previous = RowKind::Cell;
        for row in rows {
            if row.kind != previous {
                // \relax: a row starting with "(" would be read as a rule's trim argument
                out.push_str("\\midrule\\relax\n");
                previous = row.kind;
            }
            out.push_str(&line(row));
        }
    };
    let (primary, secondary) = split_families(report);
    rows(&mut out, &primary);
    if !secondary.is_empty() {
        out.push_str(&format!(
            "\\midrule\n\\multicolumn{{{}}}{{l}}{{\\emph{{{}}}}} \\\\\n\\midrule\n",
            KEY.len() + columns.len(),
            escape(SECONDARY_HEADING)
        ));
        rows(&mut out, &secondary);
    }
    out.push_str("\\end{longtable}}\n");
    out
}

/// Escapes LaTeX's special characters in text mode.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '`' => out.push('\''),
            // a line break inside a cell would end the row; other control characters are not text
            c if c.is_control() => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_specials() {
        assert_eq!(
            escape(r"a_b & 5% $x$ #1 {y} ~ ^ \ <0.0001"),
            r"a\_b \& 5\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{} \textless{}0.0001"
        );
    }
}
