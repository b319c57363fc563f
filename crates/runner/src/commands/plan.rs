//! `dmlft plan GRID`: the resolved cells, their status in the results folder, and the cost.

use crate::calibration::{self, Probe};
use crate::cost::{self, CellCost, Speed};
use crate::error_chain::one_line;
use crate::grid::{Device, Grid};
use crate::store::data_change::check_against_current;
use crate::store::lock::other_host_lock;
use crate::store::{CellStatus, DataChanged, ResultsStore, StoreError};
use dmlft_model::known::source_architecture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

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
    /// again), `locked` (held by another host's lock, listed in `locks`) or `pending`.
    pub status: String,
    pub cost: CellCost,
}

/// The model a grid's cells use, sized for the estimate.
#[derive(Debug, Serialize)]
pub struct PlanModel {
    pub source: String,
    /// `None` when the architecture is unknown (no files and not in dmlft-model's table).
    pub parameters: Option<u64>,
    /// Where the weights are: `local` (a folder or the Hub cache) or `download` (fetched on the
    /// first run; sized from dmlft-model's table of known Hub configs).
    pub weights: String,
}

/// The time the pending cells take on one device.
#[derive(Debug, Serialize)]
pub struct Estimate {
    pub device: String,
    pub seconds: f64,
    pub speed: Speed,
}

#[derive(Debug, Serialize)]
pub struct Plan {
    pub grid: String,
    pub file: String,
    pub output: String,
    pub data_root: String,
    pub device: String,
    pub models: Vec<PlanModel>,
    pub cells: Vec<PlanCell>,
    pub count: usize,
    pub done: usize,
    pub failed: usize,
    /// Cells whose record file cannot be read (listed in `unreadable_records`).
    pub unreadable: usize,
    /// Cells without a record held by a lock of another host (listed in `locks`).
    pub locked: usize,
    pub pending: usize,
    /// The locks of other hosts on cells without a record: `run` skips those cells (and exits
    /// 3) until the lock goes; `dmlft unlock` breaks them.
    pub locks: Vec<PlanLock>,
    /// Every record file of the folder that cannot be read, with the reason, whether or not it
    /// belongs to this grid.
    pub unreadable_records: Vec<UnreadableRecord>,
    /// Problems that do not stop the plan (records kept with --allow-data-change).
    pub warnings: Vec<String>,
    pub total_token_steps: u64,
    /// `measured` (from finished cells), `calibrated` (this machine's probe), `reference` or
    /// `assumed` (see `cost.rs`), for `device`.
    pub rate_source: String,
    /// Estimated seconds for the pending cells on `device`.
    pub pending_seconds: f64,
    /// The estimate on every device, `device` first.
    pub estimates: Vec<Estimate>,
}

#[derive(Debug, Serialize)]
pub struct PlanLock {
    pub cell: String,
    pub host: String,
    pub pid: u32,
    pub started_at: String,
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
    /// The sampler cannot size a cell (the grid's data checks normally catch this first).
    #[error("{0}")]
    Sizes(String),
    #[error("{0}")]
    Calibration(String),
}

/// A cell's training sample and evaluation set: their sizes, and their token counts when the
/// model's tokenizer is at hand.
struct Sample {
    train_n: usize,
    eval_n: usize,
    lengths: Option<cost::Lengths>,
}

/// Every cell's sample, from dmlft-data's own sampler (and the evaluated subset as dmlft-train
/// takes it), tokenized by the model's tokenizer where `tokenizers` has one.
fn samples(
    grid: &Grid,
    tokenizers: &BTreeMap<String, Option<dmlft_data::TextTokenizer>>,
) -> Result<BTreeMap<String, Sample>, String> {
    let mut tasks = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for cell in &grid.cells {
        let spec = &cell.spec;
        if !tasks.contains_key(&spec.dataset_name) {
            let task = dmlft_data::load_task(&spec.dataset, &spec.data_root)
                .map_err(|e| format!("dataset `{}`: {}", spec.dataset_name, one_line(&e)))?;
            tasks.insert(spec.dataset_name.clone(), task);
        }
        let split = dmlft_data::sample_split(&tasks[&spec.dataset_name], &spec.split)
            .map_err(|e| format!("dataset `{}`: {}", spec.dataset_name, one_line(&e)))?;
        let lengths = tokenizers
            .get(&spec.model.source)
            .and_then(Option::as_ref)
            .and_then(|t| {
                let mut scored = dmlft_train::setup::eval_subset(
                    split.eval.clone(),
                    spec.eval_limit,
                    spec.split.seed,
                );
                scored.extend(split.dev.iter().cloned());
                // A text the tokenizer cannot take fails the run with its own error; the
                // estimate falls back to `max_length`.
                Some(cost::Lengths {
                    train: t.token_lengths(&split.train).ok()?,
                    scored: t.token_lengths(&scored).ok()?,
                })
            });
        samples.insert(
            cell.id.clone(),
            Sample {
                train_n: split.train.len(),
                eval_n: split.eval.len(),
                lengths,
            },
        );
    }
    Ok(samples)
}

