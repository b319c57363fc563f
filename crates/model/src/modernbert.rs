//! ModernBERT's layers (transformers' `ModernBertEncoderLayer`, `model.layers.{i}.*`) and final
//! norm: pre-norm (no `attn_norm` in layer 0), fused `Wqkv` with rotary embeddings (global
//! layers with `global_rope_theta`, sliding-window layers with `local_rope_theta`, each query
//! seeing the keys within `local_attention / 2`), a GeGLU MLP (`Wi` gives input and gate), no
//! biases unless the config asks for them.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};

use crate::attention::{masked_attention, split_heads};
use crate::config::EncoderConfig;
use crate::dropout::dropout;
use crate::kernels::{gelu, linear_tokens};
use crate::params::{self, NamedArray, ParamSource};

#[derive(Module, Debug)]
pub struct ModernBertLayer<B: Backend> {
    /// `attn_norm`: absent in layer 0 (transformers' `nn.Identity`).
    pub attn_norm: Option<LayerNorm<B>>,
    /// `attn.Wqkv`: hidden -> query, key, value (in that order).
    pub wqkv: Linear<B>,
    /// `attn.Wo`.
    pub attn_out: Linear<B>,
    pub mlp_norm: LayerNorm<B>,
    /// `mlp.Wi`: hidden -> GELU input and gate, `2 * intermediate`.
    pub mlp_in: Linear<B>,
    /// `mlp.Wo`.
    pub mlp_out: Linear<B>,
    /// `attention_dropout`: on the probabilities and the attention output.
    pub attention_dropout: Dropout,
    /// `mlp_dropout`.
    pub mlp_dropout: Dropout,
    /// Global (`full_attention`) or sliding-window attention.
    pub global: bool,
    pub num_heads: usize,
}

fn path(index: usize, leaf: &str) -> String {
    format!("layers.{index}.{leaf}")
}

const FINAL_NORM: &str = "final_norm";

