//! The papers' authors' samples, to the index, for all seven tasks (fixture written by
//! scripts/make_authors_sample_fixtures.py from SentEval's files and the authors' two files with
//! pandas, scikit-learn and NumPy): the pools (size, class counts, every text and label), the
//! pool order after `sklearn.utils.shuffle`, every `KFold` held-out fold, and the training rows of
//! every fold. Needs the real data (skipped without it unless DMLFT_REQUIRE_DATA=1).

use dmlft_data::protocol::numpy_kfold::{draw, kfold_rows, pool_order};
use dmlft_data::spec::{AuthorsPoolSpec, KfoldRng, PoolChoice, ProtocolSpec, SplitRequest};
use dmlft_data::{load_task, sample_split, DatasetSpec, Task, TaskName};
use dmlft_testing::{authors_dir, senteval_dir};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/authors/authors_samples.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn data() -> Option<PathBuf> {
    let senteval = senteval_dir()?;
    authors_dir()?;
    Some(senteval)
}

fn sha256_ints(values: &[usize]) -> String {
    let text: Vec<String> = values.iter().map(usize::to_string).collect();
    hex::encode(Sha256::digest(text.join(",").as_bytes()))
}

fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

fn authors(task: TaskName, raw_text: bool) -> DatasetSpec {
    DatasetSpec::Authors(AuthorsPoolSpec {
        authors_pool: task,
        raw_text,
    })
}

fn load_all(root: &Path) -> BTreeMap<String, Task> {
    dmlft_data::authors::TASKS
        .iter()
        .map(|&t| (t.to_string(), load_task(&authors(t, true), root).unwrap()))
        .collect()
}

/// label \x1f text \x1f pair \x1e per example, as the fixture script hashes the pool.
fn pool_digest(task: &Task) -> String {
    let mut text = String::new();
    for e in task.split("train").unwrap() {
        text.push_str(&format!(
            "{}\u{1f}{}\u{1f}{}\u{1e}",
            e.label,
            e.text,
            e.text_pair.as_deref().unwrap_or("")
        ));
    }
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn pools_are_the_authors_texts_labels_and_order() {
    let Some(root) = data() else { return };
    let f = fixture();
    let tasks = load_all(&root);
    for (name, expected) in f["pools"].as_object().unwrap() {
        let task = &tasks[name];
        assert_eq!(task.splits.len(), 1, "{name}: one pool, the train split");
        let pool = task.split("train").unwrap();
        assert_eq!(
            pool.len(),
            expected["size"].as_u64().unwrap() as usize,
            "{name}"
        );
        assert_eq!(
            task.label_counts(pool),
            usizes(&expected["class_counts"]),
            "{name}"
        );
        let rows = |key: &str| -> Vec<(usize, String, Option<String>)> {
            expected[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r[0].as_u64().unwrap() as usize,
                        r[1].as_str().unwrap().to_string(),
                        r[2].as_str().map(str::to_string),
                    )
                })
                .collect()
        };
        let ours = |e: &dmlft_data::Example| (e.label, e.text.clone(), e.text_pair.clone());
        let first: Vec<_> = pool[..3].iter().map(ours).collect();
        assert_eq!(first, rows("first_rows"), "{name}");
        let last: Vec<_> = pool[pool.len() - 2..].iter().map(ours).collect();
        assert_eq!(last, rows("last_rows"), "{name}");
        assert_eq!(
            pool_digest(task),
            expected["sha256"].as_str().unwrap(),
            "{name}: texts"
        );
    }
}

