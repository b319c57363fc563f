//! Loss variants: the `[losses.<name>]` tables as written, and each combination of their swept
//! values resolved into what a cell trains with.

use super::order::check_axis_values;
use crate::grid::error::GridError;
use crate::grid::schema::GridContext;
use crate::grid::sweep::{self, Axis};
use crate::grid::validate;
use crate::search::{self, Scope, SearchSpec};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_train::probe::ProbeSpec;
use dmlft_train::setfit::{Method, SetFitSpec};
use std::collections::BTreeMap;
use toml::{Table, Value};

/// A loss variant as written: its name, table, and swept settings.
pub(super) struct LossSource {
    pub(super) name: String,
    table: Table,
    pub(super) axes: Vec<Axis>,
}

pub(super) fn loss_sources(ctx: &GridContext, root: &Table) -> Result<Vec<LossSource>, GridError> {
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

/// One resolved loss variant.
#[derive(Debug, Clone)]
pub(super) struct LossVariant {
    pub(super) base: String,
    pub(super) name: String,
    pub(super) objective: ObjectiveSpec,
    /// `Some` for `method = "setfit"` (its objective is then the unused default).
    pub(super) setfit: Option<SetFitSpec>,
    /// `Some` for `method = "linear-probe"` (likewise).
    pub(super) probe: Option<ProbeSpec>,
    /// `Some` for a trial of a `[search]`: its label and the global settings it draws.
    pub(super) trial: Option<Trial>,
}

/// One trial of a search for one method: the `trial` axis label and the drawn global settings
/// (path in the global table, value); the drawn loss settings are in the variant already.
#[derive(Debug, Clone)]
pub(super) struct Trial {
    pub(super) label: String,
    pub(super) global: Vec<(Vec<String>, Value)>,
}

/// What a variant's table resolves to: an objective, or another method's settings.
type Resolved = (ObjectiveSpec, Option<SetFitSpec>, Option<ProbeSpec>);

/// A loss variant's table (at `prefix`, sweeps resolved) as what it trains with: an objective
/// (`method = "fine-tune"`, the default), SetFit's settings from its `setfit` table, or the
/// linear probe's from its `probe` table, which dmlft-train owns and validates.
fn method_of(ctx: &GridContext, prefix: &str, mut table: Table) -> Result<Resolved, GridError> {
    let method: Method = match table.remove("method") {
        None => Method::default(),
        Some(v) => ctx.typed(v, &format!("{prefix}.method"))?,
    };
    let setfit_table = table.remove("setfit");
    let probe_table = table.remove("probe");
    if probe_table.is_some() && method != Method::LinearProbe {
        return Err(ctx.error(
            &format!("{prefix}.probe"),
            format!(
                "probe settings apply only to a linear probe: add `method = \"linear-probe\"` to [{prefix}] (method: {})",
                Method::VALID
            ),
        ));
    }
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
            // `method` is read above, so serde's list of the objective's fields would miss it.
            let fields = field_names(&ObjectiveSpec::default());
            if let Some(key) = table.keys().find(|k| !fields.contains(k)) {
                return Err(ctx.error(
                    &format!("{prefix}.{key}"),
                    format!(
                        "unknown field `{key}`, expected one of {}, `method` ({})",
                        backticked(&fields),
                        Method::VALID
                    ),
                ));
            }
            let objective: ObjectiveSpec = ctx.typed(Value::Table(table), prefix)?;
            objective
                .validate()
                .map_err(|e| validate::owner_error(ctx, prefix, e))?;
            Ok((objective, None, None))
        }
        Method::SetFit => {
            if let Some(key) = table.keys().next() {
                return Err(ctx.error(
                    &format!("{prefix}.{key}"),
                    format!(
                        "a SetFit variant has no `{key}`: it trains with its own body loss and head; its settings go in [{prefix}.setfit] ({})",
                        backticked(&field_names(&SetFitSpec::default()))
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
            Ok((ObjectiveSpec::default(), Some(spec), None))
        }
        Method::LinearProbe => {
            if setfit_table.is_some() {
                return Err(ctx.error(
                    &format!("{prefix}.setfit"),
                    format!("SetFit settings apply only to a SetFit variant; a linear probe's go in [{prefix}.probe]"),
                ));
            }
            if let Some(key) = table.keys().next() {
                return Err(ctx.error(
                    &format!("{prefix}.{key}"),
                    format!(
                        "a linear probe has no `{key}`: it trains nothing on the training loop; its settings go in [{prefix}.probe] ({})",
                        backticked(&field_names(&ProbeSpec::default()))
                    ),
                ));
            }
            let key = format!("{prefix}.probe");
            let spec: ProbeSpec = match probe_table {
                None => ProbeSpec::default(),
                Some(v) => ctx.typed(v, &key)?,
            };
            spec.validate()
                .map_err(|e| validate::owner_error(ctx, &key, e))?;
            Ok((ObjectiveSpec::default(), None, Some(spec)))
        }
    }
}

/// The keys `value` serialises with: a settings struct's fields, from its own type (every field
/// of these serialises, `None` as null), so that a message listing them cannot fall behind.
fn field_names<T: serde::Serialize>(value: &T) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// `a`, `b`, `c` as serde writes a list of fields.
fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every loss variant: each source's table with each combination of its swept values (its
/// name then lists them, e.g. `ce+supcon[temperature=0.1]`). With a `[search]`, each variant is
/// a method and comes once per trial, under the same name, with the trial's draws.
pub(super) fn loss_variants(
    ctx: &GridContext,
    sources: &[LossSource],
    zips: &BTreeMap<usize, Vec<Vec<usize>>>,
    search: Option<&SearchSpec>,
) -> Result<Vec<LossVariant>, GridError> {
    let mut out = Vec::new();
    for (l, src) in sources.iter().enumerate() {
        let prefix = format!("losses.{}", src.name);
        let no_zips = Vec::new();
        let combos = sweep::combinations(
            &src.axes,
            zips.get(&l).unwrap_or(&no_zips),
            validate::MAX_CELLS,
        )
        .map_err(|e| super::zip::zip_error(ctx, &prefix, e))?;
        // Short names in variant names, unless two swept keys share the last segment.
        let shorts: Vec<&str> = src.axes.iter().map(Axis::short).collect();
        let base = super::template::template(&src.table, &src.axes);
        for combo in combos {
            let mut table = base.clone();
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
            let name = if parts.is_empty() {
                src.name.clone()
            } else {
                format!("{}[{}]", src.name, parts.join(","))
            };
            let Some(search) = search else {
                let (objective, setfit, probe) = method_of(ctx, &prefix, table)?;
                out.push(LossVariant {
                    base: src.name.clone(),
                    name,
                    objective,
                    setfit,
                    probe,
                    trial: None,
                });
                continue;
            };
            search.check_budget(ctx, &src.name)?;
            for t in 0..search.trials {
                let draws = search.draw(&src.name, t);
                let mut trial_table = table.clone();
                let mut global = Vec::new();
                for (param, value) in &draws {
                    match &param.scope {
                        Scope::Global => global.push((param.path.clone(), value.clone())),
                        Scope::Loss(_) => {
                            if !search::set_or_insert(&mut trial_table, &param.path, value.clone())
                            {
                                return Err(ctx.error(
                                    &format!("search.space.{}", param.key),
                                    format!("`{}` is not a place in [{prefix}] (a `dml` term index past its terms?)", param.key),
                                ));
                            }
                        }
                    }
                }
                let (objective, setfit, probe) = method_of(ctx, &prefix, trial_table)?;
                out.push(LossVariant {
                    base: src.name.clone(),
                    name: name.clone(),
                    objective,
                    setfit,
                    probe,
                    trial: Some(Trial {
                        label: search.label(t, &draws),
                        global,
                    }),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// The fields serde itself lists when it refuses an unknown one.
    fn serde_fields<T: DeserializeOwned>() -> Vec<String> {
        let err = serde_json::from_str::<T>(r#"{"no-such-field": 0}"#)
            .err()
            .expect("an unknown field is refused")
            .to_string();
        let list = &err[err.find("expected one of ").expect(&err) + 16..];
        let list = &list[..list.find(" at line").unwrap_or(list.len())];
        let mut names: Vec<String> = list
            .split(", ")
            .map(|n| n.trim_matches('`').to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn listed_keys_are_every_field_serde_accepts() {
        let mut objective = field_names(&ObjectiveSpec::default());
        objective.sort();
        assert_eq!(objective, serde_fields::<ObjectiveSpec>());
        let mut setfit = field_names(&SetFitSpec::default());
        setfit.sort();
        assert_eq!(setfit, serde_fields::<SetFitSpec>());
        assert!(setfit.contains(&"body_loss".to_string()), "{setfit:?}");
        let mut probe = field_names(&ProbeSpec::default());
        probe.sort();
        assert_eq!(probe, serde_fields::<ProbeSpec>());
    }
}