impl<B: Backend> ModernBertLayer<B> {
    pub fn build(
        config: &EncoderConfig,
        index: usize,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Self {
        let settings = config
            .modernbert
            .as_ref()
            .expect("a ModernBERT config has its settings");
        let (h, i, eps) = (
            config.hidden_size,
            config.intermediate_size,
            config.layer_norm_eps,
        );
        let norm = |src: &mut dyn ParamSource, leaf: &str| {
            params::layer_norm_with_bias(
                src,
                &path(index, leaf),
                h,
                eps,
                settings.norm_bias,
                device,
            )
        };
        let attn_norm = (index > 0).then(|| norm(src, "attn_norm"));
        let (qkv_bias, mlp_bias) = (settings.attention_bias, settings.mlp_bias);
        let wqkv =
            params::linear_with_bias(src, &path(index, "attn.Wqkv"), h, 3 * h, qkv_bias, device);
        let attn_out =
            params::linear_with_bias(src, &path(index, "attn.Wo"), h, h, qkv_bias, device);
        let mlp_norm = norm(src, "mlp_norm");
        let mlp_in =
            params::linear_with_bias(src, &path(index, "mlp.Wi"), h, 2 * i, mlp_bias, device);
        let mlp_out = params::linear_with_bias(src, &path(index, "mlp.Wo"), i, h, mlp_bias, device);
        Self {
            attn_norm,
            wqkv,
            attn_out,
            mlp_norm,
            mlp_in,
            mlp_out,
            attention_dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            mlp_dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            global: settings.global_layers[index],
            num_heads: config.num_attention_heads,
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, index: usize) {
        if let Some(norm) = &self.attn_norm {
            params::export_layer_norm(out, &path(index, "attn_norm"), norm);
        }
        params::export_linear(out, &path(index, "attn.Wqkv"), &self.wqkv);
        params::export_linear(out, &path(index, "attn.Wo"), &self.attn_out);
        params::export_layer_norm(out, &path(index, "mlp_norm"), &self.mlp_norm);
        params::export_linear(out, &path(index, "mlp.Wi"), &self.mlp_in);
        params::export_linear(out, &path(index, "mlp.Wo"), &self.mlp_out);
    }

    pub fn forward(&self, hidden: Tensor<B, 3>, context: &Context<B>) -> Tensor<B, 3> {
        let (rotary, allowed) = if self.global {
            (&context.global_rotary, &context.global_allowed)
        } else {
            (&context.local_rotary, &context.local_allowed)
        };
        let normed = match &self.attn_norm {
            Some(norm) => norm.forward(hidden.clone()),
            None => hidden.clone(),
        };
        let qkv = linear_tokens(&self.wqkv, normed);
        let h = qkv.dims()[2] / 3;
        let heads = self.num_heads;
        let q = rotary.apply(split_heads(qkv.clone().narrow(2, 0, h), heads));
        let k = rotary.apply(split_heads(qkv.clone().narrow(2, h, h), heads));
        let v = split_heads(qkv.narrow(2, 2 * h, h), heads);
        let head_dim = h / heads;
        let scores = q.matmul(k.swap_dims(2, 3)) * (head_dim as f64).powf(-0.5);
        let attended = masked_attention(scores, allowed.clone(), v, &self.attention_dropout);
        let attended = dropout(
            &self.attention_dropout,
            linear_tokens(&self.attn_out, attended),
        );
        let hidden = hidden + attended;
        let projected = linear_tokens(&self.mlp_in, self.mlp_norm.forward(hidden.clone()));
        let i = projected.dims()[2] / 2;
        let input = projected.clone().narrow(2, 0, i);
        let gate = projected.narrow(2, i, i);
        let mlp = dropout(&self.mlp_dropout, gelu(input) * gate);
        hidden + linear_tokens(&self.mlp_out, mlp)
    }
}

/// The layers and the final norm (`model.layers.*`, `model.final_norm`).
#[derive(Module, Debug)]
pub struct ModernBertLayers<B: Backend> {
    pub layers: Vec<ModernBertLayer<B>>,
    pub final_norm: LayerNorm<B>,
}

impl<B: Backend> ModernBertLayers<B> {
    /// `None` for the other families.
    pub fn build(
        config: &EncoderConfig,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Option<Self> {
        let settings = config.modernbert.as_ref()?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| ModernBertLayer::build(config, i, src, device))
            .collect();
        let final_norm = params::layer_norm_with_bias(
            src,
            FINAL_NORM,
            config.hidden_size,
            config.layer_norm_eps,
            settings.norm_bias,
            device,
        );
        Some(Self { layers, final_norm })
    }

    pub fn export(&self, out: &mut Vec<NamedArray>) {
        for (i, layer) in self.layers.iter().enumerate() {
            layer.export(out, i);
        }
        params::export_layer_norm(out, FINAL_NORM, &self.final_norm);
    }

    pub fn forward(&self, mut hidden: Tensor<B, 3>, context: &Context<B>) -> Tensor<B, 3> {
        for layer in &self.layers {
            hidden = layer.forward(hidden, context);
        }
        self.final_norm.forward(hidden)
    }
}

/// Rotary tables `[1, 1, seq, head_dim]` for one base.
pub struct Rotary<B: Backend> {
    cos: Tensor<B, 4>,
    sin: Tensor<B, 4>,
}

impl<B: Backend> Rotary<B> {
    /// transformers' default RoPE in f32: `inv_freq[i] = 1 / theta^(2i / d)`, the angle of
    /// position p is `p * inv_freq`, repeated for both halves.
    pub fn new(theta: f64, seq: usize, head_dim: usize, device: &B::Device) -> Self {
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let angles: Vec<f32> = (0..seq)
            .flat_map(|p| {
                let inv_freq = &inv_freq;
                (0..head_dim).map(move |j| p as f32 * inv_freq[j % half])
            })
            .collect();
        let table = |f: fn(f32) -> f32| {
            let values: Vec<f32> = angles.iter().map(|&a| f(a)).collect();
            Tensor::from_data(TensorData::new(values, [1, 1, seq, head_dim]), device)
        };
        Self {
            cos: table(f32::cos),
            sin: table(f32::sin),
        }
    }

    /// `x * cos + rotate_half(x) * sin` on `[batch, heads, seq, head_dim]`.
    pub fn apply(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [batch, heads, seq, head_dim] = x.dims();
        let half = head_dim / 2;
        let rotated = Tensor::cat(
            vec![
                x.clone().narrow(3, half, half).neg(),
                x.clone().narrow(3, 0, half),
            ],
            3,
        );
        let shape = [batch, heads, seq, head_dim];
        x * self.cos.clone().expand(shape) + rotated * self.sin.clone().expand(shape)
    }
}

/// What every layer needs, computed once per forward pass.
pub struct Context<B: Backend> {
    global_rotary: Rotary<B>,
    local_rotary: Rotary<B>,
    /// `[batch, 1, seq, seq]`: the key is a real token (and, locally, within the window).
    global_allowed: Tensor<B, 4, Bool>,
    local_allowed: Tensor<B, 4, Bool>,
}

impl<B: Backend> Context<B> {
    pub fn new(config: &EncoderConfig, attention_mask: &Tensor<B, 2, Int>) -> Self {
        let settings = config
            .modernbert
            .as_ref()
            .expect("a ModernBERT config has its settings");
        let [batch, seq] = attention_mask.dims();
        let device = attention_mask.device();
        let shape = [batch, 1, seq, seq];
        let global_allowed = attention_mask
            .clone()
            .equal_elem(1)
            .reshape([batch, 1, 1, seq])
            .expand(shape);
        let half = settings.half_window();
        let window: Vec<bool> = (0..seq)
            .flat_map(|q| (0..seq).map(move |k| q.abs_diff(k) <= half))
            .collect();
        let window =
            Tensor::<B, 4, Bool>::from_data(TensorData::new(window, [1, 1, seq, seq]), &device);
        let local_allowed = global_allowed.clone().bool_and(window.expand(shape));
        let head_dim = config.head_dim();
        Self {
            global_rotary: Rotary::new(settings.global_rope_theta, seq, head_dim, &device),
            local_rotary: Rotary::new(settings.local_rope_theta, seq, head_dim, &device),
            global_allowed,
            local_allowed,
        }
    }
}
