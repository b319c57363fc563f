//! `dmlft explain`: token attributions by Integrated Gradients for one or more saved models on
//! the same sentences (given on the command line or sampled from a task), written as JSON and as
//! a self-contained HTML page with the models side by side.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
use dmlft_data::{load_task, sample_split, Example};
use dmlft_eval::analysis::attribution::{Attributions, Baseline, IgConfig, RiemannRule};
use dmlft_eval::analysis::explain_html::{
    render_html, ExplainReport, ExplainedSentence, ModelExplanation,
};
use dmlft_pooling::Pooling;
use dmlft_train::analysis::integrated_gradients::explain_examples;
use dmlft_train::saved_model::SavedModel;
use dmlft_train::DeviceChoice;

#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// A saved fine-tuned model folder, as DIR or NAME=DIR (NAME defaults to the folder name).
    /// Repeat to compare models on the same sentences.
    #[arg(long = "model", value_name = "[NAME=]DIR", required = true)]
    pub models: Vec<String>,
    /// Sentences to explain (or use --task).
    #[arg(value_name = "TEXT")]
    pub texts: Vec<String>,
    /// Explain sentences sampled from this task's evaluation pool (mr, cr, subj, ...).
    #[arg(long, value_parser = super::data::parse_task, conflicts_with = "texts")]
    pub task: Option<TaskName>,
    /// Number of sentences to sample with --task.
    #[arg(long, default_value_t = 6)]
    pub sample: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// SentEval root (default: $DMLFT_DATA_DIR, else datasets/senteval).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Riemann intervals of the path integral.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    #[arg(long, value_enum, default_value_t = BaselineArg::Pad)]
    pub baseline: BaselineArg,
    #[arg(long, value_enum, default_value_t = RuleArg::Midpoint)]
    pub rule: RuleArg,
    /// Attribute this class's logit (index) instead of the predicted class's.
    #[arg(long, value_name = "K")]
    pub class: Option<usize>,
    /// Interpolation points per forward/backward batch.
    #[arg(long, default_value_t = 16)]
    pub ig_batch: usize,
    #[command(flatten)]
    pub input: ModelInputArgs,
    /// Output folder for explain.json and explain.html.
    #[arg(long, value_name = "DIR", default_value = "explain")]
    pub out: PathBuf,
    /// Also print the JSON report on stdout.
    #[arg(long)]
    pub json: bool,
    /// cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineArg {
    Pad,
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleArg {
    Midpoint,
    Trapezoid,
}

pub fn parse_device(s: &str) -> Result<DeviceChoice, String> {
    s.parse()
}

/// `NAME=DIR` or `DIR` (named after the folder). A path may hold `=` itself
/// (`results/lr=1e-5/model`): an existing folder is taken whole, and a NAME has no `/`.
pub fn parse_model_arg(arg: &str) -> (String, PathBuf) {
    let named = arg.split_once('=').filter(|(name, dir)| {
        !name.is_empty()
            && !dir.is_empty()
            && !name.contains(['/', '\\'])
            && !Path::new(arg).is_dir()
    });
    match named {
        Some((name, dir)) => (name.to_string(), PathBuf::from(dir)),
        None => {
            let dir = PathBuf::from(arg);
            let name = dir
                .file_name()
                .map_or_else(|| arg.to_string(), |n| n.to_string_lossy().into_owned());
            (name, dir)
        }
    }
}

/// The SentEval root: the flag, else `$DMLFT_DATA_DIR`, else `datasets/senteval`.
pub fn resolve_data_dir(arg: Option<&Path>) -> PathBuf {
    dmlft_data::senteval::resolve_data_root(arg)
}

/// The task's evaluation pool under the per-class protocol (the official test split, or the
/// fixed 20% held-out part for MR, CR, SUBJ, MPQA; never a per-class cell's training examples),
/// and the class names. At most `limit` examples: a seeded subset kept in pool order.
pub fn task_examples(
    task: TaskName,
    data_dir: &Path,
    limit: Option<usize>,
    seed: u64,
) -> Result<(Vec<Example>, Vec<String>)> {
    let loaded = load_task(&DatasetSpec::SentEval(task), data_dir)
        .with_context(|| format!("cannot load task {task} from {}", data_dir.display()))?;
    let request = SplitRequest {
        protocol: ProtocolSpec::PerClass { dev_shots: 0 },
        shots: 1,
        seed,
        fold: None,
    };
    let eval = sample_split(&loaded, &request)
        .context("cannot form the evaluation pool")?
        .eval;
    let examples = dmlft_train::setup::eval_subset(eval, limit, seed);
    Ok((examples, loaded.label_names))
}

/// How a saved model folder reads its input: shared by `explain` and `analyze`.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelInputArgs {
    /// Head input, overriding the model folders' cell.json (default: first).
    #[arg(long, value_enum)]
    pub head_pooling: Option<Pooling>,
    /// Tokenizer folder, for model folders without tokenizer files.
    #[arg(long, value_name = "DIR")]
    pub tokenizer: Option<PathBuf>,
    /// Truncation length in tokens (default: the one each model was trained with).
    #[arg(long, value_name = "N")]
    pub max_length: Option<usize>,
}

