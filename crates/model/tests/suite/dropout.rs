//! Dropout is off in eval (non-autodiff backend / `.valid()`) and on in training (autodiff).

use crate::common::*;
use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_model::{load_classifier, SequenceClassifier};

type Train = Autodiff<NdArray>;

fn forward<B: Backend>(model: &SequenceClassifier<B>) -> (Vec<f32>, Vec<f32>) {
    let device = B::Device::default();
    let reference = read_arrays(&fixture("tiny-roberta/reference.safetensors"));
    let out = model.forward(
        ints(&reference["input_ids"], &device),
        ints(&reference["attention_mask"], &device),
        ints(&reference["token_type_ids"], &device),
    );
    (values(out.token_states), values(out.logits))
}

#[test]
fn dropout_is_active_in_training_and_inactive_in_eval() {
    let device = Default::default();
    let (model, _) =
        load_classifier::<Train>(&fixture("tiny-roberta"), 3, 0, Some(0.2), &device).unwrap();
    let first = forward(&model);
    let second = forward(&model);
    assert_ne!(
        first.0, second.0,
        "training forward passes should differ with dropout 0.2"
    );

    let eval = model.valid();
    let a = forward(&eval);
    assert_eq!(a, forward(&eval), "eval forward passes should be identical");
    // The eval model is the checkpoint's: it matches transformers.
    let reference = read_arrays(&fixture("tiny-roberta/reference.safetensors"));
    assert!(max_abs_diff(&a.1, &reference["logits"].f32s()) < 1e-4);
}

#[test]
fn zero_dropout_training_forward_is_deterministic() {
    let (model, _) = load_classifier::<Train>(
        &fixture("tiny-roberta"),
        3,
        0,
        Some(0.0),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(forward(&model), forward(&model));
}

#[test]
fn word_embedding_forward_matches_and_has_gradients() {
    let device = Default::default();
    let (model, _) =
        load_classifier::<Train>(&fixture("tiny-bert"), 3, 0, Some(0.0), &device).unwrap();
    let reference = read_arrays(&fixture("tiny-bert/reference.safetensors"));
    let input_ids = ints::<Train>(&reference["input_ids"], &device);
    let mask = ints::<Train>(&reference["attention_mask"], &device);
    let types = ints::<Train>(&reference["token_type_ids"], &device);
    let direct = model.forward(input_ids.clone(), mask.clone(), types.clone());

    let words: Tensor<Train, 3> = model
        .encoder
        .embeddings
        .word_embeddings(input_ids.clone())
        .detach()
        .require_grad();
    let out = model.forward_from_word_embeddings(words.clone(), &input_ids, mask, types);
    assert_eq!(values(out.logits.clone()), values(direct.logits));
    let grads = out.logits.sum().backward();
    let grad = words.grad(&grads).expect("gradient w.r.t. word embeddings");
    assert!(values(grad).iter().any(|g| *g != 0.0));
}

#[test]
fn training_forward_repeats_for_a_dropout_seed() {
    let (model, _) = load_classifier::<Train>(
        &fixture("tiny-roberta"),
        3,
        0,
        Some(0.2),
        &Default::default(),
    )
    .unwrap();
    dmlft_model::set_dropout_seed(11);
    let first = forward(&model);
    let second = forward(&model);
    dmlft_model::set_dropout_seed(11);
    assert_eq!(first, forward(&model), "same seed, same masks");
    assert_eq!(
        second,
        forward(&model),
        "the call counter restarts with the seed"
    );
    assert_ne!(first, second);
    dmlft_model::set_dropout_seed(12);
    assert_ne!(first, forward(&model), "another seed, other masks");
}
