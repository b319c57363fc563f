//! The real all-MiniLM-L6-v2 (skipped when absent unless DMLFT_REQUIRE_MODEL=1): reference
//! numbers of a NumPy BERT forward checked against onnxruntime, and transformers' outputs for a padded batch of twelve sentences.

use crate::common::*;
use burn::backend::NdArray;
use burn::tensor::Tensor;
use dmlft_model::{first_token, load_encoder, mean_pool};
use dmlft_testing::model_dir;

type B = NdArray;

#[test]
fn gripping_funny_film_matches_reference_numbers() {
    let Some(dir) = model_dir() else {
        return;
    };
    let device = Default::default();
    let (encoder, report) = load_encoder::<B>(&dir, None, &device).unwrap();
    assert_eq!(report.prefix, "");
    assert!(
        report
            .ignored
            .iter()
            .any(|n| n == "embeddings.position_ids"),
        "{report}"
    );
    assert!(
        report.ignored.iter().any(|n| n.starts_with("pooler.")),
        "{report}"
    );

    let input = ids::<B>(
        &[vec![101, 1037, 13940, 1010, 6057, 2143, 1012, 102]],
        &device,
    );
    let mask = input.ones_like();
    let states = encoder.forward(input.clone(), mask.clone(), input.zeros_like());
    let cls = values(first_token(&states));
    let mean = values(mean_pool(&states, &mask));
    // A NumPy BERT forward of the published checkpoint, checked against onnxruntime.
    let cls_ref = [-0.18632, -0.39940, 0.16415, -0.05708, 0.10712, 0.28043];
    let mean_ref = [-0.24367, -0.06833, -0.16680, 0.18701, -0.25983, 0.26599];
    assert!(
        max_abs_diff(&cls[..6], &cls_ref) < 1e-4,
        "CLS {:?}",
        &cls[..6]
    );
    assert!(
        max_abs_diff(&mean[..6], &mean_ref) < 1e-4,
        "mean {:?}",
        &mean[..6]
    );
}

#[test]
fn padded_batch_matches_transformers() {
    let Some(dir) = model_dir() else {
        return;
    };
    let device = Default::default();
    let reference = read_arrays(&fixture("minilm/reference.safetensors"));
    let (encoder, _) = load_encoder::<B>(&dir, None, &device).unwrap();
    let mask = ints::<B>(&reference["attention_mask"], &device);
    let states = encoder.forward(
        ints(&reference["input_ids"], &device),
        mask.clone(),
        ints(&reference["token_type_ids"], &device),
    );
    let [batch, _, hidden] = states.dims();

    // The fixture keeps four positions per sentence: first, second, last real, last (padding).
    let positions = &reference["positions"];
    let per_row = positions.shape[1];
    let mut picked = Vec::new();
    for row in 0..batch {
        for k in 0..per_row {
            let pos = positions.values[row * per_row + k] as usize;
            let state: Tensor<B, 3> = states
                .clone()
                .slice([row..row + 1, pos..pos + 1, 0..hidden]);
            picked.extend(values(state));
        }
    }
    let d_states = max_abs_diff(&picked, &reference["token_states_at_positions"].f32s());
    let d_mean = max_abs_diff(
        &values(mean_pool(&states, &mask)),
        &reference["mean_pooled"].f32s(),
    );
    println!("minilm batch: states {d_states:.2e}, mean {d_mean:.2e}");
    assert!(d_states < 1e-4, "token states differ by {d_states}");
    assert!(d_mean < 1e-4, "mean pooled differs by {d_mean}");
}
