//! From grid-file text to the ordered list of cells: parse, find the sweep axes, expand them
//! (crossed, or zipped), deserialize every combination into the strict contract types, validate,
//! apply `exclude` / `include`, and give each cell its id.
//!
//! Expansion order (stable; `--shard` relies on it): dataset, loss variant (declaration order,
//! then its own swept values), swept settings (declaration order, last fastest), shots, seed, fold.

use super::cell_id::cell_id;
use super::error::GridError;
use super::locate::Locator;
use super::schema::{self, Device, GridContext, TOP_LEVEL_KEYS};
use super::sweep::{self, Axis};
use super::validate;
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::spec::ModelSpec;
use dmlft_train::setfit::{Method, SetFitSpec};
use dmlft_train::spec::{CellSpec, InferenceMode, TrainSpec};
use dmlft_train::validate::validate_eval_limit;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Keys of the global table that are lists by nature: one value per cell.
const LIST_AXES: &[&str] = &["datasets", "shots", "seeds"];

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
    let mut grid = parse_grid(&text, path, opts)?;
    if opts.check_data {
        let ctx = context(&text, path)?;
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
    let variants = expander.loss_variants(&variants_src, &zips.per_loss)?;
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
    Ok(Grid {
        name: header.name,
        file: file.to_path_buf(),
        text: text.to_string(),
        output: header.output,
        data_root: header.data_root,
        device: header.device,
        swept: global_axes
            .iter()
            .filter(|a| !LIST_AXES.contains(&a.dotted().as_str()))
            .map(Axis::dotted)
            .collect(),
        losses: variants.iter().map(|v| v.name.clone()).collect(),
        cells,
        data_fingerprints: BTreeMap::new(),
    })
}

