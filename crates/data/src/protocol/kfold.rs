//! The papers' k-fold protocol (dml_bert's `KFold(shuffle=True)` + `np.random.choice`), with this
//! crate's RNG instead of NumPy's:
//!
//! 1. The pool (train split, or all splits) is shuffled with the `PARTITION` stream of the seed and
//!    cut into `folds` consecutive folds whose sizes follow sklearn's `KFold`: the first
//!    `n % folds` folds hold `n / folds + 1` examples, the others `n / folds`. The partition
//!    depends only on the seed and the pool, not on `fold` or `shots`.
//! 2. Fold `fold` is held out and evaluated whole (indices ascending).
//! 3. `shots` training examples **in total** are drawn without replacement from the other folds
//!    (candidates in ascending index order, partial Fisher-Yates with the `SAMPLE` stream of
//!    (seed, fold)). Unstratified by default, so a class may be missing, as in the papers.
//!    With `stratified = true` each class gets a share proportional to its size among the
//!    candidates: `floor(shots * c_k / m)`, and the examples left over go one each to the classes
//!    with the largest remainders `shots * c_k mod m` (ties: lower class id first). The classes
//!    are then drawn in class-id order and the whole sample is shuffled once.

use super::{by_class, gather, pool_examples, FewShotSplit};
use crate::error::DataError;
use crate::rng::{stream, SplitRng};
use crate::spec::{PoolChoice, SplitRequest};
use crate::task::Task;

/// `start..end` of fold `fold` when `n` items are cut into `folds` folds as sklearn's KFold does.
pub(crate) fn fold_bounds(n: usize, folds: usize, fold: usize) -> (usize, usize) {
    let base = n / folds;
    let extra = n % folds;
    let start = fold * base + fold.min(extra);
    let size = base + usize::from(fold < extra);
    (start, start + size)
}

pub(super) fn sample(
    task: &Task,
    req: &SplitRequest,
    folds: usize,
    stratified: bool,
    pool_choice: PoolChoice,
) -> Result<FewShotSplit, DataError> {
    // `folds` and `fold` are in range: `SplitRequest::validate` ran in `sample_split`.
    let fold = req.fold.ok_or_else(|| {
        DataError::InvalidRequest(format!(
            "the kfold protocol needs `fold` (one of 0..={})",
            folds - 1
        ))
    })?;
    let pool = pool_examples(task, pool_choice);
    let pool_name = match pool_choice {
        PoolChoice::Train => "train split",
        PoolChoice::All => "all splits",
    };
    if pool.is_empty() {
        return Err(DataError::EmptyDataset {
            name: task.name.clone(),
            what: format!("the k-fold pool ({pool_name}) is empty"),
        });
    }
    let n = pool.len();
    if folds > n {
        return Err(DataError::InvalidRequest(format!(
            "cannot cut {n} examples ({pool_name}) into {folds} folds"
        )));
    }

    let mut order: Vec<usize> = (0..n).collect();
    SplitRng::new(req.seed, stream::PARTITION).shuffle(&mut order);
    let (start, end) = fold_bounds(n, folds, fold);
    let mut eval_indices = order[start..end].to_vec();
    eval_indices.sort_unstable();
    let mut candidates: Vec<usize> = order[..start]
        .iter()
        .chain(&order[end..])
        .copied()
        .collect();
    candidates.sort_unstable();

    let context = format!(
        "the training part of fold {fold} (the other {} folds of the {n}-example {pool_name})",
        folds - 1
    );
    if req.shots > candidates.len() {
        return Err(DataError::PoolTooSmall {
            requested: req.shots,
            size: candidates.len(),
            context,
        });
    }
    let mut rng = SplitRng::with_index(req.seed, stream::SAMPLE, fold as u64);
    let train_indices = if stratified {
        let mut groups = by_class(&pool, &candidates, task.num_classes());
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        let quotas = proportional_quotas(req.shots, &sizes);
        let mut drawn = Vec::with_capacity(req.shots);
        for (group, quota) in groups.iter_mut().zip(quotas) {
            rng.partial_shuffle(group, quota);
            drawn.extend_from_slice(&group[..quota]);
        }
        rng.shuffle(&mut drawn);
        drawn
    } else {
        rng.partial_shuffle(&mut candidates, req.shots);
        candidates[..req.shots].to_vec()
    };

    Ok(FewShotSplit {
        train: gather(&pool, &train_indices),
        dev: Vec::new(),
        eval: gather(&pool, &eval_indices),
        train_indices,
        dev_indices: Vec::new(),
        eval_indices,
        pool: pool_choice,
        pool_size: n,
        label_names: task.label_names.clone(),
        eval_source: format!("held-out fold {fold} of {folds} ({pool_name})"),
    })
}

/// Largest-remainder apportionment of `total` over groups of the given sizes
/// (`total <= sum(sizes)`); never gives a group more than its size.
pub(crate) fn proportional_quotas(total: usize, sizes: &[usize]) -> Vec<usize> {
    let m: usize = sizes.iter().sum();
    if m == 0 {
        return vec![0; sizes.len()];
    }
    let mut quotas: Vec<usize> = sizes.iter().map(|&c| total * c / m).collect();
    let mut left = total - quotas.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..sizes.len()).collect();
    by_remainder.sort_by_key(|&k| (std::cmp::Reverse(total * sizes[k] % m), k));
    for k in by_remainder {
        if left == 0 {
            break;
        }
        if quotas[k] < sizes[k] {
            quotas[k] += 1;
            left -= 1;
        }
    }
    quotas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_sizes_follow_sklearn_kfold() {
        // sklearn: KFold(4).split(range(10)) -> test folds of sizes 3, 3, 2, 2.
        let bounds: Vec<_> = (0..4).map(|f| fold_bounds(10, 4, f)).collect();
        assert_eq!(bounds, vec![(0, 3), (3, 6), (6, 8), (8, 10)]);
        assert_eq!(fold_bounds(9, 3, 2), (6, 9));
    }

    #[test]
    fn proportional_quotas_use_largest_remainders() {
        assert_eq!(proportional_quotas(20, &[10, 10]), vec![10, 10]);
        // 7 over 2:1 sizes: 4.67 / 2.33 -> 4 + 1 (largest remainder) and 2.
        assert_eq!(proportional_quotas(7, &[60, 30]), vec![5, 2]);
        // TREC-like: a small class gets its rounded share.
        assert_eq!(proportional_quotas(10, &[5, 45, 50]), vec![1, 4, 5]);
        assert_eq!(proportional_quotas(3, &[1, 1, 1, 1]), vec![1, 1, 1, 0]);
        assert_eq!(proportional_quotas(0, &[3, 4]), vec![0, 0]);
    }
}
