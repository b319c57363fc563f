//! Properties of the few-shot protocols: disjointness, balance, determinism, pinned draws, errors.

use dmlft_data::{
    sample_split, DataError, Example, FewShotSplit, PoolChoice, ProtocolSpec, SplitRequest, Task,
    TEST, TRAIN,
};
use std::collections::{BTreeMap, BTreeSet};

/// `n` train examples with labels `i % classes` (+ an optional test split of `n_test`).
fn toy(n: usize, classes: usize, n_test: usize) -> Task {
    let make = |prefix: &str, n: usize| -> Vec<Example> {
        (0..n)
            .map(|i| Example::new(format!("{prefix} {i}"), i % classes))
            .collect()
    };
    let mut splits = BTreeMap::from([(TRAIN.to_string(), make("train", n))]);
    if n_test > 0 {
        splits.insert(TEST.to_string(), make("test", n_test));
    }
    Task {
        name: "toy".into(),
        label_names: (0..classes).map(|c| format!("class{c}")).collect(),
        splits,
    }
}

fn kfold(
    folds: usize,
    stratified: bool,
    pool: PoolChoice,
    shots: usize,
    seed: u64,
    fold: Option<usize>,
) -> SplitRequest {
    SplitRequest {
        protocol: ProtocolSpec::kfold(folds, stratified, pool),
        shots,
        seed,
        fold,
    }
}

fn per_class(shots: usize, dev_shots: usize, seed: u64) -> SplitRequest {
    SplitRequest {
        protocol: ProtocolSpec::PerClass { dev_shots },
        shots,
        seed,
        fold: None,
    }
}

fn set(indices: &[usize]) -> BTreeSet<usize> {
    indices.iter().copied().collect()
}

fn assert_disjoint(split: &FewShotSplit) {
    let (train, dev, eval) = (
        set(&split.train_indices),
        set(&split.dev_indices),
        set(&split.eval_indices),
    );
    assert_eq!(
        train.len(),
        split.train_indices.len(),
        "no duplicate in train"
    );
    assert_eq!(dev.len(), split.dev_indices.len(), "no duplicate in dev");
    assert!(train.is_disjoint(&eval) && dev.is_disjoint(&eval) && train.is_disjoint(&dev));
    assert!(
        split.eval_indices.windows(2).all(|w| w[0] < w[1]),
        "eval ascending"
    );
    assert_eq!(split.train.len(), split.train_indices.len());
    assert_eq!(split.eval.len(), split.eval_indices.len());
}

#[test]
fn kfold_folds_partition_the_pool_with_sklearn_sizes() {
    let task = toy(103, 3, 0);
    let mut seen = BTreeSet::new();
    let mut sizes = Vec::new();
    for fold in 0..4 {
        let split = sample_split(
            &task,
            &kfold(4, false, PoolChoice::Train, 10, 5, Some(fold)),
        )
        .unwrap();
        assert_disjoint(&split);
        assert_eq!(split.train.len(), 10);
        assert_eq!(split.pool_size, 103);
        sizes.push(split.eval.len());
        for &i in &split.eval_indices {
            assert!(seen.insert(i), "index {i} in two held-out folds");
        }
        // The examples really are the pool's examples at those indices.
        let train = task.split(TRAIN).unwrap();
        for (example, &i) in split.eval.iter().zip(&split.eval_indices) {
            assert_eq!(example, &train[i]);
        }
    }
    assert_eq!(sizes, vec![26, 26, 26, 25]);
    assert_eq!(seen.len(), 103);
}

#[test]
fn kfold_is_deterministic_and_seed_dependent() {
    let task = toy(200, 2, 0);
    let a = sample_split(&task, &kfold(4, false, PoolChoice::Train, 20, 11, Some(2))).unwrap();
    let b = sample_split(&task, &kfold(4, false, PoolChoice::Train, 20, 11, Some(2))).unwrap();
    let c = sample_split(&task, &kfold(4, false, PoolChoice::Train, 20, 12, Some(2))).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.eval_indices, c.eval_indices);
    assert_ne!(a.train_indices, c.train_indices);
    // The partition does not depend on shots.
    let d = sample_split(&task, &kfold(4, false, PoolChoice::Train, 5, 11, Some(2))).unwrap();
    assert_eq!(a.eval_indices, d.eval_indices);
}

#[test]
fn kfold_pool_all_uses_every_split() {
    let task = toy(90, 3, 30);
    let split = sample_split(&task, &kfold(4, false, PoolChoice::All, 8, 1, Some(0))).unwrap();
    assert_eq!(split.pool_size, 120);
    assert_eq!(split.pool, PoolChoice::All);
    assert_eq!(split.eval.len(), 30);
    let all = task.all_examples();
    for (example, &i) in split.train.iter().zip(&split.train_indices) {
        assert_eq!(example, &all[i]);
    }
}

