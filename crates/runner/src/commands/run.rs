//! `dmlft run`: the cells of a grid that are not done yet, locally (threads, shards); the
//! summary line and the exit code (2 while failed cells remain, 3 while cells are blocked by
//! another host's lock, 130 when interrupted).

use anyhow::{bail, Context, Result};
use clap::Args;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::grid_args::{DataChangeArg, GridArgs};
use super::progress::GridProgress;
use crate::exec::{run_study, run_study_with, FakeExecutor, RunOptions, RunSummary, Shard};
use crate::grid::{Device, Grid};

/// The exit code of `run` when the grid is incomplete because cells failed (now or earlier).
pub const EXIT_FAILED_CELLS: u8 = 2;
/// The exit code of `run` when cells are blocked by locks of another host (`dmlft unlock`).
pub const EXIT_LOCKED_ELSEWHERE: u8 = 3;
/// The exit code after Ctrl-C / SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Device to train on (cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N); default: the grid's
    /// `device`, else cpu.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<Device>,
    /// Cells run at the same time (threads).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Run only the cells whose index in the expansion order is I mod N (0 <= I < N).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Run failed cells again (by default a failed cell is skipped).
    #[arg(long)]
    pub retry_failed: bool,
    /// Run at most N cells in this invocation.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Save each cell's fine-tuned model under RESULTS/models/<cell id>/ (for explain / analyze).
    #[arg(long)]
    pub save_models: bool,
    #[command(flatten)]
    pub data_change: DataChangeArg,
}

/// Runs the grid; prints the summary line on stderr and returns the exit code.
pub fn run(args: &RunArgs) -> Result<ExitCode> {
    run_grid(&args.grid.load()?, args)
}

/// [`run`] of a grid already loaded (`dmlft search` edits its text first).
pub fn run_grid(grid: &Grid, args: &RunArgs) -> Result<ExitCode> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let cancel = Arc::new(AtomicBool::new(false));
    crate::signals::install(cancel.clone()).context("cannot install the Ctrl-C handler")?;
    let view = GridProgress::new(true);
    let bar = view.clone();
    let opts = RunOptions {
        jobs: args.jobs,
        shard: args.shard,
        retry_failed: args.retry_failed,
        limit: args.limit,
        device: args.device.unwrap_or(grid.device),
        allow_data_change: args.data_change.allow_data_change,
        save_models: args.save_models,
        ..RunOptions::default()
    }
    .cancel(cancel.clone())
    .progress(move |event| bar.on(event));
    let summary = match fake_executor_from_env() {
        Some(fake) => run_study_with(grid, &opts, Arc::new(fake)),
        None => run_study(grid, &opts),
    };
    view.finish();
    let summary = summary?;
    let interrupted = cancel.load(Ordering::SeqCst);
    eprintln!("{}", summary_line(grid, &opts, &summary, interrupted));
    if !summary.blocked.is_empty() {
        eprintln!("{}", blocked_report(&args.grid.grid, &summary));
    }
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.failures() > 0 {
        ExitCode::from(EXIT_FAILED_CELLS)
    } else if !summary.blocked.is_empty() {
        ExitCode::from(EXIT_LOCKED_ELSEWHERE)
    } else {
        ExitCode::SUCCESS
    })
}

/// The fake executor for the CLI tests, which run this binary in another process (resume, locks,
/// signals, Slurm): `DMLFT_TEST_FAKE_EXECUTOR=1` enables it; `DMLFT_FAKE_SLEEP_MS` (time per
/// cell), `DMLFT_FAKE_FAIL` and `DMLFT_FAKE_PANIC` (comma-separated cell-id prefixes) and
/// `DMLFT_FAKE_LOG` (a file) set its fields ([`FakeExecutor`]). The library never reads these.
fn fake_executor_from_env() -> Option<FakeExecutor> {
    if std::env::var("DMLFT_TEST_FAKE_EXECUTOR").ok().as_deref() != Some("1") {
        return None;
    }
    let prefixes = |var: &str| -> Vec<String> {
        std::env::var(var)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(FakeExecutor {
        sleep: std::env::var("DMLFT_FAKE_SLEEP_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or_default(),
        fail_prefixes: prefixes("DMLFT_FAKE_FAIL"),
        panic_prefixes: prefixes("DMLFT_FAKE_PANIC"),
        log: std::env::var_os("DMLFT_FAKE_LOG").map(Into::into),
    })
}

/// One line: what ran, what was skipped, and whether the grid is complete.
fn summary_line(grid: &Grid, opts: &RunOptions, summary: &RunSummary, interrupted: bool) -> String {
    let shard = opts
        .shard
        .map(|s| format!(" (shard {s})"))
        .unwrap_or_default();
    let unreadable = match summary.unreadable.len() {
        0 => String::new(),
        n => format!(", {n} with an unreadable record (run again)"),
    };
    let verdict = if interrupted {
        "interrupted".to_string()
    } else if summary.failures() > 0 {
        format!(
            "grid incomplete: {} failed cell(s) ({} in this run, {} from earlier runs); `dmlft report {}` lists them, --retry-failed runs them again",
            summary.failures(),
            summary.failed,
            summary.skipped_failed,
            grid.output.display()
        )
    } else if !summary.blocked.is_empty() {
        format!(
            "grid incomplete: {} cell(s) blocked by another host's lock (below)",
            summary.blocked.len()
        )
    } else if summary.locked > 0 || summary.not_run > 0 {
        "cells left for other runners or later runs".to_string()
    } else {
        "complete".to_string()
    };
    format!(
        "{}{shard}: {} cells; {} succeeded, {} failed, {} done before, {} failed before (skipped){unreadable}, {} running elsewhere, {} locked by another host, {} not run; {verdict}",
        grid.name, summary.selected, summary.succeeded, summary.failed, summary.already_done, summary.skipped_failed, summary.locked, summary.blocked.len(), summary.not_run
    )
}

/// One line per cell blocked by another host's lock, then what to do and the safety rule.
fn blocked_report(grid_file: &std::path::Path, summary: &RunSummary) -> String {
    let mut out = String::new();
    for (id, info) in &summary.blocked {
        out.push_str(&format!("cell {id}: {info}\n"));
    }
    out.push_str(&super::unlock::advice(
        grid_file,
        summary.blocked.iter().map(|(_, i)| i.host.as_str()),
    ));
    out
}
