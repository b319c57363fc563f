//! The encoder on the accelerator against Flex: the same tiny checkpoints, the same input batch
//! (left and right padding, sentence pairs), the same dropout masks (dmlft draws them on the
//! host); the logits, the token states and the gradient of EVERY parameter must agree. Flex runs
//! dmlft's fused CPU kernels, the accelerator the plain burn ops, so this also checks one against
//! the other.

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use dmlft_model::{load_classifier, set_dropout_seed};

use crate::model_common::{ints, max_abs_diff, read_arrays, values};
use crate::{device_or_skip, model_fixture, scaled_max_diff, Gpu};

/// Every parameter's gradient, by path.
struct Collect<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    path: Vec<String>,
    out: Vec<(String, Vec<f32>)>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<'_, B> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = param.val().grad(self.grads) {
            self.out.push((self.path.join("."), values(g)));
        }
    }
}

struct Outputs {
    logits: Vec<f32>,
    states: Vec<f32>,
    eval_logits: Vec<f32>,
    grads: Vec<(String, Vec<f32>)>,
}

/// One training-mode forward (dropout 0.1) and backward of
/// `sum(logits^2) + sum(states * w)`, and one evaluation-mode forward.
fn run<B: AutodiffBackend>(name: &str, device: &B::Device) -> Outputs {
    let dir = model_fixture(name);
    let reference = read_arrays(&dir.join("reference.safetensors"));
    let (model, _) = load_classifier::<B>(&dir, 3, 0, Some(0.1), device).unwrap();
    let [ids, mask, types] =
        ["input_ids", "attention_mask", "token_type_ids"].map(|k| ints::<B>(&reference[k], device));
    set_dropout_seed(7);
    let out = model.forward(ids.clone(), mask.clone(), types.clone());
    let dims = out.token_states.dims();
    let n: usize = dims.iter().product();
    let w: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
        .collect();
    let w = Tensor::<B, 3>::from_data(TensorData::new(w, dims), device);
    let loss = out.logits.clone().powi_scalar(2).sum() + (out.token_states.clone() * w).sum();
    let grads = loss.backward();
    let mut collect = Collect::<B> {
        grads: &grads,
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut collect);
    let eval = model.valid();
    let eval_logits = eval
        .forward(ids.inner(), mask.inner(), types.inner())
        .logits;
    Outputs {
        logits: values(out.logits),
        states: values(out.token_states),
        eval_logits: values(eval_logits),
        grads: collect.out,
    }
}

fn check(name: &str) {
    let Some(device) = device_or_skip() else {
        return;
    };
    let gpu = run::<Gpu>(name, &device);
    let cpu = run::<Autodiff<Flex>>(name, &Default::default());
    // The spread between burn's two CPU backends (dmlft's fused kernels vs NdArray's plain
    // ops), the yardstick of the tolerance.
    let ndarray = run::<Autodiff<NdArray>>(name, &Default::default());
    let reference = read_arrays(&model_fixture(name).join("reference.safetensors"));
    // transformers (eval mode, f32), as tests/parity.rs of dmlft-model checks on the CPU.
    let d_ref = max_abs_diff(&gpu.eval_logits, &reference["logits"].f32s());
    let d_logits = scaled_max_diff(&gpu.logits, &cpu.logits, 1.0);
    let d_states = scaled_max_diff(&gpu.states, &cpu.states, 1.0);
    println!("{name}: eval logits vs transformers {d_ref:.1e}; train logits {d_logits:.1e}, states {d_states:.1e} (relative to Flex)");
    assert!(
        d_ref < 1e-4,
        "{name}: eval logits differ from transformers by {d_ref}"
    );
    assert!(
        d_logits < FORWARD_TOLERANCE && d_states < FORWARD_TOLERANCE,
        "{name}: forward differs"
    );
    assert_eq!(
        gpu.grads.iter().map(|g| &g.0).collect::<Vec<_>>(),
        cpu.grads.iter().map(|g| &g.0).collect::<Vec<_>>(),
        "{name}: not the same parameters have gradients"
    );
    // 5 embedding tensors + 16 per layer x 2 layers + head 4.
    assert_eq!(
        gpu.grads.len(),
        5 + 32 + 4,
        "{name}: every parameter has a gradient"
    );
    let worst = |other: &Outputs| {
        let mut diffs: Vec<(f32, f32, String)> = other
            .grads
            .iter()
            .zip(&cpu.grads)
            .map(|((path, g), (_, c))| {
                let scale = c.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                (scaled_max_diff(g, c, GRAD_FLOOR), scale, path.clone())
            })
            .collect();
        diffs.sort_by(|a, b| b.0.total_cmp(&a.0));
        diffs.truncate(3);
        diffs
    };
    let (gpu_worst, cpu_spread) = (worst(&gpu), worst(&ndarray));
    let show = |d: &[(f32, f32, String)]| {
        d.iter()
            .map(|(r, s, p)| format!("{p} {r:.1e} (scale {s:.1e})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{name}: largest gradient differences from flex: {}; ndarray's: {}",
        show(&gpu_worst),
        show(&cpu_spread)
    );
    let worst = (gpu_worst[0].0, gpu_worst[0].2.clone());
    assert!(
        worst.0 < TOLERANCE,
        "{name}: gradient of {} differs by {:.2e} of its scale",
        worst.1,
        worst.0
    );
}

/// Largest forward difference allowed, relative to the largest magnitude of the tensor compared
/// (measured on lavapipe: 3e-7 to 4e-7).
const FORWARD_TOLERANCE: f32 = 1e-5;
/// Largest gradient difference allowed, on the same scale. Measured on lavapipe: gradients at most 8.9e-4 (the FFN biases, sums
/// over every token of products through GELU); the two CPU backends differ from each other by
/// as much on the same tensors (6.8e-4 to 8.7e-4), so this is f32 rounding, and 2e-3 leaves
/// room for another adapter's summation order while a wrong kernel (errors of order 1) fails.
const TOLERANCE: f32 = 2e-3;
/// Gradients are compared on the scale of max(|gradient|, this).
const GRAD_FLOOR: f32 = 1e-3;

#[test]
fn tiny_roberta_logits_and_every_gradient_match_flex() {
    check("tiny-roberta");
}

#[test]
fn tiny_bert_logits_and_every_gradient_match_flex() {
    check("tiny-bert");
}