#[test]
fn samples_match_the_authors_to_the_index() {
    let Some(root) = data() else { return };
    let f = fixture();
    let tasks = load_all(&root);
    let samples = f["samples"].as_array().unwrap();
    let papers = samples
        .iter()
        .filter(|s| s["n_split"] == 4 && s["seed"] == 2048 && s["sample_size"] == 20)
        .count();
    assert_eq!(papers, 14, "all seven tasks, shuffle seeds 42 and 2048");
    for s in samples {
        let name = s["task"].as_str().unwrap();
        let task = &tasks[name];
        let n = task.len();
        let shuffle_seed = s["shuffle_seed"].as_u64().unwrap();
        let folds = s["n_split"].as_u64().unwrap() as usize;
        let seed = s["seed"].as_u64().unwrap();
        let shots = s["sample_size"].as_u64().unwrap() as usize;
        let what = format!("{name} shuffle {shuffle_seed} folds {folds} seed {seed} n {shots}");

        let order = pool_order(n, shuffle_seed as u32);
        assert_eq!(order[..10], usizes(&s["pool_order_head"])[..], "{what}");
        assert_eq!(
            sha256_ints(&order),
            s["pool_order_sha256"].as_str().unwrap(),
            "{what}"
        );

        let protocol = ProtocolSpec::Kfold {
            folds,
            stratified: false,
            pool: PoolChoice::Train,
            rng: KfoldRng::NumpyCompat,
            shuffle_seed,
            dev_per_class: 0,
        };
        let expected_folds = s["folds"].as_array().unwrap();
        assert_eq!(expected_folds.len(), folds, "{what}");
        for expected in expected_folds {
            let fold = expected["fold"].as_u64().unwrap() as usize;
            let what = format!("{what} fold {fold}");
            let (_, held_out) = kfold_rows(n, folds, fold, seed as u32);
            assert_eq!(
                held_out.len(),
                expected["test_size"].as_u64().unwrap() as usize
            );
            assert_eq!(held_out[..5], usizes(&expected["test_head"])[..], "{what}");
            assert_eq!(
                sha256_ints(&held_out),
                expected["test_sha256"].as_str().unwrap()
            );

            let rows = draw(n, folds, fold, seed, shots, shuffle_seed)
                .unwrap()
                .train_rows;
            assert_eq!(rows, usizes(&expected["train_iloc"]), "{what}");

            // The protocol a grid cell runs gives the same examples.
            let split = sample_split(
                task,
                &SplitRequest {
                    protocol: protocol.clone(),
                    shots,
                    seed,
                    fold: Some(fold),
                },
            )
            .unwrap();
            assert_eq!(
                split.train_indices,
                usizes(&expected["train_rows"]),
                "{what}"
            );
            let mut eval: Vec<usize> = held_out.iter().map(|&r| order[r]).collect();
            eval.sort_unstable();
            assert_eq!(split.eval_indices, eval, "{what}");
            let pool = task.split("train").unwrap();
            for (example, &i) in split.train.iter().zip(&split.train_indices) {
                assert_eq!(example, &pool[i]);
            }
        }
    }
}

#[test]
fn raw_text_false_trims_but_keeps_examples_and_order() {
    let Some(root) = data() else { return };
    for task in [TaskName::Mr, TaskName::Sst2, TaskName::Mrpc] {
        let raw = load_task(&authors(task, true), &root).unwrap();
        let trimmed = load_task(&authors(task, false), &root).unwrap();
        let (raw, trimmed) = (raw.split("train").unwrap(), trimmed.split("train").unwrap());
        assert_eq!(raw.len(), trimmed.len());
        for (r, t) in raw.iter().zip(trimmed) {
            assert_eq!(r.label, t.label);
            assert_eq!(r.text.trim(), t.text);
        }
    }
    let mr = load_task(&authors(TaskName::Mr, true), &root).unwrap();
    assert!(mr
        .split("train")
        .unwrap()
        .iter()
        .all(|e| e.text.ends_with(" \n")));
    // CR's blank lines stay as the example "\n".
    let cr = load_task(&authors(TaskName::Cr, true), &root).unwrap();
    let blank = cr
        .split("train")
        .unwrap()
        .iter()
        .filter(|e| e.text == "\n")
        .count();
    assert_eq!(blank, 4);
}

#[test]
fn numpy_compat_refuses_what_the_authors_code_cannot_do() {
    let Some(root) = data() else { return };
    let task = load_task(&authors(TaskName::Trec, true), &root).unwrap();
    let request = |stratified, seed| SplitRequest {
        protocol: ProtocolSpec::Kfold {
            folds: 4,
            stratified,
            pool: PoolChoice::Train,
            rng: KfoldRng::NumpyCompat,
            shuffle_seed: 42,
            dev_per_class: 0,
        },
        shots: 20,
        seed,
        fold: Some(0),
    };
    let err = sample_split(&task, &request(true, 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("stratified"), "{err}");
    let err = sample_split(&task, &request(false, 1 << 32))
        .unwrap_err()
        .to_string();
    assert!(err.contains("4294967295"), "{err}");
}