/// Top-level-only keys found inside a table: TOML put them there because they follow a header.
fn misplaced_top_level_keys(
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
        if prefix.is_empty() && ["exclude", "include", "zip"].contains(&key.as_str()) {
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
struct Header {
    name: String,
    output: PathBuf,
    data_root: PathBuf,
    device: Device,
    data: schema::DataSection,
}

impl Header {
    fn parse(ctx: &GridContext, root: &Table, opts: &LoadOptions) -> Result<Self, GridError> {
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
fn global_table(ctx: &GridContext, root: &Table) -> Result<Table, GridError> {
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
    for key in ["datasets", "shots", "seeds"] {
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

/// Global axes in expansion order: datasets, swept settings in declaration order, shots, seeds.
fn ordered_global_axes(ctx: &GridContext, global: &Table) -> Result<Vec<Axis>, GridError> {
    let mut axes = sweep::find_axes(global, &|_| false);
    let rank = |a: &Axis| match a.dotted().as_str() {
        "datasets" => (0, 0),
        "shots" => (2, 0),
        "seeds" => (3, 0),
        p => (1, ctx.locator.offset(p)),
    };
    axes.sort_by_key(rank);
    for axis in &axes {
        check_axis_values(ctx, &axis.dotted(), axis)?;
    }
    Ok(axes)
}

fn check_axis_values(ctx: &GridContext, key: &str, axis: &Axis) -> Result<(), GridError> {
    if axis.values.is_empty() {
        return Err(ctx.error(key, "is an empty list: give at least one value"));
    }
    if axis.values.iter().any(|v| matches!(v, Value::Array(_))) {
        return Err(ctx.error(
            key,
            "a sweep is a flat list of values; nested lists are not allowed",
        ));
    }
    Ok(())
}

/// A loss variant as written: its name, table, and swept settings.
struct LossSource {
    name: String,
    table: Table,
    axes: Vec<Axis>,
}

fn loss_sources(ctx: &GridContext, root: &Table) -> Result<Vec<LossSource>, GridError> {
    let losses =
        match root.get("losses") {
            Some(Value::Table(t)) if !t.is_empty() => t,
            Some(Value::Table(_)) => {
                return Err(ctx.error(
                    "losses",
                    "define at least one loss variant, e.g. `[losses.ce]`",
                ))
            }
            Some(other) => {
                return Err(ctx.error(
                    "losses",
                    format!(
                        "must be a table of loss variants, not a {}",
                        other.type_str()
                    ),
                ))
            }
            None => return Err(ctx.file_error(
                "missing `[losses.<name>]`: define at least one loss variant, e.g. `[losses.ce]`",
            )),
        };
    let mut out = Vec::new();
    for (name, value) in losses {
        let key = format!("losses.{name}");
        if name.is_empty()
            || name
                .chars()
                .any(|c| ".[]=,/ ".contains(c) || c.is_whitespace() || c.is_control())
        {
            return Err(ctx.error(
                &key,
                format!(
                    "loss name {name:?} may not be empty or contain `.`, `[`, `]`, `=`, `,`, `/`, spaces or control characters"
                ),
            ));
        }
        let Value::Table(table) = value else {
            return Err(ctx.error(
                &key,
                format!("a loss variant is a table, not a {}", value.type_str()),
            ));
        };
        let mut axes = sweep::find_axes(table, &|p| p == ["dml"]);
        axes.sort_by_key(|a| ctx.locator.offset(&format!("{key}.{}", a.dotted())));
        for axis in &axes {
            check_axis_values(ctx, &format!("{key}.{}", axis.dotted()), axis)?;
        }
        out.push(LossSource {
            name: name.clone(),
            table: table.clone(),
            axes,
        });
    }
    out.sort_by_key(|s| ctx.locator.offset(&format!("losses.{}", s.name)));
    Ok(out)
}

struct Zips {
    /// Groups of global axis indices.
    global: Vec<Vec<usize>>,
    /// Per loss (index into the sources): groups of that loss's axis indices.
    per_loss: BTreeMap<usize, Vec<Vec<usize>>>,
}

fn parse_zips(
    ctx: &GridContext,
    root: &Table,
    global: &[Axis],
    losses: &[LossSource],
) -> Result<Zips, GridError> {
    let mut zips = Zips {
        global: Vec::new(),
        per_loss: BTreeMap::new(),
    };
    let Some(value) = root.get("zip") else {
        return Ok(zips);
    };
    let usage = "`zip` is a list of groups of swept keys, e.g. zip = [[\"train.optimizer.lr\", \"train.schedule.warmup_steps\"]]";
    let Value::Array(groups) = value else {
        return Err(ctx.error("zip", usage));
    };
    let mut used = HashSet::new();
    for (g, group) in groups.iter().enumerate() {
        let key = format!("zip.{g}");
        let names: Vec<&str> = match group {
            Value::Array(items) if items.len() >= 2 => items
                .iter()
                .map(Value::as_str)
                .collect::<Option<_>>()
                .ok_or_else(|| ctx.error(&key, usage))?,
            _ => {
                return Err(ctx.error(&key, format!("{usage}; each group names at least two keys")))
            }
        };
        let mut global_members = Vec::new();
        let mut loss_members: Vec<(usize, usize)> = Vec::new();
        for name in &names {
            if !used.insert(name.to_string()) {
                return Err(ctx.error(&key, format!("`{name}` is in more than one zip group")));
            }
            if let Some(i) = global.iter().position(|a| a.dotted() == *name) {
                global_members.push(i);
                continue;
            }
            let found = losses.iter().enumerate().find_map(|(l, src)| {
                let rel = name.strip_prefix(&format!("losses.{}.", src.name))?;
                src.axes
                    .iter()
                    .position(|a| a.dotted() == rel)
                    .map(|i| (l, i))
            });
            match found {
                Some(m) => loss_members.push(m),
                None => {
                    let mut valid: Vec<String> = global.iter().map(Axis::dotted).collect();
                    for src in losses {
                        valid.extend(
                            src.axes
                                .iter()
                                .map(|a| format!("losses.{}.{}", src.name, a.dotted())),
                        );
                    }
                    return Err(ctx.error(
                        &key,
                        format!(
                            "`{name}` is not a swept (list-valued) key; swept keys: {}",
                            valid.join(", ")
                        ),
                    ));
                }
            }
        }
        let mixed = !global_members.is_empty() && !loss_members.is_empty();
        let several_losses = loss_members.iter().any(|m| m.0 != loss_members[0].0);
        if mixed || several_losses {
            return Err(ctx.error(
                &key,
                "a zip group pairs either global keys or keys of one loss variant, not both",
            ));
        }
        let check_len = |axes: Vec<&Axis>| -> Result<(), GridError> {
            let first = axes[0];
            for other in &axes[1..] {
                if other.values.len() != first.values.len() {
                    return Err(ctx.error(
                        &key,
                        format!(
                            "zipped lists must have equal lengths: `{}` has {} values, `{}` has {}",
                            first.dotted(),
                            first.values.len(),
                            other.dotted(),
                            other.values.len()
                        ),
                    ));
                }
            }
            Ok(())
        };
        if !global_members.is_empty() {
            check_len(global_members.iter().map(|&i| &global[i]).collect())?;
            zips.global.push(global_members);
        } else {
            let l = loss_members[0].0;
            check_len(
                loss_members
                    .iter()
                    .map(|&(_, i)| &losses[l].axes[i])
                    .collect(),
            )?;
            zips.per_loss
                .entry(l)
                .or_default()
                .push(loss_members.iter().map(|m| m.1).collect());
        }
    }
    Ok(zips)
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

/// One resolved loss variant.
#[derive(Debug, Clone)]
struct LossVariant {
    base: String,
    name: String,
    objective: ObjectiveSpec,
    /// `Some` for `method = "setfit"` (its objective is then the unused default).
    setfit: Option<SetFitSpec>,
}

/// A loss variant's table (at `prefix`, sweeps resolved) as what it trains with: an objective
/// (`method = "fine-tune"`, the default), or SetFit's settings from its `setfit` table, which
/// dmlft-train owns and validates.
fn method_of(
    ctx: &GridContext,
    prefix: &str,
    mut table: Table,
) -> Result<(ObjectiveSpec, Option<SetFitSpec>), GridError> {
    let method: Method = match table.remove("method") {
        None => Method::default(),
        Some(v) => ctx.typed(v, &format!("{prefix}.method"))?,
    };
    let setfit_table = table.remove("setfit");
    match method {
        Method::FineTune => {
            if setfit_table.is_some() {
                return Err(ctx.error(
                    &format!("{prefix}.setfit"),
                    format!(
                        "SetFit settings apply only to a SetFit variant: add `method = \"setfit\"` to [{prefix}] (method: {})",
                        Method::VALID
                    ),
                ));
            }
            let objective: ObjectiveSpec = ctx.typed(Value::Table(table), prefix)?;
            objective
                .validate()
                .map_err(|e| validate::owner_error(ctx, prefix, e))?;
            Ok((objective, None))
        }
        Method::SetFit => {
            if let Some(key) = table.keys().next() {
                return Err(ctx.error(
                    &format!("{prefix}.{key}"),
                    format!(
                        "a SetFit variant has no `{key}`: it trains with its own body loss and head; its settings go in [{prefix}.setfit] (sampling_strategy, num_iterations, body_loss, batch_size, epochs, lr, loss_lr, warmup_proportion, weight_decay, max_grad_norm, max_seq_length, normalize, head)"
                    ),
                ));
            }
            let key = format!("{prefix}.setfit");
            let spec: SetFitSpec = match setfit_table {
                None => SetFitSpec::default(),
                Some(v) => ctx.typed(v, &key)?,
            };
            spec.validate()
                .map_err(|e| validate::owner_error(ctx, &key, e))?;
            Ok((ObjectiveSpec::default(), Some(spec)))
        }
    }
}

struct Expander<'a> {
    ctx: &'a GridContext,
    header: &'a Header,
    inference: &'a [InferenceMode],
}

/// The values of the global settings in one combination.
struct GlobalCombo {
    dataset_name: String,
    dataset: DatasetSpec,
    model: ModelSpec,
    protocol: ProtocolSpec,
    train: TrainSpec,
    eval_limit: Option<usize>,
    shots: usize,
    seed: u64,
    labels: BTreeMap<String, String>,
    dataset_pos: usize,
}

impl Expander<'_> {
    fn loss_variants(
        &self,
        sources: &[LossSource],
        zips: &BTreeMap<usize, Vec<Vec<usize>>>,
    ) -> Result<Vec<LossVariant>, GridError> {
        let ctx = self.ctx;
        let mut out = Vec::new();
        for (l, src) in sources.iter().enumerate() {
            let prefix = format!("losses.{}", src.name);
            let no_zips = Vec::new();
            let combos = sweep::combinations(
                &src.axes,
                zips.get(&l).unwrap_or(&no_zips),
                validate::MAX_CELLS,
            )
            .map_err(|e| zip_error(ctx, &prefix, e))?;
            // Short names in variant names, unless two swept keys share the last segment.
            let shorts: Vec<&str> = src.axes.iter().map(Axis::short).collect();
            for combo in combos {
                let mut table = src.table.clone();
                let mut parts = Vec::new();
                for (a, &vi) in combo.iter().enumerate() {
                    let axis = &src.axes[a];
                    sweep::set_at(&mut table, &axis.path, axis.values[vi].clone());
                    let name = if shorts.iter().filter(|s| **s == axis.short()).count() > 1 {
                        axis.dotted()
                    } else {
                        axis.short().to_string()
                    };
                    parts.push(format!("{name}={}", sweep::label(&axis.values[vi])));
                }
                let (objective, setfit) = method_of(ctx, &prefix, table)?;
                let name = if parts.is_empty() {
                    src.name.clone()
                } else {
                    format!("{}[{}]", src.name, parts.join(","))
                };
                out.push(LossVariant {
                    base: src.name.clone(),
                    name,
                    objective,
                    setfit,
                });
            }
        }
        Ok(out)
    }

    fn global_combos(
        &self,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
    ) -> Result<Vec<GlobalCombo>, GridError> {
        let ctx = self.ctx;
        let combos = sweep::combinations(axes, zips, validate::MAX_CELLS)
            .map_err(|e| zip_error(ctx, "zip", e))?;
        let mut out = Vec::with_capacity(combos.len());
        for combo in combos {
            let mut table = global.clone();
            let mut labels = BTreeMap::new();
            let mut dataset_pos = 0;
            for (a, &vi) in combo.iter().enumerate() {
                let axis = &axes[a];
                sweep::set_at(&mut table, &axis.path, axis.values[vi].clone());
                match axis.dotted().as_str() {
                    "datasets" => dataset_pos = vi,
                    "shots" | "seeds" => {}
                    path => {
                        labels.insert(path.to_string(), sweep::label(&axis.values[vi]));
                    }
                }
            }
            let take = |key: &str| {
                table
                    .get(key)
                    .cloned()
                    .unwrap_or(Value::Table(Table::new()))
            };
            let dataset_key = axis_key(axes, "datasets", &combo);
            let (dataset_name, dataset) =
                schema::parse_dataset(ctx, &take("datasets"), &dataset_key)?;
            let dataset = self.header.data.apply(ctx, dataset, &dataset_key)?;
            let model: ModelSpec = ctx.typed(take("model"), "model")?;
            model
                .validate()
                .map_err(|e| validate::owner_error(ctx, "model", e))?;
            let protocol: ProtocolSpec = ctx.typed(take("protocol"), "protocol")?;
            let train: TrainSpec = ctx.typed(take("train"), "train")?;
            train
                .validate()
                .map_err(|e| validate::owner_error(ctx, "train", e))?;
            let eval_limit: Option<usize> = match table.get("eval_limit") {
                None => None,
                Some(v) => {
                    let n: usize = ctx.typed(v.clone(), "eval_limit")?;
                    validate_eval_limit(Some(n)).map_err(|e| validate::owner_error(ctx, "", e))?;
                    Some(n)
                }
            };
            let shots: usize = ctx.typed(take("shots"), "shots")?;
            // Folds are expanded later: the request is checked without one.
            SplitRequest {
                protocol: protocol.clone(),
                shots,
                seed: 0,
                fold: None,
            }
            .validate()
            .map_err(|e| validate::owner_error(ctx, "", e))?;
            if let Some((key, message)) = protocol.conflict() {
                return Err(ctx.error(&format!("protocol.{key}"), message));
            }
            let seed: u64 = ctx.typed(take("seeds"), "seeds")?;
            protocol
                .check_seed(seed)
                .map_err(|message| ctx.error(&axis_key(axes, "seeds", &combo), message))?;
            out.push(GlobalCombo {
                dataset_name,
                dataset,
                model,
                protocol,
                train,
                eval_limit,
                shots,
                seed,
                labels,
                dataset_pos,
            });
        }
        Ok(out)
    }

    fn expand(
        &self,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
        variants: &[LossVariant],
    ) -> Result<Vec<Cell>, GridError> {
        let combos = self.global_combos(global, axes, zips)?;
        let mut cells = Vec::new();
        // dataset outermost, then loss variant, then the remaining global combination
        let mut dataset_positions: Vec<usize> = combos.iter().map(|c| c.dataset_pos).collect();
        dataset_positions.dedup();
        let mut seen_pos = HashSet::new();
        for pos in dataset_positions
            .into_iter()
            .filter(|p| seen_pos.insert(*p))
        {
            for variant in variants {
                for combo in combos.iter().filter(|c| c.dataset_pos == pos) {
                    for fold in combo.protocol.cell_folds() {
                        validate::cell_count(self.ctx, cells.len() + 1)?;
                        cells.push(self.cell(combo, variant, fold));
                    }
                }
            }
        }
        Ok(cells)
    }

    fn cell(&self, combo: &GlobalCombo, variant: &LossVariant, fold: Option<usize>) -> Cell {
        let inference = InferenceMode::for_objective(self.inference, &variant.objective);
        let spec = CellSpec {
            dataset_name: combo.dataset_name.clone(),
            dataset: combo.dataset.clone(),
            data_root: self.header.data_root.clone(),
            split: SplitRequest {
                protocol: combo.protocol.clone(),
                shots: combo.shots,
                seed: combo.seed,
                fold,
            },
            model: combo.model.clone(),
            loss_name: variant.name.clone(),
            objective: variant.objective.clone(),
            train: combo.train.clone(),
            inference,
            eval_limit: combo.eval_limit,
            setfit: variant.setfit.clone(),
        };
        let mut axes = combo.labels.clone();
        axes.insert("dataset".into(), combo.dataset_name.clone());
        axes.insert("loss".into(), variant.name.clone());
        axes.insert("shots".into(), combo.shots.to_string());
        axes.insert("seed".into(), combo.seed.to_string());
        if let Some(f) = fold {
            axes.insert("fold".into(), f.to_string());
        }
        Cell::new(spec, axes, variant.base.clone())
    }
}

fn axis_key(axes: &[Axis], name: &str, combo_or_none: &[usize]) -> String {
    match axes.iter().position(|a| a.dotted() == name) {
        Some(i) => format!("{name}.{}", combo_or_none.get(i).copied().unwrap_or(0)),
        None => name.to_string(),
    }
}

fn zip_error(ctx: &GridContext, key: &str, e: sweep::ZipError) -> GridError {
    match e {
        sweep::ZipError::UnequalLengths(a, na, b, nb) => ctx.error(
            key,
            format!("zipped lists must have equal lengths: `{a}` has {na} values, `{b}` has {nb}"),
        ),
        sweep::ZipError::TooMany { count, .. } => match validate::cell_count(ctx, count) {
            Err(e) => e,
            Ok(()) => ctx.file_error("too many combinations of swept settings"),
        },
    }
}

/// A global table with its axes and zip groups.
type Resolved = (Table, Vec<Axis>, Vec<Vec<usize>>);

/// `exclude` and `include` entries.
struct Filters {
    exclude: Vec<Filter>,
    include: Vec<Filter>,
}

/// One filter table, flattened to dotted keys; each key holds the accepted value labels.
#[derive(Debug)]
struct Filter {
    conditions: Vec<(String, Vec<String>, Vec<Value>)>,
}

/// Axis names a filter may use beyond the swept settings.
const FILTER_AXES: &[&str] = &["dataset", "loss", "shots", "seed", "fold"];

impl Filters {
    fn parse(
        ctx: &GridContext,
        root: &Table,
        global: &[Axis],
        variants: &[LossVariant],
    ) -> Result<Self, GridError> {
        let settings: Vec<String> = global
            .iter()
            .map(Axis::dotted)
            .filter(|p| !LIST_AXES.contains(&p.as_str()))
            .collect();
        let parse_list = |key: &str| -> Result<Vec<Filter>, GridError> {
            let Some(value) = root.get(key) else {
                return Ok(Vec::new());
            };
            let Value::Array(items) = value else {
                return Err(ctx.error(key, format!("`{key}` is a list of tables, e.g. {key} = [{{ dataset = \"trec\", shots = 8 }}]")));
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let item_key = format!("{key}.{i}");
                let Value::Table(t) = item else {
                    return Err(ctx.error(&item_key, "each entry is a table of axis = value(s)"));
                };
                let mut flat = Vec::new();
                flatten(t, "", &mut flat);
                if flat.is_empty() {
                    return Err(ctx.error(&item_key, "an empty filter would match every cell"));
                }
                let mut conditions = Vec::new();
                for (name, value) in flat {
                    let resolved = resolve_filter_key(&name, &settings).ok_or_else(|| {
                        let mut valid: Vec<String> =
                            FILTER_AXES.iter().map(|s| s.to_string()).collect();
                        valid.extend(settings.iter().cloned());
                        ctx.error(
                            &format!("{item_key}.{name}"),
                            format!("unknown axis `{name}`; valid: {}", valid.join(", ")),
                        )
                    })?;
                    let values = schema::as_list(&value);
                    if resolved == "loss" {
                        for v in &values {
                            let n = sweep::label(v);
                            if !variants.iter().any(|x| x.name == n || x.base == n) {
                                let names: Vec<&str> =
                                    variants.iter().map(|x| x.name.as_str()).collect();
                                return Err(ctx.error(
                                    &format!("{item_key}.loss"),
                                    format!(
                                        "no loss variant `{n}`; variants: {}",
                                        names.join(", ")
                                    ),
                                ));
                            }
                        }
                    }
                    conditions.push((resolved, values.iter().map(sweep::label).collect(), values));
                }
                out.push(Filter { conditions });
            }
            Ok(out)
        };
        let exclude = parse_list("exclude")?;
        let include = parse_list("include")?;
        Ok(Self { exclude, include })
    }
}

fn flatten(t: &Table, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(inner) => flatten(inner, &key, out),
            other => out.push((key, other.clone())),
        }
    }
}

/// A filter key: a built-in axis, a swept setting's dotted path, or its last segment if unique.
fn resolve_filter_key(name: &str, settings: &[String]) -> Option<String> {
    let builtin = match name {
        "dataset" | "datasets" => Some("dataset"),
        "loss" => Some("loss"),
        "shots" => Some("shots"),
        "seed" | "seeds" => Some("seed"),
        "fold" => Some("fold"),
        _ => None,
    };
    if let Some(b) = builtin {
        return Some(b.to_string());
    }
    if settings.iter().any(|s| s == name) {
        return Some(name.to_string());
    }
    let mut by_short = settings
        .iter()
        .filter(|s| s.rsplit('.').next() == Some(name));
    match (by_short.next(), by_short.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

impl Filter {
    fn matches(&self, cell: &Cell) -> bool {
        self.conditions.iter().all(|(axis, labels, _)| {
            if axis == "loss" {
                return labels
                    .iter()
                    .any(|l| *l == cell.spec.loss_name || *l == cell.loss_base);
            }
            cell.axes.get(axis).is_some_and(|v| labels.contains(v))
        })
    }

    fn accepts_loss(&self, v: &LossVariant) -> bool {
        match self.conditions.iter().find(|c| c.0 == "loss") {
            Some((_, labels, _)) => labels.iter().any(|l| *l == v.name || *l == v.base),
            None => true,
        }
    }

    /// Fold is not a setting but derived: an include entry with `fold` keeps only those folds.
    fn matches_fixed(&self, cell: &Cell) -> bool {
        self.conditions
            .iter()
            .filter(|c| c.0 == "fold")
            .all(|(_, labels, _)| cell.axes.get("fold").is_some_and(|f| labels.contains(f)))
    }

    /// The global table and axes with this entry's values in place of the grid's.
    fn apply_to(
        &self,
        ctx: &GridContext,
        key: &str,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
    ) -> Result<Resolved, GridError> {
        let mut table = global.clone();
        let mut replaced: HashSet<String> = HashSet::new();
        for (axis, _, values) in &self.conditions {
            let path: Vec<String> = match axis.as_str() {
                "loss" | "fold" => continue,
                "dataset" => vec!["datasets".into()],
                "seed" => vec!["seeds".into()],
                other => other.split('.').map(String::from).collect(),
            };
            let mut values = values.clone();
            if path == ["datasets"] {
                // a custom dataset is named by its `name`: substitute its table
                let declared =
                    schema::as_list(global.get("datasets").unwrap_or(&Value::Array(vec![])));
                for v in values.iter_mut() {
                    if let Some(custom) = declared
                        .iter()
                        .find(|d| d.get("name").and_then(Value::as_str) == v.as_str())
                    {
                        *v = custom.clone();
                    }
                }
            }
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            if !set_existing_or_new(&mut table, &path, value) {
                return Err(ctx.error(key, format!("cannot set `{}` here", path.join("."))));
            }
            replaced.insert(path.join("."));
        }
        let new_axes = ordered_like(sweep::find_axes(&table, &|_| false), axes);
        // zip groups survive only if all their members are still axes of the same length
        let mut new_zips = Vec::new();
        for group in zips {
            let names: Vec<String> = group.iter().map(|&i| axes[i].dotted()).collect();
            if names.iter().any(|n| replaced.contains(n)) {
                continue;
            }
            let idx: Vec<usize> = names
                .iter()
                .filter_map(|n| new_axes.iter().position(|a| a.dotted() == *n))
                .collect();
            if idx.len() == group.len() {
                new_zips.push(idx);
            }
        }
        Ok((table, new_axes, new_zips))
    }
}

fn set_existing_or_new(table: &mut Table, path: &[String], value: Value) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return true;
    }
    match table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(t) => set_existing_or_new(t, rest, value),
        _ => false,
    }
}

/// Keeps the original order for axes that existed; new ones go where their kind belongs.
fn ordered_like(mut new_axes: Vec<Axis>, original: &[Axis]) -> Vec<Axis> {
    let rank = |a: &Axis| match a.dotted().as_str() {
        "datasets" => (0, 0),
        "shots" => (2, 0),
        "seeds" => (3, 0),
        p => (
            1,
            original
                .iter()
                .position(|o| o.dotted() == p)
                .unwrap_or(usize::MAX),
        ),
    };
    new_axes.sort_by_key(rank);
    new_axes
}
