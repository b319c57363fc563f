//! The papers' k-fold protocol (dml_bert's `KFold(shuffle=True)` + `np.random.choice`):
//!
//! 1. The pool (train split, or all splits) is shuffled and cut into `folds` consecutive folds
//!    whose sizes follow sklearn's `KFold`: the first `n % folds` folds hold `n / folds + 1`
//!    examples, the others `n / folds`. The partition depends only on the seed and the pool, not on
//!    `fold` or `shots`.
//! 2. Fold `fold` is held out and evaluated whole (indices ascending).
//! 3. `shots` training examples **in total** are drawn without replacement from the other folds.
//!    Unstratified by default, so a class may be missing, as in the papers.
//!
//! With `rng = "dmlft"` (default) every draw comes from this crate's stream: the partition from the
//! `PARTITION` stream of the seed; the sample by partial Fisher-Yates over the candidates in
//! ascending index order with the `SAMPLE` stream of (seed, fold). With `stratified = true` each
//! class gets a share proportional to its size among the candidates: `floor(shots * c_k / m)`,
//! and the examples left over go one each to the classes with the largest remainders
//! `shots * c_k mod m` (ties: lower class id first). The classes are then drawn in class-id order
//! and the whole sample is shuffled once.
//!
//! With `rng = "numpy-compat"` the draws are the authors' own ([`super::numpy_kfold`]).
//!
//! `dev_per_class > 0` then carves dev examples from what the training folds have left (every
//! pool index outside the held-out fold and the training sample, ascending): per class in
//! class-id order a partial Fisher-Yates of `dev_per_class` items with the `DEV` stream of
//! (seed, fold), the dev set shuffled once at the end. The training sample is the one drawn
//! without dev examples, whichever `rng`.

use super::{by_class, gather, numpy_kfold, pool_examples, FewShotSplit};
use crate::error::DataError;
use crate::rng::{stream, SplitRng};
use crate::spec::{KfoldRng, PoolChoice, SplitRequest};
use crate::task::Task;

/// The k-fold settings of a request's protocol.
pub(super) struct KfoldSettings {
    pub folds: usize,
    pub stratified: bool,
    pub pool: PoolChoice,
    pub rng: KfoldRng,
    pub shuffle_seed: u64,
    pub dev_per_class: usize,
}

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
    settings: &KfoldSettings,
) -> Result<FewShotSplit, DataError> {
    let folds = settings.folds;
    let pool_choice = settings.pool;
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

    let context = format!(
        "the training part of fold {fold} (the other {} folds of the {n}-example {pool_name})",
        folds - 1
    );
    let (start, end) = fold_bounds(n, folds, fold);
    let candidates_len = n - (end - start);
    if req.shots > candidates_len {
        return Err(DataError::PoolTooSmall {
            requested: req.shots,
            size: candidates_len,
            context,
        });
    }
    let (train_indices, eval_indices, rng_note) = match settings.rng {
        KfoldRng::Dmlft => {
            let (train, eval) = dmlft_draw(task, &pool, req, folds, fold, settings.stratified);
            (train, eval, String::new())
        }
        KfoldRng::NumpyCompat => {
            let draw =
                numpy_kfold::draw(n, folds, fold, req.seed, req.shots, settings.shuffle_seed)?;
            let note = format!(
                "; NumPy-compatible, pool shuffle seed {}",
                settings.shuffle_seed
            );
            (draw.train_indices, draw.eval_indices, note)
        }
    };

    let dev_indices = match settings.dev_per_class {
        0 => Vec::new(),
        per_class => dev_draw(
            task,
            &pool,
            req,
            fold,
            (&train_indices, &eval_indices),
            per_class,
        )?,
    };

    Ok(FewShotSplit {
        train: gather(&pool, &train_indices),
        dev: gather(&pool, &dev_indices),
        eval: gather(&pool, &eval_indices),
        train_indices,
        dev_indices,
        eval_indices,
        pool: pool_choice,
        pool_size: n,
        label_names: task.label_names.clone(),
        eval_source: format!("held-out fold {fold} of {folds} ({pool_name}{rng_note})"),
    })
}

/// `per_class` dev examples per class from the pool indices outside `train` and `eval` (the
/// training folds' remainder), in a shuffled order.
fn dev_draw(
    task: &Task,
    pool: &[crate::example::Example],
    req: &SplitRequest,
    fold: usize,
    (train, eval): (&[usize], &[usize]),
    per_class: usize,
) -> Result<Vec<usize>, DataError> {
    let mut taken = vec![false; pool.len()];
    train.iter().chain(eval).for_each(|&i| taken[i] = true);
    let left: Vec<usize> = (0..pool.len()).filter(|&i| !taken[i]).collect();
    let mut rng = SplitRng::with_index(req.seed, stream::DEV, fold as u64);
    let mut dev = Vec::with_capacity(per_class * task.num_classes());
    for (class, mut group) in by_class(pool, &left, task.num_classes())
        .into_iter()
        .enumerate()
    {
        if group.len() < per_class {
            return Err(DataError::ClassTooSmall {
                class: task.label_names[class].clone(),
                size: group.len(),
                requested: per_class,
                context: format!(
                    "left in the training folds of fold {fold} after its {} training examples \
                     (protocol.dev_per_class = {per_class})",
                    train.len()
                ),
            });
        }
        rng.partial_shuffle(&mut group, per_class);
        dev.extend_from_slice(&group[..per_class]);
    }
    rng.shuffle(&mut dev);
    Ok(dev)
}

/// dmlft's own partition and sample: (training indices in draw order, held-out indices ascending).
fn dmlft_draw(
    task: &Task,
    pool: &[crate::example::Example],
    req: &SplitRequest,
    folds: usize,
    fold: usize,
    stratified: bool,
) -> (Vec<usize>, Vec<usize>) {
    let n = pool.len();
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

    let mut rng = SplitRng::with_index(req.seed, stream::SAMPLE, fold as u64);
    let train_indices = if stratified {
        let mut groups = by_class(pool, &candidates, task.num_classes());
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
    (train_indices, eval_indices)
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
