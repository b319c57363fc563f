//! AdamW with PyTorch's semantics (`torch.optim.AdamW`): bias-corrected moments, `eps` added to
//! the bias-corrected root of the second moment, and decoupled weight decay `p -= lr * wd * p`
//! applied before the update. burn's own AdamW differs (defaults eps 1e-5, wd 1e-4, and no
//! per-group learning rates), so the trainer uses this one.
//!
//! It walks the module with a [`ModuleMapper`], so it knows each parameter's path: that gives the
//! parameter group (encoder / head / loss, each with its own learning rate) and whether the
//! parameter is a bias or a norm weight (optionally excluded from weight decay).

use super::param_group::{is_bias_or_norm, ParamGroup};
use burn::module::{AutodiffModule, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
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
    fn of(&self, group: ParamGroup) -> f64 {
        match group {
            ParamGroup::Encoder => self.encoder,
            ParamGroup::Head => self.head,
            ParamGroup::Loss => self.loss,
        }
    }
}

/// First and second moments of one parameter, flattened, plus its own step count (as PyTorch
/// keeps one per parameter).
struct Moments<B: Backend> {
    m: Tensor<B, 1>,
    v: Tensor<B, 1>,
    step: i32,
}

/// The optimizer state across steps.
pub struct AdamW<B: AutodiffBackend> {
    config: AdamWConfig,
    moments: HashMap<ParamId, Moments<B::InnerBackend>>,
}

impl<B: AutodiffBackend> AdamW<B> {
    pub fn new(config: AdamWConfig) -> Self {
        Self { config, moments: HashMap::new() }
    }

    /// One optimizer step over every parameter of `module` that has a gradient in `grads`.
    /// Gradients are multiplied by `grad_scale` first (global-norm clipping computes it).
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        module: M,
        grads: &mut GradientsParams,
        lrs: GroupLrs,
        grad_scale: f64,
    ) -> M {
        let mut mapper = StepMapper { optim: self, grads, lrs, grad_scale, path: Vec::new() };
        module.map(&mut mapper)
    }
}

struct StepMapper<'a, B: AutodiffBackend> {
    optim: &'a mut AdamW<B>,
    grads: &'a mut GradientsParams,
    lrs: GroupLrs,
    grad_scale: f64,
    path: Vec<String>,
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
        let cfg = self.optim.config;
        let lr = self.lrs.of(ParamGroup::of_path(&self.path));
        let decay = if cfg.decay_bias_and_norm || !is_bias_or_norm(&self.path) {
            cfg.weight_decay
        } else {
            0.0
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let p = tensor.inner().reshape([-1]);
        let g = grad.reshape([-1]);
        let g = if self.grad_scale != 1.0 { g.mul_scalar(self.grad_scale) } else { g };

        let prev = self.optim.moments.remove(&id);
        let (m, v, step) = match prev {
            Some(Moments { m, v, step }) => (
                m.mul_scalar(cfg.beta1).add(g.clone().mul_scalar(1.0 - cfg.beta1)),
                v.mul_scalar(cfg.beta2).add(g.square().mul_scalar(1.0 - cfg.beta2)),
                step + 1,
            ),
            None => (g.clone().mul_scalar(1.0 - cfg.beta1), g.square().mul_scalar(1.0 - cfg.beta2), 1),
        };
        let bias1 = 1.0 - cfg.beta1.powi(step);
        let bias2 = 1.0 - cfg.beta2.powi(step);
        let p = if decay != 0.0 { p.mul_scalar(1.0 - lr * decay) } else { p };
        let denom = v.clone().div_scalar(bias2).sqrt().add_scalar(cfg.eps);
        let p = p.sub(m.clone().div(denom).mul_scalar(lr / bias1));
        self.optim.moments.insert(id, Moments { m, v, step });

        let mut updated = Tensor::<B, D>::from_inner(p.reshape(shape));
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
