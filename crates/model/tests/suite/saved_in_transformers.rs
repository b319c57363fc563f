//! What transformers makes of a checkpoint dmlft saves. The fixture
//! (`scripts/make_model_fixtures.py --write-saved-fixture`, step 3 of its usage) holds, for the
//! tiny checkpoints saved by `examples/save_for_parity.rs` (new head, seed 2024): the tensors
//! transformers loaded (a digest), the config it read and its logits. Saving the same model now
//! must give the same tensors and config, and dmlft's logits from the saved folder must equal
//! transformers': a change of the save format that transformers would read differently fails.

use crate::common::*;
use burn::backend::NdArray;
use dmlft_model::{load_classifier, save_classifier};
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};
use std::path::Path;

/// sha256 over the tensors (sorted names, dtype, shape, bytes), as the script computes it.
fn tensors_digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    let mut digest = Sha256::new();
    for name in names {
        let view = st.tensor(name).unwrap();
        let shape: Vec<String> = view.shape().iter().map(|d| d.to_string()).collect();
        digest.update(format!("{name}\0{:?}\0{}\0", view.dtype(), shape.join(",")).as_bytes());
        digest.update(view.data());
    }
    hex::encode(digest.finalize())
}

fn check(name: &str) {
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("saved-by-dmlft.json")).unwrap())
            .unwrap();
    let theirs = &all[name];
    let num_labels = theirs["num_labels"].as_u64().unwrap() as usize;
    let device = Default::default();
    let (model, _) =
        load_classifier::<NdArray>(&fixture(name), num_labels, 2024, None, &device).unwrap();
    let saved = tempfile::tempdir().unwrap();
    save_classifier(&model, saved.path(), None).unwrap();

    assert_eq!(
        tensors_digest(&saved.path().join("model.safetensors")),
        theirs["tensors_sha256"].as_str().unwrap(),
        "{name}: dmlft now saves other tensors than those transformers was checked on; if that \
         is meant, check and regenerate with scripts/make_model_fixtures.py (step 3)"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["architectures"][0], theirs["architecture"]);
    assert_eq!(config["num_labels"], theirs["num_labels"]);
    assert_eq!(config["id2label"], theirs["id2label"]);

    // dmlft reading its own save computes transformers' logits.
    let (reloaded, _) =
        load_classifier::<NdArray>(saved.path(), num_labels, 7, None, &device).unwrap();
    let reference = read_arrays(&fixture(name).join("reference.safetensors"));
    let ours = values(
        reloaded
            .forward(
                ints(&reference["input_ids"], &device),
                ints(&reference["attention_mask"], &device),
                ints(&reference["token_type_ids"], &device),
            )
            .logits,
    );
    let expected: Vec<f64> = theirs["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ours.len(), expected.len());
    let worst = ours
        .iter()
        .zip(&expected)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max);
    // transformers and dmlft differ by 3.6e-7 on these (float32, different summation orders).
    assert!(worst < 1e-5, "{name}: |dmlft - transformers| = {worst:.3e}");
}

#[test]
fn a_saved_roberta_is_what_transformers_loaded_with_the_same_logits() {
    check("tiny-roberta");
}

#[test]
fn a_saved_bert_is_what_transformers_loaded_with_the_same_logits() {
    check("tiny-bert");
}

#[test]
fn a_saved_electra_is_what_transformers_loaded_with_the_same_logits() {
    check("tiny-electra");
}

#[test]
fn a_saved_mpnet_is_what_transformers_loaded_with_the_same_logits() {
    check("tiny-mpnet");
}
