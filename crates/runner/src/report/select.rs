//! `dmlft report --select AXIS`: model selection on the dev examples. For every (other settings,
//! dataset, shots, loss variant), the value of the swept setting `AXIS` (e.g. `lr`) whose cells
//! have the best mean dev metric over seeds (and folds) is chosen, and only the cells at that
//! value are reported, with `AXIS` dropped from their settings. The test metrics never take part
//! in the choice. Dev metrics exist when the grid's per-class protocol sets `dev_shots`.
//!
//! The choice is made on the `head` mode's dev metric (every cell has it), so the other modes of
//! a loss are reported for the same models. Ties go to the first value in the grid's order of
//! the axis values as text, sorted (stated in the table).
//!
//! Beside the choice, the sensitivity table ([`dmlft_eval::report::sensitivity_markdown`]) shows
//! each method's test result at every value, so a reader sees whether its sign against the
//! baseline depends on the choice. For a search (`--select trial`, [`crate::search`]) it is the
//! compact form (chosen, best, median, worst trial on test), after a sentence stating the budget
//! (trials per method) each method got.

use crate::grid::{Cell, CellAxis};
use crate::search::TRIAL_AXIS;
use crate::store::{CellRecord, CellStatus};
use dmlft_eval::report::{sensitivity_markdown, SensitivityGroup, SensitivityValue};
use dmlft_eval::{InferenceMode, Metric};
use dmlft_train::spec::CellSpec;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The mode whose dev metric decides.
const SELECTION_MODE: InferenceMode = InferenceMode::Head;

/// One choice: a group and the mean dev metric of each candidate value.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The other swept settings of the group (`key=value`s), empty when there are none.
    pub settings: String,
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub chosen: String,
    /// (value, mean dev metric over the done cells, done cells, failed cells), in value order.
    pub candidates: Vec<Candidate>,
    /// The choice may still change: a value has fewer cells than the most any value has, or
    /// the group has fewer values than another group of the same loss (a grid still running).
    pub provisional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub value: String,
    /// `None` when no cell of this value is done.
    pub dev_mean: Option<f64>,
    /// Mean test metric (same mode and metric) of the done cells: not used in the choice, only
    /// shown in the sensitivity table.
    pub test_mean: Option<f64>,
    pub done: usize,
    pub failed: usize,
}

/// What the selection kept and how it chose.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub axis: String,
    pub metric: Metric,
    pub mode: InferenceMode,
    pub choices: Vec<Choice>,
    /// The loss the sensitivity table compares with (`--baseline`, else the default).
    pub baseline: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("--select {axis}: no cell has the swept setting `{axis}`; swept settings of these records: {available}")]
    UnknownAxis { axis: String, available: String },
    #[error("--select {axis}: several swept settings end in `{axis}`: {candidates}; give the full dotted path")]
    Ambiguous { axis: String, candidates: String },
    #[error("--select {axis}: cell {id} ({dataset}, loss {loss}) has no dev metrics: selection needs dev examples (`[protocol] kind = \"per-class\"` with `dev_shots` > 0)")]
    NoDev {
        axis: String,
        id: String,
        dataset: String,
        loss: String,
    },
    #[error("--select {axis}: cell {id} has no dev metrics in mode `{SELECTION_MODE}` (it has: {available})")]
    NoHeadMode {
        axis: String,
        id: String,
        available: String,
    },
    #[error("--select {axis}: metric `{metric}` is not defined on {dataset} (cell {id}); choose on another --metric")]
    Undefined {
        axis: String,
        id: String,
        dataset: String,
        metric: Metric,
    },
}

/// Group key: other settings, dataset, shots, loss.
type Group = (String, String, usize, String);

/// One value of a group: the dev metric of each done cell, its failed cells, the test metrics.
type Slot = (Vec<f64>, usize, Vec<f64>);

