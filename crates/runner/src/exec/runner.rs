//! Runs the cells of a grid that are not done yet: N worker threads, a lock per cell, one atomic
//! record per finished or failed cell. A failing cell is recorded and the grid goes on; so is a
//! cell that panics. A cancelled cell (Ctrl-C) leaves neither a record nor a lock. A record that
//! cannot be read is named and its cell runs again; records computed on other data stop the run
//! before anything runs (unless allowed).

use super::executor::{CellContext, CellExecutor};
use super::options::{GridEvent, RunOptions};
use super::panic_guard::catch_cell;
use crate::grid::{Cell, Grid};
use crate::host;
use crate::store::data_change::{check_against_current, DataChanged};
use crate::store::{
    try_lock, CellRecord, CellStatus, LockAttempt, LockInfo, ResultsStore, StoreError, Stored,
    Unreadable, SCHEMA_VERSION,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// Held by another live runner of this host.
    pub locked: usize,
    /// Held by a lock of another host (cell id, lock), which cannot be checked from here: the
    /// cell stays blocked until that runner ends or the user breaks the lock (`dmlft unlock`).
    pub blocked: Vec<(String, LockInfo)>,
    /// Not started or stopped because of cancellation, or beyond `--limit`.
    pub not_run: usize,
    /// Record files that could not be read; their cells were queued to run again.
    pub unreadable: Vec<Unreadable>,
}

impl RunSummary {
    /// Cells left without a result because they failed, now or in an earlier run.
    pub fn failures(&self) -> usize {
        self.failed + self.skipped_failed
    }
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataChanged(#[from] Box<DataChanged>),
    #[error("dataset `{0}` has no data fingerprint: the grid was loaded without its data checks")]
    NoFingerprint(String),
    #[error("internal error in the runner (a bug in dmlft; please report it): {0}")]
    Panic(String),
}

/// A mutex that a panicking thread poisoned still holds valid counters and queues here.
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

/// Runs the cells of `grid` (of `opts.shard`) that `store` has no record of yet, or a failed one
/// with `opts.retry_failed`, with `executor`.
pub fn run_grid(
    grid: &Grid,
    store: &ResultsStore,
    executor: Arc<dyn CellExecutor>,
    opts: &RunOptions,
) -> Result<RunSummary, RunError> {
    let mut summary = RunSummary::default();
    let mut queue = VecDeque::new();
    let mut existing = Vec::new();
    for cell in grid
        .cells
        .iter()
        .filter(|c| opts.shard.is_none_or(|s| s.contains(c.index)))
    {
        let fingerprint = grid
            .data_fingerprints
            .get(&cell.spec.dataset_name)
            .ok_or_else(|| RunError::NoFingerprint(cell.spec.dataset_name.clone()))?;
        let cell = (cell, fingerprint.as_str());
        summary.selected += 1;
        match store.read(&cell.0.id) {
            Stored::Record(r) => {
                match r.status {
                    CellStatus::Done => summary.already_done += 1,
                    CellStatus::Failed if !opts.retry_failed => summary.skipped_failed += 1,
                    CellStatus::Failed => queue.push_back(cell),
                }
                if !(r.status == CellStatus::Failed && opts.retry_failed) {
                    release_stale_lock(store, &cell.0.id);
                }
                existing.push((store.record_path(&cell.0.id), *r));
            }
            Stored::Unreadable(u) => {
                tracing::warn!("{u}: will be re-run");
                summary.unreadable.push(u);
                queue.push_back(cell);
            }
            Stored::Missing => queue.push_back(cell),
        }
    }
    if let Err(changed) = check_against_current(
        existing.iter().map(|(p, r)| (p.as_path(), r)),
        &grid.data_fingerprints,
        &grid.data_root,
    ) {
        if !opts.allow_data_change {
            return Err(changed.into());
        }
        tracing::warn!("{changed} (kept: --allow-data-change)");
    }
    store.write_grid_copy(&grid.text)?;
    note_records_of_other_cells(store, grid);
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
    opts.report(GridEvent::Queued { cells: queue.len() });
    let queue = Mutex::new(queue);
    let shared = Mutex::new(summary);
    let first_error: Mutex<Option<RunError>> = Mutex::new(None);
    let jobs = opts.jobs.max(1);
    let shared_env = Env {
        grid,
        store,
        executor: executor.as_ref(),
        opts,
    };
    let worker = || loop {
        if opts.cancelled() || locked(&first_error).is_some() {
            let mut queue = locked(&queue);
            locked(&shared).not_run += queue.len();
            queue.clear();
            return;
        }
        let Some((cell, fingerprint)) = locked(&queue).pop_front() else {
            return;
        };
        match run_one(&shared_env, cell, fingerprint) {
            Ok(outcome) => {
                let mut s = locked(&shared);
                match outcome {
                    Outcome::Succeeded => s.succeeded += 1,
                    Outcome::Failed => s.failed += 1,
                    Outcome::Locked => s.locked += 1,
                    Outcome::DoneMeanwhile => s.already_done += 1,
                    Outcome::FailedMeanwhile => s.skipped_failed += 1,
                    Outcome::Cancelled => s.not_run += 1,
                    Outcome::Blocked(info) => s.blocked.push((cell.id.clone(), info)),
                }
            }
            Err(e) => {
                locked(&first_error).get_or_insert(e.into());
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                // the cell itself is guarded in run_one; this catches a bug in the loop, which
                // would otherwise bring down every worker when the scope ends
                if let Err(message) = catch_cell(worker) {
                    locked(&first_error).get_or_insert(RunError::Panic(message));
                }
            });
        }
    });
    if let Some(e) = first_error
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        return Err(e);
    }
    let mut summary = shared
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // workers finish in any order; the report lists cells the same way every time
    summary.blocked.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(summary)
}

