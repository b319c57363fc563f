//! AdamW with PyTorch's semantics (`torch.optim.AdamW`): bias-corrected moments, `eps` added to
//! the bias-corrected root of the second moment, and decoupled weight decay `p -= lr * wd * p`
//! applied before the update. burn's own AdamW differs (defaults eps 1e-5, wd 1e-4, and no
//! per-group learning rates), so the trainer uses this one.
//!
//! Each parameter's group (encoder / head / loss, each with its own learning rate) and whether it
//! is a bias or a norm weight (optionally excluded from weight decay) come from [`ParamGroups`],
//! built once from the module's typed submodules; a parameter it does not know is an error.

use super::fused::{HostMoments, Hyper};
use super::param_group::{ParamGroup, ParamGroups};
use crate::error::TrainError;
use burn::module::{AutodiffModule, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Tensor};
use std::collections::HashMap;

/// Hyperparameters that do not change during training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// false: biases and norm weights get no weight decay.
    pub decay_bias_and_norm: bool,
}

/// Learning rate of each parameter group for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupLrs {
    pub encoder: f64,
    pub head: f64,
    pub loss: f64,
}

impl GroupLrs {
    /// Every group's rate times `multiplier` (the schedule's at one step).
    pub fn scaled(&self, multiplier: f64) -> Self {
        Self {
            encoder: self.encoder * multiplier,
            head: self.head * multiplier,
            loss: self.loss * multiplier,
        }
    }

    /// The rate of `group`.
    pub fn of(&self, group: ParamGroup) -> f64 {
        match group {
            ParamGroup::Encoder => self.encoder,
            ParamGroup::Head => self.head,
            ParamGroup::Loss => self.loss,
        }
    }
}

/// First and second moments of one parameter, flattened, plus its own step count (as PyTorch
/// keeps one per parameter). On a CPU backend they live in host vectors that the fused update
/// rewrites in place; elsewhere they are backend tensors.
enum Moments<B: Backend> {
    Tensors(TensorMoments<B>),
    Host(HostMoments),
}

/// The tensor path's state of one parameter, all in f32.
struct TensorMoments<B: Backend> {
    m: Tensor<B, 1>,
    v: Tensor<B, 1>,
    step: i32,
    /// For a half-precision (f16 / bf16) parameter, its f32 master copy: the update is applied
    /// to it and the parameter is its rounding. Updating the half value itself would lose every
    /// update smaller than half a unit in its last place (about 1e-3 relative in f16, 4e-3 in
    /// bf16; a step of lr 1e-5 is below both). Mixed-precision training as in Micikevicius et
    /// al. (2018), "Mixed Precision Training", and apex / DeepSpeed's f32 master weights.
    master: Option<Tensor<B, 1>>,
}

/// The optimizer state across steps.
pub struct AdamW<B: AutodiffBackend> {
    config: AdamWConfig,
    groups: ParamGroups,
    moments: HashMap<ParamId, Moments<B::InnerBackend>>,
    /// None: decide from the backend (fused on CPU backends); Some: forced by [`AdamW::fused`].
    fused: Option<bool>,
}

impl<B: AutodiffBackend> AdamW<B> {
    /// An optimizer for the parameters classified in `groups`.
    pub fn new(config: AdamWConfig, groups: ParamGroups) -> Self {
        Self {
            config,
            groups,
            moments: HashMap::new(),
            fused: None,
        }
    }

    /// Forces the fused host update on (`true`) or off (`false`, the generic tensor-op path).
    /// By default it is on for CPU backends (Flex, NdArray), whose tensors already live in host
    /// memory, and off for GPU backends, where a host round trip would cost more than it saves.
    pub fn fused(mut self, on: bool) -> Self {
        self.fused = Some(on);
        self
    }

    /// One optimizer step over every parameter of `module` that has a gradient in `grads`.
    /// Gradients are multiplied by `grad_scale` first (global-norm clipping computes it).
    /// Fails when a parameter with a gradient is not in the optimizer's groups.
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        module: M,
        grads: &mut GradientsParams,
        lrs: GroupLrs,
        grad_scale: f64,
    ) -> Result<M, TrainError> {
        let mut mapper = StepMapper {
            optim: self,
            grads,
            lrs,
            grad_scale,
            path: Vec::new(),
            unknown: None,
        };
        let module = module.map(&mut mapper);
        match mapper.unknown {
            Some(path) => Err(TrainError::UnknownParameter { path }),
            None => Ok(module),
        }
    }

    fn use_fused(&self, backend_name: impl FnOnce() -> String) -> bool {
        self.fused
            .unwrap_or_else(|| is_host_backend(&backend_name()))
    }
}

