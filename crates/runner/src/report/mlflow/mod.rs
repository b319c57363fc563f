//! `dmlft report RESULTS --to-mlflow URL`: every cell record (done and failed) becomes one run of
//! an MLflow experiment, through MLflow's tracking REST API ([`client`]); what a run holds is
//! [`run_data`]'s.
//!
//! Exporting again does not duplicate runs: a run is found by its `dmlft.cell_id` tag; when its
//! `dmlft.record_sha256` tag equals the record's digest and the run was ended, the record is
//! skipped; otherwise (the cell was run again, or an earlier export was interrupted while the run
//! was still RUNNING) the old run is deleted and the record exported anew.

pub mod client;
pub mod run_data;

use crate::store::{CellRecord, ResultsStore, StoreError};
use client::{FoundRun, MlflowClient, MlflowError};
use run_data::{run_data, RunData, CELL_ID_TAG, RECORD_TAG};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mlflow(#[from] MlflowError),
    #[error("{}: no cell record to export (run the grid first)", .0.display())]
    Empty(PathBuf),
    #[error("{}: records of several grids ({}): name the MLflow experiment with --mlflow-experiment", .0.display(), .1)]
    SeveralGrids(PathBuf, String),
    #[error("{}: {}", .0.display(), .1)]
    Record(PathBuf, String),
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub url: String,
    pub experiment: String,
    pub experiment_id: String,
    /// Runs created for records not exported before.
    pub created: usize,
    /// Records whose run was already there, unchanged.
    pub unchanged: usize,
    /// Records whose earlier run was deleted and exported again.
    pub replaced: usize,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MLflow {}: experiment {:?} (id {}): {} run(s) created, {} replaced, {} unchanged",
            self.url,
            self.experiment,
            self.experiment_id,
            self.created,
            self.replaced,
            self.unchanged
        )
    }
}

/// Exports every readable record of `results_dir` to the MLflow server at `url`, into the
/// experiment `experiment` (default: the grid's name; created if missing).
pub fn export(
    results_dir: &Path,
    url: &str,
    experiment: Option<&str>,
) -> Result<ExportSummary, ExportError> {
    let client = MlflowClient::new(url)?;
    let store = ResultsStore::open(results_dir);
    let records = store.scan()?.records;
    if records.is_empty() {
        return Err(ExportError::Empty(results_dir.to_path_buf()));
    }
    let experiment = match experiment {
        Some(name) => name.to_string(),
        None => grid_name(results_dir, &records)?,
    };
    let runs: Vec<RunData> = records
        .iter()
        .map(|(id, r)| run_data(r).map_err(|e| ExportError::Record(store.record_path(id), e)))
        .collect::<Result<_, _>>()?;
    let experiment_id = client.experiment_id(&experiment)?;
    let mut existing: BTreeMap<String, Vec<FoundRun>> = BTreeMap::new();
    for run in client.runs(&experiment_id)? {
        if let Some(cell) = run.tags.get(CELL_ID_TAG) {
            existing.entry(cell.clone()).or_default().push(run);
        }
    }
    let mut summary = ExportSummary {
        url: client.base().to_string(),
        experiment,
        experiment_id: experiment_id.clone(),
        created: 0,
        unchanged: 0,
        replaced: 0,
    };
    for run in &runs {
        let old = existing.remove(&run.cell_id).unwrap_or_default();
        if is_unchanged(&old, run) {
            summary.unchanged += 1;
            continue;
        }
        for o in &old {
            client.delete_run(&o.run_id)?;
        }
        let run_id = client.create_run(&experiment_id, &run.name, run.start_ms, &run.tags)?;
        client.log(&run_id, &run.params, &[], &run.metrics)?;
        client.finish_run(&run_id, run.status, run.end_ms)?;
        if old.is_empty() {
            summary.created += 1;
        } else {
            summary.replaced += 1;
        }
    }
    Ok(summary)
}

/// One ended run of this very record: nothing to do.
fn is_unchanged(old: &[FoundRun], run: &RunData) -> bool {
    matches!(old, [only] if only.status != "RUNNING"
        && only.tags.get(RECORD_TAG).map(String::as_str) == run.tag(RECORD_TAG))
}

fn grid_name(dir: &Path, records: &BTreeMap<String, CellRecord>) -> Result<String, ExportError> {
    let grids: BTreeSet<&str> = records.values().map(|r| r.grid.as_str()).collect();
    match grids.iter().collect::<Vec<_>>().as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(ExportError::SeveralGrids(
            dir.to_path_buf(),
            grids.into_iter().collect::<Vec<_>>().join(", "),
        )),
    }
}
