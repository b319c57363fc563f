//! From grid-file text to the ordered list of cells: parse, find the sweep axes, expand them
//! (crossed, or zipped), deserialize every combination into the strict contract types, validate,
//! apply `exclude` / `include`, and give each cell its id.
//!
//! Expansion order (stable; `--shard` relies on it): dataset, loss variant (declaration order,
//! then its own swept values), swept settings (declaration order, last fastest), shots, seed, fold.

mod cells;
mod filter;
mod header;
mod order;
mod template;
mod variants;
mod zip;

use super::cell_axis::CellAxis;
use super::cell_id::cell_id;
use super::error::GridError;
use super::locate::Locator;
use super::schema::{self, Device, GridContext, TOP_LEVEL_KEYS};
use super::sweep::Axis;
use super::validate;
use crate::search::SearchSpec;
use cells::Expander;
use dmlft_train::spec::{CellSpec, InferenceMode};
use filter::Filters;
use header::{global_table, misplaced_top_level_keys, Header};
use order::ordered_global_axes;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Table;
use variants::{loss_sources, loss_variants, LossVariant};
use zip::parse_zips;

/// One resolved cell of a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Position in the stable expansion order.
    pub index: usize,
    pub id: String,
    pub spec: CellSpec,
    /// The values that distinguish this cell: `dataset`, `loss`, `shots`, `seed`, `fold` and
    /// every swept setting by dotted path.
    pub axes: BTreeMap<String, String>,
    /// The loss variant's name in the file, before swept values are appended.
    pub loss_base: String,
}

impl Cell {
    /// A cell of `spec` (its id is the hash of the spec); the index is set by its grid.
    pub fn new(spec: CellSpec, axes: BTreeMap<String, String>, loss_base: String) -> Self {
        Self {
            index: 0,
            id: cell_id(&spec),
            spec,
            axes,
            loss_base,
        }
    }
}

/// A parsed and expanded grid file.
#[derive(Debug, Clone)]
pub struct Grid {
    pub name: String,
    pub file: PathBuf,
    /// The file as read, copied into the results folder for provenance.
    pub text: String,
    pub output: PathBuf,
    pub data_root: PathBuf,
    pub device: Device,
    /// Dotted paths of the swept settings (beyond dataset / loss / shots / seed / fold).
    pub swept: Vec<String>,
    /// Loss variant names in expansion order.
    pub losses: Vec<String>,
    pub cells: Vec<Cell>,
    /// Fingerprint of each dataset's files by dataset name (`dmlft_data::fingerprint`),
    /// computed once per dataset by the data checks of [`load_grid`]; empty without them.
    pub data_fingerprints: BTreeMap<String, String>,
}

/// Settings that come from the command line or the environment rather than the file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--data-dir`: overrides the file's `data_root`.
    pub data_dir: Option<PathBuf>,
    /// Check folders, model files and class sizes (needs the data; off in pure-syntax tests).
    pub check_data: bool,
}

/// Reads, expands and validates a grid file.
pub fn load_grid(path: &Path, opts: &LoadOptions) -> Result<Grid, GridError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| GridError::new(path, format!("cannot read the grid file: {e}")))?;
    load_grid_text(&text, path, opts)
}

/// [`load_grid`] of `text` read from `path` (`dmlft search --trials` edits the text first).
pub fn load_grid_text(text: &str, path: &Path, opts: &LoadOptions) -> Result<Grid, GridError> {
    let mut grid = parse_grid(text, path, opts)?;
    if opts.check_data {
        let ctx = context(text, path)?;
        grid.data_fingerprints = super::data_check::check(&ctx, &grid)?;
    }
    Ok(grid)
}

fn context(text: &str, file: &Path) -> Result<GridContext, GridError> {
    let locator = Locator::new(text).map_err(|e| syntax_error(text, file, &e))?;
    Ok(GridContext {
        file: file.to_path_buf(),
        locator,
    })
}

fn syntax_error(text: &str, file: &Path, e: &toml::de::Error) -> GridError {
    let mut err = GridError::new(file, format!("invalid TOML: {}", e.message().trim()));
    if let Some(span) = e.span() {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        err.position = Some((line, col));
    }
    err
}

