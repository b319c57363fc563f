//! Parity with transformers for the families added after BERT / RoBERTa (ELECTRA with an
//! embedding projection, MPNet with its relative position bias, DeBERTa-v3 and -v2 with
//! disentangled attention, ModernBERT with rotary global and sliding-window attention), on the
//! tiny random checkpoints of scripts/make_model_fixtures.py: inputs of length 20 (so MPNet and
//! DeBERTa-v3 use log-spaced distance buckets, DeBERTa clamps distances to its table, and
//! ModernBERT's windows of 4 are shorter than the inputs), left and right padding, pairs. Forward in eval mode: last hidden states,
//! mean-pooled embeddings and logits; backward: the gradient of the mean cross-entropy loss with
//! respect to every parameter, compared by transformers' tensor name.

use std::collections::HashMap;

use crate::common::*;
use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use dmlft_model::{load_classifier, mean_pool, save_classifier};

/// Forward outputs and the loss: absolute.
const TOLERANCE: f32 = 1e-5;
/// Gradients: relative to each tensor's largest entry.
const GRADIENT_TOLERANCE: f32 = 1e-4;

fn check_forward<B: Backend>(name: &str) {
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
    let pooled = values(mean_pool(&out.token_states, &out.attention_mask));
    let diffs = [
        ("token states", values(out.token_states), "token_states"),
        ("mean-pooled embeddings", pooled, "mean_pooled"),
        ("logits", values(out.logits), "logits"),
    ]
    .map(|(what, got, key)| (what, max_abs_diff(&got, &reference[key].f32s())));
    println!("{name} on {}: {diffs:?}", B::name(&device));
    for (what, diff) in diffs {
        assert!(diff < TOLERANCE, "{name}: {what} differ by {diff}");
    }
}

/// Replaces every parameter by its gradient, so that saving the model writes the gradients
/// under transformers' names and layout.
struct IntoGradients<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
}

impl<B: AutodiffBackend> ModuleMapper<B> for IntoGradients<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let grad = match tensor.grad(self.grads) {
            Some(grad) => Tensor::from_inner(grad),
            None => tensor.zeros_like(),
        };
        Param::from_mapped_value(id, grad, mapper)
    }
}

fn check_gradients<B: AutodiffBackend>(name: &str) {
    let device = B::Device::default();
    let dir = fixture(name);
    let reference = read_arrays(&dir.join("reference.safetensors"));
    // Dropout 0: transformers' reference is in eval mode.
    let (model, _) = load_classifier::<B>(&dir, 3, 0, Some(0.0), &device).unwrap();
    let out = model.forward(
        ints(&reference["input_ids"], &device),
        ints(&reference["attention_mask"], &device),
        ints(&reference["token_type_ids"], &device),
    );
    let labels = reference["labels"].i64s();
    let batch = labels.len();
    let one_hot: Vec<f32> = labels
        .iter()
        .flat_map(|&l| (0..3).map(move |c| if c == l { 1.0 } else { 0.0 }))
        .collect();
    let targets = Tensor::<B, 2>::from_data(TensorData::new(one_hot, [batch, 3]), &device);
    let loss = (log_softmax(out.logits, 1) * targets).sum().neg() / batch as f64;
    let d_loss = (values(loss.clone())[0] - reference["loss"].f32s()[0]).abs();
    assert!(d_loss < TOLERANCE, "{name}: loss differs by {d_loss}");
    let config = model.config().clone();
    let grads = loss.backward();
    let as_gradients = model.map(&mut IntoGradients::<B> { grads: &grads });
    let saved = tempfile::tempdir().unwrap();
    save_classifier(&as_gradients, saved.path(), None).unwrap();
    let ours = read_arrays(&saved.path().join("model.safetensors"));

    let expected: HashMap<&str, &Array> = reference
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("grad.").map(|n| (n, v)))
        .collect();
    let mut names: Vec<&str> = ours.keys().map(String::as_str).collect();
    names.sort();
    let mut expected_names: Vec<&str> = expected.keys().copied().collect();
    expected_names.sort();
    assert_eq!(names, expected_names, "{name}: parameter names");
    let largest = |a: &[f32]| a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let model_largest = expected
        .values()
        .map(|a| largest(&a.f32s()))
        .fold(0.0, f32::max);
    let mut worst = (0.0f32, "");
    let mut failed = Vec::new();
    for tensor in names {
        let mut want = expected[tensor].f32s();
        let mut got = ours[tensor].f32s();
        // transformers' embeddings with a padding_idx (word embeddings; MPNet's positions too)
        // never give the padding row a gradient. Here the left-padded row's head reads a
        // padding token, so in dmlft that row does reach the loss (dmlft pads on the right,
        // where it never does): leave it out.
        let positions_padded = config.family.positions_follow_padding();
        let padding_row = (tensor.ends_with("embeddings.word_embeddings.weight")
            || tensor.ends_with("embeddings.tok_embeddings.weight")
            || (positions_padded && tensor.ends_with("embeddings.position_embeddings.weight")))
        .then_some(config.pad_token_id);
        if let Some(row) = padding_row {
            let width = ours[tensor].shape[1];
            got[row * width..(row + 1) * width].fill(0.0);
            want[row * width..(row + 1) * width].fill(0.0);
        }
        // Key biases do not change the softmax, so their gradient is rounding noise around 0:
        // measured against the model's largest gradient instead of their own.
        let scale = largest(&want).max(1e-3 * model_largest);
        let relative = max_abs_diff(&got, &want) / scale;
        if relative >= GRADIENT_TOLERANCE {
            failed.push(format!("{tensor}: {relative:.2e}"));
        }
        if relative > worst.0 {
            worst = (relative, tensor);
        }
    }
    println!(
        "{name} on {}: worst relative gradient difference {:.2e} ({})",
        B::name(&device),
        worst.0,
        worst.1
    );
    assert!(
        failed.is_empty(),
        "{name}: gradients differ (relative to each tensor's largest entry) by: {}",
        failed.join(", ")
    );
}