enum Outcome {
    Succeeded,
    Failed,
    Locked,
    DoneMeanwhile,
    FailedMeanwhile,
    Cancelled,
    /// Locked by another host (see [`RunSummary::blocked`]).
    Blocked(LockInfo),
}

/// What every cell of one run shares.
struct Env<'a> {
    grid: &'a Grid,
    store: &'a ResultsStore,
    executor: &'a dyn CellExecutor,
    opts: &'a RunOptions,
}

fn run_one(env: &Env<'_>, cell: &Cell, fingerprint: &str) -> Result<Outcome, StoreError> {
    let Env {
        grid,
        store,
        executor,
        opts,
    } = *env;
    let cells_dir = store.cells_dir();
    let lock = match try_lock(&cells_dir, &cell.id).map_err(|source| StoreError::Io {
        what: "lock",
        path: crate::store::lock::lock_path(&cells_dir, &cell.id),
        source,
    })? {
        LockAttempt::Acquired(lock) => lock,
        LockAttempt::Busy(Some(info)) if info.is_other_host() => {
            tracing::warn!("cell {}: lock {info}; skipped", cell.id);
            return Ok(Outcome::Blocked(info));
        }
        LockAttempt::Busy(info) => {
            let by = info
                .map(|i| format!("pid {} on {}", i.pid, i.host))
                .unwrap_or_else(|| "another runner".into());
            tracing::info!("cell {} is running elsewhere ({by}); skipped", cell.id);
            return Ok(Outcome::Locked);
        }
    };
    // another runner may have finished it between our first look and the lock
    if let Stored::Record(r) = store.read(&cell.id) {
        match r.status {
            CellStatus::Done => return Ok(Outcome::DoneMeanwhile),
            CellStatus::Failed if !opts.retry_failed => return Ok(Outcome::FailedMeanwhile),
            CellStatus::Failed => {}
        }
    }
    opts.report(GridEvent::Started {
        cell_id: cell.id.clone(),
    });
    let started_at = host::rfc3339_now();
    let id = cell.id.clone();
    let callback = opts.progress.clone();
    let ctx = CellContext {
        device: opts.device,
        cancel: opts.cancel.clone(),
        progress: Arc::new(move |event| {
            tracing::debug!("cell {id}: {event:?}");
            if let Some(callback) = &callback {
                callback(&GridEvent::Cell {
                    cell_id: id.clone(),
                    event,
                });
            }
        }),
    };
    let outcome = match catch_cell(|| executor.run(&cell.spec, &ctx)) {
        Ok(outcome) => outcome,
        Err(message) => Err(super::CellFailure::error(format!("panic: {message}"), None)),
    };
    let mut record = CellRecord {
        schema_version: SCHEMA_VERSION,
        cell_id: cell.id.clone(),
        grid: grid.name.clone(),
        status: CellStatus::Done,
        data_fingerprint: fingerprint.to_string(),
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
            Outcome::Succeeded
        }
        Err(failure) if failure.cancelled => {
            tracing::warn!("cell {} cancelled; it will run again next time", cell.id);
            Outcome::Cancelled
        }
        Err(failure) => {
            record.status = CellStatus::Failed;
            record.error = Some(failure.message.clone());
            record.failed_step = failure.step;
            store.write(&record)?;
            tracing::error!("cell {} failed: {}", cell.id, failure.message);
            Outcome::Failed
        }
    };
    drop(lock);
    opts.report(GridEvent::Finished {
        cell_id: cell.id.clone(),
        ok: matches!(result, Outcome::Succeeded),
    });
    Ok(result)
}

/// Says when the folder holds records of cells this grid does not have (an earlier
/// configuration of it, a changed dmlft default, or another grid's cells): they are kept, and
/// the report leaves out those that this grid's cells replace.
fn note_records_of_other_cells(store: &ResultsStore, grid: &Grid) {
    let Ok(stored) = store.record_ids() else {
        return;
    };
    let ids: std::collections::HashSet<&str> = grid.cells.iter().map(|c| c.id.as_str()).collect();
    let others = stored
        .iter()
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    if others > 0 {
        tracing::warn!(
            "{}: {others} record(s) of cells that are not in this grid (an earlier configuration of it, a changed dmlft default, or another grid): kept; `dmlft report` leaves out those that this grid's cells replace",
            store.cells_dir().display()
        );
    }
}
