//! Grid-level checks, and the owners' checks mapped to the file. The rules of each contract
//! type live with its owner (`ModelSpec::validate` in dmlft-model, `SplitRequest::validate` in
//! dmlft-data, `ObjectiveSpec::validate` in dmlft-losses, `TrainSpec::validate` and
//! `CellSpec::validate` in dmlft-train, which `run_cell` calls too); here their field paths
//! become file:line:col. Data-dependent checks (folders, files, class sizes, the checkpoint's
//! longest input) are in [`super::data_check`].

use super::error::GridError;
use super::schema::GridContext;
use dmlft_train::error::TrainError;
use dmlft_train::validate::{invalid_field, under};

/// Cells of one grid (and combinations of its swept settings): a bound against runaway memory.
pub const MAX_CELLS: usize = 100_000;

/// An owner's validation error, placed at grid key `prefix` + the owner's field path.
pub fn owner_error(ctx: &GridContext, prefix: &str, e: impl Into<TrainError>) -> GridError {
    let e = under(prefix, e);
    match invalid_field(&e) {
        Some((key, value, valid)) => ctx.error(key, format!("must be {valid}, got {value}")),
        None => ctx.error(prefix, crate::error_chain::one_line(&e)),
    }
}

/// Every float of the file is finite: TOML accepts `nan` and `inf`, which no setting means (a
/// NaN fails every range check silently, as comparisons with it are false).
pub fn finite_numbers(
    ctx: &GridContext,
    table: &toml::Table,
    prefix: &str,
) -> Result<(), GridError> {
    fn walk(ctx: &GridContext, value: &toml::Value, key: &str) -> Result<(), GridError> {
        match value {
            toml::Value::Float(f) if !f.is_finite() => {
                Err(ctx.error(key, format!("must be a finite number, got {f}")))
            }
            toml::Value::Table(t) => finite_numbers(ctx, t, key),
            toml::Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(ctx, v, &format!("{key}.{i}"))),
            _ => Ok(()),
        }
    }
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        walk(ctx, v, &key)?;
    }
    Ok(())
}

/// The number of cells (or combinations) a grid expands to.
pub fn cell_count(ctx: &GridContext, count: usize) -> Result<(), GridError> {
    if count <= MAX_CELLS {
        Ok(())
    } else {
        Err(ctx.file_error(format!(
            "the grid expands to {} cells, more than the limit of {MAX_CELLS}: shorten the swept lists or split the grid",
            if count == usize::MAX { "too many".to_string() } else { count.to_string() }
        )))
    }
}
