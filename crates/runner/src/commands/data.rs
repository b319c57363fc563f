//! `dmlft data stats|sample|verify`: thin wrappers over dmlft-data.

use anyhow::{Context, Result};
use dmlft_data::protocol::numpy_kfold;
use dmlft_data::spec::{
    AuthorsPoolSpec, CustomDatasetSpec, DatasetSpec, HfDatasetSpec, KfoldRng, PoolChoice,
    ProtocolSpec, SplitRequest, TaskName, DEFAULT_SHUFFLE_SEED,
};
use dmlft_data::verify::FileStatus;
use std::path::Path;

/// Parses a SentEval task name as on the command line (`mr`, `sick-e`, ...): `TaskName`'s own
/// parser, whose error lists the valid names.
pub fn parse_task(name: &str) -> Result<TaskName, String> {
    name.parse::<TaskName>().map_err(|e| e.to_string())
}

/// Parses the dataset argument of `dmlft data stats|sample`: a SentEval task name, a Hugging
/// Face preset (`setfit/emotion`), or an inline TOML table as a grid's `datasets` entry
/// (`{ name = "mine", dir = "folder", text_column = "text", label_column = "label" }`, or a
/// custom dataset's `{ name, train, format, ... }`), checked by the same spec types.
pub fn parse_dataset(arg: &str) -> Result<DatasetSpec, String> {
    if let Ok(task) = arg.parse::<TaskName>() {
        return Ok(DatasetSpec::SentEval(task));
    }
    if let Some(hf) = dmlft_data::hf::preset(arg) {
        return Ok(DatasetSpec::Hf(hf));
    }
    if !arg.trim_start().starts_with('{') {
        return Err(format!(
            "unknown dataset `{arg}`; valid: {}; the Hugging Face presets {}; or an inline \
             table such as '{{ name = \"mine\", dir = \"my-folder\", text_column = \"text\", \
             label_column = \"label\" }}'",
            TaskName::valid_names(),
            dmlft_data::hf::preset_names()
        ));
    }
    let mut table: toml::Table = toml::from_str(&format!("dataset = {arg}"))
        .map_err(|e| format!("not a TOML inline table: {}", e.message()))?;
    let value = table
        .remove("dataset")
        .ok_or_else(|| "not a TOML inline table".to_string())?;
    let is_hf = value
        .as_table()
        .is_some_and(|t| t.contains_key("hub") || t.contains_key("dir"));
    let spec = if is_hf {
        let hf: HfDatasetSpec = value
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        hf.validate().map_err(|e| e.to_string())?;
        DatasetSpec::Hf(hf)
    } else {
        let custom: CustomDatasetSpec = value
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        custom.validate().map_err(|e| e.to_string())?;
        DatasetSpec::Custom(custom)
    };
    Ok(spec)
}

pub fn stats(
    dataset: &DatasetSpec,
    data_dir: &Path,
    tokenizer: Option<&Path>,
    json: bool,
) -> Result<String> {
    let loaded = dmlft_data::load_task(dataset, data_dir).context("cannot load the task")?;
    let tok = tokenizer
        .map(|dir| {
            dmlft_data::TextTokenizer::from_dir(dir)
                .with_context(|| format!("cannot load the tokenizer in {}", dir.display()))
        })
        .transpose()?;
    let stats = dmlft_data::task_stats(&loaded, tok.as_ref())?;
    if json {
        return Ok(serde_json::to_string_pretty(&stats)? + "\n");
    }
    let mut out = format!(
        "task {} ({} classes: {})\n",
        stats.task,
        loaded.num_classes(),
        loaded.label_names.join(", ")
    );
    for (split, s) in &stats.splits.0 {
        let labels: Vec<String> = s
            .labels
            .0
            .iter()
            .map(|(l, n)| format!("{l}: {n}"))
            .collect();
        out.push_str(&format!(
            "  {split:<6} n = {:>6}   {}",
            s.n,
            labels.join(", ")
        ));
        if let Some(t) = &s.token_length {
            out.push_str(&format!(
                "   tokens p50 {} p90 {} p99 {} max {}",
                t.p50, t.p90, t.p99, t.max
            ));
        }
        out.push('\n');
    }
    Ok(out)
}

