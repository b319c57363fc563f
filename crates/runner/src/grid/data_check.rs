//! Checks that need the disk: dataset folders and files, model files, and whether every cell's
//! sample can be drawn (shots larger than a class or a pool), asked of dmlft-data's own sampler so
//! that plan time and run time agree.

use super::error::GridError;
use super::expand::Grid;
use super::schema::GridContext;
use dmlft_data::spec::DatasetSpec;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

pub fn check(ctx: &GridContext, grid: &Grid) -> Result<(), GridError> {
    let mut datasets_seen = HashSet::new();
    let mut models_seen = HashSet::new();
    for cell in &grid.cells {
        let spec = &cell.spec;
        if datasets_seen.insert(spec.dataset_name.clone()) {
            dataset_files(ctx, &spec.dataset, &spec.data_root)?;
        }
        if models_seen.insert(spec.model.source.clone()) {
            model_files(ctx, &spec.model.source)?;
        }
    }
    samples(ctx, grid)
}

fn dataset_files(ctx: &GridContext, dataset: &DatasetSpec, root: &Path) -> Result<(), GridError> {
    match dataset {
        DatasetSpec::SentEval(task) => {
            let dir = root.join(dmlft_data::senteval::folder_name(*task));
            if !dir.is_dir() {
                return Err(ctx.error(
                    "datasets",
                    format!(
                        "data folder {} not found (data root {}); set `data_root`, pass --data-dir, or set DMLFT_DATA_DIR to the SentEval folder",
                        dir.display(),
                        root.display()
                    ),
                ));
            }
        }
        DatasetSpec::Authors(authors) => {
            let task = authors.authors_pool;
            dataset_files(ctx, &DatasetSpec::SentEval(task), root)?;
            dmlft_data::authors::check_files(task, root).map_err(|e| {
                ctx.error(
                    "datasets",
                    format!("dataset `{task}` ([data] pools = \"authors\"): {e}"),
                )
            })?;
        }
        DatasetSpec::Custom(custom) => {
            for file in std::iter::once(&custom.train).chain(custom.test.iter()) {
                // dmlft-data's rule: relative custom paths are relative to the data root.
                let path = if file.is_absolute() {
                    file.clone()
                } else {
                    root.join(file)
                };
                if !path.is_file() {
                    return Err(ctx.error(
                        "datasets",
                        format!("custom dataset `{}`: file {} not found (relative paths are taken from the data root {})", custom.name, path.display(), root.display()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Resolves the model source exactly as training will (a folder with config and weights, or a
/// Hugging Face id in the local cache), without downloading at plan time. A well-known Hub id
/// (dmlft-model's table) that is not downloaded yet passes when the run may download it.
fn model_files(ctx: &GridContext, source: &str) -> Result<(), GridError> {
    let hub = dmlft_model::HubSettings::from_env();
    match dmlft_model::resolve_source_in(source, &hub.cache, false) {
        Ok(_) => Ok(()),
        Err(_) if hub.downloads() && dmlft_model::known_architecture(source).is_some() => Ok(()),
        Err(e) => Err(ctx.error("model.source", e.to_string())),
    }
}

/// Asks the sampler for one sample per (dataset, protocol, shots): class and pool sizes do not
/// depend on the seed, so one draw per combination finds every impossible request.
fn samples(ctx: &GridContext, grid: &Grid) -> Result<(), GridError> {
    let mut tasks = BTreeMap::new();
    let mut checked = HashSet::new();
    for cell in &grid.cells {
        let spec = &cell.spec;
        let key = (
            spec.dataset_name.clone(),
            serde_json::to_string(&spec.split.protocol).unwrap_or_default(),
            spec.split.shots,
        );
        if !checked.insert(key) {
            continue;
        }
        if !tasks.contains_key(&spec.dataset_name) {
            let task = dmlft_data::load_task(&spec.dataset, &spec.data_root).map_err(|e| {
                ctx.error("datasets", format!("dataset `{}`: {e}", spec.dataset_name))
            })?;
            tasks.insert(spec.dataset_name.clone(), task);
        }
        let task = &tasks[&spec.dataset_name];
        dmlft_data::sample_split(task, &spec.split).map_err(|e| {
            ctx.error(
                "shots",
                format!(
                    "dataset `{}` cannot give {} shots under {:?}: {e}",
                    spec.dataset_name, spec.split.shots, spec.split.protocol
                ),
            )
        })?;
    }
    Ok(())
}
