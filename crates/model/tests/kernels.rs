//! The fused kernels (`dmlft_model::kernels`) against the plain burn ops they replace, on
//! Autodiff<Flex> (values and every gradient) and Flex (inference), against central finite
//! differences, and a whole training step of the tiny encoder fused vs plain.
//!
//! The fused/plain switch is process-wide, so the tests of this file take a lock.

#[path = "suite/common/mod.rs"]
mod common;

use std::sync::Mutex;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::nn::LinearConfig;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use common::*;
use dmlft_model::kernels::{
    add_layer_norm, attention_context, gelu, linear_tokens, set_fused_kernels,
};
use dmlft_model::{load_classifier, set_dropout_seed};

type Train = Autodiff<Flex>;

static SWITCH: Mutex<()> = Mutex::new(());

/// Runs `f` with the fused kernels on and again off (same dropout seed), returning both.
fn fused_and_plain<R>(mut f: impl FnMut() -> R) -> (R, R) {
    let _guard = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    set_fused_kernels(true);
    set_dropout_seed(11);
    let fused = f();
    set_fused_kernels(false);
    set_dropout_seed(11);
    let plain = f();
    set_fused_kernels(true);
    (fused, plain)
}

fn random<B: Backend, const D: usize>(shape: [usize; D], seed: u64) -> Tensor<B, D> {
    // A fixed pseudo-random fill (not B's RNG) so every backend gets the same values.
    let n: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let data: Vec<f32> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect();
    Tensor::from_data(TensorData::new(data, shape), &Default::default())
}

fn assert_close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let worst = max_abs_diff(a, b);
    assert!(
        worst <= tol,
        "{what}: max |fused - plain| = {worst:e} > {tol:e}"
    );
}

fn layer_norm(width: usize) -> LayerNorm<Train> {
    let mut ln = LayerNormConfig::new(width)
        .with_epsilon(1e-5)
        .init::<Train>(&Default::default());
    ln.gamma = ln.gamma.map(|_| random([width], 5).require_grad());
    ln.beta = ln
        .beta
        .map(|b| b.map(|_| random::<Train, 1>([width], 6).require_grad()));
    ln
}

fn dropout(prob: f64) -> Dropout {
    DropoutConfig::new(prob).init()
}

#[test]
fn gelu_values_and_gradient_match_burn() {
    let (fused, plain) = fused_and_plain(|| {
        let x = random::<Train, 3>([3, 5, 37], 1).require_grad();
        let y = gelu(x.clone());
        let grads = (y.clone() * random::<Train, 3>([3, 5, 37], 2))
            .sum()
            .backward();
        (values(y), values(x.grad(&grads).unwrap()))
    });
    assert_close("gelu", &fused.0, &plain.0, 2e-6);
    assert_close("gelu grad", &fused.1, &plain.1, 2e-6);
}

#[test]
fn add_layer_norm_values_and_gradients_match_burn() {
    for prob in [0.0, 0.3] {
        let (fused, plain) = fused_and_plain(|| {
            let ln = layer_norm(37);
            let x = random::<Train, 3>([3, 5, 37], 1).require_grad();
            let residual = random::<Train, 3>([3, 5, 37], 3).require_grad();
            let y = add_layer_norm(&ln, 1e-5, x.clone(), residual.clone(), &dropout(prob));
            let grads = (y.clone() * random::<Train, 3>([3, 5, 37], 2))
                .sum()
                .backward();
            let beta = ln.beta.as_ref().unwrap().val();
            [
                values(y),
                values(x.grad(&grads).unwrap()),
                values(residual.grad(&grads).unwrap()),
                values(ln.gamma.val().grad(&grads).unwrap()),
                values(beta.grad(&grads).unwrap()),
            ]
        });
        for (i, what) in ["output", "dx", "dresidual", "dgamma", "dbeta"]
            .iter()
            .enumerate()
        {
            assert_close(&format!("p {prob} {what}"), &fused[i], &plain[i], 1e-5);
        }
    }
}

