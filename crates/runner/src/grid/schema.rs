//! The grid-file schema: its top-level keys, and the pieces the runner parses itself (datasets,
//! inference modes, device) because serde's own messages for them would not say what is valid.
//! Sections that are contract types (`[model]`, `[protocol]`, `[train]`, `[losses.*]`) are
//! deserialized strictly through [`GridContext::typed`], which maps serde errors to line:col.

use super::error::GridError;
use super::locate::Locator;
use dmlft_data::spec::{AuthorsPoolSpec, CustomDatasetSpec, DatasetSpec, HfDatasetSpec, TaskName};
use dmlft_eval::{InferenceMode, ModeParseError, ModeTable, MODE_SHORTHANDS};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::PathBuf;
use toml::Value;

/// Every top-level key a grid file may have.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "output",
    "data_root",
    "device",
    "precision",
    "data",
    "model",
    "protocol",
    "train",
    "datasets",
    "losses",
    "inference",
    "shots",
    "seeds",
    "eval_limit",
    "zip",
    "exclude",
    "include",
    "search",
];

/// Where a cell runs. Not part of the cell (and so not of its id): the same cell on another
/// device is the same experiment. dmlft-train owns the list of devices and their spelling.
pub use dmlft_train::DeviceChoice as Device;

/// The file being read and where its keys are: everything an error message needs.
pub struct GridContext {
    pub file: PathBuf,
    pub locator: Locator,
}

impl GridContext {
    /// An error at `key` (dotted path), positioned at that key (or its nearest known parent).
    pub fn error(&self, key: &str, message: impl Into<String>) -> GridError {
        GridError::new(&self.file, message).at_key(key, self.locator.position(key))
    }

    /// An error without a key.
    pub fn file_error(&self, message: impl Into<String>) -> GridError {
        GridError::new(&self.file, message)
    }

    /// Deserializes `value` (found at dotted path `prefix`) into a strict contract type. A serde
    /// error is reported at the key it concerns.
    pub fn typed<T: DeserializeOwned>(&self, value: Value, prefix: &str) -> Result<T, GridError> {
        serde_path_to_error::deserialize(value).map_err(|err| {
            let inner = err.inner().message().to_string();
            let mut key = prefix.to_string();
            for segment in err.path().iter() {
                let part = match segment {
                    serde_path_to_error::Segment::Seq { index } => index.to_string(),
                    serde_path_to_error::Segment::Map { key } => key.clone(),
                    serde_path_to_error::Segment::Enum { variant } => variant.clone(),
                    serde_path_to_error::Segment::Unknown => continue,
                };
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(&part);
            }
            // Internally tagged enums hide the path of their fields: find the named key below.
            if let Some(field) = backticked_after(&inner, "unknown field ") {
                if let Some(found) = self.locator.find_below(&key, field) {
                    key = found;
                }
            }
            self.error(&key, inner)
        })
    }
}

fn backticked_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(&rest[..rest.find('`')?])
}

/// One entry of `datasets`: a SentEval task name, a Hugging Face preset name
/// (`"setfit/emotion"`), or an inline table: a Hugging Face dataset (`hub` or `dir`) or a custom
/// dataset (`train`, `format`).
pub fn parse_dataset(
    ctx: &GridContext,
    value: &Value,
    key: &str,
) -> Result<(String, DatasetSpec), GridError> {
    match value {
        Value::String(name) => {
            if let Some(task) = TaskName::from_exact(name) {
                return Ok((name.clone(), DatasetSpec::SentEval(task)));
            }
            if let Some(hf) = dmlft_data::hf::preset(name) {
                return Ok((hf.name.clone(), DatasetSpec::Hf(hf)));
            }
            Err(ctx.error(
                key,
                format!(
                    "unknown dataset `{name}`; valid: {}; the Hugging Face presets {}; or an inline table {{ name, train, format, text_column, label_column }} or {{ name, hub (or dir), text_column, label_column }}",
                    TaskName::valid_names(),
                    dmlft_data::hf::preset_names()
                ),
            ))
        }
        Value::Table(table) if table.contains_key("hub") || table.contains_key("dir") => {
            let hf: HfDatasetSpec = ctx.typed(value.clone(), key)?;
            hf.validate()
                .map_err(|e| super::validate::owner_error(ctx, key, e))?;
            Ok((hf.name.clone(), DatasetSpec::Hf(hf)))
        }
        Value::Table(_) => {
            let custom: CustomDatasetSpec = ctx.typed(value.clone(), key)?;
            custom
                .validate()
                .map_err(|e| super::validate::owner_error(ctx, key, e))?;
            Ok((custom.name.clone(), DatasetSpec::Custom(custom)))
        }
        other => Err(ctx.error(
            key,
            format!(
                "a dataset is a task name ({}), a Hugging Face preset ({}) or an inline table, not a {}",
                TaskName::valid_names(),
                dmlft_data::hf::preset_names(),
                other.type_str()
            ),
        )),
    }
}

