//! Records that the folder's current grid has replaced. A cell's id is the hash of its whole
//! configuration, so a grid whose cells changed (an edited setting that is not swept, or a new
//! dmlft default) runs them again under new ids, and the old records stay in the folder beside
//! the new ones with the same dataset, shots, loss, settings and seed. The report keeps the
//! cell of `grid.toml` and leaves the old one out, saying so; records that nothing replaced
//! (no `grid.toml`, or another grid's cells) are all kept.

use super::{pair_key, settings_label};
use crate::store::CellRecord;
use std::collections::{BTreeMap, BTreeSet};

/// What makes two records the same run of an experiment: everything the report groups
/// (settings, dataset, shots, loss) and pairs (`pair_key`) by.
type RunKey = (String, String, usize, String, String);

fn run_key(r: &CellRecord) -> RunKey {
    (
        settings_label(r),
        r.cell.dataset_name.clone(),
        r.cell.split.shots,
        r.cell.loss_name.clone(),
        pair_key(r),
    )
}

/// Removes from `records` every record that is not a cell of the grid (`grid_ids`) while a
/// record of the grid has its run key; returns the removed ids, sorted.
pub fn leave_out(
    records: &mut BTreeMap<String, CellRecord>,
    grid_ids: &BTreeSet<String>,
) -> Vec<String> {
    let current: BTreeSet<RunKey> = records
        .iter()
        .filter(|(id, _)| grid_ids.contains(*id))
        .map(|(_, r)| run_key(r))
        .collect();
    let old: Vec<String> = records
        .iter()
        .filter(|(id, r)| !grid_ids.contains(*id) && current.contains(&run_key(r)))
        .map(|(id, _)| id.clone())
        .collect();
    for id in &old {
        records.remove(id);
    }
    old
}

/// The warning for the records left out.
pub fn warning(ids: &[String]) -> String {
    format!(
        "{} record(s) left out: grid.toml has a newer cell for the same dataset, shots, loss, settings and seed (the old one was run with another configuration or dmlft version): {}",
        ids.len(),
        ids.join(", ")
    )
}
