//! Which examples go into which batch: fixed-order batches for training (the order is the
//! caller's, e.g. the seeded sample order) and length-sorted batches for evaluation (less padding),
//! with the permutation needed to put predictions back in the original order.

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
