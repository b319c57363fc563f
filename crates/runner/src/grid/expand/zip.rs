//! `zip`: groups of swept keys that advance together instead of being crossed.

use super::variants::LossSource;
use crate::grid::error::GridError;
use crate::grid::schema::GridContext;
use crate::grid::sweep::{self, Axis};
use crate::grid::validate;
use std::collections::{BTreeMap, HashSet};
use toml::{Table, Value};

/// The zip groups of a grid.
pub(super) struct Zips {
    /// Groups of global axis indices.
    pub(super) global: Vec<Vec<usize>>,
    /// Per loss (index into the sources): groups of that loss's axis indices.
    pub(super) per_loss: BTreeMap<usize, Vec<Vec<usize>>>,
}

pub(super) fn parse_zips(
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

/// A [`sweep::ZipError`] as an error at `key`.
pub(super) fn zip_error(ctx: &GridContext, key: &str, e: sweep::ZipError) -> GridError {
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
