//! Per-split counts, label distribution and token lengths of a task, as JSON for `dmlft data stats`.
//!
//! JSON shape: `{"task": "...", "splits": {"<split>": {"n": N, "labels": {"<label name>": count},
//! "token_length": {"p50", "p90", "p99", "max"}}}}`. Splits appear in the order train, dev, test and
//! labels in class-id order. `token_length` (only with a tokenizer) counts special tokens and no
//! truncation; percentiles are nearest-rank: the smallest length with at least p% of the examples
//! at or below it.

use crate::error::DataError;
use crate::task::Task;
use crate::tokenize::TextTokenizer;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A JSON object whose keys keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<V> OrderedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskStats {
    pub task: String,
    pub splits: OrderedMap<SplitStats>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SplitStats {
    pub n: usize,
    pub labels: OrderedMap<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_length: Option<LengthStats>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LengthStats {
    pub p50: usize,
    pub p90: usize,
    pub p99: usize,
    pub max: usize,
}

/// Counts (and token lengths with a tokenizer) per split.
pub fn task_stats(task: &Task, tokenizer: Option<&TextTokenizer>) -> Result<TaskStats, DataError> {
    let mut splits = Vec::new();
    for (name, examples) in task.ordered_splits() {
        let counts = task.label_counts(examples);
        let labels = task.label_names.iter().cloned().zip(counts).collect();
        let token_length = match tokenizer {
            Some(tokenizer) => length_stats(tokenizer.token_lengths(examples)?),
            None => None,
        };
        splits.push((
            name.to_string(),
            SplitStats {
                n: examples.len(),
                labels: OrderedMap(labels),
                token_length,
            },
        ));
    }
    Ok(TaskStats {
        task: task.name.clone(),
        splits: OrderedMap(splits),
    })
}

/// Nearest-rank percentiles; `None` for no example.
pub(crate) fn length_stats(mut lengths: Vec<usize>) -> Option<LengthStats> {
    if lengths.is_empty() {
        return None;
    }
    lengths.sort_unstable();
    let n = lengths.len();
    let rank = |p: usize| lengths[(p * n).div_ceil(100).max(1) - 1];
    Some(LengthStats {
        p50: rank(50),
        p90: rank(90),
        p99: rank(99),
        max: lengths[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::Example;
    use std::collections::BTreeMap;

    #[test]
    fn nearest_rank_percentiles() {
        let stats = length_stats((1..=10).collect()).unwrap();
        assert_eq!(
            stats,
            LengthStats {
                p50: 5,
                p90: 9,
                p99: 10,
                max: 10
            }
        );
        assert_eq!(length_stats(vec![]), None);
        assert_eq!(length_stats(vec![7]).unwrap().p50, 7);
    }

    #[test]
    fn json_shape_keeps_split_and_label_order() {
        let task = Task {
            name: "toy".into(),
            label_names: vec!["neg".into(), "pos".into()],
            splits: BTreeMap::from([
                (
                    "train".into(),
                    vec![Example::new("a", 1), Example::new("b", 1)],
                ),
                ("test".into(), vec![Example::new("c", 0)]),
            ]),
        };
        let json = serde_json::to_string(&task_stats(&task, None).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"task":"toy","splits":{"train":{"n":2,"labels":{"neg":0,"pos":2}},"test":{"n":1,"labels":{"neg":1,"pos":0}}}}"#
        );
    }
}
