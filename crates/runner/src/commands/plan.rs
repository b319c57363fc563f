//! `dmlft plan GRID`: the resolved cells, their status in the results folder, and the cost.

use crate::cost::{self, CellCost};
use crate::grid::{Device, Grid};
use crate::store::data_change::check_against_current;
use crate::store::{CellStatus, DataChanged, ResultsStore, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct PlanCell {
    pub index: usize,
    pub id: String,
    pub dataset: String,
    pub loss: String,
    pub shots: usize,
    pub seed: u64,
    pub fold: Option<usize>,
    /// Values of the swept settings.
    pub settings: BTreeMap<String, String>,
    /// `done`, `failed`, `unreadable` (a record file that cannot be read: `run` runs the cell
    /// again) or `pending`.
    pub status: String,
    pub cost: CellCost,
}

#[derive(Debug, Serialize)]
pub struct Plan {
    pub grid: String,
    pub file: String,
    pub output: String,
    pub data_root: String,
    pub device: String,
    pub cells: Vec<PlanCell>,
    pub count: usize,
    pub done: usize,
    pub failed: usize,
    /// Cells whose record file cannot be read (listed in `unreadable_records`).
    pub unreadable: usize,
    pub pending: usize,
    /// Every record file of the folder that cannot be read, with the reason, whether or not it
    /// belongs to this grid.
    pub unreadable_records: Vec<UnreadableRecord>,
    /// Problems that do not stop the plan (records kept with --allow-data-change).
    pub warnings: Vec<String>,
    pub total_token_steps: u64,
    /// Seconds per 1,000 training tokens used for the estimate.
    pub secs_per_ktoken: f64,
    /// `measured` (from finished cells) or `default` (per model size, see `cost.rs`).
    pub rate_source: String,
    /// Estimated seconds for the pending cells.
    pub pending_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct UnreadableRecord {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataChanged(#[from] Box<DataChanged>),
}

/// The plan of a grid loaded with its data checks (which fingerprint the data). Records computed
/// on other data are refused unless `allow_data_change`.
pub fn build(grid: &Grid, device: Device, allow_data_change: bool) -> Result<Plan, PlanError> {
    let store = ResultsStore::open(&grid.output);
    let scan = store.scan()?;
    let records = &scan.records;
    let mut warnings = Vec::new();
    let ours = grid
        .cells
        .iter()
        .filter_map(|c| records.get(&c.id).map(|r| (store.record_path(&c.id), r)))
        .collect::<Vec<_>>();
    if let Err(changed) = check_against_current(
        ours.iter().map(|(p, r)| (p.as_path(), *r)),
        &grid.data_fingerprints,
        &grid.data_root,
    ) {
        if !allow_data_change {
            return Err(changed.into());
        }
        warnings.push(format!("{changed} (kept: --allow-data-change)"));
    }
    let unreadable_ids: std::collections::HashSet<_> = scan
        .unreadable
        .iter()
        .filter_map(|u| u.path.file_stem().map(|s| s.to_string_lossy().to_string()))
        .collect();
    let mut cells = Vec::new();
    let (mut done, mut failed, mut unreadable) = (0, 0, 0);
    for cell in &grid.cells {
        let status = match records.get(&cell.id).map(|r| r.status) {
            Some(CellStatus::Done) => {
                done += 1;
                "done"
            }
            Some(CellStatus::Failed) => {
                failed += 1;
                "failed"
            }
            None if unreadable_ids.contains(&cell.id) => {
                unreadable += 1;
                "unreadable"
            }
            None => "pending",
        };
        let settings = cell
            .axes
            .iter()
            .filter(|(k, _)| grid.swept.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        cells.push(PlanCell {
            index: cell.index,
            id: cell.id.clone(),
            dataset: cell.spec.dataset_name.clone(),
            loss: cell.spec.loss_name.clone(),
            shots: cell.spec.split.shots,
            seed: cell.spec.split.seed,
            fold: cell.spec.split.fold,
            settings,
            status: status.into(),
            cost: cost::cell_cost(cell),
        });
    }
    let measured = cost::measured_secs_per_ktoken(records.values());
    // a grid always has cells; the model of the first stands for all in the default rate
    let source = grid
        .cells
        .first()
        .map_or("", |c| c.spec.model.source.as_str());
    let (rate, rate_source) = match measured {
        Some(r) => (r, "measured"),
        None => (cost::default_secs_per_ktoken(source, device), "default"),
    };
    let pending_ktokens: f64 = cells
        .iter()
        .filter(|c| c.status != "done")
        .map(|c| c.cost.token_steps as f64 / 1000.0)
        .sum();
    Ok(Plan {
        grid: grid.name.clone(),
        file: grid.file.display().to_string(),
        output: grid.output.display().to_string(),
        data_root: grid.data_root.display().to_string(),
        device: device.to_string(),
        count: cells.len(),
        done,
        failed,
        unreadable,
        pending: cells.len() - done - failed - unreadable,
        unreadable_records: scan
            .unreadable
            .iter()
            .map(|u| UnreadableRecord {
                path: u.path.display().to_string(),
                reason: u.reason.clone(),
            })
            .collect(),
        warnings,
        total_token_steps: cells
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(c.cost.token_steps)),
        secs_per_ktoken: rate,
        rate_source: rate_source.into(),
        pending_seconds: pending_ktokens * rate,
        cells,
    })
}

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "grid {} ({})\noutput {}   data root {}   device {}\n\n",
        plan.grid, plan.file, plan.output, plan.data_root, plan.device
    ));
    let headers = [
        "#", "id", "dataset", "loss", "shots", "seed", "fold", "settings", "steps", "status",
    ];
    let rows: Vec<Vec<String>> = plan
        .cells
        .iter()
        .map(|c| {
            vec![
                c.index.to_string(),
                c.id.clone(),
                c.dataset.clone(),
                c.loss.clone(),
                c.shots.to_string(),
                c.seed.to_string(),
                c.fold.map(|f| f.to_string()).unwrap_or_else(|| "-".into()),
                c.settings
                    .iter()
                    .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
                    .collect::<Vec<_>>()
                    .join(" "),
                c.cost.steps.to_string(),
                c.status.clone(),
            ]
        })
        .collect();
    out.push_str(&crate::table::aligned(&headers, &rows));
    for u in &plan.unreadable_records {
        out.push_str(&format!(
            "\nunreadable record {}: {}; `dmlft run` runs its cell again",
            u.path, u.reason
        ));
    }
    for w in &plan.warnings {
        out.push_str(&format!("\nwarning: {w}"));
    }
    if !plan.unreadable_records.is_empty() || !plan.warnings.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} cells: {} done, {} failed, {} unreadable (run again by `dmlft run`), {} pending\ncost: {} token-steps in all (steps x batch x tokens); pending about {} on {} at {:.3} s per 1k tokens ({})\n",
        plan.count,
        plan.done,
        plan.failed,
        plan.unreadable,
        plan.pending,
        plan.total_token_steps,
        human_duration(plan.pending_seconds),
        plan.device,
        plan.secs_per_ktoken,
        if plan.rate_source == "measured" { "measured on finished cells" } else { "default for the model size" }
    ));
    out
}

pub fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}
