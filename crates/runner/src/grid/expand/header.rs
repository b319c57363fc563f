//! The grid file's top level: its keys, the non-swept settings (name, output, data root,
//! device, data section), and the table of global settings that may be swept.

use super::LoadOptions;
use crate::grid::cell_axis::CellAxis;
use crate::grid::error::GridError;
use crate::grid::schema::{self, Device, GridContext};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Top-level-only keys found inside a table: TOML put them there because they follow a header.
pub(super) fn misplaced_top_level_keys(
    ctx: &GridContext,
    table: &Table,
    prefix: &str,
) -> Result<(), GridError> {
    const ONLY_TOP: &[&str] = &[
        "zip",
        "exclude",
        "include",
        "datasets",
        "shots",
        "seeds",
        "inference",
        "losses",
    ];
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if !prefix.is_empty() && ONLY_TOP.contains(&key.as_str()) {
            return Err(ctx.error(
                &path,
                format!("`{key}` is a top-level key but is inside `[{prefix}]`: in TOML every key after a [table] header belongs to that table; move it above the first header"),
            ));
        }
        // `[search.space]` names settings by their paths (`losses.<name>.*`): not misplaced
        if prefix.is_empty() && ["exclude", "include", "zip", "search"].contains(&key.as_str()) {
            continue;
        }
        let nested: Vec<&Table> = match value {
            Value::Table(t) => vec![t],
            Value::Array(items) => items.iter().filter_map(Value::as_table).collect(),
            _ => vec![],
        };
        for (i, t) in nested.iter().enumerate() {
            let p = if matches!(value, Value::Array(_)) {
                format!("{path}.{i}")
            } else {
                path.clone()
            };
            misplaced_top_level_keys(ctx, t, &p)?;
        }
    }
    Ok(())
}

/// The non-swept top-level settings.
pub(super) struct Header {
    pub(super) name: String,
    pub(super) output: PathBuf,
    pub(super) data_root: PathBuf,
    pub(super) device: Device,
    pub(super) data: schema::DataSection,
}

impl Header {
    pub(super) fn parse(
        ctx: &GridContext,
        root: &Table,
        opts: &LoadOptions,
    ) -> Result<Self, GridError> {
        let name = match root.get("name") {
            Some(Value::String(s)) if valid_name(s) => s.clone(),
            Some(Value::String(s)) => {
                return Err(ctx.error(
                    "name",
                    format!("`{s}` is not a usable grid name: use letters, digits, `-`, `_`, `.`"),
                ))
            }
            Some(other) => {
                return Err(ctx.error(
                    "name",
                    format!("must be a string, not a {}", other.type_str()),
                ))
            }
            None => {
                return Err(ctx.file_error(
                    "missing key `name` (the grid's name, used for the results folder)",
                ))
            }
        };
        let path_key = |key: &str| -> Result<Option<PathBuf>, GridError> {
            match root.get(key) {
                None => Ok(None),
                // a line break in a path ends up in log lines and generated scripts
                Some(Value::String(s)) if s.is_empty() || s.chars().any(char::is_control) => {
                    Err(ctx.error(
                        key,
                        format!("{s:?} is not a usable path: it must be non-empty and hold no control character (line break, tab, ...)"),
                    ))
                }
                Some(Value::String(s)) => Ok(Some(PathBuf::from(s))),
                Some(other) => Err(ctx.error(
                    key,
                    format!("must be a path string, not a {}", other.type_str()),
                )),
            }
        };
        let output = path_key("output")?.unwrap_or_else(|| Path::new("results").join(&name));
        let data_root = match (&opts.data_dir, path_key("data_root")?) {
            (Some(dir), _) => dir.clone(),
            (None, given) => dmlft_data::senteval::resolve_data_root(given.as_deref()),
        };
        let device = match root.get("device") {
            None => Device::Cpu,
            Some(v) => ctx.typed(v.clone(), "device")?,
        };
        let data = schema::DataSection::parse(ctx, root)?;
        Ok(Self {
            name,
            output,
            data_root,
            device,
            data,
        })
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The table whose list leaves are the global axes: model, protocol, train, eval_limit, datasets,
/// shots, seeds (with the top-level `precision` default moved into `model`).
pub(super) fn global_table(ctx: &GridContext, root: &Table) -> Result<Table, GridError> {
    let mut g = Table::new();
    let mut model =
        match root.get("model") {
            Some(Value::Table(t)) => t.clone(),
            Some(other) => {
                return Err(ctx.error(
                    "model",
                    format!("must be a table, not a {}", other.type_str()),
                ))
            }
            None => return Err(ctx.file_error(
                "missing table `[model]` (at least `source`, a model folder or Hugging Face id)",
            )),
        };
    if let Some(p) = root.get("precision") {
        model.entry("precision").or_insert_with(|| p.clone());
    }
    g.insert("model".into(), Value::Table(model));
    for (key, default) in [
        ("protocol", Some(toml::toml! { kind = "kfold" })),
        ("train", Some(Table::new())),
    ] {
        match root.get(key) {
            Some(Value::Table(t)) => {
                g.insert(key.into(), Value::Table(t.clone()));
            }
            Some(other) => {
                return Err(ctx.error(key, format!("must be a table, not a {}", other.type_str())))
            }
            None => {
                g.insert(key.into(), Value::Table(default.unwrap_or_default()));
            }
        }
    }
    for key in CellAxis::list_keys() {
        match root.get(key) {
            Some(v) => {
                g.insert(key.into(), v.clone());
            }
            None => return Err(ctx.file_error(format!("missing key `{key}`"))),
        }
    }
    if let Some(v) = root.get("eval_limit") {
        g.insert("eval_limit".into(), v.clone());
    }
    Ok(g)
}
