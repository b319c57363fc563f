//! Expansion: every combination of the global axes, crossed with the loss variants and the
//! protocol's folds, as cells in the stable order.

use super::header::Header;
use super::template::template;
use super::variants::LossVariant;
use super::zip::zip_error;
use super::Cell;
use crate::grid::cell_axis::CellAxis;
use crate::grid::error::GridError;
use crate::grid::schema::{self, GridContext};
use crate::grid::sweep::{self, Axis};
use crate::grid::validate;
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest};
use dmlft_model::spec::ModelSpec;
use dmlft_train::spec::{CellSpec, InferenceMode, TrainSpec};
use dmlft_train::validate::validate_eval_limit;
use std::collections::BTreeMap;
use toml::{Table, Value};

/// What every cell of a grid shares: the file, its header and the inference modes.
pub(super) struct Expander<'a> {
    pub(super) ctx: &'a GridContext,
    pub(super) header: &'a Header,
    pub(super) inference: &'a [InferenceMode],
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
    /// Every combination of `axes`; refused before any is made when they and the
    /// `cells_per_combo` each yields (at least) exceed the cell limit.
    fn global_combos(
        &self,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
        cells_per_combo: usize,
    ) -> Result<Vec<GlobalCombo>, GridError> {
        let ctx = self.ctx;
        let per_combo = cells_per_combo.max(1);
        let combos = match sweep::combinations(axes, zips, validate::MAX_CELLS / per_combo) {
            // count * per_combo > MAX_CELLS here, so cell_count refuses it with the cell count
            Err(sweep::ZipError::TooMany { count, .. }) => {
                let refused = validate::cell_count(ctx, count.saturating_mul(per_combo)).err();
                return Err(refused
                    .unwrap_or_else(|| ctx.file_error("too many combinations of swept settings")));
            }
            other => other.map_err(|e| zip_error(ctx, "zip", e))?,
        };
        let base = template(global, axes);
        let mut out = Vec::with_capacity(combos.len());
        for combo in combos {
            let mut table = base.clone();
            let mut labels = BTreeMap::new();
            let mut dataset_pos = 0;
            for (a, &vi) in combo.iter().enumerate() {
                let axis = &axes[a];
                sweep::set_at(&mut table, &axis.path, axis.values[vi].clone());
                let path = axis.dotted();
                match CellAxis::ALL
                    .into_iter()
                    .find(|k| k.list_key() == Some(path.as_str()))
                {
                    Some(CellAxis::Dataset) => dataset_pos = vi,
                    Some(_) => {}
                    None => {
                        labels.insert(path, sweep::label(&axis.values[vi]));
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

    /// The cells of `variants` crossed with the combinations of `axes` over `global`. A search
    /// trial's variant gets the combinations of `global` with its drawn settings written in.
    pub(super) fn expand(
        &self,
        global: &Table,
        axes: &[Axis],
        zips: &[Vec<usize>],
        variants: &[LossVariant],
    ) -> Result<Vec<Cell>, GridError> {
        let plain = variants.iter().filter(|v| v.trial.is_none()).count();
        let shared = if plain > 0 || variants.is_empty() {
            self.global_combos(global, axes, zips, variants.len())?
        } else {
            Vec::new()
        };
        let mut own: Vec<Option<Vec<GlobalCombo>>> = Vec::with_capacity(variants.len());
        for variant in variants {
            own.push(match &variant.trial {
                None => None,
                Some(trial) => {
                    let mut table = global.clone();
                    for (path, value) in &trial.global {
                        if !crate::search::set_or_insert(&mut table, path, value.clone()) {
                            return Err(self.ctx.error(
                                &format!("search.space.{}", path.join(".")),
                                "is not a place in the grid's settings",
                            ));
                        }
                    }
                    Some(self.global_combos(&table, axes, zips, variants.len())?)
                }
            });
        }
        // dataset outermost (in order of first appearance), then loss variant, then the
        // remaining global combination; grouped in one pass (linear in the combinations)
        let mut order = Vec::new();
        for combo in &shared {
            if !order.contains(&combo.dataset_pos) {
                order.push(combo.dataset_pos);
            }
        }
        for combo in own.iter().flatten().flatten() {
            if !order.contains(&combo.dataset_pos) {
                order.push(combo.dataset_pos);
            }
        }
        let mut cells = Vec::new();
        for &dataset in &order {
            for (variant, own) in variants.iter().zip(&own) {
                let combos = own.as_ref().unwrap_or(&shared);
                for combo in combos.iter().filter(|c| c.dataset_pos == dataset) {
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
        let inference = InferenceMode::runnable(self.inference, variant.objective.has_proxies());
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
            probe: variant.probe.clone(),
        };
        let mut axes = combo.labels.clone();
        axes.extend(CellAxis::of_cell(&spec));
        if let Some(trial) = &variant.trial {
            axes.insert(crate::search::TRIAL_AXIS.to_string(), trial.label.clone());
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
