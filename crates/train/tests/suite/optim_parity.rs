//! AdamW with parameter groups + global-norm clipping against torch.optim.AdamW +
//! torch.nn.utils.clip_grad_norm_ (fixture from scripts/make_train_fixtures.py), and the LR
//! schedules against transformers' schedule functions.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use dmlft_train::optim::{
    clip_scale, global_grad_norm, AdamW, AdamWConfig, GroupLrs, ParamGroup, ParamGroups,
};
use dmlft_train::schedule::lr_multiplier;
use dmlft_train::spec::ScheduleKind;
use serde_json::Value;

type B = Autodiff<NdArray>;

#[derive(Module, Debug)]
struct Encoder<B: burn::tensor::backend::Backend> {
    weight: Param<Tensor<B, 2>>,
    bias: Param<Tensor<B, 1>>,
}

#[derive(Module, Debug)]
struct Head<B: burn::tensor::backend::Backend> {
    weight: Param<Tensor<B, 2>>,
}

#[derive(Module, Debug)]
struct Model<B: burn::tensor::backend::Backend> {
    encoder: Encoder<B>,
    head: Head<B>,
}

#[derive(Module, Debug)]
struct Objective<B: burn::tensor::backend::Backend> {
    proxies: Param<Tensor<B, 2>>,
}

#[derive(Module, Debug)]
struct Trainable<B: burn::tensor::backend::Backend> {
    model: Model<B>,
    objective: Objective<B>,
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn t<const D: usize>(fx: &Value, key: &str, values: &Value) -> Tensor<B, D> {
    let data = TensorData::new(floats(values), shape(&fx["shapes"][key]));
    Tensor::from_data(data, &Default::default())
}

fn values<const D: usize>(p: &Param<Tensor<B, D>>) -> Vec<f32> {
    p.val().into_data().to_vec::<f32>().unwrap()
}

#[test]
fn adamw_with_groups_and_global_clipping_matches_pytorch() {
    let fx = fixture("adamw.json");
    let init = &fx["initial"];
    let mut trainable = Trainable::<B> {
        model: Model {
            encoder: Encoder {
                weight: Param::from_tensor(t(&fx, "encoder_weight", &init["encoder_weight"])),
                bias: Param::from_tensor(t(&fx, "encoder_bias", &init["encoder_bias"])),
            },
            head: Head {
                weight: Param::from_tensor(t(&fx, "head_weight", &init["head_weight"])),
            },
        },
        objective: Objective {
            proxies: Param::from_tensor(t(&fx, "loss_proxies", &init["loss_proxies"])),
        },
    };
    let cfg = &fx["config"];
    let groups = ParamGroups::default()
        .add(&trainable.model.encoder, ParamGroup::Encoder)
        .add(&trainable.model.head, ParamGroup::Head)
        .add(&trainable.objective, ParamGroup::Loss);
    let mut optim = AdamW::<B>::new(
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: cfg["eps"].as_f64().unwrap(),
            weight_decay: cfg["weight_decay"].as_f64().unwrap(),
            decay_bias_and_norm: false,
        },
        groups,
    );
    let lrs = GroupLrs {
        encoder: fx["lrs"]["encoder"].as_f64().unwrap(),
        head: fx["lrs"]["head"].as_f64().unwrap(),
        loss: fx["lrs"]["loss"].as_f64().unwrap(),
    };
    let steps = fx["grads"].as_array().unwrap().len();
    for s in 0..steps {
        let g = &fx["grads"][s];
        // loss = sum(p * G) has gradient exactly G.
        let loss = trainable
            .model
            .encoder
            .weight
            .val()
            .mul(t(&fx, "encoder_weight", &g["encoder_weight"]))
            .sum()
            + trainable
                .model
                .encoder
                .bias
                .val()
                .mul(t(&fx, "encoder_bias", &g["encoder_bias"]))
                .sum()
            + trainable
                .model
                .head
                .weight
                .val()
                .mul(t(&fx, "head_weight", &g["head_weight"]))
                .sum()
            + trainable
                .objective
                .proxies
                .val()
                .mul(t(&fx, "loss_proxies", &g["loss_proxies"]))
                .sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &trainable);
        let norm = global_grad_norm(&trainable, &grads);
        let expected_norm = fx["grad_norms_before_clip"][s].as_f64().unwrap();
        assert!(
            (norm - expected_norm).abs() < 1e-4 * expected_norm,
            "step {s}: norm {norm} vs {expected_norm}"
        );
        trainable = optim
            .step(trainable, &mut grads, lrs, clip_scale(norm, 1.0))
            .unwrap();