#[test]
fn kfold_stratified_is_proportional() {
    // 3 classes of sizes 60 / 30 / 30 (labels i % 4 with 0 and 3 merged).
    let mut task = toy(120, 4, 0);
    task.label_names.pop();
    for example in task.splits.get_mut(TRAIN).unwrap() {
        if example.label == 3 {
            example.label = 0;
        }
    }
    let split = sample_split(&task, &kfold(4, true, PoolChoice::Train, 12, 3, Some(1))).unwrap();
    assert_disjoint(&split);
    let counts = task.label_counts(&split.train);
    assert_eq!(counts.iter().sum::<usize>(), 12);
    // Candidates are 90 examples close to 2:1:1, so the shares are 6/3/3 give or take one.
    assert!(
        counts[0].abs_diff(6) <= 1 && counts[1].abs_diff(3) <= 1 && counts[2].abs_diff(3) <= 1,
        "{counts:?}"
    );
}

#[test]
fn kfold_request_errors_are_clear() {
    let task = toy(40, 2, 0);
    let err = sample_split(&task, &kfold(4, false, PoolChoice::Train, 5, 1, None)).unwrap_err();
    assert!(err.to_string().contains("needs `fold`"), "{err}");
    let err = sample_split(&task, &kfold(4, false, PoolChoice::Train, 5, 1, Some(4))).unwrap_err();
    assert!(
        err.to_string().contains("`fold`") && err.to_string().contains("0..=3"),
        "{err}"
    );
    let err = sample_split(&task, &kfold(4, false, PoolChoice::Train, 31, 1, Some(0))).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::PoolTooSmall {
                requested: 31,
                size: 30,
                ..
            }
        ),
        "{err}"
    );
    let err = sample_split(&task, &kfold(1, false, PoolChoice::Train, 5, 1, Some(0))).unwrap_err();
    assert!(
        err.to_string().contains("`protocol.folds`") && err.to_string().contains("at least 2"),
        "{err}"
    );
    let err = sample_split(&task, &kfold(4, false, PoolChoice::Train, 0, 1, Some(0))).unwrap_err();
    assert!(
        err.to_string().contains("`shots`") && err.to_string().contains("at least 1"),
        "{err}"
    );
}

#[test]
fn per_class_is_balanced_disjoint_and_uses_the_official_test() {
    let task = toy(300, 3, 60);
    let split = sample_split(&task, &per_class(8, 4, 9)).unwrap();
    assert_disjoint(&split);
    assert_eq!(task.label_counts(&split.train), vec![8, 8, 8]);
    assert_eq!(task.label_counts(&split.dev), vec![4, 4, 4]);
    assert_eq!(split.eval, task.split(TEST).unwrap());
    assert_eq!(split.eval_indices, (300..360).collect::<Vec<_>>());
    assert!(
        split
            .train_indices
            .iter()
            .chain(&split.dev_indices)
            .all(|&i| i < 300),
        "drawn from train"
    );
    assert_eq!(split.eval_source, "official test split");
}

#[test]
fn per_class_without_test_holds_out_a_fixed_stratified_fifth() {
    let task = toy(500, 2, 0);
    let a = sample_split(&task, &per_class(16, 0, 1)).unwrap();
    let b = sample_split(&task, &per_class(16, 0, 2)).unwrap();
    assert_disjoint(&a);
    assert_eq!(
        a.eval_indices, b.eval_indices,
        "held-out part independent of the cell seed"
    );
    assert_ne!(
        a.train_indices, b.train_indices,
        "the sample depends on the cell seed"
    );
    assert_eq!(task.label_counts(&a.eval), vec![50, 50]);
    assert_eq!(task.label_counts(&a.train), vec![16, 16]);
    // Asking for everything left (200 per class) works; one more fails, naming the class.
    assert!(sample_split(&task, &per_class(200, 0, 1)).is_ok());
    let err = sample_split(&task, &per_class(150, 51, 1)).unwrap_err();
    match &err {
        DataError::ClassTooSmall {
            class,
            size,
            requested,
            ..
        } => {
            assert_eq!((class.as_str(), *size, *requested), ("class0", 200, 201));
        }
        other => panic!("expected ClassTooSmall, got {other}"),
    }
    assert!(
        err.to_string().contains("\"class0\"") && err.to_string().contains("only 200"),
        "{err}"
    );
}

#[test]
fn per_class_too_many_shots_names_the_smallest_class() {
    let mut task = toy(30, 2, 10);
    // Make class1 small: only 3 training examples.
    for (i, example) in task.splits.get_mut(TRAIN).unwrap().iter_mut().enumerate() {
        example.label = usize::from(i < 3);
    }
    let err = sample_split(&task, &per_class(4, 0, 1)).unwrap_err();
    assert!(
        matches!(&err, DataError::ClassTooSmall { class, size: 3, .. } if class == "class1"),
        "{err}"
    );
}

