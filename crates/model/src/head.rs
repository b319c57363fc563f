//! Sequence-classification head on the first token: dropout, dense H->H, tanh, dropout,
//! out_proj H->C (transformers' `RobertaClassificationHead`). BERT's pooler + classifier is the
//! same computation without the first dropout, so one module serves both families; only the
//! checkpoint names differ. ELECTRA's head is RoBERTa's with GELU in place of tanh; MPNet's is
//! RoBERTa's.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::config::{EncoderConfig, ModelFamily};
use crate::dropout::dropout;
use crate::params::{self, NamedArray, ParamSource};

/// Where the head's two linear layers live in a transformers checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadNames {
    /// The H->H layer; `prefixed` when it sits under the encoder prefix (BERT's pooler).
    pub dense: &'static str,
    pub dense_prefixed: bool,
    /// The H->C layer, always at the top level.
    pub out_proj: &'static str,
}

impl HeadNames {
    pub fn for_family(family: ModelFamily) -> Self {
        match family {
            ModelFamily::Bert => HeadNames {
                dense: "pooler.dense",
                dense_prefixed: true,
                out_proj: "classifier",
            },
            ModelFamily::Roberta
            | ModelFamily::XlmRoberta
            | ModelFamily::Electra
            | ModelFamily::Mpnet => HeadNames {
                dense: "classifier.dense",
                dense_prefixed: false,
                out_proj: "classifier.out_proj",
            },
        }
    }
}

#[derive(Module, Debug)]
pub struct ClassificationHead<B: Backend> {
    pub dense: Linear<B>,
    pub out_proj: Linear<B>,
    pub dropout: Dropout,
    /// RoBERTa drops out the first-token state before `dense`; BERT's pooler does not.
    pub dropout_before_dense: bool,
    /// ELECTRA: erf GELU after `dense`; the others: tanh.
    pub gelu: bool,
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
        Self {
            dense: params::linear(dense_src, names.dense, h, h, device),
            out_proj: params::linear(out_src, names.out_proj, h, num_labels, device),
            dropout: DropoutConfig::new(config.head_dropout()).init(),
            dropout_before_dense: config.family != ModelFamily::Bert,
            gelu: config.family == ModelFamily::Electra,
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
        params::export_linear(out, names.out_proj, &self.out_proj);
    }

    /// `[batch, hidden]` first-token states -> `[batch, num_labels]` logits.
    pub fn forward(&self, first_token: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = if self.dropout_before_dense {
            dropout(&self.dropout, first_token)
        } else {
            first_token
        };
        let dense = self.dense.forward(x);
        let pooled = if self.gelu {
            crate::kernels::gelu(dense)
        } else {
            dense.tanh()
        };
        self.out_proj.forward(dropout(&self.dropout, pooled))
    }
}
