//! The few Markdown forms that report.md's own sections use (`##`/`###` headings, pipe tables,
//! paragraphs, `code`, **bold**, *italics*) as HTML, so that the HTML page carries the same
//! sections (the dev selection, the compute) from one source. Every text is escaped.

use crate::analysis::explain_html::escape;

/// `markdown` as HTML; a heading `##` becomes `<h2>` with the `id` given.
pub(crate) fn markdown_to_html(markdown: &str, id: &str) -> String {
    let mut out = String::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let flush = |table: &mut Vec<Vec<String>>, out: &mut String| {
        if table.is_empty() {
            return;
        }
        out.push_str("<table class=\"plain\"><thead><tr>");
        for h in &table[0] {
            out.push_str(&format!("<th>{}</th>", inline(h)));
        }
        out.push_str("</tr></thead><tbody>");
        // the second line is the alignment row
        for row in table.iter().skip(2) {
            out.push_str("<tr>");
            for c in row {
                out.push_str(&format!("<td>{}</td>", inline(c)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>\n");
        table.clear();
    };
    for line in markdown.lines() {
        let line = line.trim_end();
        if let Some(cells) = line.strip_prefix('|').and_then(|l| l.strip_suffix('|')) {
            table.push(split_cells(cells));
            continue;
        }
        flush(&mut table, &mut out);
        if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", escape(id), inline(h)));
        } else if let Some(h) = line.strip_prefix("### ") {
            out.push_str(&format!("<h3>{}</h3>\n", inline(h)));
        } else if !line.is_empty() {
            out.push_str(&format!("<p>{}</p>\n", inline(line)));
        }
    }
    flush(&mut table, &mut out);
    out
}

/// The cells of a pipe-table line (without its outer pipes); `\|` is a pipe inside a cell.
fn split_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('|') | Some('<')) => {
                cells.last_mut().unwrap().push(chars.next().unwrap());
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// Escaped text with `code`, **bold** and *italics* as tags.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let marks = [("`", "code"), ("**", "strong"), ("*", "em")];
        let next = marks
            .iter()
            .filter_map(|(m, tag)| {
                let start = rest.find(m)?;
                let end = rest[start + m.len()..].find(m)? + start + m.len();
                Some((start, end, *m, *tag))
            })
            .min_by_key(|&(start, _, m, _)| (start, usize::MAX - m.len()));
        match next {
            Some((start, end, m, tag)) => {
                out.push_str(&escape(&rest[..start]));
                let inner = &rest[start + m.len()..end];
                out.push_str(&format!("<{tag}>{}</{tag}>", escape(inner)));
                rest = &rest[end + m.len()..];
            }
            None => {
                out.push_str(&escape(rest));
                rest = "";
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_tables_and_marks() {
        let md =
            "## Compute\n\nPer `loss` *now*:\n\n| a | b\\|c |\n| --- | ---: |\n| **all** | <x> |\n";
        assert_eq!(
            markdown_to_html(md, "compute"),
            "<h2 id=\"compute\">Compute</h2>\n<p>Per <code>loss</code> <em>now</em>:</p>\n\
             <table class=\"plain\"><thead><tr><th>a</th><th>b|c</th></tr></thead><tbody>\
             <tr><td><strong>all</strong></td><td>&lt;x&gt;</td></tr></tbody></table>\n"
        );
    }
}
