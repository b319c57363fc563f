//! SetFit's sentence pairs (`setfit.sampler.ContrastiveDataset`, SetFit 1.2, single-label):
//!
//! 1. the pool: every index pair `(i, j)`, `i <= j` (self-pairs included), of the training
//!    examples in draw order, visited in a seeded random order (SetFit: numpy's
//!    `RandomState(42).permutation`; here the cell seed's [`stream::SETFIT_PAIRS`]: the same
//!    algorithm with other draws); a pair is positive (label 1) when both labels are equal, else
//!    negative (label 0); both lists keep the visiting order;
//! 2. how many: `num_iterations = N` gives `N * n` positives and `N * n` negatives; otherwise
//!    oversampling takes the larger pool's size for both, undersampling the smaller one's,
//!    unique each pool's own;
//! 3. which: each list cycles through its pool from the start until it has enough;
//! 4. order: positive, negative, positive, ... and the longer list's tail last.
//!
//! SetFit crashes (IndexError) on a one-class sample with oversampling or `num_iterations`, and
//! trains on positives only with the other strategies; here fewer than two classes is an error.

use dmlft_data::rng::{stream, SplitRng};

use crate::error::TrainError;
use crate::setfit::spec::SamplingStrategy;

/// Largest pool (`n (n + 1) / 2` pairs of `n` examples): far above a few-shot sample (96
/// examples give 4,656), low enough to stay in memory.
pub const MAX_POOL: usize = 50_000_000;

/// Indices `(i, j)`, `i <= j`, of two training examples.
type IndexPair = (usize, usize);

/// One pair of training examples (indices into the sample, in draw order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub first: usize,
    pub second: usize,
    /// Same label: the pair's cosine target is 1, else 0.
    pub positive: bool,
}

impl Pair {
    /// The target of CosineSimilarityLoss.
    pub fn target(&self) -> f32 {
        if self.positive {
            1.0
        } else {
            0.0
        }
    }
}

/// The pairs of one cell and their pools' sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairs {
    pub pairs: Vec<Pair>,
    pub pool_positive: usize,
    pub pool_negative: usize,
}

impl Pairs {
    pub fn positives(&self) -> usize {
        self.pairs.iter().filter(|p| p.positive).count()
    }

    pub fn negatives(&self) -> usize {
        self.pairs.len() - self.positives()
    }
}

/// The pairs SetFit trains its body on, for training labels `labels` (in draw order).
pub fn generate_pairs(
    labels: &[usize],
    strategy: SamplingStrategy,
    num_iterations: Option<usize>,
    seed: u64,
) -> Result<Pairs, TrainError> {
    let n = labels.len();
    let mut classes: Vec<usize> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return Err(TrainError::SetFit(format!(
            "SetFit needs at least 2 classes in the training sample to make negative pairs; the sample has {} example(s) of {} class(es)",
            n,
            classes.len()
        )));
    }
    let pool_size = n
        .checked_mul(n + 1)
        .map(|x| x / 2)
        .filter(|&s| s <= MAX_POOL)
        .ok_or_else(|| {
            TrainError::SetFit(format!(
                "SetFit's pair pool of {n} training examples has n (n + 1) / 2 pairs, more than {MAX_POOL}: use fewer shots"
            ))
        })?;
    let mut pool: Vec<IndexPair> = Vec::with_capacity(pool_size);
    for i in 0..n {
        for j in i..n {
            pool.push((i, j));
        }
    }
    SplitRng::new(seed, stream::SETFIT_PAIRS).shuffle(&mut pool);
    let (pos, neg): (Vec<IndexPair>, Vec<IndexPair>) =
        pool.into_iter().partition(|&(i, j)| labels[i] == labels[j]);
    let (len_pos, len_neg) = match num_iterations {
        Some(it) if it > 0 => {
            let each = it.checked_mul(n).filter(|&x| x <= MAX_POOL).ok_or_else(|| {
                TrainError::SetFit(format!(
                    "num_iterations = {it} with {n} training examples gives more than {MAX_POOL} pairs of each kind"
                ))
            })?;
            (each, each)
        }
        _ => match strategy {
            SamplingStrategy::Oversampling => {
                let m = pos.len().max(neg.len());
                (m, m)
            }
            SamplingStrategy::Undersampling => {
                let m = pos.len().min(neg.len());
                (m, m)
            }
            SamplingStrategy::Unique => (pos.len(), neg.len()),
        },
    };
    let pair = |pool: &[IndexPair], k: usize, positive: bool| {
        let (first, second) = pool[k % pool.len()];
        Pair {
            first,
            second,
            positive,
        }
    };
    let mut pairs = Vec::with_capacity(len_pos + len_neg);
    for k in 0..len_pos.max(len_neg) {
        if k < len_pos {
            pairs.push(pair(&pos, k, true));
        }
        if k < len_neg {
            pairs.push(pair(&neg, k, false));
        }
    }
    Ok(Pairs {
        pairs,
        pool_positive: pos.len(),
        pool_negative: neg.len(),
    })
}