#[test]
fn empty_tasks_are_errors() {
    let task = Task {
        name: "nothing".into(),
        label_names: vec!["a".into()],
        splits: BTreeMap::from([(TRAIN.to_string(), vec![])]),
    };
    for req in [
        per_class(1, 0, 1),
        kfold(4, false, PoolChoice::Train, 1, 1, Some(0)),
    ] {
        let err = sample_split(&task, &req).unwrap_err();
        assert!(matches!(err, DataError::EmptyDataset { .. }), "{err}");
    }
}

/// Recorded when the sampler was written. A failure here means every experiment's sample would
/// change: only update these values deliberately, and say so in the change log.
#[test]
fn pinned_indices() {
    let task = toy(100, 3, 0);
    let k = sample_split(&task, &kfold(4, false, PoolChoice::Train, 6, 2048, Some(1))).unwrap();
    let s = sample_split(&task, &kfold(4, true, PoolChoice::Train, 6, 7, Some(0))).unwrap();
    let p = sample_split(&task, &per_class(2, 1, 42)).unwrap();
    assert_eq!(k.train_indices, PINNED_KFOLD_TRAIN);
    assert_eq!(&k.eval_indices[..6], &PINNED_KFOLD_EVAL_HEAD);
    assert_eq!(s.train_indices, PINNED_KFOLD_STRATIFIED_TRAIN);
    assert_eq!(p.train_indices, PINNED_PER_CLASS_TRAIN);
    assert_eq!(p.dev_indices, PINNED_PER_CLASS_DEV);
    assert_eq!(&p.eval_indices[..6], &PINNED_HOLDOUT_HEAD);
}

// The same values come out of scripts/fewshot_split_reference.py, an independent Python
// implementation of the documented algorithm.
const PINNED_KFOLD_TRAIN: [usize; 6] = [19, 15, 32, 78, 40, 39];
const PINNED_KFOLD_EVAL_HEAD: [usize; 6] = [2, 3, 4, 7, 8, 10];
const PINNED_KFOLD_STRATIFIED_TRAIN: [usize; 6] = [82, 30, 73, 12, 35, 17];
const PINNED_PER_CLASS_TRAIN: [usize; 6] = [49, 68, 64, 84, 86, 18];
const PINNED_PER_CLASS_DEV: [usize; 3] = [66, 16, 77];
const PINNED_HOLDOUT_HEAD: [usize; 6] = [0, 1, 4, 5, 17, 19];

#[test]
fn real_mr_protocols_match_their_definitions() {
    let Some(root) = dmlft_testing::senteval_dir() else {
        return;
    };
    let task = dmlft_data::load_task(
        &dmlft_data::DatasetSpec::SentEval(dmlft_data::TaskName::Mr),
        &root,
    )
    .unwrap();
    let k = sample_split(
        &task,
        &kfold(4, false, PoolChoice::Train, 20, 2048, Some(3)),
    )
    .unwrap();
    assert_eq!((k.train.len(), k.eval.len()), (20, 2665));
    assert_disjoint(&k);
    let p = sample_split(&task, &per_class(16, 16, 1)).unwrap();
    assert_disjoint(&p);
    assert_eq!(task.label_counts(&p.eval), vec![1066, 1066]);
    assert_eq!(task.label_counts(&p.train), vec![16, 16]);
}

#[test]
fn kfold_dev_per_class_is_carved_from_the_training_folds_and_leaves_the_training_sample_alone() {
    let task = toy(40, 2, 0);
    let with_dev = |dev_per_class: usize, rng: dmlft_data::spec::KfoldRng| {
        let mut req = kfold(4, false, PoolChoice::Train, 6, 3, Some(1));
        if let ProtocolSpec::Kfold {
            dev_per_class: d,
            rng: r,
            ..
        } = &mut req.protocol
        {
            *d = dev_per_class;
            *r = rng;
        }
        sample_split(&task, &req)
    };
    for rng in [
        dmlft_data::spec::KfoldRng::Dmlft,
        dmlft_data::spec::KfoldRng::NumpyCompat,
    ] {
        let plain = with_dev(0, rng).unwrap();
        let split = with_dev(3, rng).unwrap();
        assert_disjoint(&split);
        // The training sample and the held-out fold are those drawn without dev examples.
        assert_eq!(split.train_indices, plain.train_indices);
        assert_eq!(split.eval_indices, plain.eval_indices);
        assert!(plain.dev.is_empty());
        let mut per_class = [0usize; 2];
        split.dev.iter().for_each(|e| per_class[e.label] += 1);
        assert_eq!(per_class, [3, 3], "{rng:?}");
        assert_eq!(split.dev.len(), split.dev_indices.len());
        assert_eq!(with_dev(3, rng).unwrap().dev_indices, split.dev_indices);
        // The training folds hold 30 examples, 6 of them training examples: 24 are left, so
        // some class has at most 12.
        let err = with_dev(13, rng).unwrap_err().to_string();
        assert!(err.contains("dev_per_class = 13"), "{err}");
    }
}
