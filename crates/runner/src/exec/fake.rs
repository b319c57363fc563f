//! A deterministic stand-in for training, for tests of the runner (resume, locks, shards, Slurm):
//! cells take `sleep`, fail or panic by cell-id prefix, and get metrics derived from their id.
//! Tests inject it ([`crate::exec::run_study_with`], [`crate::Experiment::executor`]); the CLI
//! tests, which cross a process boundary, ask `dmlft run` for it through the environment, which
//! only the command line reads (`commands::run`).

use super::executor::{CellContext, CellExecutor, CellFailure};
use dmlft_eval::metrics::Metrics;
use dmlft_train::progress::{CellEvent, Phase};
use dmlft_train::result::{CellResult, Timings};
use dmlft_train::spec::CellSpec;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

const STEPS: usize = 10;

#[derive(Debug, Default, Clone)]
pub struct FakeExecutor {
    /// Time per cell, spent in 10 steps that check cancellation between them.
    pub sleep: Duration,
    /// Cells whose id starts with one of these fail (at step 3).
    pub fail_prefixes: Vec<String>,
    /// Cells whose id starts with one of these panic (at step 2), as a backend's out-of-bounds
    /// index does.
    pub panic_prefixes: Vec<String>,
    /// A file to which every run appends `<cell id> <pid>` when it starts.
    pub log: Option<std::path::PathBuf>,
}

/// A number in [0, 1) derived from the cell id and a salt.
fn unit(id: &str, salt: &str) -> f64 {
    let d = Sha256::digest(format!("{id}/{salt}").as_bytes());
    u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as f64 / (u32::MAX as f64 + 1.0)
}

impl CellExecutor for FakeExecutor {
    fn run(&self, cell: &CellSpec, ctx: &CellContext) -> Result<CellResult, CellFailure> {
        let id = crate::grid::cell_id(cell);
        if let Some(log) = &self.log {
            let line = format!("{id} {}\n", std::process::id());
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| CellFailure::error(format!("fake log: {e}"), None))?;
            f.write_all(line.as_bytes())
                .map_err(|e| CellFailure::error(format!("fake log: {e}"), None))?;
        }
        let start = Instant::now();
        ctx.report(CellEvent::Phase(Phase::Train));
        for step in 1..=STEPS {
            if ctx.cancelled() {
                return Err(CellFailure::cancelled(Some(step - 1)));
            }
            std::thread::sleep(self.sleep / STEPS as u32);
            if step == 2
                && self
                    .panic_prefixes
                    .iter()
                    .any(|p| id.starts_with(p.as_str()))
            {
                let table = [0u8; 512];
                let index = 512 + step - 2;
                // what burn's gather did with a position past the table
                let _ = table[std::hint::black_box(index)];
            }
            if step == 3
                && self
                    .fail_prefixes
                    .iter()
                    .any(|p| id.starts_with(p.as_str()))
            {
                return Err(CellFailure::error(
                    "fake failure requested by DMLFT_FAKE_FAIL",
                    Some(step),
                ));
            }
            ctx.report(CellEvent::Step {
                step,
                total: STEPS,
                loss: 1.0 / step as f64,
                lr: 1e-3,
            });
        }
        let n = 100;
        let base = 0.5 + 0.45 * unit(&id, "accuracy");
        let metrics = cell
            .inference
            .iter()
            .enumerate()
            .map(|(i, mode)| {
                let acc = (base + 0.01 * i as f64).min(1.0);
                let correct = (acc * n as f64).round() as usize;
                let m = Metrics {
                    n,
                    accuracy: correct as f64 / n as f64,
                    macro_f1: (acc - 0.02).max(0.0),
                    weighted_f1: (acc - 0.01).max(0.0),
                    per_class: Vec::new(),
                    confusion: Vec::new(),
                };
                (*mode, m)
            })
            .collect();
        let total = start.elapsed().as_secs_f64();
        Ok(CellResult {
            metrics,
            train_size: cell.split.shots,
            eval_size: n,
            steps: STEPS,
            final_loss: unit(&id, "loss"),
            final_loss_terms: BTreeMap::new(),
            timings: Timings {
                load_s: 0.0,
                train_s: total,
                eval_s: 0.0,
                total_s: total,
            },
            versions: BTreeMap::from([("executor".to_string(), "fake".to_string())]),
            curve: None,
            setfit: None,
            dev_metrics: BTreeMap::new(),
            dev_size: 0,
        })
    }
}
