//! Few-shot protocols: which examples a cell trains on, which it may validate on, and which it is
//! evaluated on. Every draw comes from [`crate::rng::SplitRng`], so a request gives the same
//! split on every machine.
//!
//! Indices (`train_indices`, `dev_indices`, `eval_indices`) point into the **pool** named by
//! `FewShotSplit::pool`: the train split (`PoolChoice::Train`), or every split concatenated in
//! the order train, dev, test (`PoolChoice::All`; see [`Task::ordered_splits`]). The k-fold protocol
//! uses the pool the request names; the per-class protocol always reports indices into the
//! `All` pool, because its evaluation set may be the official test split.

mod kfold;
pub mod numpy_kfold;
mod per_class;

use crate::error::DataError;
use crate::example::Example;
use crate::spec::{PoolChoice, ProtocolSpec, SplitRequest};
use crate::task::Task;

/// The examples of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct FewShotSplit {
    /// Training examples, in training (draw) order.
    pub train: Vec<Example>,
    /// Validation examples (per-class `dev_shots`, k-fold `dev_per_class`; empty otherwise).
    pub dev: Vec<Example>,
    /// Evaluation examples (the held-out fold, the official test split, or the fixed held-out part).
    pub eval: Vec<Example>,
    pub train_indices: Vec<usize>,
    pub dev_indices: Vec<usize>,
    /// Ascending.
    pub eval_indices: Vec<usize>,
    /// Which pool the indices point into.
    pub pool: PoolChoice,
    pub pool_size: usize,
    pub label_names: Vec<String>,
    /// Where `eval` comes from, in words (for logs and results).
    pub eval_source: String,
}

/// Draws the examples of one cell. Errors: empty pool, `shots` 0, a missing or out-of-range
/// `fold`, or a sample larger than the class / pool it is drawn from.
pub fn sample_split(task: &Task, req: &SplitRequest) -> Result<FewShotSplit, DataError> {
    if task.is_empty() {
        return Err(DataError::EmptyDataset {
            name: task.name.clone(),
            what: "no example to sample from".into(),
        });
    }
    for (split, examples) in task.ordered_splits() {
        if let Some(bad) = examples.iter().find(|e| e.label >= task.num_classes()) {
            return Err(DataError::InvalidRequest(format!(
                "task {:?}, split {split}: label id {} but only {} label names",
                task.name,
                bad.label,
                task.num_classes()
            )));
        }
    }
    req.validate()?;
    if let Some((key, message)) = req.protocol.conflict() {
        return Err(DataError::InvalidRequest(format!(
            "protocol `{key}`: {message}"
        )));
    }
    req.protocol
        .check_seed(req.seed)
        .map_err(DataError::InvalidRequest)?;
    match &req.protocol {
        ProtocolSpec::Kfold {
            folds,
            stratified,
            pool,
            rng,
            shuffle_seed,
            dev_per_class,
        } => kfold::sample(
            task,
            req,
            &kfold::KfoldSettings {
                folds: *folds,
                stratified: *stratified,
                pool: *pool,
                rng: *rng,
                shuffle_seed: *shuffle_seed,
                dev_per_class: *dev_per_class,
            },
        ),
        ProtocolSpec::PerClass { dev_shots } => per_class::sample(task, req, *dev_shots),
    }
}

/// The pool's examples for a pool choice.
pub(crate) fn pool_examples(task: &Task, pool: PoolChoice) -> Vec<Example> {
    match pool {
        PoolChoice::Train => task
            .split(crate::task::TRAIN)
            .map(<[Example]>::to_vec)
            .unwrap_or_default(),
        PoolChoice::All => task.all_examples(),
    }
}

/// Indices of `indices` grouped by class id (each group keeps the order of `indices`).
pub(crate) fn by_class(pool: &[Example], indices: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let mut groups = vec![Vec::new(); classes];
    for &i in indices {
        groups[pool[i].label].push(i);
    }
    groups
}

pub(crate) fn gather(pool: &[Example], indices: &[usize]) -> Vec<Example> {
    indices.iter().map(|&i| pool[i].clone()).collect()
}