struct StepMapper<'a, B: AutodiffBackend> {
    optim: &'a mut AdamW<B>,
    grads: &'a mut GradientsParams,
    lrs: GroupLrs,
    grad_scale: f64,
    /// Where the mapper is, for naming an unknown parameter.
    path: Vec<String>,
    unknown: Option<String>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for StepMapper<'_, B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<B::InnerBackend, D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let Some(class) = self.optim.groups.class(id) else {
            self.unknown.get_or_insert_with(|| self.path.join("."));
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let cfg = self.optim.config;
        let lr = self.lrs.of(class.group);
        let decay = if cfg.decay_bias_and_norm || !class.bias_or_norm {
            cfg.weight_decay
        } else {
            0.0
        };
        let require_grad = tensor.is_require_grad();
        let p = tensor.inner();
        let hyper = Hyper {
            lr,
            decay,
            grad_scale: self.grad_scale,
            config: cfg,
        };
        // The fused loop is written for f32; other precisions take the tensor path.
        let device = p.device();
        let fused =
            self.optim.use_fused(|| B::InnerBackend::name(&device)) && p.dtype() == DType::F32;
        let p = match (self.optim.moments.remove(&id), fused) {
            (Some(Moments::Host(moments)), _) => self.fused_step(id, p, grad, moments, hyper),
            (None, true) => self.fused_step(id, p, grad, HostMoments::default(), hyper),
            (Some(Moments::Tensors(state)), _) => self.tensor_step(id, p, grad, Some(state), hyper),
            (None, false) => self.tensor_step(id, p, grad, None, hyper),
        };

        let mut updated = Tensor::<B, D>::from_inner(p);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

impl<B: AutodiffBackend> StepMapper<'_, B> {
    /// The generic path: PyTorch's update as backend tensor ops (any backend, GPUs included),
    /// computed in f32 whatever the parameter's precision (see [`TensorMoments::master`]).
    fn tensor_step<const D: usize>(
        &mut self,
        id: ParamId,
        p: Tensor<B::InnerBackend, D>,
        grad: Tensor<B::InnerBackend, D>,
        prev: Option<TensorMoments<B::InnerBackend>>,
        hyper: Hyper,
    ) -> Tensor<B::InnerBackend, D> {
        let Hyper {
            lr,
            decay,
            grad_scale,
            config: cfg,
        } = hyper;
        let shape = p.shape();
        let dtype = p.dtype();
        let half = dtype != DType::F32;
        let to_f32 = |t: Tensor<B::InnerBackend, 1>| if half { t.cast(DType::F32) } else { t };
        let (prev, master) = match prev {
            Some(TensorMoments { m, v, step, master }) => (Some((m, v, step)), master),
            None => (None, None),
        };
        let p = match master {
            Some(master) => master,
            None => to_f32(p.reshape([-1])),
        };
        // Unscaling (loss scale, clipping) happens in f32, where a tiny gradient survives.
        let g = to_f32(grad.reshape([-1]));
        let g = if grad_scale != 1.0 {
            g.mul_scalar(grad_scale)
        } else {
            g
        };
        let (m, v, step) = match prev {
            Some((m, v, step)) => (
                m.mul_scalar(cfg.beta1)
                    .add(g.clone().mul_scalar(1.0 - cfg.beta1)),
                v.mul_scalar(cfg.beta2)
                    .add(g.square().mul_scalar(1.0 - cfg.beta2)),
                step + 1,
            ),
            None => (
                g.clone().mul_scalar(1.0 - cfg.beta1),
                g.square().mul_scalar(1.0 - cfg.beta2),
                1,
            ),
        };
        let bias1 = 1.0 - cfg.beta1.powi(step);
        let bias2 = 1.0 - cfg.beta2.powi(step);
        let p = if decay != 0.0 {
            p.mul_scalar(1.0 - lr * decay)
        } else {
            p
        };
        let denom = v.clone().div_scalar(bias2).sqrt().add_scalar(cfg.eps);
        let p = p.sub(m.clone().div(denom).mul_scalar(lr / bias1));
        let (p, master) = if half {
            (p.clone().cast(dtype), Some(p))
        } else {
            (p, None)
        };
        self.optim
            .moments
            .insert(id, Moments::Tensors(TensorMoments { m, v, step, master }));
        p.reshape(shape)
    }

    /// The CPU path: reads parameter and gradient into host memory once (no copy when the
    /// backend owns them alone) and updates m, v and p in one pass.
    fn fused_step<const D: usize>(
        &mut self,
        id: ParamId,
        p: Tensor<B::InnerBackend, D>,
        grad: Tensor<B::InnerBackend, D>,
        mut moments: HostMoments,
        hyper: Hyper,
    ) -> Tensor<B::InnerBackend, D> {
        let device = p.device();
        let mut p = p.into_data();
        // Gradients of an f32 parameter are f32; convert is a no-op then.
        let g = grad.into_data().convert::<f32>();
        let (Ok(p_host), Ok(g_host)) = (p.as_mut_slice::<f32>(), g.as_slice::<f32>()) else {
            unreachable!("only f32 parameters take the fused path");
        };
        moments.update(p_host, g_host, &hyper);
        self.optim.moments.insert(id, Moments::Host(moments));
        // Back as the same buffer: from_data takes the bytes without a copy on CPU backends.
        Tensor::from_data(p, &device)
    }
}

