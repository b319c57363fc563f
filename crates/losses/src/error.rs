//! Typed errors of this crate: each names the offending field or input and what is valid.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum LossError {
    /// A hyperparameter outside its valid range (from `validate`).
    #[error("invalid value {value} for `{field}`: must be {valid}")]
    InvalidHyperparameter {
        field: String,
        value: String,
        valid: String,
    },
    /// A label outside `0..num_classes`.
    #[error("label {label} out of range: the objective was built for {num_classes} classes (labels 0..{num_classes})")]
    LabelOutOfRange { label: i64, num_classes: usize },
    /// Shapes of the inputs do not agree.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A miner was combined with a loss that cannot use its output.
    #[error("{0}")]
    Unsupported(String),
}

impl LossError {
    pub(crate) fn invalid(field: &str, value: impl ToString, valid: impl Into<String>) -> Self {
        Self::InvalidHyperparameter {
            field: field.to_string(),
            value: value.to_string(),
            valid: valid.into(),
        }
    }
}
