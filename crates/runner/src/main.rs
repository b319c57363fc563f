//! The `dmlft` command line.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use dmlft::exec::{run_grid, CellExecutor, FakeExecutor, RunOptions, Shard, TrainingExecutor};
use dmlft::grid::{load_grid, Device, LoadOptions};
use dmlft::report::{Format, ReportOptions};
use dmlft::slurm::SlurmOptions;
use dmlft::store::ResultsStore;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The exit code of `run` when the grid is incomplete because cells failed (now or earlier).
const EXIT_FAILED_CELLS: u8 = 2;

/// mimalloc reuses the large, short-lived tensor buffers of a training step instead of returning
/// them to the kernel (about -17% CPU time per step, docs/SPEED.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Few-shot fine-tuning studies with Distance Metric Learning losses: declare a grid in TOML,
/// plan it, run it (locally, sharded or on Slurm), report it.
#[derive(Parser)]
#[command(name = "dmlft", version, propagate_version = true)]
struct Cli {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cells of a grid that are not done yet (finished cells are skipped).
    Run(RunArgs),
    /// Show a grid's cells, how many are done or failed, and an estimate of the cost.
    Plan(PlanArgs),
    /// Write (and optionally submit) a Slurm job-array script that runs a grid in shards.
    Slurm(SlurmArgs),
    /// Tables (Markdown, CSV, LaTeX, JSON) of the done cells of a results folder.
    Report(ReportArgs),
    /// Look at the data: statistics, few-shot samples, checksums.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Sentence vectors of texts from a BERT / RoBERTa checkpoint.
    Embed(dmlft::commands::embed::EmbedArgs),
    /// Token attributions (Integrated Gradients) of one or more fine-tuned models, as JSON and HTML.
    Explain(dmlft::commands::explain::ExplainArgs),
    /// Embedding maps (PCA, t-SNE), decile analyses and embedding-space metrics of fine-tuned models.
    Analyze(dmlft::commands::analyze::AnalyzeArgs),
    /// Classify texts with a saved model (head, proxy or mix inference) as JSONL, CSV or a table.
    Predict(dmlft::commands::predict::PredictArgs),
    /// What a bug report needs: version, commit, backends, CPU, GPUs and drivers, data and model paths.
    Env {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct GridArgs {
    /// The grid file (TOML).
    grid: PathBuf,
    /// SentEval data folder; overrides the grid's `data_root` and DMLFT_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct DataChangeArg {
    /// Keep and use results computed on other data (records whose data fingerprint differs
    /// from the data read now) instead of refusing to mix them.
    #[arg(long)]
    allow_data_change: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    grid: GridArgs,
    /// Device to train on (cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N); default: the grid's
    /// `device`, else cpu.
    #[arg(long, value_name = "DEVICE")]
    device: Option<Device>,
    /// Cells run at the same time (threads).
    #[arg(long, default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// Run only the cells whose index in the expansion order is I mod N (0 <= I < N).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Run failed cells again (by default a failed cell is skipped).
    #[arg(long)]
    retry_failed: bool,
    /// Run at most N cells in this invocation.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Save each cell's fine-tuned model under RESULTS/models/<cell id>/ (for explain / analyze).
    #[arg(long)]
    save_models: bool,
    #[command(flatten)]
    data_change: DataChangeArg,
}

#[derive(clap::Args)]
struct PlanArgs {
    #[command(flatten)]
    grid: GridArgs,
    /// Device for the time estimate; default: the grid's `device`.
    #[arg(long, value_name = "DEVICE")]
    device: Option<Device>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data_change: DataChangeArg,
}

#[derive(clap::Args)]
struct SlurmArgs {
    #[command(flatten)]
    grid: GridArgs,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// GPUs per array task.
    #[arg(long, value_name = "N")]
    gpus_per_task: Option<u32>,
    /// CPUs per array task.
    #[arg(long, value_name = "N")]
    cpus_per_task: Option<u32>,
    /// Memory per task, in Slurm's syntax (e.g. 32G).
    #[arg(long, value_name = "M")]
    mem: Option<String>,
    /// Time limit per task, in Slurm's syntax (e.g. 04:00:00).
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// At most M array tasks at once (`--array=...%M`).
    #[arg(long, value_name = "M")]
    max_concurrent: Option<u32>,
    /// Number of array tasks (shards); default min(cells, 100).
    #[arg(long, value_name = "N")]
    tasks: Option<usize>,
    /// Device for the tasks; default: the grid's `device`.
    #[arg(long, value_name = "DEVICE")]
    device: Option<Device>,
    /// Cells run at the same time within one task.
    #[arg(long, default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// Make the tasks run failed cells again.
    #[arg(long)]
    retry_failed: bool,
    /// Where to write the script; default <output>/slurm/<name>.sbatch.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Submit the script with sbatch after writing it.
    #[arg(long)]
    submit: bool,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A results folder (`results/<grid>`).
    results_dir: PathBuf,
    /// Loss variant to compare against; default `ce`, else the first loss without DML terms.
    #[arg(long, value_name = "LOSS")]
    baseline: Option<String>,
    /// Metric to tabulate: accuracy, macro_f1 or weighted_f1.
    #[arg(long, default_value = "accuracy")]
    metric: String,
    /// Files to write into the report folder (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "md,csv,tex,json"
    )]
    format: Vec<Format>,
    /// Also draw plots (every run with means and CIs, difference to the baseline, training
    /// curves) as SVG and PNG.
    #[arg(long)]
    plots: bool,
    /// Also write report.html: the whole study as one self-contained page (sortable tables,
    /// figures, training curves, failed cells), readable offline in any browser.
    #[arg(long)]
    html: bool,
    /// Report folder; default RESULTS_DIR/report.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    data_change: DataChangeArg,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Counts per split and label (and token lengths with --tokenizer).
    Stats {
        /// Task name: mr, cr, subj, mpqa, sst2, sst5, trec, mrpc, sick-e.
        #[arg(value_parser = dmlft::commands::data::parse_task)]
        task: dmlft_data::spec::TaskName,
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// A folder with tokenizer.json, for token-length statistics.
        #[arg(long, value_name = "DIR")]
        tokenizer: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The few-shot sample a cell would train on: indices and texts.
    Sample {
        #[arg(value_parser = dmlft::commands::data::parse_task)]
        task: dmlft_data::spec::TaskName,
        /// kfold: shots in total from the other folds; per-class: shots per class.
        #[arg(long, value_parser = ["kfold", "per-class"])]
        protocol: String,
        #[arg(long)]
        shots: usize,
        #[arg(long)]
        seed: u64,
        /// Held-out fold (kfold; default 0).
        #[arg(long)]
        fold: Option<usize>,
        /// Number of folds (kfold).
        #[arg(long, default_value_t = 4)]
        folds: usize,
        /// The papers' authors' pool (mr, cr, subj, mpqa, sst2, trec, mrpc) and, with kfold, their
        /// exact NumPy draws: the examples the authors trained on (docs/AUTHORS-SAMPLES.md).
        #[arg(long)]
        authors: bool,
        /// With --authors: the seed of the authors' pool shuffle (42 as released, 2048 as their
        /// notebooks show).
        #[arg(long, value_name = "S")]
        shuffle_seed: Option<u64>,
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check the data folder's files against its SHA256SUMS.
    Verify {
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    dmlft::exec::panic_guard::install_hook();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => {
            let mut msg = format!("error: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}

/// Writes to stdout; a closed pipe (`dmlft plan | head`) ends the program quietly.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

fn data_dir(arg: Option<PathBuf>) -> PathBuf {
    dmlft_data::senteval::resolve_data_root(arg.as_deref())
}

fn load(args: &GridArgs) -> Result<dmlft::grid::Grid> {
    let opts = LoadOptions {
        data_dir: args.data_dir.clone(),
        check_data: true,
    };
    Ok(load_grid(&args.grid, &opts)?)
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run(args) => run(args),
        Command::Plan(args) => {
            let grid = load(&args.grid)?;
            let plan = dmlft::commands::plan::build(
                &grid,
                args.device.unwrap_or(grid.device),
                args.data_change.allow_data_change,
            )?;
            if args.json {
                out(&(serde_json::to_string_pretty(&plan)? + "\n"));
            } else {
                out(&dmlft::commands::plan::render_text(&plan));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Slurm(args) => slurm(args),
        Command::Report(args) => {
            let opts = ReportOptions {
                baseline: args.baseline,
                metric: args.metric,
                formats: args.format,
                plots: args.plots,
                html: args.html,
                out: args.out,
                allow_data_change: args.data_change.allow_data_change,
            };
            let report = dmlft::report::run(&args.results_dir, &opts)?;
            out(&report.markdown);
            for path in report.written {
                tracing::info!("wrote {}", path.display());
            }
            for warning in report.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Data { command } => data(command),
        Command::Embed(args) => {
            out(&dmlft::commands::embed::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            dmlft::commands::explain::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            dmlft::commands::analyze::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict(args) => {
            out(&dmlft::commands::predict::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Env { json } => {
            let report = dmlft::commands::env::collect();
            if json {
                out(&(serde_json::to_string_pretty(&report)? + "\n"));
            } else {
                out(&dmlft::commands::env::render_text(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run(args: RunArgs) -> Result<ExitCode> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let grid = load(&args.grid)?;
    let store = ResultsStore::create(&grid.output).with_context(|| {
        format!(
            "cannot prepare the results folder {}",
            grid.output.display()
        )
    })?;
    let device = args.device.unwrap_or(grid.device);
    let executor: Arc<dyn CellExecutor> = match FakeExecutor::from_env() {
        Some(fake) => Arc::new(fake),
        None => {
            // A missing driver or GPU is one error here, not a failure recorded for every cell.
            device.check_available()?;
            Arc::new(TrainingExecutor {
                save_root: args.save_models.then(|| grid.output.join("models")),
            })
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    dmlft::signals::install(cancel.clone()).context("cannot install the Ctrl-C handler")?;
    let opts = RunOptions {
        jobs: args.jobs,
        shard: args.shard,
        retry_failed: args.retry_failed,
        limit: args.limit,
        device,
        progress: true,
        allow_data_change: args.data_change.allow_data_change,
    };
    let summary = run_grid(&grid, &store, executor, &opts, cancel.clone())?;
    let shard = opts
        .shard
        .map(|s| format!(" (shard {s})"))
        .unwrap_or_default();
    let unreadable = match summary.unreadable.len() {
        0 => String::new(),
        n => format!(", {n} with an unreadable record (run again)"),
    };
    let verdict = if cancel.load(Ordering::SeqCst) {
        "interrupted".to_string()
    } else if summary.failures() > 0 {
        format!(
            "grid incomplete: {} failed cell(s) ({} in this run, {} from earlier runs); `dmlft report {}` lists them, --retry-failed runs them again",
            summary.failures(),
            summary.failed,
            summary.skipped_failed,
            grid.output.display()
        )
    } else if summary.locked > 0 || summary.not_run > 0 {
        "cells left for other runners or later runs".to_string()
    } else {
        "complete".to_string()
    };
    eprintln!(
        "{}{shard}: {} cells; {} succeeded, {} failed, {} done before, {} failed before (skipped){unreadable}, {} running elsewhere, {} not run; {verdict}",
        grid.name, summary.selected, summary.succeeded, summary.failed, summary.already_done, summary.skipped_failed, summary.locked, summary.not_run
    );
    if cancel.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(130));
    }
    Ok(if summary.failures() > 0 {
        ExitCode::from(EXIT_FAILED_CELLS)
    } else {
        ExitCode::SUCCESS
    })
}

fn slurm(args: SlurmArgs) -> Result<ExitCode> {
    let grid = load(&args.grid)?;
    let opts = SlurmOptions {
        partition: args.partition,
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        mem: args.mem,
        time: args.time,
        max_concurrent: args.max_concurrent,
        tasks: args.tasks,
        device: args.device.unwrap_or(grid.device),
        jobs: args.jobs,
        retry_failed: args.retry_failed,
    };
    let workdir = std::env::current_dir().context("cannot read the current folder")?;
    let exe = std::env::current_exe().context("cannot find the dmlft binary")?;
    let script = dmlft::slurm::render(&grid, &opts, &exe, &workdir)?;
    let log_dir = dmlft::slurm::log_dir(&grid, &workdir);
    std::fs::create_dir_all(&log_dir)
        .with_context(|| format!("cannot create {}", log_dir.display()))?;
    let path = args
        .output
        .unwrap_or_else(|| log_dir.join(format!("{}.sbatch", grid.name)));
    dmlft::store::write_atomic(&path, script.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    out(&format!("{}\n", path.display()));
    if args.submit {
        submit(&path)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn submit(script: &Path) -> Result<()> {
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
    self::out(&format!(
        "submitted job {}\n",
        String::from_utf8_lossy(&out.stdout).trim()
    ));
    Ok(())
}

fn data(command: DataCommand) -> Result<ExitCode> {
    use dmlft::commands::data as d;
    match command {
        DataCommand::Stats {
            task,
            data_dir: dir,
            tokenizer,
            json,
        } => {
            out(&d::stats(task, &data_dir(dir), tokenizer.as_deref(), json)?);
        }
        DataCommand::Sample {
            task,
            protocol,
            shots,
            seed,
            fold,
            folds,
            authors,
            shuffle_seed,
            data_dir: dir,
            json,
        } => {
            let a = d::SampleArgs {
                kfold: protocol == "kfold",
                shots,
                seed,
                fold,
                folds,
                authors,
                shuffle_seed,
            };
            out(&d::sample(task, &data_dir(dir), &a, json)?);
        }
        DataCommand::Verify { data_dir: dir } => {
            let (text, ok) = d::verify(&data_dir(dir))?;
            out(&text);
            if !ok {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
