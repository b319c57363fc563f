//! `dmlft predict`: classify texts with a saved model in one inference mode (`head`, `proxy`,
//! `mix:BETA`), from the command line, a CSV/TSV/JSONL/text file or stdin, printed as JSONL,
//! CSV or a table, in input order.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use dmlft_data::spec::FileFormat;
use dmlft_data::Example;
use dmlft_train::predict_saved::{predict_saved, SavedPredictions};
use dmlft_train::saved_model::SavedModel;
use dmlft_train::{DeviceChoice, InferenceMode};
use serde_json::{json, Map, Value};

use super::explain::parse_device;

#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// A saved model folder (`dmlft run --save-models` writes them under RESULTS/models/).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// head, proxy, mix (the beta the cell evaluated) or mix:BETA (0 <= BETA <= 1).
    #[arg(long, default_value = "head")]
    pub mode: String,
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub batch_size: usize,
    /// Texts to classify (or use --input, or pipe one text per line on stdin).
    #[arg(value_name = "TEXT", conflicts_with = "input")]
    pub texts: Vec<String>,
    /// A CSV, TSV, JSONL or text (one per line) file; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Format of --input; default: from its extension (.csv, .tsv, .jsonl/.json, else text);
    /// stdin: text.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// Column (CSV/TSV) or key (JSONL) holding the text.
    #[arg(long, default_value = "text", value_name = "C")]
    pub text_column: String,
    /// Column or key holding the second text of sentence-pair tasks.
    #[arg(long, value_name = "C2")]
    pub text_pair_column: Option<String>,
    /// Output: jsonl, csv or table; default: table on a terminal, else jsonl.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Tokenizer folder, for model folders without tokenizer files.
    #[arg(long, value_name = "DIR")]
    pub tokenizer: Option<PathBuf>,
    /// cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Tsv,
    Jsonl,
    /// One text per line (blank lines skipped).
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Table,
}

/// `head`, `proxy`, `mix:BETA` ([`InferenceMode`]'s one-word forms) or `mix` alone, which
/// takes `default_beta` (the cell's).
pub fn parse_mode(s: &str, default_beta: Option<f64>) -> Result<InferenceMode> {
    if s == "mix" {
        return match default_beta {
            Some(beta) => Ok(InferenceMode::Mix { beta }),
            None => bail!(
                "--mode mix: the model folder records no mix beta (loss.json inference.mix_beta): give one, e.g. --mode mix:0.5"
            ),
        };
    }
    s.parse::<InferenceMode>()
        .map_err(|e| anyhow::anyhow!("--mode {s}: {e} (or mix: the beta the cell evaluated)"))
}

pub fn run(args: &PredictArgs) -> Result<String> {
    if !args.model.is_dir() {
        bail!(
            "--model {}: no such folder (give a saved model folder, e.g. RESULTS/models/<cell id>)",
            args.model.display()
        );
    }
    let saved = SavedModel::open(&args.model, None, args.tokenizer.as_deref())?;
    let mode = parse_mode(
        &args.mode,
        saved.loss.as_ref().and_then(|m| m.inference.mix_beta),
    )?;
    let examples = read_examples(args)?;
    let job = PredictJob {
        saved: &saved,
        examples: &examples,
        mode: &mode,
        batch_size: args.batch_size,
    };
    let predictions = args
        .device
        .dispatch(dmlft_model::Precision::F32, job)?
        .with_context(|| format!("model {}", args.model.display()))?;
    let rows = rows(&examples, &predictions, &saved.label_names);
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Jsonl
    });
    Ok(match format {
        OutputFormat::Jsonl => rows
            .iter()
            .map(|r| serde_json::to_string(&r.json()).expect("JSON values serialise") + "\n")
            .collect(),
        OutputFormat::Csv => to_csv(&rows, &saved.label_names)?,
        OutputFormat::Table => to_table(&rows),
    })
}

/// `predict_saved` (inference only) on the backend the device selects.
struct PredictJob<'a> {
    saved: &'a SavedModel,
    examples: &'a [Example],
    mode: &'a InferenceMode,
    batch_size: usize,
}

impl dmlft_train::device::BackendJob for PredictJob<'_> {
    type Output = Result<SavedPredictions>;

    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        Ok(predict_saved::<B::InnerBackend>(
            self.saved,
            self.examples,
            self.mode,
            self.batch_size,
            device,
        )?)
    }
}

