//! A loaded dataset: label names and named splits. What every loader returns; it imports no
//! loader (the dispatch to them is [`crate::load`]).

use crate::example::Example;
use std::collections::BTreeMap;

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