pub struct SampleArgs {
    pub kfold: bool,
    pub shots: usize,
    pub seed: u64,
    pub fold: Option<usize>,
    pub folds: usize,
    /// The papers' authors' pools and, for k-fold, their NumPy-compatible sampler.
    pub authors: bool,
    /// The pool shuffle seed of the authors' sampler (default 42).
    pub shuffle_seed: Option<u64>,
}

pub fn sample(
    dataset: &DatasetSpec,
    data_dir: &Path,
    a: &SampleArgs,
    json: bool,
) -> Result<String> {
    if a.shuffle_seed.is_some() && !(a.authors && a.kfold) {
        anyhow::bail!("--shuffle-seed needs --authors and --protocol kfold");
    }
    let dataset = if a.authors {
        let DatasetSpec::SentEval(task) = *dataset else {
            anyhow::bail!(
                "--authors: the authors' loader reads SentEval tasks only ({})",
                dmlft_data::authors::TASKS.map(TaskName::as_str).join(", ")
            );
        };
        if !dmlft_data::authors::supports(task) {
            anyhow::bail!(
                "--authors: the authors' loader has no task {task}; it has {}",
                dmlft_data::authors::TASKS.map(TaskName::as_str).join(", ")
            );
        }
        DatasetSpec::Authors(AuthorsPoolSpec {
            authors_pool: task,
            raw_text: true,
        })
    } else {
        dataset.clone()
    };
    let loaded = dmlft_data::load_task(&dataset, data_dir).context("cannot load the task")?;
    let protocol = match (a.kfold, a.authors) {
        (true, false) => ProtocolSpec::kfold(a.folds, false, PoolChoice::Train),
        (true, true) => ProtocolSpec::Kfold {
            folds: a.folds,
            stratified: false,
            pool: PoolChoice::Train,
            rng: KfoldRng::NumpyCompat,
            shuffle_seed: a.shuffle_seed.unwrap_or(DEFAULT_SHUFFLE_SEED),
            dev_per_class: 0,
        },
        (false, _) => ProtocolSpec::PerClass { dev_shots: 0 },
    };
    let fold = if a.kfold {
        Some(a.fold.unwrap_or(0))
    } else {
        a.fold
    };
    let request = SplitRequest {
        protocol,
        shots: a.shots,
        seed: a.seed,
        fold,
    };
    let split = dmlft_data::sample_split(&loaded, &request).context("cannot draw the sample")?;
    // The authors' row positions (iloc in their shuffled DataFrame) beside the pool indices.
    let rows: Option<Vec<usize>> = match &request.protocol {
        ProtocolSpec::Kfold {
            rng: KfoldRng::NumpyCompat,
            shuffle_seed,
            ..
        } => {
            let order = numpy_kfold::pool_order(split.pool_size, *shuffle_seed as u32);
            let mut row_of = vec![0; order.len()];
            for (row, &index) in order.iter().enumerate() {
                row_of[index] = row;
            }
            Some(split.train_indices.iter().map(|&i| row_of[i]).collect())
        }
        _ => None,
    };
    if json {
        let train: Vec<_> = split
            .train_indices
            .iter()
            .zip(&split.train)
            .enumerate()
            .map(|(k, (i, e))| {
                let mut entry = serde_json::json!({ "index": i, "label": split.label_names.get(e.label), "text": e.text, "text_pair": e.text_pair });
                if let Some(rows) = &rows {
                    entry["row"] = rows[k].into();
                }
                entry
            })
            .collect();
        let value = serde_json::json!({
            "task": loaded.name,
            "dataset": dataset,
            "request": request,
            "pool": split.pool,
            "pool_size": split.pool_size,
            "eval_source": split.eval_source,
            "eval_size": split.eval.len(),
            "train": train,
            "dev_indices": split.dev_indices,
        });
        return Ok(serde_json::to_string_pretty(&value)? + "\n");
    }
    let mut out = format!(
        "{}{} shots={} seed={} fold={:?}: {} training examples from a pool of {}, evaluation on {} ({})\n",
        loaded.name,
        if a.authors { " (the authors' pool)" } else { "" },
        a.shots,
        a.seed,
        fold,
        split.train.len(),
        split.pool_size,
        split.eval.len(),
        split.eval_source
    );
    if rows.is_some() {
        out.push_str("    row    index  label      text (row: position in the authors' shuffled DataFrame; index: its index label)\n");
    }
    for (k, (i, e)) in split.train_indices.iter().zip(&split.train).enumerate() {
        let label = split
            .label_names
            .get(e.label)
            .map(String::as_str)
            .unwrap_or("?");
        let text = match &e.text_pair {
            Some(p) => format!("{} ||| {}", e.text.trim_end(), p.trim_end()),
            None => e.text.trim_end().to_string(),
        };
        if let Some(rows) = &rows {
            out.push_str(&format!("{:>7}  ", rows[k]));
        }
        out.push_str(&format!("{i:>7}  {label:<10} {text}\n"));
    }
    Ok(out)
}

