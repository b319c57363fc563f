//! Two AdamW steps on the accelerator (parameter groups with their own learning rates, weight
//! decay except on biases and norms, a gradient scale as clipping gives) against the same steps
//! on the CPU tensor path, from the same weights and the same gradients: the optimizer alone, on
//! every parameter of the tiny BERT classifier.

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use dmlft_model::load_classifier;
use dmlft_train::optim::{AdamW, AdamWConfig, GroupLrs, ParamGroup, ParamGroups};

use crate::model_common::values;
use crate::{device_or_skip, model_fixture, scaled_max_diff, Gpu};

/// Registers a fixed pseudo-random gradient for every parameter (the k-th parameter visited
/// gets the same values on every backend), or reads every parameter's values.
struct Visit<'a, B: AutodiffBackend> {
    grads: Option<(&'a mut GradientsParams, u64)>,
    device: &'a B::Device,
    values: Vec<Vec<f32>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Visit<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let k = self.values.len() as u64;
        let shape = param.val().shape();
        match self.grads.as_mut() {
            Some((grads, step)) => {
                let n = shape.num_elements() as u64;
                let g: Vec<f32> = (0..n)
                    .map(|i| {
                        let h = (i ^ (k << 32) ^ (*step << 48)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                        ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.02
                    })
                    .collect();
                let g = Tensor::<B::InnerBackend, D>::from_data(
                    TensorData::new(g, shape.dims::<D>()),
                    self.device,
                );
                grads.register(param.id, g);
                self.values.push(Vec::new());
            }
            None => self.values.push(values(param.val())),
        }
    }
}

fn steps<B: AutodiffBackend>(device: &B::Device, config: AdamWConfig) -> Vec<Vec<f32>> {
    let (mut model, _) =
        load_classifier::<B>(&model_fixture("tiny-bert"), 3, 0, Some(0.0), device).unwrap();
    let groups = ParamGroups::default()
        .add(&model.encoder, ParamGroup::Encoder)
        .add(&model.head, ParamGroup::Head);
    // The tensor path (an accelerator's own; forced on the CPU).
    let mut optim = AdamW::<B>::new(config, groups).fused(false);
    let lrs = GroupLrs {
        encoder: 1e-3,
        head: 3e-3,
        loss: 1e-2,
    };
    for step in 0..2 {
        let mut grads = GradientsParams::new();
        let mut visit = Visit::<B> {
            grads: Some((&mut grads, step)),
            device,
            values: Vec::new(),
        };
        model.visit(&mut visit);
        model = optim.step(model, &mut grads, lrs, 0.7).unwrap();
    }
    let mut read = Visit::<B> {
        grads: None,
        device,
        values: Vec::new(),
    };
    model.visit(&mut read);
    read.values
}

/// Of the largest update of each parameter (see docs/ACCELERATORS.md for the measured value).
const TOLERANCE: f32 = 1e-4;

#[test]
fn adamw_steps_match_the_cpu_tensor_path() {
    let Some(device) = device_or_skip() else {
        return;
    };
    let config = AdamWConfig {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
        decay_bias_and_norm: false,
    };
    let gpu = steps::<Gpu>(&device, config);
    let cpu = steps::<Autodiff<Flex>>(&Default::default(), config);
    let initial = {
        let (model, _) = load_classifier::<Autodiff<Flex>>(
            &model_fixture("tiny-bert"),
            3,
            0,
            Some(0.0),
            &Default::default(),
        )
        .unwrap();
        let mut read = Visit::<Autodiff<Flex>> {
            grads: None,
            device: &Default::default(),
            values: Vec::new(),
        };
        model.visit(&mut read);
        read.values
    };
    assert_eq!(gpu.len(), cpu.len());
    let mut worst = 0.0f32;
    for (k, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
        // The updates (new - initial), compared on the scale of the CPU's update.
        let delta =
            |p: &[f32]| -> Vec<f32> { p.iter().zip(&initial[k]).map(|(a, b)| a - b).collect() };
        let (dg, dc) = (delta(g), delta(c));
        assert!(dc.iter().any(|&d| d != 0.0), "parameter {k} did not move");
        worst = worst.max(scaled_max_diff(&dg, &dc, 1e-6));
    }
    println!("adamw: worst update difference {worst:.1e} of the update's scale");
    assert!(
        worst < TOLERANCE,
        "AdamW on the accelerator differs from the CPU tensor path by {worst:e}"
    );
}
