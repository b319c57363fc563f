//! `dmlft search GRID [--trials N]`: runs the grid's `[search]` ([`crate::search`]): every
//! method gets the same number of drawn trials, each an ordinary set of cells, so this is
//! `dmlft run` (resume, locks, shards, failure records) on the grid with `trials` set. The
//! budget is printed before the run; `dmlft report OUTPUT --select trial` picks each method's
//! best trial on dev.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use super::run::{run_grid, RunArgs};
use crate::grid::expand::load_grid_text;
use crate::grid::{Grid, LoadOptions};
use crate::search::{with_trials, TRIAL_AXIS};

#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Trials per method (overrides `[search] trials`; the results folder's copy of the grid
    /// records it). Raising it later keeps the earlier trials: they are the same cells.
    #[arg(long, value_name = "N")]
    pub trials: Option<usize>,
}

/// Loads the grid (with `--trials` written in), prints its budget, and runs it.
pub fn run(args: &SearchArgs) -> Result<ExitCode> {
    let path = &args.run.grid.grid;
    let mut text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the grid file {}", path.display()))?;
    if let Some(n) = args.trials {
        if n == 0 {
            bail!("--trials must be at least 1");
        }
        text = with_trials(&text, n).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let opts = LoadOptions {
        data_dir: args.run.grid.data_dir.clone(),
        check_data: true,
    };
    let grid = load_grid_text(&text, path, &opts)?;
    eprintln!("{}", budget_line(&grid)?);
    let code = run_grid(&grid, &args.run)?;
    eprintln!(
        "then: dmlft report {} --select {TRIAL_AXIS} (each method's best trial on dev)",
        grid.output.display()
    );
    Ok(code)
}

/// Trials per method (the distinct `trial` values of its cells): one line, or an error for a
/// grid without a search.
pub fn budget_line(grid: &Grid) -> Result<String> {
    let mut trials: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for cell in &grid.cells {
        let Some(t) = cell.axes.get(TRIAL_AXIS) else {
            bail!(
                "{}: the grid has no `[search]` table (the space to draw trials from); `dmlft run` runs a grid without one",
                grid.file.display()
            );
        };
        trials
            .entry(cell.spec.loss_name.as_str())
            .or_default()
            .insert(t);
    }
    let counts: BTreeSet<usize> = trials.values().map(BTreeSet::len).collect();
    let per_method = trials
        .iter()
        .map(|(m, t)| format!("{m} {}", t.len()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(match counts.len() {
        1 => format!(
            "{}: search, {} trials for each of {} methods ({} cells)",
            grid.name,
            counts.first().copied().unwrap_or(0),
            trials.len(),
            grid.cells.len()
        ),
        _ => format!(
            "{}: search with unequal budgets (`exclude` or `include` entries?): trials per method: {per_method}",
            grid.name
        ),
    })
}