pub fn run(args: ExplainArgs) -> Result<()> {
    let config = IgConfig {
        steps: args.steps,
        rule: match args.rule {
            RuleArg::Midpoint => RiemannRule::Midpoint,
            RuleArg::Trapezoid => RiemannRule::Trapezoid,
        },
        baseline: match args.baseline {
            BaselineArg::Pad => Baseline::Pad,
            BaselineArg::Zero => Baseline::Zero,
        },
        target: args.class,
        batch: args.ig_batch,
    };
    let (examples, true_names) = match (&args.task, args.texts.is_empty()) {
        (Some(task), _) => {
            let dir = resolve_data_dir(args.data_dir.as_deref());
            let (examples, names) = task_examples(*task, &dir, Some(args.sample), args.seed)?;
            (examples, Some(names))
        }
        (None, false) => (
            args.texts
                .iter()
                .map(|t| Example::new(t.clone(), 0))
                .collect(),
            None,
        ),
        (None, true) => {
            bail!("nothing to explain: give sentences as arguments or --task TASK [--sample N]")
        }
    };
    if examples.is_empty() {
        bail!("nothing to explain: the sample is empty");
    }
    let mut sentences: Vec<ExplainedSentence> = examples
        .iter()
        .map(|e| ExplainedSentence {
            text: e.text.clone(),
            label: true_names.as_ref().map(|n| {
                n.get(e.label)
                    .cloned()
                    .unwrap_or_else(|| e.label.to_string())
            }),
            models: Vec::new(),
        })
        .collect();
    let mut names = Vec::new();
    for arg in &args.models {
        let (name, dir) = parse_model_arg(arg);
        let saved = SavedModel::open(
            &dir,
            args.input.head_pooling,
            args.input.tokenizer.as_deref(),
        )
        .and_then(|saved| saved.with_max_length(args.input.max_length))
        .with_context(|| format!("model {name}"))?;
        if let Some(k) = args.class.filter(|&k| k >= saved.num_labels()) {
            bail!(
                "--class {k}: model {name} has {} classes ({})",
                saved.num_labels(),
                saved.label_names.join(", ")
            );
        }
        tracing::info!(
            "explaining {} sentences with {name} ({:?} pooling)",
            examples.len(),
            saved.head_pooling
        );
        let explained =
            explain_on_device(args.device, &saved, &examples, saved.max_length, &config)
                .with_context(|| format!("model {name}"))?;
        let tokenizer = saved.tokenizer()?;
        for (sentence, ig) in sentences.iter_mut().zip(explained) {
            let token = |id: u32| tokenizer.inner().id_to_token(id);
            sentence
                .models
                .push(ModelExplanation::new(&name, ig, &saved.label_names, token));
        }
        names.push(name);
    }
    let report = ExplainReport {
        config,
        models: names,
        sentences,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let json = serde_json::to_string_pretty(&report)? + "\n";
    let (json_path, html_path) = (args.out.join("explain.json"), args.out.join("explain.html"));
    std::fs::write(&json_path, &json)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    std::fs::write(&html_path, render_html(&report))
        .with_context(|| format!("cannot write {}", html_path.display()))?;
    let worst = report
        .sentences
        .iter()
        .flat_map(|s| &s.models)
        .map(|m| m.ig.completeness_error.abs())
        .fold(0.0f64, f64::max);
    tracing::info!(
        "wrote {} and {} (largest completeness error {worst:.2e})",
        json_path.display(),
        html_path.display()
    );
    if args.json {
        print!("{json}");
    }
    Ok(())
}

fn explain_on_device(
    device: DeviceChoice,
    saved: &SavedModel,
    examples: &[Example],
    max_length: usize,
    config: &IgConfig,
) -> Result<Vec<Attributions>> {
    let job = ExplainJob {
        saved,
        examples,
        max_length,
        config,
    };
    device.dispatch(dmlft_model::Precision::F32, job)?
}

/// `explain_with` for the backend the device selects.
struct ExplainJob<'a> {
    saved: &'a SavedModel,
    examples: &'a [Example],
    max_length: usize,
    config: &'a IgConfig,
}

impl dmlft_train::device::BackendJob for ExplainJob<'_> {
    type Output = Result<Vec<Attributions>>;

    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        explain_with::<B>(
            self.saved,
            self.examples,
            self.max_length,
            self.config,
            device,
        )
    }
}

fn explain_with<B: AutodiffBackend>(
    saved: &SavedModel,
    examples: &[Example],
    max_length: usize,
    config: &IgConfig,
    device: &B::Device,
) -> Result<Vec<Attributions>> {
    let model = saved.load::<B>(device)?;
    let tokenizer = saved.tokenizer()?;
    Ok(explain_examples(
        &model,
        saved.head_pooling,
        &tokenizer,
        examples,
        max_length,
        config,
        device,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_args_with_equals_signs_in_paths() {
        assert_eq!(
            parse_model_arg("base=runs/a/model"),
            ("base".into(), PathBuf::from("runs/a/model"))
        );
        // `=` inside a path is part of the path.
        assert_eq!(
            parse_model_arg("results/lr=1e-5/model"),
            ("model".into(), PathBuf::from("results/lr=1e-5/model"))
        );
        assert_eq!(
            parse_model_arg("tuned=results/lr=1e-5/model"),
            ("tuned".into(), PathBuf::from("results/lr=1e-5/model"))
        );
        // An existing folder whose own name holds `=` (here in the current folder) is that folder.
        let dir = tempfile::Builder::new()
            .prefix("lr=")
            .tempdir_in(".")
            .unwrap();
        let arg = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(parse_model_arg(&arg), (arg.clone(), PathBuf::from(&arg)));
        assert_eq!(
            parse_model_arg("plain"),
            ("plain".into(), PathBuf::from("plain"))
        );
    }
}