/// The texts to classify: the TEXT arguments, --input, or stdin when it is not a terminal.
fn read_examples(args: &PredictArgs) -> Result<Vec<Example>> {
    let stdin_name = Path::new("<stdin>");
    let (path, bytes) = match &args.input {
        None if !args.texts.is_empty() => {
            return Ok(args
                .texts
                .iter()
                .map(|t| Example::new(t.clone(), 0))
                .collect());
        }
        Some(p) if p.as_os_str() != "-" => {
            let bytes =
                std::fs::read(p).with_context(|| format!("cannot read --input {}", p.display()))?;
            (p.as_path(), bytes)
        }
        None if std::io::stdin().is_terminal() => {
            bail!("nothing to classify: give TEXT arguments, --input FILE, or pipe texts on stdin")
        }
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            (stdin_name, bytes)
        }
    };
    let format = args.input_format.unwrap_or_else(|| {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => InputFormat::Csv,
            Some("tsv") => InputFormat::Tsv,
            Some("jsonl") | Some("json") => InputFormat::Jsonl,
            _ => InputFormat::Text,
        }
    });
    let file_format = match format {
        InputFormat::Csv => FileFormat::Csv,
        InputFormat::Tsv => FileFormat::Tsv,
        InputFormat::Jsonl => FileFormat::Jsonl,
        InputFormat::Text => return text_lines(path, &bytes),
    };
    Ok(dmlft_data::custom::read_texts(
        path,
        &bytes,
        file_format,
        &args.text_column,
        args.text_pair_column.as_deref(),
    )?)
}

/// One text per non-blank line (a trailing `\r` removed).
fn text_lines(path: &Path, bytes: &[u8]) -> Result<Vec<Example>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        anyhow::anyhow!("{}:{line}: text is not valid UTF-8", path.display())
    })?;
    let examples: Vec<Example> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .map(|l| Example::new(l.to_string(), 0))
        .collect();
    if examples.is_empty() {
        bail!(
            "{}: no text to classify (the input is empty)",
            path.display()
        );
    }
    Ok(examples)
}

/// One output row.
pub struct Row<'a> {
    index: usize,
    example: &'a Example,
    mode: dmlft_train::InferenceMode,
    label: &'a str,
    label_id: usize,
    scores: Vec<(&'a str, f32)>,
}

impl Row<'_> {
    fn score(&self) -> f32 {
        self.scores[self.label_id].1
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "index": self.index,
            "text": self.example.text,
        });
        let o = v.as_object_mut().expect("an object");
        if let Some(pair) = &self.example.text_pair {
            o.insert("text_pair".into(), json!(pair));
        }
        o.insert("mode".into(), json!(self.mode));
        o.insert("label".into(), json!(self.label));
        o.insert("label_id".into(), json!(self.label_id));
        o.insert("score".into(), json!(self.score()));
        let scores: Map<String, Value> = self
            .scores
            .iter()
            .map(|(name, p)| (name.to_string(), json!(p)))
            .collect();
        o.insert("scores".into(), Value::Object(scores));
        v
    }
}

fn rows<'a>(examples: &'a [Example], p: &SavedPredictions, labels: &'a [String]) -> Vec<Row<'a>> {
    let mode = p.mode;
    examples
        .iter()
        .enumerate()
        .map(|(i, example)| Row {
            index: i,
            example,
            mode,
            label: &labels[p.labels[i]],
            label_id: p.labels[i],
            scores: labels
                .iter()
                .map(String::as_str)
                .zip(p.scores[i].iter().copied())
                .collect(),
        })
        .collect()
}

fn to_csv(rows: &[Row<'_>], labels: &[String]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let has_pair = rows.iter().any(|r| r.example.text_pair.is_some());
    let mut header: Vec<String> = vec!["index".into(), "text".into()];
    if has_pair {
        header.push("text_pair".into());
    }
    header.extend(["mode", "label", "label_id", "score"].map(String::from));
    header.extend(labels.iter().map(|l| format!("score_{l}")));
    w.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.index.to_string(), r.example.text.clone()];
        if has_pair {
            rec.push(r.example.text_pair.clone().unwrap_or_default());
        }
        rec.extend([
            r.mode.to_string(),
            r.label.to_string(),
            r.label_id.to_string(),
            r.score().to_string(),
        ]);
        rec.extend(r.scores.iter().map(|(_, p)| p.to_string()));
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn to_table(rows: &[Row<'_>]) -> String {
    const TEXT_WIDTH: usize = 60;
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mode = rows.first().map_or(String::new(), |r| r.mode.to_string());
    let mut s = format!(
        "{:>5}  {:<label_w$}  {:>6}  text  ({mode} inference)\n",
        "#", "label", "score"
    );
    for r in rows {
        let mut text = r.example.text.replace(['\n', '\t'], " ");
        if let Some(pair) = &r.example.text_pair {
            text = format!("{text} || {pair}");
        }
        if text.chars().count() > TEXT_WIDTH {
            text = text.chars().take(TEXT_WIDTH - 3).collect::<String>() + "...";
        }
        s += &format!(
            "{:>5}  {:<label_w$}  {:>6.4}  {text}\n",
            r.index,
            r.label,
            r.score()
        );
    }
    s
}