#[test]
fn tiny_electra_matches_transformers() {
    check_forward::<NdArray>("tiny-electra");
    check_forward::<Flex>("tiny-electra");
}

#[test]
#[ignore = "Autodiff<NdArray> is 2e-4 to 9e-4 (relative) off transformers' gradients, while \
            Autodiff<Flex> is within 3e-6 with the fused kernels and with the same plain ops \
            (DMLFT_FUSED_KERNELS=0): an NdArray backend difference, cause not found yet"]
fn tiny_electra_gradients_match_transformers_on_ndarray() {
    check_gradients::<Autodiff<NdArray>>("tiny-electra");
}

#[test]
fn tiny_electra_gradients_match_transformers_on_flex() {
    check_gradients::<Autodiff<Flex>>("tiny-electra");
}

#[test]
fn tiny_mpnet_matches_transformers() {
    check_forward::<NdArray>("tiny-mpnet");
    check_forward::<Flex>("tiny-mpnet");
}

#[test]
#[ignore = "Autodiff<NdArray> is 2e-4 to 9e-4 (relative) off transformers' gradients, while \
            Autodiff<Flex> is within 3e-6 with the fused kernels and with the same plain ops \
            (DMLFT_FUSED_KERNELS=0): an NdArray backend difference, cause not found yet"]
fn tiny_mpnet_gradients_match_transformers_on_ndarray() {
    check_gradients::<Autodiff<NdArray>>("tiny-mpnet");
}

#[test]
fn tiny_mpnet_gradients_match_transformers_on_flex() {
    check_gradients::<Autodiff<Flex>>("tiny-mpnet");
}

#[test]
fn tiny_deberta_v3_matches_transformers() {
    check_forward::<NdArray>("tiny-deberta-v3");
    check_forward::<Flex>("tiny-deberta-v3");
}

#[test]
fn tiny_deberta_v3_gradients_match_transformers_on_flex() {
    check_gradients::<Autodiff<Flex>>("tiny-deberta-v3");
}

#[test]
fn tiny_deberta_v2_matches_transformers() {
    check_forward::<NdArray>("tiny-deberta-v2");
    check_forward::<Flex>("tiny-deberta-v2");
}

#[test]
fn tiny_deberta_v2_gradients_match_transformers_on_flex() {
    check_gradients::<Autodiff<Flex>>("tiny-deberta-v2");
}

#[test]
fn tiny_modernbert_matches_transformers() {
    check_forward::<NdArray>("tiny-modernbert");
    check_forward::<Flex>("tiny-modernbert");
}