        let want = &fx["after_step"][s];
        let got = [
            ("encoder_weight", values(&trainable.model.encoder.weight)),
            ("encoder_bias", values(&trainable.model.encoder.bias)),
            ("head_weight", values(&trainable.model.head.weight)),
            ("loss_proxies", values(&trainable.objective.proxies)),
        ];
        for (key, got) in got {
            for (i, (a, b)) in got.iter().zip(floats(&want[key])).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
                    "step {s} {key}[{i}]: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn schedules_match_transformers() {
    let fx = fixture("schedules.json");
    let warmup = fx["warmup"].as_u64().unwrap() as usize;
    let total = fx["total"].as_u64().unwrap() as usize;
    for (name, kind) in [
        ("constant", ScheduleKind::Constant),
        ("linear", ScheduleKind::Linear),
        ("cosine", ScheduleKind::Cosine),
    ] {
        for (step, want) in fx[name].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            let got = lr_multiplier(kind, warmup, total, step);
            assert!(
                (got - want).abs() < 1e-12,
                "{name} step {step}: {got} vs {want}"
            );
        }
    }
}

/// Dynamic loss scaling against torch.amp.GradScaler (fixture from
/// scripts/make_loss_scale_fixture.py): the same steps skipped and the same scale after every
/// step, over a pattern of clean and overflowing steps; and GradScaler's defaults.
#[test]
fn loss_scaling_matches_torch_grad_scaler() {
    use dmlft_train::optim::{LossScaleConfig, LossScaler};
    let fx = fixture("loss_scale.json");
    let c = &fx["config"];
    let mut scaler = LossScaler::new(LossScaleConfig {
        init_scale: c["init_scale"].as_f64().unwrap(),
        growth_factor: c["growth_factor"].as_f64().unwrap(),
        backoff_factor: c["backoff_factor"].as_f64().unwrap(),
        growth_interval: c["growth_interval"].as_u64().unwrap() as u32,
        max_scale: f64::INFINITY,
    });
    let steps = fx["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| !s["stepped"].as_bool().unwrap()));
    for (i, s) in steps.iter().enumerate() {
        let stepped = scaler.update(s["finite"].as_bool().unwrap());
        assert_eq!(
            stepped,
            s["stepped"].as_bool().unwrap(),
            "step {i}: skip decision"
        );
        assert_eq!(
            scaler.scale(),
            s["scale_after"].as_f64().unwrap(),
            "step {i}: scale"
        );
    }
    let skipped = steps
        .iter()
        .filter(|s| !s["stepped"].as_bool().unwrap())
        .count();
    assert_eq!(scaler.skipped_steps(), skipped);
    // dmlft's f16 defaults are GradScaler's, with the cap its f16 loss needs.
    let d = &fx["defaults"];
    let f16 = LossScaleConfig::f16();
    assert_eq!(f16.init_scale, d["init_scale"].as_f64().unwrap());
    assert_eq!(f16.growth_factor, d["growth_factor"].as_f64().unwrap());
    assert_eq!(f16.backoff_factor, d["backoff_factor"].as_f64().unwrap());
    assert_eq!(
        f16.growth_interval as u64,
        d["growth_interval"].as_u64().unwrap()
    );
}