/// `[batch 2, seq 7]` mask bias: batch 0 masks its last two keys, batch 1 none.
fn mask_bias<B: Backend>() -> Tensor<B, 4> {
    let mut bias = vec![0.0f32; 14];
    bias[5] = -1e4;
    bias[6] = -1e4;
    Tensor::from_data(TensorData::new(bias, [2, 1, 1, 7]), &Default::default())
}

#[test]
fn attention_context_values_and_gradients_match_burn() {
    for prob in [0.0, 0.2] {
        let (fused, plain) = fused_and_plain(|| {
            let [q, k, v] = [1, 2, 3].map(|s| random::<Train, 3>([2, 7, 12], s).require_grad());
            let context = attention_context(
                q.clone(),
                k.clone(),
                v.clone(),
                mask_bias(),
                3,
                &dropout(prob),
            );
            let grads = (context.clone() * random::<Train, 3>([2, 7, 12], 4))
                .sum()
                .backward();
            [
                values(context),
                values(q.grad(&grads).unwrap()),
                values(k.grad(&grads).unwrap()),
                values(v.grad(&grads).unwrap()),
            ]
        });
        for (i, what) in ["context", "dq", "dk", "dv"].iter().enumerate() {
            assert_close(&format!("p {prob} {what}"), &fused[i], &plain[i], 2e-6);
            // Subnormals anywhere would slow every later product by ~100x (seen once: masked
            // keys got probabilities of 1e-38 instead of 0).
            assert!(
                fused[i].iter().all(|v| !v.is_subnormal()),
                "p {prob} {what}: subnormal values"
            );
        }
        // Batch 0's masked keys (5 and 6) get exactly zero key and value gradients, as in burn.
        for (i, what) in [(2, "dk"), (3, "dv")] {
            let masked_rows = &fused[i][5 * 12..7 * 12];
            assert!(
                masked_rows.iter().all(|&v| v == 0.0),
                "p {prob} {what} of masked keys: {masked_rows:?}"
            );
        }
    }
}

#[test]
fn linear_values_and_gradients_match_burn() {
    let (fused, plain) = fused_and_plain(|| {
        let mut linear = LinearConfig::new(19, 23).init::<Train>(&Default::default());
        linear.weight = linear.weight.map(|_| random([19, 23], 5).require_grad());
        linear.bias = linear
            .bias
            .map(|b| b.map(|_| random::<Train, 1>([23], 6).require_grad()));
        let x = random::<Train, 3>([3, 5, 19], 1).require_grad();
        let y = linear_tokens(&linear, x.clone());
        let grads = (y.clone() * random::<Train, 3>([3, 5, 23], 2))
            .sum()
            .backward();
        [
            values(y),
            values(x.grad(&grads).unwrap()),
            values(linear.weight.val().grad(&grads).unwrap()),
            values(linear.bias.as_ref().unwrap().val().grad(&grads).unwrap()),
        ]
    });
    for (i, what) in ["output", "dx", "dW", "db"].iter().enumerate() {
        assert_close(what, &fused[i], &plain[i], 1e-5);
    }
}

#[test]
fn inference_route_matches_burn() {
    let linear = LinearConfig::new(33, 7).init::<Flex>(&Default::default());
    let (fused, plain) = fused_and_plain(|| {
        let x = random::<Flex, 3>([4, 6, 33], 1);
        let r = random::<Flex, 3>([4, 6, 33], 2);
        let ln = layer_norm(33).valid();
        let [q, k, v] = [3, 4, 5].map(|s| random::<Flex, 3>([2, 7, 12], s));
        [
            values(linear_tokens(&linear, x.clone())),
            values(gelu(x.clone())),
            values(add_layer_norm(&ln, 1e-5, x, r, &dropout(0.1))),
            values(attention_context(q, k, v, mask_bias(), 4, &dropout(0.1))),
        ]
    });
    for (i, what) in ["linear", "gelu", "layer norm", "attention"]
        .iter()
        .enumerate()
    {
        assert_close(what, &fused[i], &plain[i], 2e-6);
    }
}

