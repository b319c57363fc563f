//! The LM-BFF / SetFit protocol: `shots` training examples **per class** from the train split
//! (plus `dev_shots` per class for validation, disjoint from them), evaluated on the official test
//! split. SST2/SST5 (and SICK-E) keep their official dev split unused: the dev examples are drawn
//! from train, as LM-BFF does, and the official test split is the evaluation set.
//!
//! Tasks without an official test split (MR, CR, SUBJ, MPQA, custom data without a test file)
//! first set aside a **fixed held-out test part**: for each class, `round(n_c / 5)` examples
//! (20%, rounded to the nearest integer), drawn with the `HOLDOUT` stream of [`HOLDOUT_SEED`], a
//! constant, not the cell seed, so every cell of every grid evaluates on the same examples. The
//! shots are then drawn from the remaining 80%.
//!
//! Drawing: per class in class-id order, the class's candidates (ascending pool index) get a
//! partial Fisher-Yates of `shots + dev_shots` items with the cell's `SAMPLE` stream; the first
//! `shots` are training examples, the next `dev_shots` dev examples. The training set and the
//! dev set are each shuffled once at the end, so batches mix classes.

use super::{by_class, gather, FewShotSplit};
use crate::error::DataError;
use crate::rng::{stream, SplitRng};
use crate::spec::{PoolChoice, SplitRequest};
use crate::task::{Task, TEST, TRAIN};

/// Seed of the fixed held-out test part (with the `HOLDOUT` stream); shared by every cell.
pub(crate) const HOLDOUT_SEED: u64 = 2048;

/// Held-out examples of a class of `n` examples: 20%, rounded to the nearest integer.
pub(crate) fn holdout_size(n: usize) -> usize {
    (n + 2) / 5
}

pub(super) fn sample(
    task: &Task,
    req: &SplitRequest,
    dev_shots: usize,
) -> Result<FewShotSplit, DataError> {
    let all = task.all_examples();
    // Where each split starts inside the `All` pool.
    let mut ranges = std::collections::BTreeMap::new();
    let mut offset = 0;
    for (name, examples) in task.ordered_splits() {
        ranges.insert(name, offset..offset + examples.len());
        offset += examples.len();
    }
    let train_range = ranges
        .get(TRAIN)
        .cloned()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| DataError::EmptyDataset {
            name: task.name.clone(),
            what: "the per-class protocol needs a non-empty train split".into(),
        })?;
    let classes = task.num_classes();

    let (candidates, eval_indices, eval_source, candidate_part) = match ranges.get(TEST) {
        Some(test) if !test.is_empty() => (
            train_range.collect::<Vec<_>>(),
            test.clone().collect::<Vec<_>>(),
            "official test split".to_string(),
            "in the train split",
        ),
        _ => {
            let train: Vec<usize> = train_range.collect();
            let mut rng = SplitRng::new(HOLDOUT_SEED, stream::HOLDOUT);
            let mut held_out = Vec::new();
            let mut rest = Vec::new();
            for mut group in by_class(&all, &train, classes) {
                let h = holdout_size(group.len());
                rng.partial_shuffle(&mut group, h);
                held_out.extend_from_slice(&group[..h]);
                rest.extend_from_slice(&group[h..]);
            }
            held_out.sort_unstable();
            rest.sort_unstable();
            if held_out.is_empty() {
                return Err(DataError::EmptyDataset {
                    name: task.name.clone(),
                    what: "the 20% held-out test part is empty (too few examples)".into(),
                });
            }
            (
                rest,
                held_out,
                format!("fixed stratified 20% held-out part of train (seed {HOLDOUT_SEED})"),
                "in the 80% of train left after the fixed 20% held-out test part",
            )
        }
    };

    let need = req.shots + dev_shots;
    let mut rng = SplitRng::new(req.seed, stream::SAMPLE);
    let mut train_indices = Vec::with_capacity(req.shots * classes);
    let mut dev_indices = Vec::with_capacity(dev_shots * classes);
    for (class, mut group) in by_class(&all, &candidates, classes).into_iter().enumerate() {
        if group.len() < need {
            return Err(DataError::ClassTooSmall {
                class: task.label_names[class].clone(),
                size: group.len(),
                requested: need,
                context: if dev_shots > 0 {
                    format!(
                        "{candidate_part} ({} shots + {dev_shots} dev shots requested)",
                        req.shots
                    )
                } else {
                    candidate_part.to_string()
                },
            });
        }
        rng.partial_shuffle(&mut group, need);
        train_indices.extend_from_slice(&group[..req.shots]);
        dev_indices.extend_from_slice(&group[req.shots..need]);
    }
    rng.shuffle(&mut train_indices);
    rng.shuffle(&mut dev_indices);

    Ok(FewShotSplit {
        train: gather(&all, &train_indices),
        dev: gather(&all, &dev_indices),
        eval: gather(&all, &eval_indices),
        train_indices,
        dev_indices,
        eval_indices,
        pool: PoolChoice::All,
        pool_size: all.len(),
        label_names: task.label_names.clone(),
        eval_source,
    })
}

#[cfg(test)]
mod tests {
    use super::holdout_size;

    #[test]
    fn holdout_is_twenty_percent_rounded_to_nearest() {
        assert_eq!(holdout_size(5331), 1066);
        assert_eq!(holdout_size(1368), 274);
        assert_eq!(holdout_size(10), 2);
        assert_eq!(holdout_size(3), 1);
        assert_eq!(holdout_size(2), 0);
    }
}