/// Whose reading of the SentEval files the grid's tasks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pools {
    /// dmlft's SentEval loader (SentEval's parsing, trimmed texts).
    #[default]
    Senteval,
    /// The papers' authors' loader (`dmlft_data::authors`).
    Authors,
}

/// The `[data]` table: how SentEval tasks are read. Not swept; applies to every SentEval task
/// of the grid.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    #[serde(default)]
    pub pools: Pools,
    /// `pools = "authors"` only: keep the texts exactly as the authors' loader read them
    /// (default true).
    #[serde(default)]
    pub raw_text: Option<bool>,
}

impl DataSection {
    pub fn parse(ctx: &GridContext, root: &toml::Table) -> Result<Self, GridError> {
        let Some(value) = root.get("data") else {
            return Ok(Self::default());
        };
        let section: DataSection = ctx.typed(value.clone(), "data")?;
        if section.pools == Pools::Senteval && section.raw_text.is_some() {
            return Err(ctx.error(
                "data.raw_text",
                "applies only to pools = \"authors\" (dmlft's SentEval loader always trims)",
            ));
        }
        Ok(section)
    }

    /// The dataset a grid entry means under these settings (`key` locates the entry).
    pub fn apply(
        &self,
        ctx: &GridContext,
        dataset: DatasetSpec,
        key: &str,
    ) -> Result<DatasetSpec, GridError> {
        if self.pools == Pools::Senteval {
            return Ok(dataset);
        }
        let supported = || dmlft_data::authors::TASKS.map(TaskName::as_str).join(", ");
        match dataset {
            DatasetSpec::SentEval(task) if dmlft_data::authors::supports(task) => {
                Ok(DatasetSpec::Authors(AuthorsPoolSpec {
                    authors_pool: task,
                    raw_text: self.raw_text.unwrap_or(true),
                }))
            }
            other => Err(ctx.error(
                key,
                format!(
                    "[data] pools = \"authors\" has no pool for {}; the authors' loader reads {}",
                    match &other {
                        DatasetSpec::Custom(c) => format!("the custom dataset `{}`", c.name),
                        DatasetSpec::Hf(h) => format!("the Hugging Face dataset `{}`", h.name),
                        _ => format!(
                            "`{}`",
                            other.senteval_task().map(TaskName::as_str).unwrap_or("?")
                        ),
                    },
                    supported()
                ),
            )),
        }
    }
}

/// One entry of `inference`: `"head"`, `"proxy"`, `"mix:0.5"` or `{ mode = "mix", beta = 0.5 }`.
pub fn parse_inference(
    ctx: &GridContext,
    value: &Value,
    key: &str,
) -> Result<InferenceMode, GridError> {
    let mode = match value {
        Value::String(s) => {
            return s.parse::<InferenceMode>().map_err(|e| match e {
                ModeParseError::Unknown(_) => ctx.error(
                    key,
                    format!("{e}, or a table {{ mode = \"mix\", beta = 0.5 }}"),
                ),
                ModeParseError::Beta { .. } | ModeParseError::K { .. } => {
                    ctx.error(key, e.to_string())
                }
            })
        }
        Value::Table(_) => ctx.typed::<ModeTable>(value.clone(), key)?.0,
        other => {
            return Err(ctx.error(
                key,
                format!(
                    "an inference mode is a string ({MODE_SHORTHANDS}) or a table {{ mode = \"mix\", beta = 0.5 }}, not a {}",
                    other.type_str()
                ),
            ))
        }
    };
    // A table's beta is checked here; the error is at the entry, named as the mix's beta.
    if let Err(e) = mode.validate() {
        return Err(ctx.error(key, e.to_string()));
    }
    Ok(mode)
}

/// Shorthand for a value the grid requires to be a list but that was given as one scalar.
pub fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}