/// Central differences of `L = sum(w * f(x))` at a few coordinates of `x` against the fused
/// gradient, in f32 (step 1e-2: the truncation error is O(1e-4), the rounding error O(1e-5)).
fn check_finite_differences(
    name: &str,
    f: &dyn Fn(Tensor<Train, 3>) -> Tensor<Train, 3>,
    dims: [usize; 3],
) {
    let _guard = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    set_fused_kernels(true);
    let w = random::<Train, 3>(dims, 9);
    let x0 = values(random::<Train, 3>(dims, 4));
    let loss = |x: &[f32]| {
        set_dropout_seed(3);
        let x =
            Tensor::<Train, 3>::from_data(TensorData::new(x.to_vec(), dims), &Default::default());
        values((f(x) * w.clone()).sum())[0] as f64
    };
    set_dropout_seed(3);
    let x = Tensor::<Train, 3>::from_data(TensorData::new(x0.clone(), dims), &Default::default())
        .require_grad();
    let grads = (f(x.clone()) * w.clone()).sum().backward();
    let analytic = values(x.grad(&grads).unwrap());
    let h = 1e-2f32;
    for i in (0..x0.len()).step_by(7) {
        let (mut plus, mut minus) = (x0.clone(), x0.clone());
        plus[i] += h;
        minus[i] -= h;
        let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h as f64);
        let err = (numeric - analytic[i] as f64).abs();
        assert!(
            err <= 2e-3 + 1e-2 * numeric.abs(),
            "{name}: d/dx[{i}] finite difference {numeric} vs kernel {}",
            analytic[i]
        );
    }
}

#[test]
fn gradients_match_finite_differences() {
    check_finite_differences("gelu", &|x| gelu(x), [2, 3, 11]);
    let ln = layer_norm(11);
    let residual = random::<Train, 3>([2, 3, 11], 8);
    check_finite_differences(
        "add_layer_norm",
        &|x| add_layer_norm(&ln, 1e-5, x, residual.clone(), &dropout(0.25)),
        [2, 3, 11],
    );
    let [k, v] = [8, 9].map(|s| random::<Train, 3>([2, 7, 12], s));
    check_finite_differences(
        "attention_context (through q)",
        &|q| attention_context(q, k.clone(), v.clone(), mask_bias(), 3, &dropout(0.25)),
        [2, 7, 12],
    );
    let q = random::<Train, 3>([2, 7, 12], 10);
    check_finite_differences(
        "attention_context (through k)",
        &|k| attention_context(q.clone(), k, v.clone(), mask_bias(), 3, &dropout(0.25)),
        [2, 7, 12],
    );
    check_finite_differences(
        "attention_context (through v)",
        &|v| attention_context(q.clone(), k.clone(), v, mask_bias(), 3, &dropout(0.25)),
        [2, 7, 12],
    );
}

#[test]
fn encoder_training_step_is_the_same_fused_and_plain() {
    let device = Default::default();
    let reference = read_arrays(&fixture("tiny-bert/reference.safetensors"));
    let (fused, plain) = fused_and_plain(|| {
        let (model, _) =
            load_classifier::<Train>(&fixture("tiny-bert"), 3, 0, Some(0.1), &device).unwrap();
        let out = model.forward(
            ints(&reference["input_ids"], &device),
            ints(&reference["attention_mask"], &device),
            ints(&reference["token_type_ids"], &device),
        );
        let loss = out.logits.clone().powi_scalar(2).sum() + out.token_states.clone().sum();
        let grads = loss.backward();
        let layer = &model.encoder.layers[0];
        [
            values(out.logits),
            values(layer.intermediate.weight.val().grad(&grads).unwrap()),
            values(
                layer
                    .attention
                    .self_attention
                    .query
                    .weight
                    .val()
                    .grad(&grads)
                    .unwrap(),
            ),
            values(layer.output.layer_norm.gamma.val().grad(&grads).unwrap()),
            values(
                model
                    .encoder
                    .embeddings
                    .word_embeddings
                    .weight
                    .val()
                    .grad(&grads)
                    .unwrap(),
            ),
        ]
    });
    for (i, what) in [
        "logits",
        "dW intermediate",
        "dW query",
        "dgamma",
        "dembeddings",
    ]
    .iter()
    .enumerate()
    {
        assert_close(what, &fused[i], &plain[i], 2e-5);
    }
}
