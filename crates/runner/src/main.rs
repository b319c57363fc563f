//! The `dmlft` command line.

use anyhow::Result;
use clap::{Parser, Subcommand};
use dmlft::commands::grid_args::{DataChangeArg, GridArgs};
use dmlft::commands::{self, run::RunArgs, slurm::SlurmArgs};
use dmlft::grid::Device;
use dmlft::report::{Format, ReportOptions};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Run a grid's `[search]`: the same number of drawn trials for every method (then
    /// `dmlft report OUTPUT --select trial`).
    Search(commands::search::SearchArgs),
    /// Show a grid's cells, how many are done or failed, and an estimate of the cost.
    Plan(PlanArgs),
    /// Write (and optionally submit) a Slurm job-array script that runs a grid in shards.
    Slurm(SlurmArgs),
    /// Break cell locks left by runners that are gone (another host's locks need --host or
    /// --older-than: they cannot be checked from here).
    Unlock(commands::unlock::UnlockArgs),
    /// Tables (Markdown, CSV, LaTeX, JSON) of the done cells of a results folder.
    Report(ReportArgs),
    /// Look at the data: statistics, few-shot samples, checksums.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Sentence vectors of texts from a BERT / RoBERTa checkpoint.
    Embed(commands::embed::EmbedArgs),
    /// Token attributions (Integrated Gradients) of one or more fine-tuned models, as JSON and HTML.
    Explain(commands::explain::ExplainArgs),
    /// Embedding maps (PCA, t-SNE), decile analyses and embedding-space metrics of fine-tuned models.
    Analyze(commands::analyze::AnalyzeArgs),
    /// Classify texts with a saved model (head, proxy or mix inference) as JSONL, CSV or a table.
    Predict(commands::predict::PredictArgs),
    /// What a bug report needs: version, commit, backends, CPU, GPUs and drivers, data and model paths.
    Env {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
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
    /// Measure this machine's speed on the device again (a probe of a few seconds) instead of
    /// reading the cached calibration (GPUs are calibrated only when asked).
    #[arg(long)]
    calibrate: bool,
    #[command(flatten)]
    data_change: DataChangeArg,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A results folder (`results/<grid>`).
    results_dir: PathBuf,
    /// Loss variant to compare against; default `ce`, else the first loss without DML terms.
    #[arg(long, value_name = "LOSS")]
    baseline: Option<String>,
    /// Metric to tabulate (accuracy and macro-F1 are always tabulated beside it): `task` is
    /// each task's conventional one (F1 of the positive class for MRPC, as GLUE; accuracy
    /// elsewhere), `positive_f1` the positive class's F1 of binary tasks.
    #[arg(long, value_enum, default_value_t = dmlft_eval::Metric::Accuracy)]
    metric: dmlft_eval::Metric,
    /// The comparisons one Holm correction runs over: `all` of them, each method's own
    /// (`per-method`), or the head predictions of every method (`primary`; the proxy and mixed
    /// rows are a secondary family, listed apart). Named in every caption.
    #[arg(long, value_enum, default_value_t = dmlft_eval::report::HolmFamily::All)]
    holm_family: dmlft_eval::report::HolmFamily,
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
    /// Choose this swept setting (e.g. `lr`) on the dev examples: per dataset, shots and loss,
    /// report only the value with the best mean dev metric (needs `dev_shots`).
    #[arg(long, value_name = "AXIS")]
    select: Option<String>,
    /// Also export every cell (done and failed) as one run to the MLflow tracking server at URL
    /// (e.g. http://127.0.0.1:5000): params, metrics, training curves, tags. Runs already
    /// exported from the same record are skipped; a re-run cell's run is replaced.
    #[cfg(feature = "mlflow")]
    #[arg(long, value_name = "URL")]
    to_mlflow: Option<String>,
    /// MLflow experiment to export into (created if missing); default: the grid's name.
    #[cfg(feature = "mlflow")]
    #[arg(long, value_name = "NAME", requires = "to_mlflow")]
    mlflow_experiment: Option<String>,
    #[command(flatten)]
    data_change: DataChangeArg,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Counts per split and label (and token lengths with --tokenizer).
    Stats {
        /// A SentEval task (mr, cr, subj, mpqa, sst2, sst5, trec, mrpc, sick-e), a Hugging Face
        /// preset (setfit/emotion, banking77, ...) or an inline TOML table as in a grid's
        /// `datasets` (docs/DATASETS.md).
        #[arg(value_parser = commands::data::parse_dataset)]
        task: dmlft_data::spec::DatasetSpec,
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
        /// A dataset, as for `dmlft data stats`.
        #[arg(value_parser = commands::data::parse_dataset)]
        task: dmlft_data::spec::DatasetSpec,
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
            eprintln!("{}", error_report(&err));
            ExitCode::from(1)
        }
    }
}

