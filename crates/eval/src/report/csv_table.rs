//! The report as CSV with full precision (shortest round-trip decimal of every f64; proportions
//! stay proportions, not percent). wins / ties / losses are three columns; `kind` says whether
//! a row is a cell or an average over datasets; undefined values are empty.

use super::format::COLUMNS;
use super::{Report, ReportError, RowKind};

/// CSV text with a header line.
pub fn render_csv(report: &Report) -> Result<String, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["kind"];
    header.extend(&COLUMNS[..COLUMNS.len() - 1]);
    header.extend(["wins", "ties", "losses"]);
    writer.write_record(&header)?;
    let num = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for row in &report.rows {
        let c = row.comparison.as_ref();
        let count = |f: fn(&super::RowComparison) -> usize| {
            c.map_or_else(String::new, |c| f(c).to_string())
        };
        writer.write_record([
            match row.kind {
                RowKind::Cell => "cell".to_string(),
                RowKind::Average => "average".to_string(),
            },
            row.dataset.clone(),
            row.shots.to_string(),
            row.loss.clone(),
            row.mode.to_string(),
            row.n.to_string(),
            row.mean.to_string(),
            num(row.std),
            num(row.std_pop),
            num(row.median),
            num(row.ci_low),
            num(row.ci_high),
            num(c.map(|c| c.mean_diff)),
            num(c.and_then(|c| c.p_ttest)),
            num(c.and_then(|c| c.p_wilcoxon)),
            num(c.and_then(|c| c.p_holm)),
            count(|c| c.wins),
            count(|c| c.ties),
            count(|c| c.losses),
        ])?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8"))
}