#[test]
fn tiny_modernbert_gradients_match_transformers_on_flex() {
    check_gradients::<Autodiff<Flex>>("tiny-modernbert");
}

const FAMILY_FIXTURES: [&str; 5] = [
    "tiny-electra",
    "tiny-mpnet",
    "tiny-deberta-v3",
    "tiny-deberta-v2",
    "tiny-modernbert",
];

/// `parameter_count` (what `plan` sizes a model by) counts what transformers saved: every tensor
/// of the checkpoint but the head's output projection.
#[test]
fn parameter_count_is_what_transformers_saved() {
    for name in FAMILY_FIXTURES {
        let dir = fixture(name);
        let config = dmlft_model::EncoderConfig::from_file(&dir.join("config.json")).unwrap();
        let out_proj = format!(
            "{}.",
            dmlft_model::head::HeadNames::for_family(config.family).out_proj
        );
        let saved: usize = read_arrays(&dir.join("model.safetensors"))
            .iter()
            .filter(|(n, _)| !n.starts_with(&out_proj))
            .map(|(_, a)| a.values.len())
            .sum();
        assert_eq!(config.parameter_count(), saved as u64, "{name}");
    }
}

/// ELECTRA discriminators are published as `ElectraForPreTraining`: their pre-training head is
/// left out (reported), not refused as an unexpected tensor.
#[test]
fn electra_pretraining_head_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("tiny-electra");
    std::fs::copy(source.join("config.json"), dir.path().join("config.json")).unwrap();
    let extra = "discriminator_predictions.dense_prediction.weight";
    rewrite_safetensors(
        &source.join("model.safetensors"),
        &dir.path().join("model.safetensors"),
        |entries| {
            let bytes = 1.5f32.to_le_bytes().repeat(32);
            entries.push((extra.into(), safetensors::Dtype::F32, vec![1, 32], bytes));
        },
    );
    let (_, report) =
        load_classifier::<NdArray>(dir.path(), 3, 0, None, &Default::default()).unwrap();
    assert!(report.ignored.iter().any(|n| n == extra), "{report}");
}

/// A DeBERTa-v3 checkpoint keeps an absolute position table it does not use (transformers
/// ignores it on load): reported as ignored, not refused.
#[test]
fn deberta_v3_unused_position_table_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("tiny-deberta-v3");
    std::fs::copy(source.join("config.json"), dir.path().join("config.json")).unwrap();
    let extra = "deberta.embeddings.position_embeddings.weight";
    rewrite_safetensors(
        &source.join("model.safetensors"),
        &dir.path().join("model.safetensors"),
        |entries| {
            let bytes = 0.5f32.to_le_bytes().repeat(40 * 32);
            entries.push((extra.into(), safetensors::Dtype::F32, vec![40, 32], bytes));
        },
    );
    let (_, report) =
        load_classifier::<NdArray>(dir.path(), 3, 0, None, &Default::default()).unwrap();
    assert!(report.ignored.iter().any(|n| n == extra), "{report}");
}

/// What dmlft saves of each new family loads back into the same model (names, shapes, head
/// layout, config keys), so a fine-tuned DeBERTa or ModernBERT reloads with equal logits.
#[test]
fn new_families_save_and_reload_with_equal_logits() {
    for name in ["tiny-deberta-v3", "tiny-deberta-v2", "tiny-modernbert"] {
        let device = Default::default();
        let dir = fixture(name);
        let reference = read_arrays(&dir.join("reference.safetensors"));
        let (model, _) = load_classifier::<NdArray>(&dir, 3, 0, None, &device).unwrap();
        let saved = tempfile::tempdir().unwrap();
        save_classifier(&model, saved.path(), None).unwrap();
        let (again, report) =
            load_classifier::<NdArray>(saved.path(), 3, 0, None, &device).unwrap();
        assert!(report.ignored.is_empty(), "{name}: {report}");
        let logits = |m: &dmlft_model::SequenceClassifier<NdArray>| {
            values(
                m.forward(
                    ints(&reference["input_ids"], &device),
                    ints(&reference["attention_mask"], &device),
                    ints(&reference["token_type_ids"], &device),
                )
                .logits,
            )
        };
        assert_eq!(logits(&model), logits(&again), "{name}");
    }
}
