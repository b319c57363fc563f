//! SetFit's pair generation against `setfit.sampler.ContrastiveDataset` (fixture
//! tests/fixtures/setfit/pairs.json from scripts/make_setfit_fixtures.py). The pool order is
//! drawn from the cell seed here and from numpy's RandomState(42) there, so what is compared is
//! everything the order does not decide: pool and generated counts per kind and per label
//! pair, self-pairs where the pool is used a whole number of times, the P/N sequence, and the
//! one-class errors; and that the pairs depend only on the labels and the seed.

use std::collections::BTreeMap;

use dmlft_train::setfit::pairs::{generate_pairs, Pair, Pairs};
use dmlft_train::setfit::SamplingStrategy;
use serde_json::Value;

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/setfit/pairs.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strategy(name: &str) -> SamplingStrategy {
    match name {
        "oversampling" => SamplingStrategy::Oversampling,
        "undersampling" => SamplingStrategy::Undersampling,
        "unique" => SamplingStrategy::Unique,
        other => panic!("unknown strategy {other}"),
    }
}

/// `"a,b"` (a <= b) -> count, as the fixture keys label pairs.
fn type_key(labels: &[usize], p: &Pair) -> String {
    let (a, b) = (labels[p.first], labels[p.second]);
    format!("{},{}", a.min(b), a.max(b))
}

fn type_counts(labels: &[usize], pairs: &[Pair]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in pairs {
        *out.entry(type_key(labels, p)).or_insert(0) += 1;
    }
    out
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// The whole pool, each pair once (`unique` takes every pool pair exactly once).
fn pool(labels: &[usize], seed: u64) -> Pairs {
    generate_pairs(labels, SamplingStrategy::Unique, None, seed).unwrap()
}

#[test]
fn counts_kinds_and_label_pair_types_match_setfit() {
    let fixture = fixture();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 25);
    let mut checked = 0;
    for case in cases {
        let name = format!(
            "{} {} {:?}",
            case["name"], case["sampling_strategy"], case["num_iterations"]
        );
        let labels: Vec<usize> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let num_iterations = case["num_iterations"].as_u64().map(|n| n as usize);
        let strat = strategy(case["sampling_strategy"].as_str().unwrap());
        let result = generate_pairs(&labels, strat, num_iterations, 1);
        if case.get("error").is_some() || case["name"] == "one_class" {
            // SetFit crashes or trains without negatives; dmlft refuses every one-class sample.
            let err = result.expect_err(&name).to_string();
            assert!(err.contains("at least 2 classes"), "{name}: {err}");
            continue;
        }
        let p = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let get = |k: &str| case[k].as_u64().unwrap() as usize;
        assert_eq!(p.pool_positive, get("pool_positive"), "{name}");
        assert_eq!(p.pool_negative, get("pool_negative"), "{name}");
        assert_eq!(p.positives(), get("generated_positive"), "{name}");
        assert_eq!(p.negatives(), get("generated_negative"), "{name}");
        assert_eq!(p.pairs.len(), get("generated_total"), "{name}");
        // The P/N sequence (the fixture stores it up to 2000 pairs).
        let kinds: String = p
            .pairs
            .iter()
            .map(|q| if q.positive { 'P' } else { 'N' })
            .collect();
        let want = case["kinds"].as_str().unwrap_or("");
        if !want.is_empty() {
            assert_eq!(kinds, want, "{name}");
        }
        // Pool types exactly; generated types: floor(len / pool) whole passes over each pool
        // plus a remainder of distinct pool pairs (which ones is the draw's).
        let whole = pool(&labels, 1);
        assert_eq!(
            type_counts(&labels, &whole.pairs),
            counts(&case["pool_type_counts"]),
            "{name}"
        );
        let got = type_counts(&labels, &p.pairs);
        let want = counts(&case["generated_type_counts"]);
        assert_eq!(
            got.values().sum::<u64>(),
            want.values().sum::<u64>(),
            "{name}"
        );
        for positive in [true, false] {
            let pool_of: Vec<Pair> = whole
                .pairs
                .iter()
                .copied()
                .filter(|q| q.positive == positive)
                .collect();
            let gen: Vec<Pair> = p
                .pairs
                .iter()
                .copied()
                .filter(|q| q.positive == positive)
                .collect();
            let passes = gen.len() / pool_of.len().max(1);
            let rest = gen.len() % pool_of.len().max(1);
            let pool_types = type_counts(&labels, &pool_of);
            let gen_types = type_counts(&labels, &gen);
            for (t, &n_pool) in &pool_types {
                let n = gen_types.get(t).copied().unwrap_or(0);
                let base = passes as u64 * n_pool;
                assert!(
                    n >= base && n <= base + n_pool.min(rest as u64),
                    "{name}: type {t}: {n} generated, pool {n_pool}, {passes} passes + {rest}"
                );
            }
            // The remainder is distinct pool pairs: no pair more often than passes + 1.
            let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
            for q in &gen {
                *seen.entry((q.first, q.second)).or_insert(0) += 1;
            }
            assert!(
                seen.values().all(|&c| c == passes || c == passes + 1),
                "{name}"
            );
            assert_eq!(
                seen.values().filter(|&&c| c == passes + 1).count(),
                rest,
                "{name}"
            );
            if rest == 0 && positive {
                // Whole passes: the self-pairs (all positive) are passes x n.
                let selfs = gen.iter().filter(|q| q.first == q.second).count();
                assert_eq!(selfs, passes * labels.len(), "{name}");
            }
        }
        if p.pairs
            .len()
            .is_multiple_of(p.pool_positive + p.pool_negative)
            && p.positives().is_multiple_of(p.pool_positive)
        {
            let selfs = p.pairs.iter().filter(|q| q.first == q.second).count();
            assert_eq!(selfs, get("generated_self_pairs"), "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, 21, "every non-one-class case was compared");
}

#[test]
fn pairs_are_deterministic_per_seed_and_differ_across_seeds() {
    let labels = fixture()["cases"][5]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect::<Vec<_>>();
    let a = generate_pairs(&labels, SamplingStrategy::Oversampling, None, 7).unwrap();
    let again = generate_pairs(&labels, SamplingStrategy::Oversampling, None, 7).unwrap();
    let other = generate_pairs(&labels, SamplingStrategy::Oversampling, None, 8).unwrap();
    assert_eq!(a, again);
    assert_ne!(a.pairs, other.pairs);
    assert_eq!(a.pairs.len(), other.pairs.len());
}

#[test]
fn fewer_than_two_classes_is_one_clear_error() {
    for labels in [vec![], vec![3], vec![1, 1, 1]] {
        for strat in [
            SamplingStrategy::Oversampling,
            SamplingStrategy::Undersampling,
            SamplingStrategy::Unique,
        ] {
            let err = generate_pairs(&labels, strat, None, 1)
                .unwrap_err()
                .to_string();
            assert!(err.contains("at least 2 classes"), "{err}");
        }
    }
}
