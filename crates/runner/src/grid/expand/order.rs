//! The order of the global axes (datasets, swept settings, shots, seeds), which fixes the
//! expansion order, and the checks of each axis's list of values.

use crate::grid::cell_axis::CellAxis;
use crate::grid::error::GridError;
use crate::grid::schema::GridContext;
use crate::grid::sweep::{self, Axis};
use toml::{Table, Value};

/// Where the list of a built-in axis goes among the global axes: datasets first, swept settings
/// (rank 1) between, then shots, then seeds.
fn builtin_rank(dotted: &str) -> Option<usize> {
    match CellAxis::ALL
        .into_iter()
        .find(|a| a.list_key() == Some(dotted))?
    {
        CellAxis::Dataset => Some(0),
        CellAxis::Shots => Some(2),
        CellAxis::Seed => Some(3),
        CellAxis::Loss | CellAxis::Fold => None,
    }
}

/// Global axes in expansion order: datasets, swept settings in declaration order, shots, seeds.
pub(super) fn ordered_global_axes(
    ctx: &GridContext,
    global: &Table,
) -> Result<Vec<Axis>, GridError> {
    let mut axes = sweep::find_axes(global, &|_| false);
    let rank = |a: &Axis| {
        let p = a.dotted();
        match builtin_rank(&p) {
            Some(r) => (r, 0),
            None => (1, ctx.locator.offset(&p)),
        }
    };
    axes.sort_by_key(rank);
    for axis in &axes {
        check_axis_values(ctx, &axis.dotted(), axis)?;
    }
    Ok(axes)
}

pub(super) fn check_axis_values(
    ctx: &GridContext,
    key: &str,
    axis: &Axis,
) -> Result<(), GridError> {
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

/// Keeps the original order for axes that existed; new ones go where their kind belongs.
pub(super) fn ordered_like(mut new_axes: Vec<Axis>, original: &[Axis]) -> Vec<Axis> {
    let rank = |a: &Axis| {
        let p = a.dotted();
        match builtin_rank(&p) {
            Some(r) => (r, 0),
            None => (
                1,
                original
                    .iter()
                    .position(|o| o.dotted() == p)
                    .unwrap_or(usize::MAX),
            ),
        }
    };
    new_axes.sort_by_key(rank);
    new_axes
}