/// Keeps the records at each group's chosen value of `axis` (with `axis` removed from their
/// axes) and says what was chosen. Failed cells of the chosen value are kept (the report lists
/// them); those of other values are dropped with the rest of their value.
pub fn select_on_dev(
    records: &BTreeMap<String, CellRecord>,
    axis: &str,
    metric: Metric,
    expected: Option<&[Cell]>,
    baseline: Option<&str>,
) -> Result<(BTreeMap<String, CellRecord>, Selection), SelectError> {
    let axis = resolve_axis(records, axis)?;
    let axis = axis.as_str();
    // group -> value -> (dev metric of each done cell, failed cells, test metrics)
    let mut groups: BTreeMap<Group, BTreeMap<String, Slot>> = BTreeMap::new();
    for (id, r) in records {
        let Some(value) = r.axes.get(axis) else {
            continue;
        };
        let slot = groups
            .entry(group_of(r, axis))
            .or_default()
            .entry(value.clone())
            .or_default();
        match (&r.status, &r.result) {
            (CellStatus::Done, Some(result)) => {
                slot.0.push(dev_metric(id, r, result, axis, metric)?);
                let test = result.metrics.get(&SELECTION_MODE);
                if let Some(t) = test.and_then(|m| m.value(metric, &r.cell.dataset_name)) {
                    slot.2.push(t);
                }
            }
            _ => slot.1 += 1,
        }
    }
    let mut choices = Vec::new();
    let mut chosen: BTreeMap<Group, String> = BTreeMap::new();
    for (group, values) in groups {
        let candidates: Vec<Candidate> = values
            .iter()
            .map(|(value, (dev, failed, test))| Candidate {
                value: value.clone(),
                dev_mean: mean(dev),
                test_mean: mean(test),
                done: dev.len(),
                failed: *failed,
            })
            .collect();
        // the first best value wins a tie (strictly greater replaces)
        let best = candidates
            .iter()
            .filter_map(|c| c.dev_mean.map(|m| (c, m)))
            .fold(None::<(&Candidate, f64)>, |best, (c, m)| match best {
                Some((_, bm)) if m <= bm => best,
                _ => Some((c, m)),
            })
            .map(|(c, _)| c.value.clone())
            // no value has a done cell: keep the first, so its failures are reported
            .unwrap_or_else(|| candidates[0].value.clone());
        chosen.insert(group.clone(), best.clone());
        let (settings, dataset, shots, loss) = group;
        choices.push(Choice {
            settings,
            dataset,
            shots,
            loss,
            chosen: best,
            candidates,
            provisional: false,
        });
    }
    mark_provisional(
        &mut choices,
        expected.map(|cells| expected_cells(cells, axis)),
    );
    let kept = records
        .iter()
        .filter_map(|(id, r)| match r.axes.get(axis) {
            // cells without the axis (not swept for them) are kept as they are
            None => Some((id.clone(), r.clone())),
            Some(value) if chosen.get(&group_of(r, axis)) == Some(value) => {
                let mut r = r.clone();
                r.axes.remove(axis);
                Some((id.clone(), r))
            }
            Some(_) => None,
        })
        .collect();
    Ok((
        kept,
        Selection {
            axis: axis.to_string(),
            metric,
            mode: SELECTION_MODE,
            choices,
            baseline: baseline
                .map(String::from)
                .or_else(|| super::default_baseline(records)),
        },
    ))
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The record key of `axis`: itself, or the one swept setting whose dotted path ends in it
/// (`lr` for `train.optimizer.lr`), as the grid's include/exclude entries name axes.
fn resolve_axis(records: &BTreeMap<String, CellRecord>, axis: &str) -> Result<String, SelectError> {
    let swept: BTreeSet<&str> = records
        .values()
        .flat_map(|r| r.axes.keys().map(String::as_str))
        .filter(|k| !CellAxis::is_builtin(k))
        .collect();
    if swept.contains(axis) {
        return Ok(axis.to_string());
    }
    let matches: Vec<&str> = swept
        .iter()
        .copied()
        .filter(|k| k.rsplit('.').next() == Some(axis))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(SelectError::UnknownAxis {
            axis: axis.to_string(),
            available: if swept.is_empty() {
                "none".into()
            } else {
                swept.into_iter().collect::<Vec<_>>().join(", ")
            },
        }),
        several => Err(SelectError::Ambiguous {
            axis: axis.to_string(),
            candidates: several.join(", "),
        }),
    }
}

fn group_of(r: &CellRecord, axis: &str) -> Group {
    group_key(&r.axes, axis, &r.cell)
}

/// Other swept settings, dataset, shots and loss of a cell with `axes` and `spec`.
fn group_key(axes: &BTreeMap<String, String>, axis: &str, spec: &CellSpec) -> Group {
    let mut without = axes.clone();
    without.remove(axis);
    (
        super::settings_of(&without),
        spec.dataset_name.clone(),
        spec.split.shots,
        spec.loss_name.clone(),
    )
}

