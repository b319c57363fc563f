//! A loaded dataset: label names and named splits, and the single entry point `load_task`.

use crate::authors::load_authors_pool;
use crate::custom::load_custom;
use crate::error::DataError;
use crate::example::Example;
use crate::senteval::load_senteval;
use crate::spec::DatasetSpec;
use std::collections::BTreeMap;
use std::path::Path;

/// Name of the training split. Tasks without an official split hold the whole dataset here.
pub const TRAIN: &str = "train";
/// Name of the validation split (SST2/SST5 dev, SICK trial).
pub const DEV: &str = "dev";
/// Name of the official test split.
pub const TEST: &str = "test";

/// A loaded dataset. Split names are [`TRAIN`], [`DEV`], [`TEST`]; a task without an official
/// split has only [`TRAIN`] (= the whole set).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Name used in results: the grid name for SentEval (`"mr"`, `"sick-e"`), the user's for custom data.
    pub name: String,
    /// Class names, indexed by `Example::label`.
    pub label_names: Vec<String>,
    pub splits: BTreeMap<String, Vec<Example>>,
}

impl Task {
    pub fn num_classes(&self) -> usize {
        self.label_names.len()
    }

    /// The examples of one split, if the task has it.
    pub fn split(&self, name: &str) -> Option<&[Example]> {
        self.splits.get(name).map(Vec::as_slice)
    }

    /// Splits in the canonical order train, dev, test, then any other name alphabetically.
    /// This order defines the `"all"` pool of the few-shot protocols.
    pub fn ordered_splits(&self) -> Vec<(&str, &[Example])> {
        let rank = |name: &str| match name {
            TRAIN => 0,
            DEV => 1,
            TEST => 2,
            _ => 3,
        };
        let mut splits: Vec<(&str, &[Example])> = self
            .splits
            .iter()
            .map(|(name, examples)| (name.as_str(), examples.as_slice()))
            .collect();
        splits.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
        splits
    }

    /// Every example of every split, concatenated in [`Task::ordered_splits`] order.
    pub fn all_examples(&self) -> Vec<Example> {
        self.ordered_splits()
            .into_iter()
            .flat_map(|(_, examples)| examples.iter().cloned())
            .collect()
    }

    /// Number of examples over all splits.
    pub fn len(&self) -> usize {
        self.splits.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Count of examples per class id in `examples`.
    pub fn label_counts(&self, examples: &[Example]) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for example in examples {
            if let Some(count) = counts.get_mut(example.label) {
                *count += 1;
            }
        }
        counts
    }
}

/// Loads a dataset. SentEval tasks are read from `data_root/<TASK>/...` in SentEval's own layout
/// (e.g. `data_root/MR/rt-polarity.pos`). Relative paths of a custom dataset are taken relative to
/// `data_root`; absolute paths are used as they are.
pub fn load_task(spec: &DatasetSpec, data_root: &Path) -> Result<Task, DataError> {
    let task = match spec {
        DatasetSpec::SentEval(name) => load_senteval(*name, data_root)?,
        DatasetSpec::Custom(custom) => load_custom(custom, data_root)?,
        DatasetSpec::Authors(authors) => load_authors_pool(authors, data_root)?,
    };
    if task.is_empty() {
        return Err(DataError::EmptyDataset {
            name: task.name,
            what: "no example in any split".into(),
        });
    }
    Ok(task)
}
