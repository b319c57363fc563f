//! Reading the tables of dmlft's HTML report in tests: the body cells of one column of the
//! table with a given `id`, by their `data-v` sort value or by their text.

/// The body rows' cells (the text after `<td`, up to the row's end) of column `col` of table
/// `id`; panics with the table's id when the page has no such table.
fn column_cells<'a>(html: &'a str, id: &str, col: usize) -> Vec<&'a str> {
    let start = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table with id {id:?} in the page"));
    let end = start + html[start..].find("</table>").expect("</table>");
    let table = &html[start..end];
    let body = &table[table.find("<tbody>").expect("<tbody>")..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .nth(col + 1)
                .unwrap_or_else(|| panic!("table {id:?}: a row without column {col}"))
        })
        .collect()
}

/// The `data-v` values (the numbers a column sorts by) of column `col` of table `id`'s body, in
/// order; `None` for a cell without one.
pub fn data_values(html: &str, id: &str, col: usize) -> Vec<Option<f64>> {
    column_cells(html, id, col)
        .into_iter()
        .map(|cell| {
            let tag = &cell[..cell.find('>').expect("a <td> tag")];
            tag.find("data-v=\"").map(|i| {
                let v = &tag[i + 8..];
                v[..v.find('"').expect("a closing quote")]
                    .parse()
                    .expect("a number in data-v")
            })
        })
        .collect()
}

/// The text of column `col` of table `id`'s body, tags removed, in order.
pub fn text_values(html: &str, id: &str, col: usize) -> Vec<String> {
    column_cells(html, id, col)
        .into_iter()
        .map(|cell| {
            let inner =
                &cell[cell.find('>').expect("a <td> tag") + 1..cell.find("</td>").expect("</td>")];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    _ if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<table id="t"><thead><tr><th>a</th><th>b</th></tr></thead><tbody>
<tr><td>x</td><td data-v="0.5"><b>50</b>%</td></tr>
<tr><td>y</td><td>n/a</td></tr>
</tbody></table>"#;

    #[test]
    fn reads_sort_values_and_text() {
        assert_eq!(data_values(PAGE, "t", 1), vec![Some(0.5), None]);
        assert_eq!(text_values(PAGE, "t", 1), vec!["50%", "n/a"]);
        assert_eq!(text_values(PAGE, "t", 0), vec!["x", "y"]);
    }

    #[test]
    #[should_panic(expected = "no table with id \"u\"")]
    fn a_missing_table_is_named() {
        data_values(PAGE, "u", 0);
    }
}
