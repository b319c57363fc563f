//! The report as a LaTeX booktabs table (needs `\usepackage{booktabs}`).

use super::format::{caption, human_cells, human_headers};
use super::{Report, RowKind};

/// A `table` environment with a booktabs `tabular`; undefined values are `--`, every text is
/// escaped, average rows come after a `\midrule`.
pub fn render_latex(report: &Report) -> String {
    let headers = human_headers(report);
    let spec = format!("llll{}", "r".repeat(headers.len() - 4));
    let mut out = String::from("\\begin{table}[t]\n\\centering\n\\small\n");
    out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
    let head: Vec<String> = headers.iter().map(|h| escape(h)).collect();
    out.push_str(&format!("{} \\\\\n\\midrule\n", head.join(" & ")));
    let mut previous = RowKind::Cell;
    for row in &report.rows {
        if row.kind != previous {
            out.push_str("\\midrule\n");
            previous = row.kind;
        }
        let cells: Vec<String> = human_cells(report, row)
            .into_iter()
            .map(|c| c.map_or_else(|| "--".to_string(), |s| escape(&s)))
            .collect();
        out.push_str(&format!("{} \\\\\n", cells.join(" & ")));
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    out.push_str(&format!("\\caption{{{}}}\n", escape(&caption(report))));
    out.push_str("\\end{table}\n");
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
