//! What a grid file says about a SetFit variant (`[losses.<name>.setfit]`): the settings of
//! SetFit's two stages with SetFit 1.2's defaults (`setfit.TrainingArguments`, its
//! sentence-transformers body trainer and scikit-learn's `LogisticRegression()`), written once
//! here as serde defaults.

use dmlft_losses::spec::DmlLossSpec;
use serde::{Deserialize, Serialize};

/// How a loss variant trains (its grid key `method`): dmlft's fine-tuning with an objective,
/// SetFit, or a linear probe on the frozen encoder ([`crate::probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Method {
    /// Fine-tune encoder and head on the objective (`ce_weight`, `dml`).
    #[default]
    #[serde(rename = "fine-tune")]
    FineTune,
    /// SetFit: contrastive body stage on sentence pairs, then a logistic-regression head.
    #[serde(rename = "setfit")]
    SetFit,
    /// No training: a logistic-regression head on the frozen encoder's embeddings.
    #[serde(rename = "linear-probe")]
    LinearProbe,
}

impl Method {
    /// The grid-file spellings, for messages.
    pub const VALID: &'static str = "\"fine-tune\" (default), \"setfit\" or \"linear-probe\"";
}

/// How many pairs SetFit draws from its pools (`setfit.sampler.ContrastiveDataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplingStrategy {
    /// As many positives and negatives as the larger pool (the smaller one is cycled).
    #[default]
    Oversampling,
    /// As many as the smaller pool.
    Undersampling,
    /// Every pool pair once (positives and negatives in unequal numbers).
    Unique,
}

/// The loss of the body stage: `"cosine"` or a DML loss table (`{ kind = "sup-con", ... }`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BodyLoss {
    /// `"cosine"`: sentence-transformers' CosineSimilarityLoss on the pairs (SetFit's default).
    Named(BodyLossName),
    /// Any dmlft DML loss on label batches of the training examples (beyond SetFit).
    Dml(DmlLossSpec),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyLossName {
    Cosine,
}

impl<'de> Deserialize<'de> for BodyLoss {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // By hand rather than `untagged`: serde's untagged error ("did not match any variant")
        // would hide the DML table's own message (an unknown kind, a bad field).
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = BodyLoss;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"cosine\" or a DML loss table such as { kind = \"sup-con\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BodyLoss, E> {
                match v {
                    "cosine" => Ok(BodyLoss::Named(BodyLossName::Cosine)),
                    other => Err(E::custom(format!(
                        "unknown body loss `{other}`: valid: \"cosine\" or a DML loss table such as {{ kind = \"sup-con\", temperature = 0.1 }}"
                    ))),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<BodyLoss, A::Error> {
                DmlLossSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(BodyLoss::Dml)
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Default for BodyLoss {
    fn default() -> Self {
        BodyLoss::Named(BodyLossName::Cosine)
    }
}

/// The classifier fitted on the body's embeddings of the training examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HeadSpec {
    /// L2-regularised logistic regression, as scikit-learn's `LogisticRegression(C, max_iter)`
    /// (binary: one weight vector; 3+ classes: multinomial), fitted with L-BFGS.
    Logistic {
        #[serde(default = "d::c")]
        c: f64,
        #[serde(default = "d::max_iter")]
        max_iter: usize,
    },
}

impl Default for HeadSpec {
    fn default() -> Self {
        HeadSpec::Logistic {
            c: d::c(),
            max_iter: d::max_iter(),
        }
    }
}

/// SetFit's settings. Every field is optional in a grid file; the defaults are SetFit 1.2's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SetFitSpec {
    pub sampling_strategy: SamplingStrategy,
    /// `N` positive and `N` negative pairs per training example; overrides the strategy.
    pub num_iterations: Option<usize>,
    pub body_loss: BodyLoss,
    /// Pairs per optimizer step (a DML body loss: training examples per step).
    pub batch_size: usize,
    /// Passes over the pairs.
    pub epochs: usize,
    pub lr: f64,
    /// Learning rate of a DML body loss's own parameters (proxies, centers); `None` = `lr`.
    pub loss_lr: Option<f64>,
    /// Linear warmup over `ceil(warmup_proportion * steps)` steps, then linear decay to 0.
    pub warmup_proportion: f64,
    /// AdamW's decoupled weight decay, on every weight but biases and LayerNorm parameters.
    pub weight_decay: f64,
    /// Global gradient-norm clipping.
    pub max_grad_norm: f64,
    /// The body's truncation length (sentence-transformers' `max_seq_length`); the cell's
    /// `model.max_length` applies when it is smaller.
    pub max_seq_length: usize,
    /// L2-normalise the mean-pooled embeddings the head sees (all-MiniLM-L6-v2 ends with a
    /// `Normalize` module; set false for bodies without one).
    pub normalize: bool,
    pub head: HeadSpec,
}

impl Default for SetFitSpec {
    fn default() -> Self {
        Self {
            sampling_strategy: SamplingStrategy::default(),
            num_iterations: None,
            body_loss: BodyLoss::default(),
            batch_size: 16,
            epochs: 1,
            lr: 2e-5,
            loss_lr: None,
            warmup_proportion: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            max_seq_length: 256,
            normalize: true,
            head: HeadSpec::default(),
        }
    }
}

impl SetFitSpec {
    /// The truncation length of the body under a cell whose model truncates at `model_max`.
    pub fn max_length(&self, model_max: usize) -> usize {
        self.max_seq_length.min(model_max)
    }

    /// Warmup steps of a body stage of `total` steps (transformers' `get_warmup_steps`:
    /// `ceil(proportion * total)`).
    pub fn warmup_steps(&self, total: usize) -> usize {
        (self.warmup_proportion * total as f64).ceil() as usize
    }

    /// The name of the body loss's term in results (`cosine`, or the DML loss's kind).
    pub fn body_loss_name(&self) -> &'static str {
        match &self.body_loss {
            BodyLoss::Named(BodyLossName::Cosine) => "cosine",
            BodyLoss::Dml(spec) => spec.kind().name(),
        }
    }
}

/// scikit-learn's `LogisticRegression` defaults.
mod d {
    pub(super) fn c() -> f64 {
        1.0
    }
    pub(super) fn max_iter() -> usize {
        100
    }
}