/// Parses and expands grid text (no data checks unless `opts.check_data`, which `load_grid` runs).
pub fn parse_grid(text: &str, file: &Path, opts: &LoadOptions) -> Result<Grid, GridError> {
    let root: Table = text
        .parse()
        .map_err(|e: toml::de::Error| syntax_error(text, file, &e))?;
    let ctx = context(text, file)?;

    for key in root.keys() {
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            return Err(ctx.error(
                key,
                format!(
                    "unknown key `{key}`; valid top-level keys: {}",
                    TOP_LEVEL_KEYS.join(", ")
                ),
            ));
        }
    }
    misplaced_top_level_keys(&ctx, &root, "")?;
    validate::finite_numbers(&ctx, &root, "")?;
    let header = Header::parse(&ctx, &root, opts)?;
    let global = global_table(&ctx, &root)?;
    let global_axes = ordered_global_axes(&ctx, &global)?;
    let variants_src = loss_sources(&ctx, &root)?;
    let zips = parse_zips(&ctx, &root, &global_axes, &variants_src)?;
    let inference = parse_inference_list(&ctx, &root)?;

    let expander = Expander {
        ctx: &ctx,
        header: &header,
        inference: &inference,
    };
    let search = {
        let swept: Vec<String> = global_axes.iter().map(Axis::dotted).collect();
        let losses: Vec<(String, Vec<String>)> = variants_src
            .iter()
            .map(|s| (s.name.clone(), s.axes.iter().map(Axis::dotted).collect()))
            .collect();
        SearchSpec::parse(&ctx, &root, &swept, &losses)?
    };
    let variants = loss_variants(&ctx, &variants_src, &zips.per_loss, search.as_ref())?;
    let mut cells = expander.expand(&global, &global_axes, &zips.global, &variants)?;

    let filters = Filters::parse(&ctx, &root, &global_axes, &variants)?;
    cells.retain(|c| !filters.exclude.iter().any(|f| f.matches(c)));
    for (i, inc) in filters.include.iter().enumerate() {
        let key = format!("include.{i}");
        let (table, axes, zip) = inc.apply_to(&ctx, &key, &global, &global_axes, &zips.global)?;
        let chosen: Vec<LossVariant> = variants
            .iter()
            .filter(|v| inc.accepts_loss(v))
            .cloned()
            .collect();
        if chosen.is_empty() {
            return Err(ctx.error(&key, "`loss` matches no loss variant of the grid"));
        }
        let extra = expander.expand(&table, &axes, &zip, &chosen)?;
        cells.extend(extra.into_iter().filter(|c| inc.matches_fixed(c)));
    }

    let mut seen = HashSet::new();
    cells.retain(|c| seen.insert(c.id.clone()));
    for (i, cell) in cells.iter_mut().enumerate() {
        cell.index = i;
    }
    if cells.is_empty() {
        return Err(ctx.file_error("the grid expands to no cell (check `exclude`)"));
    }
    if search.is_some() {
        dev_examples_for_search(&ctx, &cells)?;
    }
    let mut losses: Vec<String> = Vec::new();
    for v in &variants {
        if !losses.contains(&v.name) {
            losses.push(v.name.clone());
        }
    }
    Ok(Grid {
        name: header.name,
        file: file.to_path_buf(),
        text: text.to_string(),
        output: header.output,
        data_root: header.data_root,
        device: header.device,
        swept: global_axes
            .iter()
            .filter(|a| !CellAxis::list_keys().any(|k| k == a.dotted()))
            .map(Axis::dotted)
            .collect(),
        losses,
        cells,
        data_fingerprints: BTreeMap::new(),
    })
}

/// A search scores its trials on dev examples: every cell needs some (the protocol's
/// `dev_shots` / `dev_per_class`).
fn dev_examples_for_search(ctx: &GridContext, cells: &[Cell]) -> Result<(), GridError> {
    match cells.iter().find(|c| !c.spec.split.protocol.dev_key().1) {
        None => Ok(()),
        Some(cell) => {
            let key = cell.spec.split.protocol.dev_key().0;
            Err(ctx.error(
                &format!("protocol.{key}"),
                format!(
                    "[search] scores each trial by its mean dev metric over the seeds, but cells of `{}` have no dev examples: set `{key}` > 0",
                    cell.spec.loss_name
                ),
            ))
        }
    }
}

fn parse_inference_list(ctx: &GridContext, root: &Table) -> Result<Vec<InferenceMode>, GridError> {
    let Some(value) = root.get("inference") else {
        return Ok(vec![InferenceMode::Head]);
    };
    let items = schema::as_list(value);
    if items.is_empty() {
        return Err(ctx.error(
            "inference",
            "is an empty list: give at least one mode, e.g. [\"head\"]",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| schema::parse_inference(ctx, v, &format!("inference.{i}")))
        .collect()
}
