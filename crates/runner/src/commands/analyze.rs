//! `dmlft analyze`: embedding analysis of one or more saved models on a task's evaluation pool:
//! PCA and t-SNE maps (first-token and mean embeddings, coloured by true label, errors marked),
//! accuracy by decile of distance to the mean embedding and of sentence length (Markdown tables
//! and plots), and embedding-space metrics (Markdown and JSON).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::Backend;
use clap::Args;
use dmlft_data::spec::TaskName;
use dmlft_data::Example;
use dmlft_eval::analysis::maps::Projection;
use dmlft_eval::analysis::outputs::NamedOutputs;
use dmlft_eval::analysis::pipeline::{analyze, AnalyzeOptions, DistanceSpace};
use dmlft_eval::plots::PlotOptions;
use dmlft_pooling::Pooling;
use dmlft_train::analysis::embeddings::outputs_of_saved;
use dmlft_train::saved_model::SavedModel;
use dmlft_train::DeviceChoice;

use super::explain::{parse_device, parse_model_arg, resolve_data_dir, task_examples};

#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// A saved fine-tuned model folder, as NAME=DIR or DIR (NAME defaults to the folder name).
    /// Repeat to compare models.
    #[arg(long = "model", value_name = "NAME=DIR", required = true)]
    pub models: Vec<String>,
    /// Task whose evaluation pool is analysed (per-class protocol: the official test split, or
    /// the fixed 20% held-out part for mr, cr, subj, mpqa).
    #[arg(long, value_parser = super::data::parse_task)]
    pub task: TaskName,
    /// Analyse at most N examples (a seeded subset; with a cell's seed and eval_limit, exactly
    /// the examples that cell was evaluated on).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Seed of the --limit subset and of t-SNE.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// SentEval root (default: $DMLFT_DATA_DIR, else datasets/senteval).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "analysis")]
    pub out: PathBuf,
    /// Distances to the mean in this model's space for every model (the papers' notebook used
    /// the CE model); default: each model's own space.
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,
    /// Sentence vector for the distances (default: the one the head reads).
    #[arg(long, value_enum)]
    pub distance_embedding: Option<Pooling>,
    /// Number of equal-size groups.
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// k of the k-NN accuracy.
    #[arg(long, default_value_t = 10)]
    pub knn: usize,
    /// Skip t-SNE (O(n^2) per iteration) and draw PCA maps only.
    #[arg(long)]
    pub no_tsne: bool,
    #[command(flatten)]
    pub input: super::explain::ModelInputArgs,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Plot size in pixels.
    #[arg(long, default_value_t = 800)]
    pub width: u32,
    #[arg(long, default_value_t = 600)]
    pub height: u32,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceChoice,
}

pub fn run(args: AnalyzeArgs) -> Result<()> {
    let data_dir = resolve_data_dir(args.data_dir.as_deref());
    let (examples, label_names) = task_examples(args.task, &data_dir, args.limit, args.seed)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut outputs = Vec::new();
    for arg in &args.models {
        let (name, dir) = parse_model_arg(arg);
        if !seen.insert(name.clone()) {
            bail!("two models are named `{name}`: name them with NAME=DIR");
        }
        let saved = SavedModel::open(
            &dir,
            args.input.head_pooling,
            args.input.tokenizer.as_deref(),
        )
        .and_then(|saved| saved.with_max_length(args.input.max_length))
        .with_context(|| format!("model {name}"))?;
        if saved.num_labels() != label_names.len() {
            bail!(
                "model {name} has {} classes ({}), task {} has {} ({})",
                saved.num_labels(),
                saved.label_names.join(", "),
                args.task,
                label_names.len(),
                label_names.join(", ")
            );
        }
        tracing::info!(
            "embedding {} examples with {name} ({:?} pooling)",
            examples.len(),
            saved.head_pooling
        );
        outputs.push(
            outputs_on_device(args.device, &name, &saved, &examples, &args)
                .with_context(|| format!("model {name}"))?,
        );
    }
    let options = AnalyzeOptions {
        groups: args.groups,
        distance_space: args
            .reference
            .clone()
            .map_or(DistanceSpace::Own, DistanceSpace::Reference),
        distance_embedding: args.distance_embedding,
        knn_k: args.knn,
        projections: if args.no_tsne {
            vec![Projection::Pca]
        } else {
            vec![Projection::Pca, Projection::Tsne]
        },
        seed: args.seed,
        plot: PlotOptions {
            width: args.width,
            height: args.height,
            ..PlotOptions::default()
        },
    };
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let report = analyze(&outputs, &texts, &labels, &label_names, &args.out, &options)?;
    for a in &report.accuracies {
        tracing::info!(
            "{}: head accuracy {:.4} on {} examples",
            a.model,
            a.accuracy,
            report.n
        );
    }
    tracing::info!(
        "wrote {} files under {} (summary.md has every table)",
        report.files.len(),
        args.out.display()
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn outputs_on_device(
    device: DeviceChoice,
    name: &str,
    saved: &SavedModel,
    examples: &[Example],
    args: &AnalyzeArgs,
) -> Result<NamedOutputs> {
    let job = OutputsJob {
        name,
        saved,
        examples,
        args,
    };
    device.dispatch(dmlft_model::Precision::F32, job)?
}

/// `outputs_with` (inference only) for the backend the device selects.
struct OutputsJob<'a> {
    name: &'a str,
    saved: &'a SavedModel,
    examples: &'a [Example],
    args: &'a AnalyzeArgs,
}

impl dmlft_train::device::BackendJob for OutputsJob<'_> {
    type Output = Result<NamedOutputs>;

    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        outputs_with::<B::InnerBackend>(self.name, self.saved, self.examples, self.args, device)
    }
}

fn outputs_with<B: Backend>(
    name: &str,
    saved: &SavedModel,
    examples: &[Example],
    args: &AnalyzeArgs,
    device: &B::Device,
) -> Result<NamedOutputs> {
    Ok(outputs_of_saved::<B>(
        name,
        saved,
        examples,
        saved.max_length,
        args.batch_size,
        device,
    )?)
}
