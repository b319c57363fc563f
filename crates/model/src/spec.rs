//! What a grid file says about the model. Contract between the runner and this crate.

use dmlft_pooling::Pooling;
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
    /// transformers' `*ForSequenceClassification` has no mean pooling: a model saved with
    /// [`Pooling::Mean`] is loaded there with first-token pooling.
    #[serde(default)]
    pub head_pooling: Pooling,
}

/// Truncation length when a spec gives none.
pub fn default_max_length() -> usize {
    64
}

/// Longest `max_length` accepted before the checkpoint's own limit is known: far above any
/// encoder's, low enough that steps x batch x tokens cannot overflow.
pub const MAX_LENGTH: usize = 65_536;

impl ModelSpec {
    /// The rules that need no checkpoint; field paths are relative (`max_length`). The
    /// checkpoint's own position limit is checked when it is loaded.
    pub fn validate(&self) -> Result<(), crate::ModelError> {
        let bad = |field: &str, value: String, valid: String| {
            Err(crate::ModelError::InvalidSetting {
                field: field.into(),
                value,
                valid,
            })
        };
        if self.source.trim().is_empty() {
            return bad(
                "source",
                format!("{:?}", self.source),
                "a model folder or a Hugging Face model id".into(),
            );
        }
        if !(2..=MAX_LENGTH).contains(&self.max_length) {
            return bad(
                "max_length",
                self.max_length.to_string(),
                format!("at least 2 and at most {MAX_LENGTH} (a bound against runaway memory)"),
            );
        }
        if let Some(p) = self.dropout {
            if !(0.0..1.0).contains(&p) {
                return bad("dropout", p.to_string(), "in [0, 1)".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod validate_tests {
    use super::*;

    #[test]
    fn bad_settings_name_the_field() {
        let ok: ModelSpec = serde_json::from_str(r#"{"source": "m"}"#).unwrap();
        assert!(ok.validate().is_ok());
        for (spec, field) in [
            (
                ModelSpec {
                    source: " ".into(),
                    ..ok.clone()
                },
                "source",
            ),
            (
                ModelSpec {
                    max_length: 1,
                    ..ok.clone()
                },
                "max_length",
            ),
            (
                ModelSpec {
                    max_length: MAX_LENGTH + 1,
                    ..ok.clone()
                },
                "max_length",
            ),
            (
                ModelSpec {
                    dropout: Some(1.0),
                    ..ok.clone()
                },
                "dropout",
            ),
            (
                ModelSpec {
                    dropout: Some(f64::NAN),
                    ..ok.clone()
                },
                "dropout",
            ),
        ] {
            let msg = spec.validate().unwrap_err().to_string();
            assert!(msg.contains(&format!("`{field}`")), "{msg}");
        }
    }
}
