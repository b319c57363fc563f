//! `dmlft slurm`: writes (and with `--submit`, submits) the job-array script of a grid; the
//! script itself is rendered by [`crate::slurm`].

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

use super::grid_args::GridArgs;
use crate::grid::Device;
use crate::slurm::SlurmOptions;

#[derive(Args, Debug, Clone)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// GPUs per array task.
    #[arg(long, value_name = "N")]
    pub gpus_per_task: Option<u32>,
    /// CPUs per array task.
    #[arg(long, value_name = "N")]
    pub cpus_per_task: Option<u32>,
    /// Memory per task, in Slurm's syntax (e.g. 32G).
    #[arg(long, value_name = "M")]
    pub mem: Option<String>,
    /// Time limit per task, in Slurm's syntax (e.g. 04:00:00).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// At most M array tasks at once (`--array=...%M`).
    #[arg(long, value_name = "M")]
    pub max_concurrent: Option<u32>,
    /// Number of array tasks (shards); default min(cells, 100).
    #[arg(long, value_name = "N")]
    pub tasks: Option<usize>,
    /// Device for the tasks; default: the grid's `device`.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<Device>,
    /// Cells run at the same time within one task.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Make the tasks run failed cells again.
    #[arg(long)]
    pub retry_failed: bool,
    /// Where to write the script; default <output>/slurm/<name>.sbatch.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Submit the script with sbatch after writing it.
    #[arg(long)]
    pub submit: bool,
}

/// Writes the script; returns what to print (its path, and the job id when submitted).
pub fn run(args: &SlurmArgs) -> Result<String> {
    let grid = args.grid.load()?;
    let opts = SlurmOptions {
        partition: args.partition.clone(),
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        mem: args.mem.clone(),
        time: args.time.clone(),
        max_concurrent: args.max_concurrent,
        tasks: args.tasks,
        device: args.device.unwrap_or(grid.device),
        jobs: args.jobs,
        retry_failed: args.retry_failed,
    };
    let workdir = std::env::current_dir().context("cannot read the current folder")?;
    let exe = std::env::current_exe().context("cannot find the dmlft binary")?;
    let script = crate::slurm::render(&grid, &opts, &exe, &workdir)?;
    let log_dir = crate::slurm::log_dir(&grid, &workdir);
    std::fs::create_dir_all(&log_dir)
        .with_context(|| format!("cannot create {}", log_dir.display()))?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| log_dir.join(format!("{}.sbatch", grid.name)));
    crate::store::write_atomic(&path, script.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut printed = format!("{}\n", path.display());
    if args.submit {
        let job = submit(&path)
            .with_context(|| format!("{} was written but not submitted", path.display()))?;
        printed += &format!("submitted job {job}\n");
    }
    Ok(printed)
}

/// `sbatch --parsable SCRIPT`; returns the job id.
fn submit(script: &Path) -> Result<String> {
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .context("cannot run sbatch (is Slurm installed?)")?;
    if !out.status.success() {
        bail!(
            "sbatch failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
