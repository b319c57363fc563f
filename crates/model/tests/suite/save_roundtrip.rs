//! Save -> load gives identical logits, with the head loaded back; fresh heads are seeded.

use crate::common::*;
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use dmlft_model::{
    load_classifier, load_encoder, save_classifier, save_encoder, Encoder, SequenceClassifier,
};

fn logits<B: Backend>(model: &SequenceClassifier<B>, name: &str) -> Vec<f32> {
    let device = B::Device::default();
    let reference = read_arrays(&fixture(name).join("reference.safetensors"));
    let out = model.forward(
        ints(&reference["input_ids"], &device),
        ints(&reference["attention_mask"], &device),
        ints(&reference["token_type_ids"], &device),
    );
    values(out.logits)
}

fn round_trip(name: &str) {
    let device = Default::default();
    // 5 labels: the checkpoint's 3-label out_proj is replaced by a fresh one.
    let (model, report) = load_classifier::<NdArray>(&fixture(name), 5, 42, None, &device).unwrap();
    assert!(!report.head.unwrap().out_proj.is_loaded());
    let before = logits(&model, name);

    let saved = tempfile::tempdir().unwrap();
    let labels: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    save_classifier(&model, saved.path(), Some(&labels)).unwrap();
    let (reloaded, report) = load_classifier::<NdArray>(saved.path(), 5, 7, None, &device).unwrap();
    let head = report.head.unwrap();
    assert!(head.dense.is_loaded() && head.out_proj.is_loaded());
    assert!(report.ignored.is_empty(), "{:?}", report.ignored);
    assert_eq!(logits(&reloaded, name), before);

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["num_labels"], 5);
    assert_eq!(config["id2label"]["3"], "d");
    assert_eq!(config["label2id"]["e"], 4);
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(name).join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["architectures"], original["architectures"]);
    assert_eq!(config["vocab_size"], original["vocab_size"]);
}

#[test]
fn roberta_save_then_load_gives_identical_logits() {
    round_trip("tiny-roberta");
}

#[test]
fn bert_save_then_load_gives_identical_logits() {
    round_trip("tiny-bert");
}

fn token_states<B: Backend>(encoder: &Encoder<B>, name: &str) -> Vec<f32> {
    let device = B::Device::default();
    let reference = read_arrays(&fixture(name).join("reference.safetensors"));
    values(encoder.forward(
        ints(&reference["input_ids"], &device),
        ints(&reference["attention_mask"], &device),
        ints(&reference["token_type_ids"], &device),
    ))
}

/// An encoder saved without its head (a SetFit body) loads back to the same token states, as
/// transformers' `BertModel` / `RobertaModel` checkpoint without the source's classes.
fn encoder_round_trip(name: &str, architecture: &str) {
    let device = Default::default();
    let (model, _) = load_classifier::<NdArray>(&fixture(name), 3, 0, None, &device).unwrap();
    let saved = tempfile::tempdir().unwrap();
    save_encoder(&model.encoder, saved.path()).unwrap();
    let (reloaded, report) = load_encoder::<NdArray>(saved.path(), None, &device).unwrap();
    assert!(report.ignored.is_empty(), "{:?}", report.ignored);
    assert_eq!(
        token_states(&reloaded, name),
        token_states(&model.encoder, name)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["architectures"], serde_json::json!([architecture]));
    for key in ["id2label", "label2id", "num_labels"] {
        assert!(config.get(key).is_none(), "{key}: {config}");
    }
    // transformers' base-model names: no `bert.` / `roberta.` prefix
    let tensors = read_arrays(&saved.path().join("model.safetensors"));
    assert!(tensors.contains_key("embeddings.word_embeddings.weight"));
    assert!(tensors
        .keys()
        .all(|k| !k.starts_with("bert.") && !k.starts_with("roberta.")));
}

#[test]
fn encoders_save_without_a_head_and_load_back() {
    encoder_round_trip("tiny-bert", "BertModel");
    encoder_round_trip("tiny-roberta", "RobertaModel");
}

#[test]
fn new_heads_depend_only_on_the_seed_not_the_backend() {
    let dir = fixture("tiny-roberta");
    let head_values = |seed| {
        let (m, _) = load_classifier::<NdArray>(&dir, 4, seed, None, &Default::default()).unwrap();
        values(m.head.out_proj.weight.val())
    };
    let (flex, _) = load_classifier::<Flex>(&dir, 4, 3, None, &Default::default()).unwrap();
    assert_eq!(head_values(3), values(flex.head.out_proj.weight.val()));
    assert_ne!(head_values(3), head_values(4));
    let bias = load_classifier::<NdArray>(&dir, 4, 3, None, &Default::default())
        .unwrap()
        .0
        .head
        .out_proj
        .bias
        .unwrap();
    assert!(values(bias.val()).iter().all(|&b| b == 0.0));
}

#[test]
fn wrong_label_count_for_save_is_an_error() {
    let (model, _) =
        load_classifier::<NdArray>(&fixture("tiny-bert"), 3, 0, None, &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = save_classifier(&model, dir.path(), Some(&["x".to_string()])).unwrap_err();
    assert!(
        err.to_string()
            .contains("1 label names given for a head with 3 labels"),
        "{err}"
    );
}