/// The plan of a grid loaded with its data checks (which fingerprint the data). Records computed
/// on other data are refused unless `allow_data_change`. The estimate's speed on `device` is the
/// grid's finished cells' when there are any, else this machine's calibration (measured now when
/// the cache has none for a CPU device, or always with `calibrate`), else a reference constant.
pub fn build(
    grid: &Grid,
    device: Device,
    allow_data_change: bool,
    calibrate: bool,
) -> Result<Plan, PlanError> {
    let probe = calibration::probe_from_env().map_err(PlanError::Calibration)?;
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
    let cache = dmlft_model::hub::hf_cache_dir();
    let architecture = |source: &str| source_architecture(source, &cache).ok();
    let mut configs = BTreeMap::new();
    let mut tokenizers = BTreeMap::new();
    let mut models = Vec::new();
    for cell in &grid.cells {
        let source = &cell.spec.model.source;
        if configs.contains_key(source) {
            continue;
        }
        let config = architecture(source);
        let dir = dmlft_model::resolve_source_in(source, &cache, false).ok();
        let local = dir.is_some();
        // For the padded lengths of the estimate; without it, batches count `max_length` tokens.
        tokenizers.insert(
            source.clone(),
            dir.and_then(|d| dmlft_data::TextTokenizer::from_dir(&d).ok()),
        );
        models.push(PlanModel {
            source: source.clone(),
            parameters: config.as_ref().map(|c| c.parameter_count()),
            weights: if local { "local" } else { "download" }.into(),
        });
        configs.insert(source.clone(), config);
    }
    let samples = samples(grid, &tokenizers).map_err(PlanError::Sizes)?;
    let mut cells = Vec::new();
    let (mut done, mut failed, mut unreadable) = (0, 0, 0);
    let mut locks = Vec::new();
    let cells_dir = store.cells_dir();
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
            None => match other_host_lock(&cells_dir, &cell.id) {
                Some(info) => {
                    locks.push(PlanLock {
                        cell: cell.id.clone(),
                        host: info.host,
                        pid: info.pid,
                        started_at: info.started_at,
                    });
                    "locked"
                }
                None => "pending",
            },
        };
        let settings = cell
            .axes
            .iter()
            .filter(|(k, _)| grid.swept.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let sample = &samples[&cell.id];
        let config = configs[&cell.spec.model.source].as_ref();
        let mut cost = cost::cell_cost(cell, sample.train_n, sample.eval_n, config);
        if let (Some(config), Some(lengths)) = (config, &sample.lengths) {
            cost = cost::padded(cost, cell, config, lengths);
        }
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
            cost,
        });
    }
    let costs: BTreeMap<&str, &CellCost> = cells.iter().map(|c| (c.id.as_str(), &c.cost)).collect();
    let measured =
        cost::measured_speed(records.values(), architecture, |id| costs.get(id).copied());
    let mut devices = vec![device];
    devices.extend(
        [Device::Cpu, Device::Cuda(0)]
            .into_iter()
            .filter(|d| *d != device),
    );
    let mut calibrations = calibration::Cache::open(
        calibration::cache_dir().join(calibration::CACHE_FILE),
        &mut warnings,
    );
    let mut estimates = Vec::new();
    for d in devices {
        // Finished cells ran on the grid's device: their speed stands for that device only.
        let measured = measured.as_ref().filter(|_| d == grid.device);
        // Probing a GPU starts its backend and compiles kernels: only when asked.
        let cpu = matches!(d, Device::Cpu | Device::CpuNdarray);
        let when = match (d == device, calibrate, cpu && measured.is_none()) {
            (true, true, _) => Probe::Always,
            (true, false, true) => Probe::IfMissing,
            _ => Probe::Never,
        };
        let calibrated = calibrations.speed(d, probe, when, &mut warnings);
        let speed = measured
            .cloned()
            .or(calibrated)
            .unwrap_or_else(|| cost::reference_speed(d));
        let seconds = cells
            .iter()
            .filter(|c| c.status != "done")
            .map(|c| speed.seconds(&c.cost))
            .sum();
        estimates.push(Estimate {
            // The grid's own device as written; another, by kind (any CUDA GPU).
            device: if d == device {
                d.to_string()
            } else {
                d.kind().to_string()
            },
            seconds,
            speed,
        });
    }
    Ok(Plan {
        grid: grid.name.clone(),
        file: grid.file.display().to_string(),
        output: grid.output.display().to_string(),
        data_root: grid.data_root.display().to_string(),
        device: device.to_string(),
        models,
        count: cells.len(),
        done,
        failed,
        unreadable,
        locked: locks.len(),
        pending: cells.len() - done - failed - unreadable - locks.len(),
        locks,
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
        rate_source: estimates[0].speed.source.clone(),
        pending_seconds: estimates[0].seconds,
        estimates,
        cells,
    })
}

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "grid {} ({})\noutput {}   data root {}   device {}\n",
        plan.grid, plan.file, plan.output, plan.data_root, plan.device
    ));
    for m in &plan.models {
        let size = m
            .parameters
            .map(|p| format!("{:.0}M parameters", p as f64 / 1e6))
            .unwrap_or_else(|| "architecture unknown (no estimate)".into());
        let weights = if m.weights == "local" {
            "weights present"
        } else {
            "weights not present: downloaded from the Hub on the first run (size from dmlft-model's table of known configs)"
        };
        out.push_str(&format!("model {}: {size}; {weights}\n", m.source));
    }
    out.push('\n');
    let headers = [
        "#", "id", "dataset", "loss", "shots", "seed", "fold", "settings", "steps", "eval",
        "status",
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
                c.cost.eval_examples.to_string(),
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
    for l in &plan.locks {
        out.push_str(&format!(
            "\nlocked cell {}: held by host {}, pid {}, since {}",
            l.cell, l.host, l.pid, l.started_at
        ));
    }
    if !plan.locks.is_empty() {
        let hosts = plan.locks.iter().map(|l| l.host.as_str());
        out.push_str(&format!(
            "\n{}",
            super::unlock::advice(Path::new(&plan.file), hosts)
        ));
    }
    for w in &plan.warnings {
        out.push_str(&format!("\nwarning: {w}"));
    }
    if !plan.unreadable_records.is_empty() || !plan.warnings.is_empty() || !plan.locks.is_empty() {
        out.push('\n');
    }
    let train: f64 = plan.cells.iter().map(|c| c.cost.train_flops).sum();
    let eval: f64 = plan.cells.iter().map(|c| c.cost.eval_flops).sum();
    out.push_str(&format!(
        "\n{} cells: {} done, {} failed, {} unreadable (run again by `dmlft run`), {} locked by another host, {} pending\nwork: {} token-steps (steps x batch x tokens), {:.1} PFLOP training + {:.1} PFLOP evaluation in all, {}\n",
        plan.count,
        plan.done,
        plan.failed,
        plan.unreadable,
        plan.locked,
        plan.pending,
        plan.total_token_steps,
        train / 1e15,
        eval / 1e15,
        if plan.cells.iter().any(|c| c.cost.padded) {
            "on batches padded to their longest example (the model's tokenizer)"
        } else {
            "on batches padded to max_length (no tokenizer at hand: leans high)"
        },
    ));
    for e in &plan.estimates {
        out.push_str(&format!(
            "pending on {}: about {} (training {:.2} TFLOP/s, evaluation {:.2} TFLOP/s, {:.0} s per cell; {}: {})\n",
            e.device,
            human_duration(e.seconds),
            e.speed.train_flops_per_s / 1e12,
            e.speed.eval_flops_per_s / 1e12,
            e.speed.per_cell_s,
            e.speed.source,
            e.speed.note
        ));
    }
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
