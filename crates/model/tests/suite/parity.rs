//! Parity with transformers (eval mode, f32) on the tiny random RoBERTa and BERT fixtures written
//! by scripts/make_model_fixtures.py: left and right padding, sentence pairs, token types.

use crate::common::*;
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use dmlft_model::{load_classifier, PartSource};

const TOLERANCE: f32 = 1e-4;

fn check_parity<B: Backend>(name: &str) {
    let device = B::Device::default();
    let dir = fixture(name);
    let reference = read_arrays(&dir.join("reference.safetensors"));
    let (model, report) = load_classifier::<B>(&dir, 3, 0, None, &device).unwrap();
    let head = report.head.as_ref().unwrap();
    assert!(
        head.dense.is_loaded() && head.out_proj.is_loaded(),
        "{report}"
    );
    let out = model.forward(
        ints(&reference["input_ids"], &device),
        ints(&reference["attention_mask"], &device),
        ints(&reference["token_type_ids"], &device),
    );
    let states = values(out.token_states);
    let logits = values(out.logits);
    let d_states = max_abs_diff(&states, &reference["token_states"].f32s());
    let d_logits = max_abs_diff(&logits, &reference["logits"].f32s());
    println!(
        "{name} on {}: states {d_states:.2e}, logits {d_logits:.2e}",
        B::name(&device)
    );
    assert!(
        d_states < TOLERANCE,
        "{name}: token states differ by {d_states}"
    );
    assert!(d_logits < TOLERANCE, "{name}: logits differ by {d_logits}");
}

#[test]
fn tiny_roberta_matches_transformers_on_ndarray() {
    check_parity::<NdArray>("tiny-roberta");
}

#[test]
fn tiny_roberta_matches_transformers_on_flex() {
    check_parity::<Flex>("tiny-roberta");
}

#[test]
fn tiny_bert_matches_transformers_on_ndarray() {
    check_parity::<NdArray>("tiny-bert");
}

#[test]
fn tiny_bert_matches_transformers_on_flex() {
    check_parity::<Flex>("tiny-bert");
}

#[test]
fn load_report_names_prefix_and_head_sources() {
    let device = Default::default();
    let (_, report) =
        load_classifier::<NdArray>(&fixture("tiny-bert"), 3, 0, None, &device).unwrap();
    assert_eq!(report.prefix, "bert.");
    assert_eq!(
        report.head.unwrap().dense,
        PartSource::Checkpoint {
            name: "bert.pooler.dense".into()
        }
    );
    // 5 embedding tensors + 16 per layer x 2 + pooler 2 + classifier 2.
    assert_eq!(report.loaded, 5 + 32 + 4);

    let (_, report) =
        load_classifier::<NdArray>(&fixture("tiny-roberta"), 4, 0, None, &device).unwrap();
    let head = report.head.unwrap();
    assert!(head.dense.is_loaded());
    match head.out_proj {
        PartSource::Initialized { reason } => assert!(
            reason.contains("[3, 64]") && reason.contains("[4, 64]"),
            "{reason}"
        ),
        other => panic!("out_proj should be new for 4 labels, got {other:?}"),
    }
}