fn dev_metric(
    id: &str,
    r: &CellRecord,
    result: &dmlft_train::CellResult,
    axis: &str,
    metric: Metric,
) -> Result<f64, SelectError> {
    if result.dev_metrics.is_empty() {
        return Err(SelectError::NoDev {
            axis: axis.to_string(),
            id: id.to_string(),
            dataset: r.cell.dataset_name.clone(),
            loss: r.cell.loss_name.clone(),
        });
    }
    let dev = result
        .dev_metrics
        .get(&SELECTION_MODE)
        .ok_or_else(|| SelectError::NoHeadMode {
            axis: axis.to_string(),
            id: id.to_string(),
            available: result
                .dev_metrics
                .keys()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    dev.value(metric, &r.cell.dataset_name)
        .ok_or_else(|| SelectError::Undefined {
            axis: axis.to_string(),
            id: id.to_string(),
            dataset: r.cell.dataset_name.clone(),
            metric,
        })
}

/// Cells per (group, value) that the grid holds.
type Expected = BTreeMap<(Group, String), usize>;

/// The grid's cells (the results folder's `grid.toml`) counted per group and value of `axis`.
fn expected_cells(cells: &[Cell], axis: &str) -> Expected {
    let mut out = Expected::new();
    for cell in cells {
        if let Some(value) = cell.axes.get(axis) {
            let group = group_key(&cell.axes, axis, &cell.spec);
            *out.entry((group, value.clone())).or_default() += 1;
        }
    }
    out
}

/// Marks the choices that may still change because cells are missing (a grid still running).
/// With the grid's cells known (`expected`), a group is provisional when any value has fewer
/// records (done or failed) than the grid has cells, or a value of the grid has none; without
/// them, when a value has fewer records than the most any value has.
fn mark_provisional(choices: &mut [Choice], expected: Option<Expected>) {
    let records = |c: &Candidate| c.done + c.failed;
    let most = choices
        .iter()
        .flat_map(|c| c.candidates.iter().map(records))
        .max()
        .unwrap_or(0);
    for c in choices.iter_mut() {
        let group: Group = (
            c.settings.clone(),
            c.dataset.clone(),
            c.shots,
            c.loss.clone(),
        );
        c.provisional = match &expected {
            Some(expected) => {
                expected
                    .iter()
                    .filter(|((g, _), _)| *g == group)
                    .any(|((_, value), &n)| {
                        c.candidates
                            .iter()
                            .find(|k| &k.value == value)
                            .is_none_or(|k| records(k) < n)
                    })
            }
            None => c.candidates.iter().any(|k| records(k) < most),
        };
    }
}

/// The choices as a Markdown section (before the tables).
pub fn markdown(selection: &Selection) -> String {
    let mut text = format!(
        "## Chosen on dev: `{}`\n\nPer dataset, shots and loss, the value of `{}` with the best mean dev {} ({} mode) over seeds; only its cells are reported below. Ties go to the first value. *Provisional*: made on fewer cells or values than other choices have (a grid still running); it may change.\n\n| settings | dataset | shots | loss | chosen | dev mean per value (done/failed cells) |\n| --- | --- | ---: | --- | --- | --- |\n",
        selection.axis, selection.axis, selection.metric, selection.mode
    );
    for c in &selection.choices {
        let per_value = c
            .candidates
            .iter()
            .map(|k| {
                // every metric a record holds is a proportion: shown in percent like the tables
                let mean = k
                    .dev_mean
                    .map_or_else(|| "-".into(), |m| format!("{:.2}", 100.0 * m));
                format!("{}: {mean} ({}/{})", k.value, k.done, k.failed)
            })
            .collect::<Vec<_>>()
            .join("; ");
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            if c.settings.is_empty() {
                "-"
            } else {
                &c.settings
            },
            c.dataset,
            c.shots,
            c.loss,
            if c.provisional {
                format!("{} (provisional)", c.chosen)
            } else {
                c.chosen.clone()
            },
            per_value
        ));
    }
    text.push('\n');
    if selection.axis == TRIAL_AXIS {
        text.push_str(&budget_sentence(selection));
    }
    text.push_str(&sensitivity_markdown(
        &sensitivity(selection),
        &selection.axis,
        &selection.metric.to_string(),
        &selection.mode.to_string(),
        selection.baseline.as_deref(),
        selection.axis == TRIAL_AXIS,
    ));
    text
}

/// The tuning budget each method got: its trials (values of the `trial` axis) per group, which
/// a search makes the same for every method; said either way.
fn budget_sentence(selection: &Selection) -> String {
    let mut per_method: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for c in &selection.choices {
        per_method
            .entry(&c.loss)
            .or_default()
            .insert(c.candidates.len());
    }
    let counts: BTreeSet<usize> = per_method.values().flatten().copied().collect();
    match (counts.len(), counts.first()) {
        (1, Some(n)) => format!(
            "**Tuning budget:** {n} trials per method, the same for every method ({}), the baseline included; each trial scored by its mean dev {} over seeds.\n\n",
            per_method.keys().copied().collect::<Vec<_>>().join(", "),
            selection.metric
        ),
        _ => format!(
            "**Tuning budget: unequal** (a search still running, or cells excluded): trials per method: {}.\n\n",
            per_method
                .iter()
                .map(|(m, n)| format!(
                    "{m} {}",
                    n.iter().map(ToString::to_string).collect::<Vec<_>>().join("/")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Each choice as a sensitivity group: the test mean at every value.
pub fn sensitivity(selection: &Selection) -> Vec<SensitivityGroup> {
    selection
        .choices
        .iter()
        .map(|c| SensitivityGroup {
            settings: c.settings.clone(),
            dataset: c.dataset.clone(),
            shots: c.shots,
            method: c.loss.clone(),
            chosen: c.chosen.clone(),
            values: c
                .candidates
                .iter()
                .map(|k| SensitivityValue {
                    value: k.value.clone(),
                    test_mean: k.test_mean,
                })
                .collect(),
        })
        .collect()
}
