//! Failed cells in a report: how many cells of each dataset x shots x loss failed (with the
//! first error), and the list of every failed cell, in Markdown, LaTeX, CSV and JSON. A report
//! that left them out would read as complete.

use super::settings_label;
use crate::store::CellRecord;
use dmlft_eval::report::{latex_escape, markdown_cell, one_line};
use serde::Serialize;
use std::collections::BTreeMap;

/// Errors longer than this are cut in tables (the records and `failed.json` keep them whole).
const ERROR_CHARS: usize = 200;

/// One failed cell.
#[derive(Debug, Clone, Serialize)]
pub struct FailedCell {
    pub cell_id: String,
    pub settings: String,
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub seed: u64,
    pub fold: Option<usize>,
    pub failed_step: Option<usize>,
    pub error: String,
}

impl FailedCell {
    pub fn of(record: &CellRecord) -> Self {
        Self {
            cell_id: record.cell_id.clone(),
            settings: settings_label(record),
            dataset: record.cell.dataset_name.clone(),
            shots: record.cell.split.shots,
            loss: record.cell.loss_name.clone(),
            seed: record.cell.split.seed,
            fold: record.cell.split.fold,
            failed_step: record.failed_step,
            error: record
                .error
                .clone()
                .unwrap_or_else(|| "(no error recorded)".into()),
        }
    }
}

/// Failures of one dataset x shots x loss, against the cells it has in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureRow {
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub failed: usize,
    /// Done and failed cells of the group.
    pub cells: usize,
    pub first_error: String,
}

/// Groups the failed cells of one settings section; `done` counts the done cells per
/// (dataset, shots, loss) of the same section.
pub fn rows(
    failed: &[FailedCell],
    done: &BTreeMap<(String, usize, String), usize>,
) -> Vec<FailureRow> {
    let mut groups: BTreeMap<(String, usize, String), Vec<&FailedCell>> = BTreeMap::new();
    for f in failed {
        groups
            .entry((f.dataset.clone(), f.shots, f.loss.clone()))
            .or_default()
            .push(f);
    }
    groups
        .into_iter()
        .map(|(key, cells)| FailureRow {
            failed: cells.len(),
            cells: cells.len() + done.get(&key).copied().unwrap_or(0),
            first_error: cells[0].error.clone(),
            dataset: key.0,
            shots: key.1,
            loss: key.2,
        })
        .collect()
}

fn short(error: &str) -> String {
    let line = one_line(error);
    if line.chars().count() <= ERROR_CHARS {
        line
    } else {
        line.chars().take(ERROR_CHARS).collect::<String>() + "..."
    }
}

/// The per-group table of one section.
pub fn markdown_rows(rows: &[FailureRow]) -> String {
    let failed: usize = rows.iter().map(|r| r.failed).sum();
    let mut out = format!("Failed cells in this section: {failed}\n\n");
    out.push_str("| dataset | shots | loss | failed | of cells | first error |\n");
    out.push_str("| --- | --- | --- | ---: | ---: | --- |\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            markdown_cell(&r.dataset),
            r.shots,
            markdown_cell(&r.loss),
            r.failed,
            r.cells,
            markdown_cell(&short(&r.first_error))
        ));
    }
    out
}

/// The list of every failed cell.
pub fn markdown_list(failed: &[FailedCell]) -> String {
    let mut out = format!(
        "## Failed cells ({})\n\n`dmlft run --retry-failed GRID` runs them again.\n\n",
        failed.len()
    );
    out.push_str("| cell | settings | dataset | shots | loss | seed | fold | step | error |\n");
    out.push_str("| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- |\n");
    let opt = |v: Option<usize>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    for f in failed {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            markdown_cell(&f.cell_id),
            markdown_cell(&f.settings),
            markdown_cell(&f.dataset),
            f.shots,
            markdown_cell(&f.loss),
            f.seed,
            opt(f.fold),
            opt(f.failed_step),
            markdown_cell(&short(&f.error))
        ));
    }
    out
}

/// The list as a LaTeX booktabs table.
pub fn latex_list(failed: &[FailedCell]) -> String {
    let mut out = String::from(
        "\\begin{table}[t]\n\\centering\n\\small\n\\begin{tabular}{llrlrp{0.45\\linewidth}}\n\\toprule\n",
    );
    out.push_str("settings & dataset & shots & loss & seed & error \\\\\n\\midrule\n");
    for f in failed {
        out.push_str(&format!(
            "{} & {} & {} & {} & {} & {} \\\\\n",
            latex_escape(&f.settings),
            latex_escape(&f.dataset),
            f.shots,
            latex_escape(&f.loss),
            f.seed,
            latex_escape(&short(&f.error))
        ));
    }
    out.push_str(&format!(
        "\\bottomrule\n\\end{{tabular}}\n\\caption{{Failed cells ({})}}\n\\end{{table}}\n",
        failed.len()
    ));
    out
}

/// Every failed cell as CSV (the full error text, quoted by the CSV writer).
pub fn csv_list(failed: &[FailedCell]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "cell_id",
        "settings",
        "dataset",
        "shots",
        "loss",
        "seed",
        "fold",
        "failed_step",
        "error",
    ])?;
    let opt = |v: Option<usize>| v.map_or_else(String::new, |v| v.to_string());
    for f in failed {
        writer.write_record([
            f.cell_id.clone(),
            f.settings.clone(),
            f.dataset.clone(),
            f.shots.to_string(),
            f.loss.clone(),
            f.seed.to_string(),
            opt(f.fold),
            opt(f.failed_step),
            f.error.clone(),
        ])?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(dataset: &str, loss: &str, error: &str) -> FailedCell {
        FailedCell {
            cell_id: "abc".into(),
            settings: String::new(),
            dataset: dataset.into(),
            shots: 4,
            loss: loss.into(),
            seed: 1,
            fold: None,
            failed_step: Some(3),
            error: error.into(),
        }
    }

    #[test]
    fn rows_count_failures_against_all_cells_and_keep_the_first_error() {
        let f = vec![
            failed("mr", "ce", "first\nsecond line"),
            failed("mr", "ce", "other"),
            failed("cr", "ce", "x"),
        ];
        let done = BTreeMap::from([(("mr".to_string(), 4, "ce".to_string()), 3)]);
        let r = rows(&f, &done);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[1].dataset.as_str(), r[1].failed, r[1].cells),
            ("mr", 2, 5)
        );
        assert_eq!(r[1].first_error, "first\nsecond line");
        let md = markdown_rows(&r);
        assert!(
            md.contains("| mr | 4 | ce | 2 | 5 | first second line |"),
            "{md}"
        );
        assert!(md.contains("| cr | 4 | ce | 1 | 1 | x |"), "{md}");
    }

    #[test]
    fn hostile_texts_are_escaped_in_every_format() {
        let f = vec![failed("a|b", "l$_&%", "boom | <b>\n\\end{table}")];
        let md = markdown_list(&f);
        let row = md.lines().last().unwrap();
        assert!(
            row.contains("a\\|b") && row.contains("boom \\| \\<b>"),
            "{row}"
        );
        assert_eq!(md.lines().count(), 7, "one line per cell:\n{md}");
        let tex = latex_list(&f);
        assert!(tex.contains("l\\$\\_\\&\\%"), "{tex}");
        assert!(!tex.contains("\\end{table}\n\\bottomrule"), "{tex}");
        assert!(tex.contains("\\textbackslash{}end\\{table\\}"), "{tex}");
        let csv = csv_list(&f).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rec = reader.records().next().unwrap().unwrap();
        assert_eq!(&rec[8], "boom | <b>\n\\end{table}");
    }
}
