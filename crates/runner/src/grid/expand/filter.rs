//! `exclude` and `include`: tables of axis = value(s) that drop cells, or add cells with other
//! values of the global settings.

use super::order::ordered_like;
use super::variants::LossVariant;
use super::Cell;
use crate::grid::cell_axis::CellAxis;
use crate::grid::error::GridError;
use crate::grid::schema::{self, GridContext};
use crate::grid::sweep::{self, Axis};
use std::collections::HashSet;
use toml::{Table, Value};

/// A global table with its axes and zip groups.
pub(super) type Resolved = (Table, Vec<Axis>, Vec<Vec<usize>>);

/// `exclude` and `include` entries.
pub(super) struct Filters {
    pub(super) exclude: Vec<Filter>,
    pub(super) include: Vec<Filter>,
}

/// One filter table, flattened to dotted keys: a cell matches if it meets every condition.
#[derive(Debug)]
pub(super) struct Filter {
    conditions: Vec<Condition>,
}

/// One key of a filter: the axis and the values it accepts.
#[derive(Debug)]
struct Condition {
    axis: FilterAxis,
    /// The accepted values' labels, as in a cell's axes.
    labels: Vec<String>,
    /// The accepted values as written (an `include` entry puts them into the grid).
    values: Vec<Value>,
}

/// What a filter key names: a built-in axis, or a swept setting by its dotted path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FilterAxis {
    Cell(CellAxis),
    Setting(String),
}

impl FilterAxis {
    /// The key of this axis in a cell's axes.
    fn key(&self) -> &str {
        match self {
            FilterAxis::Cell(a) => a.as_str(),
            FilterAxis::Setting(path) => path,
        }
    }
}

impl Filters {
    pub(super) fn parse(
        ctx: &GridContext,
        root: &Table,
        global: &[Axis],
        variants: &[LossVariant],
    ) -> Result<Self, GridError> {
        let settings: Vec<String> = global
            .iter()
            .map(Axis::dotted)
            .filter(|p| !CellAxis::list_keys().any(|k| k == p))
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
                    let axis = resolve_filter_key(&name, &settings).ok_or_else(|| {
                        let mut valid: Vec<String> =
                            CellAxis::ALL.iter().map(|a| a.to_string()).collect();
                        valid.extend(settings.iter().cloned());
                        ctx.error(
                            &format!("{item_key}.{name}"),
                            format!("unknown axis `{name}`; valid: {}", valid.join(", ")),
                        )
                    })?;
                    let values = schema::as_list(&value);
                    if axis == FilterAxis::Cell(CellAxis::Loss) {
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
                    conditions.push(Condition {
                        axis,
                        labels: values.iter().map(sweep::label).collect(),
                        values,
                    });
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
fn resolve_filter_key(name: &str, settings: &[String]) -> Option<FilterAxis> {
    if let Some(axis) = CellAxis::from_filter_key(name) {
        return Some(FilterAxis::Cell(axis));
    }
    if settings.iter().any(|s| s == name) {
        return Some(FilterAxis::Setting(name.to_string()));
    }
    let mut by_short = settings
        .iter()
        .filter(|s| s.rsplit('.').next() == Some(name));
    match (by_short.next(), by_short.next()) {
        (Some(one), None) => Some(FilterAxis::Setting(one.clone())),
        _ => None,
    }
}

impl Filter {
    pub(super) fn matches(&self, cell: &Cell) -> bool {
        self.conditions.iter().all(|c| {
            if c.axis == FilterAxis::Cell(CellAxis::Loss) {
                return c
                    .labels
                    .iter()
                    .any(|l| *l == cell.spec.loss_name || *l == cell.loss_base);
            }
            cell.axes
                .get(c.axis.key())
                .is_some_and(|v| c.labels.contains(v))
        })
    }

    pub(super) fn accepts_loss(&self, v: &LossVariant) -> bool {
        match self
            .conditions
            .iter()
            .find(|c| c.axis == FilterAxis::Cell(CellAxis::Loss))
        {
            Some(c) => c.labels.iter().any(|l| *l == v.name || *l == v.base),
            None => true,
        }
    }

    /// Fold is not a setting but derived: an include entry with `fold` keeps only those folds.
    pub(super) fn matches_fixed(&self, cell: &Cell) -> bool {
        let fold = FilterAxis::Cell(CellAxis::Fold);
        self.conditions.iter().filter(|c| c.axis == fold).all(|c| {
            cell.axes
                .get(fold.key())
                .is_some_and(|f| c.labels.contains(f))
        })
    }

    /// The global table and axes with this entry's values in place of the grid's.
    pub(super) fn apply_to(
        &self,
        ctx: &GridContext,
        key: &str,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
    ) -> Result<Resolved, GridError> {
        let mut table = global.clone();
        let mut replaced: HashSet<String> = HashSet::new();
        for c in &self.conditions {
            let path: Vec<String> = match &c.axis {
                FilterAxis::Cell(a) => match a.list_key() {
                    Some(key) => vec![key.to_string()],
                    None => continue,
                },
                FilterAxis::Setting(p) => p.split('.').map(String::from).collect(),
            };
            let mut values = c.values.clone();
            if c.axis == FilterAxis::Cell(CellAxis::Dataset) {
                // a custom dataset is named by its `name`: substitute its table
                let declared =
                    schema::as_list(global.get(&path[0]).unwrap_or(&Value::Array(vec![])));
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
