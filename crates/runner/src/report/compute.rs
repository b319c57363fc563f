//! What a study cost: per loss variant the done cells, their compute time (the cells' own
//! `timings.total_s`) and cells per compute hour, and the wall-clock span of the records
//! (first start to last finish) with cells per wall hour.

use crate::store::{CellRecord, CellStatus};
use dmlft_eval::report::markdown_cell;
use std::collections::{BTreeMap, BTreeSet};

/// The `## Compute` section of report.md.
pub fn markdown(records: &BTreeMap<String, CellRecord>) -> String {
    // loss -> (done cells, seconds)
    let mut per_loss: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    let mut span: Option<(u64, u64)> = None;
    let mut machines = BTreeSet::new();
    for r in records.values() {
        let (CellStatus::Done, Some(result)) = (&r.status, &r.result) else {
            continue;
        };
        let slot = per_loss.entry(r.cell.loss_name.as_str()).or_default();
        slot.0 += 1;
        slot.1 += result.timings.total_s;
        machines.insert(format!("{} ({})", r.host, r.device));
        let start = crate::host::parse_rfc3339(&r.started_at);
        let end = crate::host::parse_rfc3339(&r.finished_at);
        if let (Some(start), Some(end)) = (start, end) {
            span = Some(match span {
                None => (start, end),
                Some((a, b)) => (a.min(start), b.max(end)),
            });
        }
    }
    if per_loss.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "## Compute\n\nPer loss: done cells, the sum of their own times (load, training, evaluation), the mean per cell and the cells one hour of that time runs.\n\n| loss | done cells | compute (h) | mean per cell (s) | cells per compute hour |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    let row = |name: &str, cells: usize, seconds: f64| {
        format!(
            "| {name} | {cells} | {:.2} | {:.1} | {:.1} |\n",
            seconds / 3600.0,
            seconds / cells as f64,
            3600.0 * cells as f64 / seconds.max(f64::MIN_POSITIVE)
        )
    };
    for (loss, (cells, seconds)) in &per_loss {
        text.push_str(&row(&markdown_cell(loss), *cells, *seconds));
    }
    let cells: usize = per_loss.values().map(|v| v.0).sum();
    let seconds: f64 = per_loss.values().map(|v| v.1).sum();
    text.push_str(&row("**all**", cells, seconds));
    if let Some((start, end)) = span {
        let hours = (end - start) as f64 / 3600.0;
        text.push_str(&format!(
            "\nWall clock: {:.2} h from the first cell's start to the last one's finish, {:.1} done cells per wall hour (the span includes any time the grid was not running). Machines: {}.\n",
            hours,
            cells as f64 / hours.max(1.0 / 3600.0),
            machines.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    text.push('\n');
    text
}
