//! Half precision on the accelerator (wgpu: f16, as WGSL has no bf16; CUDA: f16 and bf16): the
//! encoder in half precision against transformers' f32 values, and a real cell trained in half
//! precision (f32 master weights in AdamW; dynamic loss scaling for f16) against the same cell
//! in f32 on the CPU.
//!
//! burn 0.21 fixes a device's float type at its first use in a process, so these tests run on
//! [`crate::half_device`] (on wgpu a second handle on the default adapter; on CUDA device 0, in
//! a process of its own per precision: scripts/gpu-check.sh runs them apart).

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use dmlft_model::{load_classifier, Precision};
use dmlft_train::device::BackendJob;
use dmlft_train::DeviceChoice;

use crate::model_common::{ints, read_arrays, values};
use crate::{
    cell, device_or_skip, half_device, model_fixture, run_slow_tests, scaled_max_diff, DEVICE,
};

/// The half-precision device, when this device type trains in `precision`.
fn device_for(precision: Precision) -> Option<DeviceChoice> {
    device_or_skip()?;
    if !DEVICE.precisions().contains(&precision) {
        eprintln!("skipping: {DEVICE} has no {precision}");
        return None;
    }
    Some(half_device())
}

/// Largest relative difference of the tiny BERT's eval-mode (logits, token states) from
/// transformers' f32 values.
struct EncoderJob;

impl BackendJob for EncoderJob {
    type Output = (f32, f32);

    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output {
        let dir = model_fixture("tiny-bert");
        let reference = read_arrays(&dir.join("reference.safetensors"));
        let (model, _) = load_classifier::<B>(&dir, 3, 0, None, device).unwrap();
        let model = model.valid();
        let [ids, mask, types] = ["input_ids", "attention_mask", "token_type_ids"]
            .map(|k| ints::<B::InnerBackend>(&reference[k], device));
        let out = model.forward(ids, mask, types);
        (
            scaled_max_diff(&values(out.logits), &reference["logits"].f32s(), 1.0),
            scaled_max_diff(
                &values(out.token_states),
                &reference["token_states"].f32s(),
                1.0,
            ),
        )
    }
}

fn encoder(precision: Precision) {
    let Some(device) = device_for(precision) else {
        return;
    };
    let (d_logits, d_states) = device
        .dispatch(precision, EncoderJob)
        .unwrap_or_else(|e| panic!("{precision} on {device}: {e}"));
    println!("{precision} encoder on {device}: logits {d_logits:.1e}, states {d_states:.1e} of their scale");
    // Rounding alone: f16 keeps 11 significant bits (4.9e-4 relative), bf16 8 (3.9e-3); two
    // layers of products, sums and LayerNorms stay within a few roundings, and a forward
    // computed in f32 would be 1e-6 away.
    let (low, high) = match precision {
        Precision::Bf16 => (1e-4, 4e-2),
        _ => (1e-5, 1e-2),
    };
    assert!(
        d_logits < high && d_states < high,
        "{precision} forward too far from f32: logits {d_logits}, states {d_states}"
    );
    assert!(
        d_states > low,
        "{precision} forward is as exact as f32 ({d_states}): is it half precision at all?"
    );
}

fn cell_close_to_f32(precision: Precision) {
    let Some(device) = device_for(precision) else {
        return;
    };
    if !run_slow_tests() {
        eprintln!(
            "skipping: a {precision} cell is slow on this backend (DMLFT_WGPU_SLOW=1 runs it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(()) = cell::tiny_model(dir.path()) else {
        return;
    };
    let Some(full) = cell::cell(dir.path(), Precision::F32) else {
        return;
    };
    let f = cell::run(&full, DeviceChoice::Cpu);
    let mut half = full.clone();
    half.model.precision = precision;
    let h = cell::run(&half, device);
    let loss_diff = (h.final_loss - f.final_loss).abs() / f.final_loss.abs();
    println!(
        "{precision} cell on {device}: final loss {:.5} vs f32 (flex) {:.5} (relative {loss_diff:.1e}); head accuracy {:.4} vs {:.4}",
        h.final_loss, f.final_loss, h.metrics[&dmlft_train::InferenceMode::Head].accuracy,
        f.metrics[&dmlft_train::InferenceMode::Head].accuracy
    );
    assert!(
        loss_diff < 5e-2,
        "{precision} training drifted from f32: {loss_diff:e}"
    );
    for mode in [
        dmlft_train::InferenceMode::Head,
        dmlft_train::InferenceMode::Proxy,
    ] {
        let (a, b) = (h.metrics[&mode].accuracy, f.metrics[&mode].accuracy);
        assert!(
            (a - b).abs() <= 4.0 / cell::EVAL_LIMIT as f64 + 1e-9,
            "{precision} {mode}: {a} vs f32 {b}"
        );
    }
}

#[test]
fn f16_encoder_is_close_to_transformers_f32() {
    encoder(Precision::F16);
}

#[test]
fn bf16_encoder_is_close_to_transformers_f32() {
    encoder(Precision::Bf16);
}

#[test]
fn f16_cell_trains_close_to_f32() {
    cell_close_to_f32(Precision::F16);
}

#[test]
fn bf16_cell_trains_close_to_f32() {
    cell_close_to_f32(Precision::Bf16);
}

/// After f32 work on a device, half precision on the same device is refused, not silently run
/// in f32.
#[test]
fn a_second_precision_on_one_device_is_refused() {
    if device_or_skip().is_none() {
        return;
    }
    DEVICE.dispatch(Precision::F32, EncoderJob).unwrap();
    let err = DEVICE
        .dispatch(Precision::F16, EncoderJob)
        .expect_err("f16 after f32 on one device")
        .to_string();
    assert!(
        err.contains("already runs f32 in this process") && err.contains("separate `dmlft run`"),
        "{err}"
    );
}
