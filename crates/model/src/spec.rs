//! What a grid file says about the model. Contract between the runner and this crate.

use serde::{Deserialize, Serialize};

/// Floating-point precision of weights and activations. Which device supports which is
/// `dmlft_train::DeviceChoice::precisions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
    F16,
}

impl Precision {
    /// The name a grid file uses (`"f32"`, `"bf16"`, `"f16"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which token states the classification head reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadPooling {
    /// The first token (`<s>` / `[CLS]`), as `RobertaClassificationHead` (the papers).
    #[default]
    First,
    /// The mean over non-padding tokens: for encoders trained for mean pooling, such as the
    /// sentence-transformers models (all-MiniLM-L6-v2), whose first token carries little.
    /// transformers' `*ForSequenceClassification` cannot express it: a model saved with it is
    /// loaded there with first-token pooling.
    Mean,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// A folder with `config.json` + `model.safetensors` (+ tokenizer files), or a Hugging Face
    /// model id such as `roberta-large`, resolved through the local Hugging Face cache.
    pub source: String,
    /// Truncation length in tokens.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Overrides the checkpoint's hidden and attention dropout; `None` keeps `config.json`'s.
    #[serde(default)]
    pub dropout: Option<f64>,
    #[serde(default)]
    pub precision: Precision,
    /// Input of the classification head; the proxy inference modes use the same vector.
    #[serde(default)]
    pub head_pooling: HeadPooling,
}

/// Truncation length when a spec gives none.
pub fn default_max_length() -> usize {
    64
}