/// Returns the text and whether every file matched.
pub fn verify(data_dir: &Path) -> Result<(String, bool)> {
    let report = dmlft_data::verify_checksums(data_dir)?;
    let Some(sums) = &report.sums_file else {
        return Ok((
            format!(
                "{}: no SHA256SUMS file, nothing checked\n",
                data_dir.display()
            ),
            false,
        ));
    };
    let mut out = String::new();
    for f in &report.files {
        match &f.status {
            FileStatus::Ok => {}
            FileStatus::Missing => out.push_str(&format!("MISSING   {}\n", f.path)),
            FileStatus::Mismatch { expected, actual } => out.push_str(&format!(
                "MISMATCH  {} (expected {expected}, got {actual})\n",
                f.path
            )),
        }
    }
    let ok = report.count(|s| *s == FileStatus::Ok);
    out.push_str(&format!(
        "{}: {ok} of {} files match {}\n",
        data_dir.display(),
        report.files.len(),
        sums.display()
    ));
    Ok((out, report.all_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_argument_is_a_task_a_preset_or_an_inline_table() {
        assert_eq!(
            parse_dataset("MR").unwrap(),
            DatasetSpec::SentEval(TaskName::Mr)
        );
        let DatasetSpec::Hf(preset) = parse_dataset("SetFit/emotion").unwrap() else {
            panic!("a preset is a Hugging Face dataset");
        };
        assert_eq!(preset.hub.as_deref(), Some("SetFit/emotion"));
        let DatasetSpec::Hf(folder) =
            parse_dataset(r#"{ name = "mine", dir = "f", text_column = "t", label_column = "l" }"#)
                .unwrap()
        else {
            panic!("a table with `dir` is a Hugging Face dataset");
        };
        assert_eq!(folder.dir.as_deref(), Some(Path::new("f")));
        assert!(matches!(
            parse_dataset(
                r#"{ name = "c", train = "t.csv", format = "csv", text_column = "t", label_column = "l" }"#
            ),
            Ok(DatasetSpec::Custom(_))
        ));
        let unknown = parse_dataset("emotion").unwrap_err();
        assert!(
            unknown.contains("setfit/emotion") && unknown.contains("sick-e"),
            "{unknown}"
        );
        let both = parse_dataset(
            r#"{ name = "x", hub = "a/b", dir = "f", text_column = "t", label_column = "l" }"#,
        )
        .unwrap_err();
        assert!(both.contains("exactly one of `hub`"), "{both}");
        let typo = parse_dataset(r#"{ name = "x", hub = "a/b", text = "t" }"#).unwrap_err();
        assert!(typo.contains("text"), "{typo}");
    }
}
