//! Checks that need the disk: dataset folders and files (fingerprinted on the way, once per
//! dataset), model files and the checkpoint's longest input, and whether every cell's sample can
//! be drawn (shots larger than a class or a pool), asked of dmlft-data's own sampler so that plan
//! time and run time agree.

use super::error::GridError;
use super::expand::Grid;
use super::schema::GridContext;
use crate::error_chain::one_line;
use dmlft_data::spec::DatasetSpec;
use dmlft_data::DataError;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Runs every check; returns the data fingerprint of each dataset, by name.
pub fn check(ctx: &GridContext, grid: &Grid) -> Result<BTreeMap<String, String>, GridError> {
    let mut fingerprints = BTreeMap::new();
    let mut datasets: BTreeMap<&str, &DatasetSpec> = BTreeMap::new();
    let mut models_seen = HashSet::new();
    for cell in &grid.cells {
        let spec = &cell.spec;
        match datasets.get(spec.dataset_name.as_str()) {
            None => {
                datasets.insert(&spec.dataset_name, &spec.dataset);
                let fingerprint =
                    dataset_files(ctx, &spec.dataset_name, &spec.dataset, &spec.data_root)?;
                fingerprints.insert(spec.dataset_name.clone(), fingerprint);
            }
            Some(seen) if **seen != spec.dataset => {
                return Err(ctx.error(
                    "datasets",
                    format!(
                        "two different datasets are named `{}`: results and reports tell datasets apart by name",
                        spec.dataset_name
                    ),
                ));
            }
            Some(_) => {}
        }
        if models_seen.insert(spec.model.source.clone()) {
            model_files(ctx, grid, &spec.model.source)?;
        }
    }
    samples(ctx, grid)?;
    Ok(fingerprints)
}

/// The dataset's files exist (with a hint where to put them); returns their fingerprint.
fn dataset_files(
    ctx: &GridContext,
    name: &str,
    dataset: &DatasetSpec,
    root: &Path,
) -> Result<String, GridError> {
    if let Some(task) = dataset.senteval_task() {
        let dir = root.join(dmlft_data::senteval::folder_name(task));
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
    if let DatasetSpec::Authors(authors) = dataset {
        let task = authors.authors_pool;
        dmlft_data::authors::check_files(task, root).map_err(|e| {
            ctx.error(
                "datasets",
                format!(
                    "dataset `{task}` ([data] pools = \"authors\"): {}",
                    one_line(&e)
                ),
            )
        })?;
    }
    dmlft_data::fingerprint(dataset, root).map_err(|e| {
        let message = match (&e, dataset) {
            (DataError::MissingFile { path }, DatasetSpec::Custom(_)) => format!(
                "custom dataset `{name}`: file {} not found (relative paths are taken from the data root {})",
                path.display(),
                root.display()
            ),
            _ => format!("dataset `{name}`: {}", one_line(&e)),
        };
        ctx.error("datasets", message)
    })
}

/// Resolves the model source exactly as training will (a folder with config and weights, or a
/// Hugging Face id in the local cache), without downloading at plan time; a well-known Hub id
/// (dmlft-model's table) that is not downloaded yet passes when the run may download it. When
/// the checkpoint's config is known, every `max_length` of the cells on this model must fit its
/// position table.
fn model_files(ctx: &GridContext, grid: &Grid, source: &str) -> Result<(), GridError> {
    let hub = dmlft_model::HubSettings::from_env();
    let (config, config_file) = match dmlft_model::resolve_source_in(source, &hub.cache, false) {
        Ok(dir) => {
            let config_file = dir.join(dmlft_model::checkpoint::CONFIG_FILE);
            // An unreadable config is training's error to report (with its own message); this
            // check is for the length, which training also enforces.
            let Ok(config) = dmlft_model::EncoderConfig::from_file(&config_file) else {
                return Ok(());
            };
            (config, config_file.display().to_string())
        }
        Err(_) if hub.downloads() => match dmlft_model::known_architecture(source) {
            Some(config) => (config, format!("{source} (known architecture)")),
            // A run would download it, but a grid is checked before anything is fetched.
            None => {
                let message = format!(
                    "model source `{source}`: {}; a run would download it, but a grid is \
                     checked before anything is downloaded and this model's shape is not known \
                     without its config.json. Fetch it into the cache first (`dmlft embed \
                     --model {source} hello` does) or give a local folder",
                    dmlft_model::hub::not_found(source, &hub.cache)
                );
                return Err(ctx.error("model.source", message));
            }
        },
        Err(e) => return Err(ctx.error("model.source", one_line(&e))),
    };
    let longest = grid
        .cells
        .iter()
        .filter(|c| c.spec.model.source == source)
        .map(|c| c.spec.model.max_length)
        .max();
    match longest {
        Some(longest) => config
            .check_max_length(longest, &config_file)
            .map_err(|e| ctx.error("model.max_length", one_line(&e))),
        None => Ok(()),
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
            format!("{:?}", spec.split.protocol),
            spec.split.shots,
        );
        if !checked.insert(key) {
            continue;
        }
        if !tasks.contains_key(&spec.dataset_name) {
            let task = dmlft_data::load_task(&spec.dataset, &spec.data_root).map_err(|e| {
                ctx.error(
                    "datasets",
                    format!("dataset `{}`: {}", spec.dataset_name, one_line(&e)),
                )
            })?;
            tasks.insert(spec.dataset_name.clone(), task);
        }
        let task = &tasks[&spec.dataset_name];
        dmlft_data::sample_split(task, &spec.split).map_err(|e| {
            ctx.error(
                "shots",
                format!(
                    "dataset `{}` cannot give {} shots under {:?}: {}",
                    spec.dataset_name,
                    spec.split.shots,
                    spec.split.protocol,
                    one_line(&e)
                ),
            )
        })?;
    }
    Ok(())
}