/// How many pairs a class-balanced sample of `classes` x `per_class` examples gives (SetFit's
/// pool sizes: positives `classes * m (m + 1) / 2`, negatives `classes (classes - 1) / 2 * m^2`);
/// the plan's estimate before any sample is drawn. Saturating.
pub fn balanced_pair_count(
    strategy: SamplingStrategy,
    num_iterations: Option<usize>,
    classes: usize,
    per_class: usize,
) -> usize {
    let (k, m) = (classes, per_class);
    let n = k.saturating_mul(m);
    if let Some(it) = num_iterations.filter(|&it| it > 0) {
        return it.saturating_mul(n).saturating_mul(2);
    }
    let pos = k.saturating_mul(m.saturating_mul(m.saturating_add(1)) / 2);
    let neg = (k.saturating_mul(k.saturating_sub(1)) / 2).saturating_mul(m.saturating_mul(m));
    match strategy {
        SamplingStrategy::Oversampling => pos.max(neg).saturating_mul(2),
        SamplingStrategy::Undersampling => pos.min(neg).saturating_mul(2),
        SamplingStrategy::Unique => pos.saturating_add(neg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_include_self_pairs_and_split_by_label() {
        // 2 classes x 3: positives 2 * 3 * 4 / 2 = 12 (6 self-pairs), negatives 3 * 3 = 9.
        let p = generate_pairs(&[0, 1, 0, 1, 0, 1], SamplingStrategy::Unique, None, 1).unwrap();
        assert_eq!((p.pool_positive, p.pool_negative), (12, 9));
        assert_eq!((p.positives(), p.negatives()), (12, 9));
        assert_eq!(p.pairs.iter().filter(|q| q.first == q.second).count(), 6);
        assert!(p.pairs.iter().all(|q| q.first <= q.second));
    }

    #[test]
    fn the_balanced_estimate_is_the_count_of_a_balanced_sample() {
        let labels: Vec<usize> = (0..18).map(|i| i % 3).collect();
        for (strategy, it) in [
            (SamplingStrategy::Oversampling, None),
            (SamplingStrategy::Undersampling, None),
            (SamplingStrategy::Unique, None),
            (SamplingStrategy::Unique, Some(4)),
        ] {
            let real = generate_pairs(&labels, strategy, it, 1)
                .unwrap()
                .pairs
                .len();
            assert_eq!(
                balanced_pair_count(strategy, it, 3, 6),
                real,
                "{strategy:?}"
            );
        }
    }

    #[test]
    fn the_seed_changes_the_order_not_the_counts() {
        let labels = [0, 0, 1, 1, 2, 2, 2];
        let a = generate_pairs(&labels, SamplingStrategy::Oversampling, None, 1).unwrap();
        let b = generate_pairs(&labels, SamplingStrategy::Oversampling, None, 2).unwrap();
        assert_eq!(
            a,
            generate_pairs(&labels, SamplingStrategy::Oversampling, None, 1).unwrap()
        );
        assert_ne!(a.pairs, b.pairs);
        assert_eq!(a.pairs.len(), b.pairs.len());
    }
}
