//! Sequence-classification head on the first token: dropout, dense H->H, tanh, dropout,
//! out_proj H->C (transformers' `RobertaClassificationHead`). BERT's pooler + classifier is the
//! same computation without the first dropout, so one module serves both families; only the
//! checkpoint names differ. ELECTRA's head is RoBERTa's with GELU in place of tanh; MPNet's is
//! RoBERTa's; DeBERTa's `ContextPooler` + classifier is ELECTRA's (the first dropout only with
//! `pooler_dropout`); ModernBERT's `ModernBertPredictionHead` + classifier adds a norm after the
//! GELU and pools the first token or the mean as `classifier_pooling` says.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::config::{EncoderConfig, HeadPooling, ModelFamily};
use crate::dropout::dropout;
use crate::params::{self, NamedArray, ParamSource};
use crate::pooling::{first_token, mean_pool};

/// Where the head's two linear layers live in a transformers checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadNames {
    /// The H->H layer; `prefixed` when it sits under the encoder prefix (BERT's pooler).
    pub dense: &'static str,
    pub dense_prefixed: bool,
    /// The H->C layer, always at the top level.
    pub out_proj: &'static str,
    /// ModernBERT's norm after the activation (beside `dense`, never prefixed).
    pub norm: Option<&'static str>,
}

impl HeadNames {
    pub fn for_family(family: ModelFamily) -> Self {
        match family {
            ModelFamily::Bert => HeadNames {
                dense: "pooler.dense",
                dense_prefixed: true,
                out_proj: "classifier",
                norm: None,
            },
            ModelFamily::DebertaV2 => HeadNames {
                dense: "pooler.dense",
                dense_prefixed: false,
                out_proj: "classifier",
                norm: None,
            },
            ModelFamily::ModernBert => HeadNames {
                dense: "head.dense",
                dense_prefixed: false,
                out_proj: "classifier",
                norm: Some("head.norm"),
            },
            ModelFamily::Roberta
            | ModelFamily::XlmRoberta
            | ModelFamily::Electra
            | ModelFamily::Mpnet => HeadNames {
                dense: "classifier.dense",
                dense_prefixed: false,
                out_proj: "classifier.out_proj",
                norm: None,
            },
        }
    }
}

#[derive(Module, Debug)]
pub struct ClassificationHead<B: Backend> {
    pub dense: Linear<B>,
    pub out_proj: Linear<B>,
    /// ModernBERT: `head.norm` after the activation.
    pub norm: Option<LayerNorm<B>>,
    pub dropout: Dropout,
    /// RoBERTa drops out the first-token state before `dense`; BERT's pooler does not.
    pub dropout_before_dense: bool,
    /// ELECTRA, DeBERTa, ModernBERT: erf GELU after `dense`; the others: tanh.
    pub gelu: bool,
    /// ModernBERT with `classifier_pooling: "mean"`: the head reads the mean of the real
    /// tokens' states instead of the first token's.
    pub mean_pooling: bool,
}

impl<B: Backend> ClassificationHead<B> {
    /// `dense_src` supplies `names.dense`, `out_src` supplies `names.out_proj`.
    pub fn build(
        config: &EncoderConfig,
        num_labels: usize,
        dense_src: &mut dyn ParamSource,
        out_src: &mut dyn ParamSource,
        device: &B::Device,
    ) -> Self {
        let names = HeadNames::for_family(config.family);
        let h = config.hidden_size;
        let modern = config.modernbert.as_ref();
        let dense_bias = modern.is_none_or(|m| m.classifier_bias);
        let dense = params::linear_with_bias(dense_src, names.dense, h, h, dense_bias, device);
        // the norm belongs with the dense layer: loaded or initialised with it
        let norm = names.norm.map(|path| {
            let bias = modern.is_none_or(|m| m.norm_bias);
            params::layer_norm_with_bias(dense_src, path, h, config.layer_norm_eps, bias, device)
        });
        let dropout_before_dense = match (&config.deberta, config.family) {
            (Some(d), _) => d.pooler_dropout > 0.0,
            (None, ModelFamily::Bert | ModelFamily::ModernBert) => false,
            _ => true,
        };
        Self {
            dense,
            out_proj: params::linear(out_src, names.out_proj, h, num_labels, device),
            norm,
            dropout: DropoutConfig::new(config.head_dropout()).init(),
            dropout_before_dense,
            gelu: matches!(
                config.family,
                ModelFamily::Electra | ModelFamily::DebertaV2 | ModelFamily::ModernBert
            ),
            mean_pooling: modern.is_some_and(|m| m.classifier_pooling == HeadPooling::Mean),
        }
    }

    pub fn num_labels(&self) -> usize {
        self.out_proj.weight.dims()[1]
    }

    /// Head tensors under transformers' names; `encoder_prefix` is `bert.` / `roberta.`.
    pub fn export(&self, out: &mut Vec<NamedArray>, family: ModelFamily, encoder_prefix: &str) {
        let names = HeadNames::for_family(family);
        let dense = if names.dense_prefixed {
            format!("{encoder_prefix}{}", names.dense)
        } else {
            names.dense.to_string()
        };
        params::export_linear(out, &dense, &self.dense);
        if let (Some(path), Some(norm)) = (names.norm, &self.norm) {
            params::export_layer_norm(out, path, norm);
        }
        params::export_linear(out, names.out_proj, &self.out_proj);
    }

    /// What the head reads of the token states: the first token's, or (ModernBERT with mean
    /// pooling) the mean over the real tokens.
    pub fn pool(
        &self,
        token_states: &Tensor<B, 3>,
        attention_mask: &Tensor<B, 2, Int>,
    ) -> Tensor<B, 2> {
        if self.mean_pooling {
            mean_pool(token_states, attention_mask)
        } else {
            first_token(token_states)
        }
    }

    /// `[batch, hidden]` pooled states ([`Self::pool`]) -> `[batch, num_labels]` logits.
    pub fn forward(&self, first_token: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = if self.dropout_before_dense {
            dropout(&self.dropout, first_token)
        } else {
            first_token
        };
        let dense = self.dense.forward(x);
        let mut pooled = if self.gelu {
            crate::kernels::gelu(dense)
        } else {
            dense.tanh()
        };
        if let Some(norm) = &self.norm {
            pooled = norm.forward(pooled);
        }
        self.out_proj.forward(dropout(&self.dropout, pooled))
    }
}
