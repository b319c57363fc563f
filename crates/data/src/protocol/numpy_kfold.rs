//! The papers' own k-fold draws, to the index (`rng = "numpy-compat"`). Their
//! `train_cross_validation.py` does, with NumPy's legacy `RandomState` throughout:
//!
//! 1. `df = sklearn.utils.shuffle(df, random_state=shuffle_seed)`: the pool's rows in the order of
//!    `RandomState(shuffle_seed).shuffle(arange(n))`. The index is not reset; everything after
//!    works on row positions (`iloc`).
//! 2. `KFold(n_splits=folds, shuffle=True, random_state=seed).split(df)`: positions
//!    `RandomState(seed).shuffle(arange(n))` cut into `folds` chunks (the first `n % folds` one
//!    longer); fold `f` holds out chunk `f` (sorted), and trains on the sorted rest.
//! 3. `np.random.choice(train_index, shots, replace=False)` from NumPy's global generator, which
//!    is `RandomState(seed)` for fold 0 (`np.random.seed(seed)` at the start) and, for every later
//!    fold, `RandomState(42)`: transformers' `Trainer.__init__` calls `set_seed(args.seed)` with
//!    `TrainingArguments.seed`'s default 42 after fold 0's draw, and training draws nothing from
//!    NumPy. `choice` without replacement is `train[permutation(len(train))[:shots]]`.
//!
//! Indices returned point into the pool in load order (the DataFrame's index labels).

use super::kfold::fold_bounds;
use crate::error::DataError;
use crate::numpy::RandomState;

/// The seed NumPy's global generator holds before the sample of every fold after the first:
/// transformers' `TrainingArguments.seed` default, applied by `Trainer.__init__`.
pub const TRAINER_SEED: u32 = 42;

/// The authors' draw for one fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumpyDraw {
    /// Training examples (pool indices) in `choice`'s draw order.
    pub train_indices: Vec<usize>,
    /// Held-out examples (pool indices), ascending.
    pub eval_indices: Vec<usize>,
    /// Row positions (`iloc`) of the training examples in the shuffled pool.
    pub train_rows: Vec<usize>,
}

/// `seed` as NumPy's `RandomState` takes it, or an error naming the setting.
fn numpy_seed(seed: u64, what: &str) -> Result<u32, DataError> {
    u32::try_from(seed).map_err(|_| {
        DataError::InvalidRequest(format!(
            "{what} {seed} is too large for NumPy's RandomState (0 ..= 4294967295)"
        ))
    })
}

/// The pool order after `sklearn.utils.shuffle(pool, random_state=shuffle_seed)`: row `r` of the
/// shuffled pool is pool example `order[r]`.
pub fn pool_order(n: usize, shuffle_seed: u32) -> Vec<usize> {
    RandomState::new(shuffle_seed).permutation(n)
}

/// `KFold(folds, shuffle=True, random_state=seed)`'s fold `fold` over `n` rows:
/// (training row positions, held-out row positions), both ascending.
pub fn kfold_rows(n: usize, folds: usize, fold: usize, seed: u32) -> (Vec<usize>, Vec<usize>) {
    let order = RandomState::new(seed).permutation(n);
    let (start, end) = fold_bounds(n, folds, fold);
    let mut held_out = order[start..end].to_vec();
    held_out.sort_unstable();
    let mut train: Vec<usize> = order[..start]
        .iter()
        .chain(&order[end..])
        .copied()
        .collect();
    train.sort_unstable();
    (train, held_out)
}

/// The seed of NumPy's global generator when fold `fold`'s sample is drawn.
pub fn sample_seed(seed: u32, fold: usize) -> u32 {
    if fold == 0 {
        seed
    } else {
        TRAINER_SEED
    }
}

/// The authors' fold `fold` of `folds` over a pool of `n`: held-out fold and `shots` training
/// examples. The caller has checked `2 <= folds <= n`, `fold < folds` and that the training part
/// holds at least `shots` rows.
pub fn draw(
    n: usize,
    folds: usize,
    fold: usize,
    seed: u64,
    shots: usize,
    shuffle_seed: u64,
) -> Result<NumpyDraw, DataError> {
    let seed = numpy_seed(seed, "seed")?;
    let order = pool_order(n, numpy_seed(shuffle_seed, "shuffle_seed")?);
    let (train_rows_all, held_out_rows) = kfold_rows(n, folds, fold, seed);
    let train_rows = RandomState::new(sample_seed(seed, fold))
        .choice_without_replacement(&train_rows_all, shots);
    let mut eval_indices: Vec<usize> = held_out_rows.iter().map(|&r| order[r]).collect();
    eval_indices.sort_unstable();
    Ok(NumpyDraw {
        train_indices: train_rows.iter().map(|&r| order[r]).collect(),
        eval_indices,
        train_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_the_rows_with_kfold_sizes() {
        let n = 10;
        let mut all = Vec::new();
        for fold in 0..4 {
            let (train, held_out) = kfold_rows(n, 4, fold, 7);
            assert_eq!(held_out.len(), [3, 3, 2, 2][fold]);
            assert_eq!(train.len() + held_out.len(), n);
            assert!(held_out.iter().all(|r| !train.contains(r)));
            all.extend(held_out);
        }
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn later_folds_draw_from_the_trainer_seed() {
        assert_eq!(sample_seed(2048, 0), 2048);
        assert_eq!(sample_seed(2048, 1), TRAINER_SEED);
        assert_eq!(sample_seed(7, 3), TRAINER_SEED);
    }

    #[test]
    fn too_large_seeds_are_an_error() {
        let err = draw(100, 4, 0, 1 << 32, 5, 42).unwrap_err().to_string();
        assert!(err.contains("4294967295"), "{err}");
    }
}