/// `error: ...` and one `caused by:` line per cause (see [`dmlft::error_chain`]).
fn error_report(err: &anyhow::Error) -> String {
    dmlft::error_chain::report(err.as_ref())
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

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run(args) => commands::run::run(&args),
        Command::Search(args) => commands::search::run(&args),
        Command::Plan(args) => {
            let grid = args.grid.load()?;
            let plan = commands::plan::build(
                &grid,
                args.device.unwrap_or(grid.device),
                args.data_change.allow_data_change,
                args.calibrate,
            )?;
            if args.json {
                out(&(serde_json::to_string_pretty(&plan)? + "\n"));
            } else {
                out(&commands::plan::render_text(&plan));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Slurm(args) => {
            out(&commands::slurm::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Unlock(args) => {
            out(&commands::unlock::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let opts = ReportOptions {
                baseline: args.baseline,
                metric: args.metric,
                formats: args.format,
                plots: args.plots,
                html: args.html,
                out: args.out,
                allow_data_change: args.data_change.allow_data_change,
                select: args.select,
                holm_family: args.holm_family,
            };
            // a malformed tracking URL is refused before any report file is written
            #[cfg(feature = "mlflow")]
            if let Some(url) = &args.to_mlflow {
                dmlft::report::mlflow::client::MlflowClient::new(url)?;
            }
            let report = dmlft::report::run(&args.results_dir, &opts)?;
            out(&report.markdown);
            for path in report.written {
                tracing::info!("wrote {}", path.display());
            }
            for warning in report.warnings {
                eprintln!("warning: {warning}");
            }
            #[cfg(feature = "mlflow")]
            if let Some(url) = &args.to_mlflow {
                let summary = dmlft::report::mlflow::export(
                    &args.results_dir,
                    url,
                    args.mlflow_experiment.as_deref(),
                )?;
                eprintln!("exported to {summary}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Data { command } => data(command),
        Command::Embed(args) => {
            out(&commands::embed::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            commands::explain::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            commands::analyze::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict(args) => {
            out(&commands::predict::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Env { json } => {
            let report = commands::env::collect();
            if json {
                out(&(serde_json::to_string_pretty(&report)? + "\n"));
            } else {
                out(&commands::env::render_text(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn data(command: DataCommand) -> Result<ExitCode> {
    use commands::data as d;
    match command {
        DataCommand::Stats {
            task,
            data_dir: dir,
            tokenizer,
            json,
        } => {
            out(&d::stats(
                &task,
                &data_dir(dir),
                tokenizer.as_deref(),
                json,
            )?);
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
            out(&d::sample(&task, &data_dir(dir), &a, json)?);
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

#[cfg(test)]
mod tests {
    use super::error_report;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read f.json")]
    struct Read {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn every_cause_gets_its_own_line() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let read = anyhow::Error::new(Read { source: io() });
        assert_eq!(
            error_report(&read),
            "error: cannot read f.json\n  caused by: gone"
        );
        let chained = anyhow::Error::new(io()).context("cannot draw the sample");
        assert_eq!(
            error_report(&chained),
            "error: cannot draw the sample\n  caused by: gone"
        );
    }
}
