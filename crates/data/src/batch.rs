//! Which examples go into which batch. Training: a seeded [`BatchStream`] (a fresh order per
//! epoch, or class-balanced "m per class" batches for pair- and proxy-based losses); evaluation:
//! length-sorted batches (less padding) with the permutation that puts predictions back in the
//! original order.

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::rng::{stream, SplitRng};

/// How training batches are drawn (the grid's `[train] sampler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BatchSampler {
    /// A fresh seeded permutation of the items per epoch cut into consecutive batches, the last
    /// partial batch kept (transformers' `RandomSampler` under the HF Trainer).
    #[default]
    Shuffle,
    /// pytorch-metric-learning's `MPerClassSampler`: every batch holds `batch_size / m` classes
    /// drawn at random and `m` examples of each, drawn without replacement (with replacement only
    /// when a class has fewer than `m`). An epoch is as many batches as `Shuffle` would make, so
    /// a run's step count does not depend on the sampler. The draws are dmlft's own seeded
    /// stream, not numpy's.
    MPerClass { m: usize },
}

impl BatchSampler {
    pub fn is_shuffle(&self) -> bool {
        matches!(self, BatchSampler::Shuffle)
    }

    /// Checks that the sampler can fill batches of `batch_size` from `num_classes` classes (when
    /// known); the error says what `m` must be.
    pub fn check(&self, batch_size: usize, num_classes: Option<usize>) -> Result<(), String> {
        let BatchSampler::MPerClass { m } = *self else {
            return Ok(());
        };
        if m == 0 || !batch_size.is_multiple_of(m) {
            return Err(format!("a positive divisor of batch_size ({batch_size})"));
        }
        match num_classes {
            Some(classes) if batch_size / m > classes => Err(format!(
                "at least batch_size / classes = {batch_size} / {classes}: a batch of \
                 {batch_size} may not need more than the training sample's {classes} classes"
            )),
            _ => Ok(()),
        }
    }
}

/// The order of `n` training items in `epoch`: a fresh seeded permutation per epoch.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitRng::with_index(seed, stream::DATA_ORDER, epoch).shuffle(&mut order);
    order
}

/// Training batches as indices into the training items, endlessly, epoch after epoch.
#[derive(Debug, Clone)]
pub struct BatchStream {
    size: usize,
    seed: u64,
    /// Item indices per class (`MPerClass`), or empty (`Shuffle`).
    by_class: Vec<Vec<usize>>,
    m: usize,
    n: usize,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
}

impl BatchStream {
    /// A stream over items labelled `labels` (only `MPerClass` reads the labels).
    pub fn new(
        sampler: BatchSampler,
        labels: &[usize],
        batch_size: usize,
        seed: u64,
    ) -> Result<Self, DataError> {
        let size = batch_size.max(1);
        let mut stream = Self::shuffled(labels.len(), size, seed);
        if let BatchSampler::MPerClass { m } = sampler {
            let classes = labels.iter().max().map_or(0, |&c| c + 1);
            let mut by_class = vec![Vec::new(); classes];
            for (i, &label) in labels.iter().enumerate() {
                by_class[label].push(i);
            }
            by_class.retain(|items| !items.is_empty());
            sampler.check(size, Some(by_class.len())).map_err(|valid| {
                DataError::InvalidSetting {
                    field: "train.sampler.m".into(),
                    value: m.to_string(),
                    valid,
                }
            })?;
            stream.by_class = by_class;
            stream.m = m;
        }
        Ok(stream)
    }

    /// `Shuffle` batches of `batch_size` over `n` items.
    pub fn shuffled(n: usize, batch_size: usize, seed: u64) -> Self {
        Self {
            size: batch_size.max(1),
            seed,
            by_class: Vec::new(),
            m: 0,
            n,
            order: Vec::new(),
            cursor: 0,
            epoch: 0,
        }
    }

    /// Batches per epoch (the last one may be partial under `Shuffle`).
    pub fn batches_per_epoch(&self) -> usize {
        self.n.div_ceil(self.size)
    }

    /// True when the current epoch has no batch left: the next batch starts a new epoch.
    pub fn epoch_exhausted(&self) -> bool {
        self.cursor >= self.order.len()
    }

    /// The next batch; a new epoch begins when the last one is exhausted.
    pub fn next_batch(&mut self) -> Vec<usize> {
        if self.epoch_exhausted() {
            self.order = self.epoch_items(self.epoch);
            self.epoch += 1;
            self.cursor = 0;
        }
        let end = (self.cursor + self.size).min(self.order.len());
        let batch = self.order[self.cursor..end].to_vec();
        self.cursor = end;
        batch
    }

    /// Every item index of `epoch`, in batch order.
    fn epoch_items(&self, epoch: u64) -> Vec<usize> {
        if self.by_class.is_empty() {
            return epoch_order(self.n, self.seed, epoch);
        }
        let mut rng = SplitRng::with_index(self.seed, stream::DATA_ORDER, epoch);
        let per_batch = self.size / self.m;
        let mut classes: Vec<usize> = (0..self.by_class.len()).collect();
        let mut items = Vec::with_capacity(self.batches_per_epoch() * self.size);
        for _ in 0..self.batches_per_epoch() {
            rng.partial_shuffle(&mut classes, per_batch);
            for &class in &classes[..per_batch] {
                let mut pool = self.by_class[class].clone();
                if pool.len() >= self.m {
                    rng.partial_shuffle(&mut pool, self.m);
                    items.extend_from_slice(&pool[..self.m]);
                } else {
                    items.extend((0..self.m).map(|_| pool[rng.below(pool.len())]));
                }
            }
        }
        items
    }
}
/// Batches as lists of indices into the caller's example slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    pub batches: Vec<Vec<usize>>,
}

