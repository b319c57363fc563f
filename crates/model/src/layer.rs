//! One post-LN transformer layer (`encoder.layer.{i}.*`), as BERT, RoBERTa, ELECTRA, MPNet and
//! DeBERTa share it (DeBERTa's attention scores are `deberta.rs`'s).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::attention::{AttentionNames, ResidualOutput, SelfAttention};
use crate::config::EncoderConfig;
use crate::kernels::{gelu, linear_tokens};
use crate::params::{self, NamedArray, ParamSource};

#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// transformers' `attention.self` (`self` is a Rust keyword).
    pub self_attention: SelfAttention<B>,
    pub output: ResidualOutput<B>,
}

#[derive(Module, Debug)]
pub struct EncoderLayer<B: Backend> {
    pub attention: Attention<B>,
    /// `intermediate.dense`: hidden -> intermediate, followed by erf GELU.
    pub intermediate: Linear<B>,
    pub output: ResidualOutput<B>,
}

impl<B: Backend> EncoderLayer<B> {
    pub fn path(index: usize) -> String {
        format!("encoder.layer.{index}")
    }

    pub fn build(
        config: &EncoderConfig,
        index: usize,
        src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Self {
        let p = Self::path(index);
        let names = AttentionNames::for_family(config.family);
        let (h, i) = (config.hidden_size, config.intermediate_size);
        Self {
            attention: Attention {
                self_attention: SelfAttention::build(config, &p, &names, src, device),
                output: ResidualOutput::build(
                    config,
                    &format!("{p}.{}", names.output_dense),
                    &format!("{p}.{}", names.output_norm),
                    h,
                    src,
                    device,
                ),
            },
            intermediate: params::linear(src, &format!("{p}.intermediate.dense"), h, i, device),
            output: ResidualOutput::build(
                config,
                &format!("{p}.output.dense"),
                &format!("{p}.output.LayerNorm"),
                i,
                src,
                device,
            ),
        }
    }

    pub fn export(&self, out: &mut Vec<NamedArray>, index: usize, names: &AttentionNames) {
        let p = Self::path(index);
        self.attention.self_attention.export(out, &p, names);
        self.attention.output.export(
            out,
            &format!("{p}.{}", names.output_dense),
            &format!("{p}.{}", names.output_norm),
        );
        params::export_linear(out, &format!("{p}.intermediate.dense"), &self.intermediate);
        self.output.export(
            out,
            &format!("{p}.output.dense"),
            &format!("{p}.output.LayerNorm"),
        );
    }

    /// `bias`: see `SelfAttention::forward`.
    pub fn forward(&self, hidden: Tensor<B, 3>, bias: Tensor<B, 4>) -> Tensor<B, 3> {
        let context = self.attention.self_attention.forward(hidden.clone(), bias);
        self.after_attention(context, hidden)
    }

    /// The rest of the layer from the attention context `[batch, seq, hidden]`: the attention
    /// output block, the feed-forward block.
    pub fn after_attention(&self, context: Tensor<B, 3>, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        let attended = self.attention.output.forward(context, hidden);
        let inner = gelu(linear_tokens(&self.intermediate, attended.clone()));
        self.output.forward(inner, attended)
    }
}
