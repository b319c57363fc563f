//! Runs the cells of a grid that are not done yet: N worker threads, a lock per cell, one atomic
//! record per finished or failed cell. A failing cell is recorded and the grid goes on; a
//! cancelled cell (Ctrl-C) leaves neither a record nor a lock.

use super::executor::{CellContext, CellExecutor, CellProgress};
use super::progress::GridProgress;
use super::shard::Shard;
use crate::grid::{Cell, Device, Grid};
use crate::host;
use crate::store::{
    try_lock, CellRecord, CellStatus, LockAttempt, ResultsStore, StoreError, SCHEMA_VERSION,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub retry_failed: bool,
    /// Run at most this many cells in this invocation.
    pub limit: Option<usize>,
    pub device: Device,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Cells of this shard.
    pub selected: usize,
    pub already_done: usize,
    /// Failed earlier and not retried (no `--retry-failed`).
    pub skipped_failed: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Held by another live runner.
    pub locked: usize,
    /// Not started or stopped because of cancellation, or beyond `--limit`.
    pub not_run: usize,
}

/// Removes the lock a killed runner left on a cell whose record it had already written (a kill
/// between the record's rename and the lock's removal); a live runner's lock is left alone.
fn release_stale_lock(store: &ResultsStore, id: &str) {
    let cells_dir = store.cells_dir();
    if crate::store::lock::lock_path(&cells_dir, id).exists() {
        // Taking a stale lock over and dropping it removes it; a busy lock stays.
        let _ = try_lock(&cells_dir, id);
    }
}

pub fn run_grid(
    grid: &Grid,
    store: &ResultsStore,
    executor: Arc<dyn CellExecutor>,
    opts: &RunOptions,
    cancel: Arc<AtomicBool>,
) -> Result<RunSummary, StoreError> {
    store.write_grid_copy(&grid.text)?;
    let mut summary = RunSummary::default();
    let mut queue = VecDeque::new();
    for cell in grid
        .cells
        .iter()
        .filter(|c| opts.shard.is_none_or(|s| s.contains(c.index)))
    {
        summary.selected += 1;
        match store.status(&cell.id) {
            Some(CellStatus::Done) => summary.already_done += 1,
            Some(CellStatus::Failed) if !opts.retry_failed => summary.skipped_failed += 1,
            _ => {
                queue.push_back(cell);
                continue;
            }
        }
        release_stale_lock(store, &cell.id);
    }
    if let Some(limit) = opts.limit {
        while queue.len() > limit {
            queue.pop_back();
            summary.not_run += 1;
        }
    }
    tracing::info!(
        "grid {}: {} cells in this shard, {} done, {} failed earlier (skipped), {} to run",
        grid.name,
        summary.selected,
        summary.already_done,
        summary.skipped_failed,
        queue.len()
    );
    let progress = GridProgress::new(queue.len(), opts.progress);
    let queue = Mutex::new(queue);
    let shared = Mutex::new(summary);
    let first_error: Mutex<Option<StoreError>> = Mutex::new(None);
    let jobs = opts.jobs.max(1);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if cancel.load(Ordering::SeqCst) || first_error.lock().unwrap().is_some() {
                    let rest = queue.lock().unwrap().len();
                    queue.lock().unwrap().clear();
                    shared.lock().unwrap().not_run += rest;
                    return;
                }
                let Some(cell) = queue.lock().unwrap().pop_front() else {
                    return;
                };
                match run_one(
                    grid,
                    store,
                    executor.as_ref(),
                    opts,
                    &cancel,
                    &progress,
                    cell,
                ) {
                    Ok(outcome) => {
                        let mut s = shared.lock().unwrap();
                        match outcome {
                            Outcome::Succeeded => s.succeeded += 1,
                            Outcome::Failed => s.failed += 1,
                            Outcome::Locked => s.locked += 1,
                            Outcome::DoneMeanwhile => s.already_done += 1,
                            Outcome::FailedMeanwhile => s.skipped_failed += 1,
                            Outcome::Cancelled => s.not_run += 1,
                        }
                    }
                    Err(e) => {
                        first_error.lock().unwrap().get_or_insert(e);
                    }
                }
            });
        }
    });
    progress.finish();
    if let Some(e) = first_error.into_inner().unwrap() {
        return Err(e);
    }
    Ok(shared.into_inner().unwrap())
}

enum Outcome {
    Succeeded,
    Failed,
    Locked,
    DoneMeanwhile,
    FailedMeanwhile,
    Cancelled,
}

fn run_one(
    grid: &Grid,
    store: &ResultsStore,
    executor: &dyn CellExecutor,
    opts: &RunOptions,
    cancel: &Arc<AtomicBool>,
    progress: &GridProgress,
    cell: &Cell,
) -> Result<Outcome, StoreError> {
    let cells_dir = store.cells_dir();
    let lock = match try_lock(&cells_dir, &cell.id).map_err(|source| StoreError::Io {
        what: "lock",
        path: cells_dir.clone(),
        source,
    })? {
        LockAttempt::Acquired(lock) => lock,
        LockAttempt::Busy(info) => {
            let by = info
                .map(|i| format!("pid {} on {}", i.pid, i.host))
                .unwrap_or_else(|| "another runner".into());
            tracing::info!("cell {} is running elsewhere ({by}); skipped", cell.id);
            return Ok(Outcome::Locked);
        }
    };
    // another runner may have finished it between our first look and the lock
    match store.status(&cell.id) {
        Some(CellStatus::Done) => return Ok(Outcome::DoneMeanwhile),
        Some(CellStatus::Failed) if !opts.retry_failed => return Ok(Outcome::FailedMeanwhile),
        _ => {}
    }
    progress.started();
    let started_at = host::rfc3339_now();
    let id = cell.id.clone();
    let ctx = CellContext {
        device: opts.device,
        cancel: cancel.clone(),
        progress: Arc::new(move |event| {
            if let CellProgress::Step { step, total } = event {
                tracing::debug!("cell {id}: step {step}/{total}");
            }
        }),
    };
    let outcome = executor.run(&cell.spec, &ctx);
    let mut record = CellRecord {
        schema_version: SCHEMA_VERSION,
        cell_id: cell.id.clone(),
        grid: grid.name.clone(),
        status: CellStatus::Done,
        error: None,
        failed_step: None,
        cell: cell.spec.clone(),
        axes: cell.axes.clone(),
        result: None,
        host: host::hostname(),
        device: opts.device.to_string(),
        started_at,
        finished_at: host::rfc3339_now(),
        dmlft_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let result = match outcome {
        Ok(result) => {
            record.result = Some(result);
            store.write(&record)?;
            tracing::info!(
                "cell {} ({}, {}, shots {}) done",
                cell.id,
                cell.spec.dataset_name,
                cell.spec.loss_name,
                cell.spec.split.shots
            );
            progress.finished(true);
            Outcome::Succeeded
        }
        Err(failure) if failure.cancelled => {
            tracing::warn!("cell {} cancelled; it will run again next time", cell.id);
            progress.finished(false);
            Outcome::Cancelled
        }
        Err(failure) => {
            record.status = CellStatus::Failed;
            record.error = Some(failure.message.clone());
            record.failed_step = failure.step;
            store.write(&record)?;
            tracing::error!("cell {} failed: {}", cell.id, failure.message);
            progress.finished(false);
            Outcome::Failed
        }
    };
    drop(lock);
    Ok(result)
}
