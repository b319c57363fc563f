//! NumPy's legacy RandomState in Rust against NumPy itself (fixture written by
//! scripts/make_authors_sample_fixtures.py): seeding, raw draws, bounded integers, shuffle,
//! permutation, choice, and one generator carried through a sequence of calls.

use dmlft_data::numpy::RandomState;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/authors/numpy_random_state.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn u64s(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn usizes(value: &Value) -> Vec<usize> {
    u64s(value).into_iter().map(|v| v as usize).collect()
}

fn state(seed: &Value) -> RandomState {
    RandomState::from_seed(seed.as_u64().unwrap()).unwrap()
}

fn sha256_ints(values: &[usize]) -> String {
    let text: Vec<String> = values.iter().map(usize::to_string).collect();
    hex::encode(Sha256::digest(text.join(",").as_bytes()))
}

#[test]
fn seeding_is_init_genrand() {
    let f = fixture();
    for case in f["seeding"].as_array().unwrap() {
        let rs = state(&case["seed"]);
        let head: Vec<u64> = rs.key()[..4].iter().map(|&k| u64::from(k)).collect();
        assert_eq!(head, u64s(&case["key_head"]), "seed {}", case["seed"]);
        assert_eq!(u64::from(rs.key()[623]), case["key_623"].as_u64().unwrap());
    }
}

#[test]
fn raw_draws_match() {
    let f = fixture();
    for case in f["raw"].as_array().unwrap() {
        let mut rs = state(&case["seed"]);
        let draws: Vec<u64> = (0..8).map(|_| u64::from(rs.next_u32())).collect();
        assert_eq!(draws, u64s(&case["draws"]), "seed {}", case["seed"]);
    }
}

#[test]
fn bounded_integers_match_around_powers_of_two() {
    let f = fixture();
    let cases = f["randint"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for case in cases {
        let mut rs = state(&case["seed"]);
        let high = case["high"].as_u64().unwrap();
        let draws: Vec<u64> = (0..6).map(|_| rs.randint(high)).collect();
        assert_eq!(
            draws,
            u64s(&case["draws"]),
            "seed {} high {high}",
            case["seed"]
        );
    }
}

#[test]
fn shuffle_and_permutation_match_for_every_size() {
    let f = fixture();
    for kind in ["shuffle", "permutation"] {
        for case in f[kind].as_array().unwrap() {
            let n = case["n"].as_u64().unwrap() as usize;
            let got = if kind == "shuffle" {
                let mut items: Vec<usize> = (0..n).collect();
                state(&case["seed"]).shuffle(&mut items);
                items
            } else {
                state(&case["seed"]).permutation(n)
            };
            let what = format!("{kind} seed {} n {n}", case["seed"]);
            assert_eq!(
                sha256_ints(&got),
                case["sha256"].as_str().unwrap(),
                "{what}"
            );
            if let Some(values) = case.get("values") {
                assert_eq!(got, usizes(values), "{what}");
            } else {
                assert_eq!(got[..8], usizes(&case["head"])[..], "{what}");
            }
        }
    }
}

#[test]
fn choice_without_replacement_matches() {
    let f = fixture();
    for case in f["choice"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let k = case["k"].as_u64().unwrap() as usize;
        let population: Vec<usize> = (0..n).map(|i| 3 * i + 1).collect();
        let got = state(&case["seed"]).choice_without_replacement(&population, k);
        assert_eq!(
            got,
            usizes(&case["values"]),
            "seed {} n {n} k {k}",
            case["seed"]
        );
    }
}

#[test]
fn one_generator_through_a_sequence_of_calls() {
    let f = fixture();
    let seq = &f["sequence"];
    let mut rs = state(&seq["seed"]);
    for op in seq["ops"].as_array().unwrap() {
        let expected = u64s(&op["values"]);
        let got: Vec<u64> = match op["op"].as_str().unwrap() {
            "shuffle" => {
                let mut items: Vec<u64> = (0..op["n"].as_u64().unwrap()).collect();
                rs.shuffle(&mut items);
                items
            }
            "randint" => {
                let high = op["high"].as_u64().unwrap();
                (0..expected.len()).map(|_| rs.randint(high)).collect()
            }
            "permutation" => rs
                .permutation(op["n"].as_u64().unwrap() as usize)
                .into_iter()
                .map(|v| v as u64)
                .collect(),
            "raw" => (0..expected.len())
                .map(|_| u64::from(rs.next_u32()))
                .collect(),
            other => panic!("unknown op {other}"),
        };
        assert_eq!(got, expected, "{op}");
    }
}
