//! Errors of a training run and of the model-side analyses. Each says which part failed so the
//! runner can record it.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] dmlft_data::error::DataError),
    #[error(transparent)]
    Model(#[from] dmlft_model::error::ModelError),
    #[error(transparent)]
    Loss(#[from] dmlft_losses::error::LossError),
    #[error(transparent)]
    Eval(#[from] dmlft_eval::MetricsError),
    /// A loss term became NaN or infinite.
    #[error("non-finite loss at step {step}: term `{term}` = {value}")]
    NonFinite {
        step: usize,
        term: String,
        value: f64,
    },
    #[error("cancelled at step {step}")]
    Cancelled { step: usize },
    /// `valid` says what is valid, read after "must be".
    #[error("invalid setting `{key}` = {value}: must be {valid}")]
    InvalidSetting {
        key: String,
        value: String,
        valid: String,
    },
    #[error(
        "inference mode `{mode}` needs a proxy-based loss ({}), but loss `{loss}` has none",
        dmlft_losses::spec::DmlLossKind::proxy_loss_names()
    )]
    NoProxies {
        mode: dmlft_eval::InferenceMode,
        loss: String,
    },
    /// A kNN / centroid mode where no training embeddings exist (a saved model keeps none).
    #[error(
        "inference mode `{mode}` classifies by the embeddings of the cell's training examples, which {context}; valid here: head, proxy, mix"
    )]
    NoTrainingSet {
        mode: dmlft_eval::InferenceMode,
        context: String,
    },
    /// A parameter of the trained module outside the encoder, the head and the objective.
    #[error("parameter `{path}` belongs to no parameter group (encoder, head, loss)")]
    UnknownParameter { path: String },
    /// A saved-model folder that is not what `run_cell` writes.
    #[error("{file}: {message}")]
    SavedModel {
        file: std::path::PathBuf,
        message: String,
    },
    /// A SetFit cell that cannot run (a one-class sample, a head fit that failed).
    #[error("{0}")]
    SetFit(String),
    #[error("device `{0}` is not available: {1}")]
    Device(String, String),
    #[error("{0}")]
    Io(String),
}

impl TrainError {
    /// The optimizer step at which the run failed, when known.
    pub fn step(&self) -> Option<usize> {
        match self {
            TrainError::NonFinite { step, .. } | TrainError::Cancelled { step } => Some(*step),
            _ => None,
        }
    }
}