/// Whether a backend keeps its tensors in host memory, so that the fused update reads them
/// without a device transfer.
fn is_host_backend(name: &str) -> bool {
    name == "flex" || name.starts_with("ndarray")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::module::Module;
    use burn::tensor::TensorData;
    use rand::{Rng, SeedableRng};

    #[derive(Module, Debug)]
    struct Layer<B: Backend> {
        weight: Param<Tensor<B, 2>>,
        bias: Param<Tensor<B, 1>>,
    }

    #[derive(Module, Debug)]
    struct Head<B: Backend> {
        dense: Layer<B>,
    }

    #[derive(Module, Debug)]
    struct Model<B: Backend> {
        encoder: Vec<Layer<B>>,
        head: Head<B>,
    }

    #[derive(Module, Debug)]
    struct Objective<B: Backend> {
        proxies: Param<Tensor<B, 2>>,
    }

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        model: Model<B>,
        objective: Objective<B>,
    }

    fn random<B: Backend, const D: usize>(
        rng: &mut rand_pcg::Pcg64,
        shape: [usize; D],
    ) -> Tensor<B, D> {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        Tensor::from_data(TensorData::new(v, shape), &Default::default())
    }

    fn layer<B: Backend>(rng: &mut rand_pcg::Pcg64, rows: usize, cols: usize) -> Layer<B> {
        Layer {
            weight: Param::from_tensor(random(rng, [rows, cols])),
            bias: Param::from_tensor(random(rng, [cols])),
        }
    }

    fn net<B: Backend>(seed: u64, big: usize) -> Net<B> {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        Net {
            model: Model {
                // One layer above PARALLEL_MIN elements so the threaded split is exercised.
                encoder: vec![layer(&mut rng, big, 64), layer(&mut rng, 7, 5)],
                head: Head {
                    dense: layer(&mut rng, 5, 3),
                },
            },
            objective: Objective {
                proxies: Param::from_tensor(random(&mut rng, [3, 4])),
            },
        }
    }

    /// Every parameter's values, in visiting order.
    fn flat<B: AutodiffBackend>(net: &Net<B>) -> Vec<f32> {
        let mut out = Vec::new();
        for l in net.model.encoder.iter().chain([&net.model.head.dense]) {
            out.extend(l.weight.val().into_data().to_vec::<f32>().unwrap());
            out.extend(l.bias.val().into_data().to_vec::<f32>().unwrap());
        }
        out.extend(
            net.objective
                .proxies
                .val()
                .into_data()
                .to_vec::<f32>()
                .unwrap(),
        );
        out
    }

    /// Runs `steps` steps with gradients of `sum(p * G_s)` (= G_s, random per step).
    fn groups<B: Backend>(net: &Net<B>) -> ParamGroups {
        ParamGroups::default()
            .add(&net.model.encoder, ParamGroup::Encoder)
            .add(&net.model.head, ParamGroup::Head)
            .add(&net.objective, ParamGroup::Loss)
    }

    fn run<B: AutodiffBackend>(fused: bool, config: AdamWConfig, grad_scale: f64) -> Vec<f32> {
        let mut model = net::<B>(1, 5000);
        let mut optim = AdamW::<B>::new(config, groups(&model)).fused(fused);
        let lrs = GroupLrs {
            encoder: 1e-3,
            head: 3e-3,
            loss: 1e-2,
        };
        for s in 0..4 {
            let grads_net = net::<B>(100 + s, 5000);
            let (a, b) = (flat(&model), flat(&grads_net));
            assert_eq!(a.len(), b.len());
            let mut loss = None::<Tensor<B, 1>>;
            let mut add = |t: Tensor<B, 1>| {
                loss = Some(match loss.take() {
                    Some(l) => l + t,
                    None => t,
                })
            };
            for (l, gl) in model
                .model
                .encoder
                .iter()
                .chain([&model.model.head.dense])
                .zip(
                    grads_net
                        .model
                        .encoder
                        .iter()
                        .chain([&grads_net.model.head.dense]),
                )
            {
                add((l.weight.val() * gl.weight.val().detach()).sum());
                add((l.bias.val() * gl.bias.val().detach()).sum());
            }
            add((model.objective.proxies.val() * grads_net.objective.proxies.val().detach()).sum());
            let mut grads = GradientsParams::from_grads(loss.unwrap().backward(), &model);
            model = optim.step(model, &mut grads, lrs, grad_scale).unwrap();
        }
        flat(&model)
    }

    fn median_of(v: &[f64]) -> f64 {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    }

    fn assert_close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-6, "fused and tensor paths differ by {worst}");
    }

    fn config(decay_bias_and_norm: bool) -> AdamWConfig {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            decay_bias_and_norm,
        }
    }

    #[test]
    fn fused_update_matches_the_tensor_path_on_ndarray() {
        type B = Autodiff<NdArray>;
        for (decay_all, scale) in [(false, 1.0), (true, 0.37)] {
            let fused = run::<B>(true, config(decay_all), scale);
            let plain = run::<B>(false, config(decay_all), scale);
            assert_close(&fused, &plain);
            // The update did something: parameters moved from their initial values.
            assert_ne!(fused, flat(&net::<B>(1, 5000)));
        }
    }

    #[test]
    fn fused_update_matches_the_tensor_path_on_flex() {
        type B = Autodiff<Flex>;
        let fused = run::<B>(true, config(false), 0.5);
        assert_close(&fused, &run::<B>(false, config(false), 0.5));
    }

    #[derive(Module, Debug)]
    struct Single<B: Backend> {
        encoder: Param<Tensor<B, 2>>,
    }

    /// 20 steps of lr 1e-4 on 8x8 weights near 1 stored as `dtype`, with a fixed gradient whose
    /// values f16 represents exactly (so both precisions see the same gradients).
    fn trajectory(dtype: DType) -> (Vec<f32>, Vec<f32>) {
        type B = Autodiff<Flex>;
        let device: burn::tensor::Device<B> = Default::default();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(9);
        let mut half_values = |lo: f32, hi: f32| -> Vec<f32> {
            (0..64)
                .map(|_| burn::tensor::f16::from_f32(rng.random_range(lo..hi)).to_f32())
                .collect()
        };
        let (w, g) = (half_values(0.5, 1.5), half_values(-1.0, 1.0));
        let t =
            |v: Vec<f32>| Tensor::<B, 2>::from_data(TensorData::new(v, [8, 8]), (&device, dtype));
        let mut model = Single {
            encoder: Param::from_tensor(t(w.clone())),
        };
        let grad = t(g).detach();
        let groups = ParamGroups::default().add(&model, ParamGroup::Encoder);
        let mut optim = AdamW::<B>::new(config(true), groups);
        let lrs = GroupLrs {
            encoder: 1e-4,
            head: 1e-4,
            loss: 1e-4,
        };
        for _ in 0..20 {
            let loss = (model.encoder.val() * grad.clone()).sum();
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(model, &mut grads, lrs, 1.0).unwrap();
        }
        assert_eq!(
            model.encoder.val().dtype(),
            dtype,
            "the parameter keeps its precision"
        );
        let out = model.encoder.val().into_data().convert::<f32>();
        (w, out.to_vec::<f32>().unwrap())
    }

    /// Each step changes a weight near 1 by about 1e-4, less than half an f16 ulp there
    /// (4.9e-4): updating the f16 value itself would never move it. With the f32 master copy the
    /// f16 weights are exactly the f32 run's weights rounded to f16.
    #[test]
    fn half_parameters_follow_an_f32_master_copy() {
        let (initial, full) = trajectory(DType::F32);
        let (_, half) = trajectory(DType::F16);
        let rounded: Vec<f32> = full
            .iter()
            .map(|&x| burn::tensor::f16::from_f32(x).to_f32())
            .collect();
        assert_eq!(half, rounded);
        let moved = half.iter().zip(&initial).filter(|(a, b)| a != b).count();
        assert!(moved > 48, "only {moved} of 64 f16 weights moved");
    }

    #[test]
    fn a_parameter_outside_the_groups_is_an_error_naming_it() {
        type B = Autodiff<NdArray>;
        let model = net::<B>(1, 8);
        let partial = ParamGroups::default().add(&model.model, ParamGroup::Encoder);
        let mut optim = AdamW::<B>::new(config(true), partial);
        let loss = model.objective.proxies.val().sum() + model.model.head.dense.bias.val().sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let lrs = GroupLrs {
            encoder: 1e-3,
            head: 1e-3,
            loss: 1e-3,
        };
        let err = optim.step(model, &mut grads, lrs, 1.0).unwrap_err();
        assert!(err.to_string().contains("`objective.proxies`"), "{err}");
    }

    #[test]
    fn cpu_backends_default_to_the_fused_path() {
        assert!(is_host_backend(&<NdArray as Backend>::name(
            &Default::default()
        )));
        assert!(is_host_backend(&<Flex as Backend>::name(
            &Default::default()
        )));
        assert!(!is_host_backend("fusion<cubecl<cuda>>"));
    }

    /// Timing, not a check (scripts/bench/run-all.sh reads its output):
    /// `cargo test -p dmlft-train --lib adamw_step_timing -- --ignored --nocapture`.
    /// `DMLFT_BENCH_ADAMW_PARAMS` sets the parameter count (default 22,713,218: MiniLM with a
    /// 2-label head), held as the 30522x384 word-embedding matrix plus one block for the rest
    /// (the per-tensor overhead of ~100 small tensors is not represented).
    #[test]
    #[ignore]
    fn adamw_step_timing() {
        type B = Autodiff<Flex>;
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let total: usize = std::env::var("DMLFT_BENCH_ADAMW_PARAMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(22_713_218);
        let rest = total.saturating_sub(30522 * 384) / 384;
        for fused in [false, true] {
            let mut model = Model::<B> {
                encoder: vec![layer(&mut rng, 30522, 384), layer(&mut rng, rest, 384)],
                head: Head {
                    dense: layer(&mut rng, 384, 2),
                },
            };
            let groups = ParamGroups::default().add(&model, ParamGroup::Encoder);
            let mut optim = AdamW::<B>::new(config(false), groups).fused(fused);
            let lrs = GroupLrs {
                encoder: 1e-5,
                head: 1e-5,
                loss: 1e-5,
            };
            let mut times = Vec::new();
            for _ in 0..5 {
                let loss = model.encoder.iter().chain([&model.head.dense]).fold(
                    None::<Tensor<B, 1>>,
                    |acc, l| {
                        let t = l.weight.val().sum() + l.bias.val().sum();
                        Some(match acc {
                            Some(a) => a + t,
                            None => t,
                        })
                    },
                );
                let mut grads = GradientsParams::from_grads(loss.unwrap().backward(), &model);
                let start = std::time::Instant::now();
                model = optim.step(model, &mut grads, lrs, 1.0).unwrap();
                let _ = model.head.dense.bias.val().into_data();
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
            let steady = median_of(&times[1..]);
            println!("adamw_step_timing params={total} fused={fused} median_ms={steady:.1} all_ms={times:.0?}");
        }
    }
}