impl BatchPlan {
    /// Batches of `batch_size` over indices sorted by decreasing length (ties keep their original
    /// order), so that each batch pads to a similar length.
    pub fn length_sorted(lengths: &[usize], batch_size: usize) -> Self {
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
        Self::chunk(order, batch_size)
    }

    fn chunk(order: Vec<usize>, batch_size: usize) -> Self {
        let batch_size = batch_size.max(1);
        BatchPlan {
            batches: order.chunks(batch_size).map(<[usize]>::to_vec).collect(),
        }
    }

    /// All indices in batch order: position `k` of the concatenated batch outputs belongs to
    /// example `order()[k]`.
    pub fn order(&self) -> Vec<usize> {
        self.batches.iter().flatten().copied().collect()
    }

    /// Puts outputs produced in batch order back into the original example order.
    /// `outputs.len()` must equal the number of indices in the plan.
    pub fn restore<T>(&self, outputs: Vec<T>) -> Vec<T> {
        let order = self.order();
        assert_eq!(order.len(), outputs.len(), "one output per planned example");
        let mut slots: Vec<Option<T>> = (0..order.len()).map(|_| None).collect();
        for (index, output) in order.into_iter().zip(outputs) {
            slots[index] = Some(output);
        }
        slots
            .into_iter()
            .map(|slot| slot.expect("a batch plan is a permutation"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(stream: &mut BatchStream, k: usize) -> Vec<Vec<usize>> {
        (0..k).map(|_| stream.next_batch()).collect()
    }

    #[test]
    fn shuffle_batches_cover_each_epoch_once_in_a_fresh_order_and_keep_the_last_partial_batch() {
        let mut s = BatchStream::new(BatchSampler::Shuffle, &[0; 7], 3, 5).unwrap();
        let epoch0 = take(&mut s, 3);
        assert_eq!(epoch0.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        assert!(s.epoch_exhausted());
        let flat: Vec<usize> = epoch0.concat();
        assert_eq!(flat, epoch_order(7, 5, 0));
        let mut sorted = flat.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..7).collect::<Vec<_>>());
        let epoch1 = take(&mut s, 3).concat();
        assert_eq!(epoch1, epoch_order(7, 5, 1));
        assert_ne!(epoch1, flat, "a fresh order per epoch");
    }

    #[test]
    fn m_per_class_batches_hold_m_examples_of_batch_size_over_m_classes() {
        // 5 classes of 4, 3, 2, 6 and 1 examples; batches of 6 = 3 classes x 2.
        let labels = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4];
        let mut s = BatchStream::new(BatchSampler::MPerClass { m: 2 }, &labels, 6, 11).unwrap();
        assert_eq!(s.batches_per_epoch(), 3);
        let mut seen_classes = std::collections::BTreeSet::new();
        for batch in take(&mut s, 30) {
            assert_eq!(batch.len(), 6);
            let mut per_class = std::collections::BTreeMap::<usize, Vec<usize>>::new();
            for &i in &batch {
                per_class.entry(labels[i]).or_default().push(i);
            }
            assert_eq!(per_class.len(), 3, "{batch:?}");
            for (class, items) in per_class {
                assert_eq!(items.len(), 2, "{batch:?}");
                seen_classes.insert(class);
                // Distinct examples unless the class has fewer than m (class 4 has one).
                if class != 4 {
                    assert_ne!(items[0], items[1], "{batch:?}");
                }
            }
        }
        assert_eq!(
            seen_classes.len(),
            5,
            "every class is drawn over 30 batches"
        );
        // Seeded: the same stream again gives the same batches.
        let again = BatchStream::new(BatchSampler::MPerClass { m: 2 }, &labels, 6, 11).unwrap();
        let mut a = again.clone();
        let mut b = again;
        assert_eq!(take(&mut a, 5), take(&mut b, 5));
    }

    #[test]
    fn an_m_that_cannot_fill_a_batch_is_a_clear_error() {
        let labels = [0, 0, 1, 1];
        for (m, size, needle) in [(0, 4, "divisor"), (3, 4, "divisor"), (1, 4, "classes")] {
            let err = BatchStream::new(BatchSampler::MPerClass { m }, &labels, size, 1)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("train.sampler.m") && err.contains(needle),
                "{err}"
            );
        }
    }

    #[test]
    fn length_sorted_batches_restore_the_original_order() {
        let lengths = [3, 9, 1, 9, 5];
        let plan = BatchPlan::length_sorted(&lengths, 2);
        assert_eq!(plan.batches, vec![vec![1, 3], vec![4, 0], vec![2]]);
        // A "prediction" per example computed in batch order, then put back.
        let outputs: Vec<usize> = plan.order().iter().map(|&i| lengths[i] * 10).collect();
        assert_eq!(plan.restore(outputs), vec![30, 90, 10, 90, 50]);
    }
}
