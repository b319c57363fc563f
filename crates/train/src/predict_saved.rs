//! Predictions of a saved model ([`SavedModel`]) in one inference mode: the class, the class
//! scores of that mode ([`mode_scores`]) per example, in the examples' order (batches are
//! length-sorted inside [`predict`]).

use burn::tensor::backend::Backend;
use dmlft_data::Example;

use crate::error::TrainError;
use crate::modes::{mode_scores, predict_labels};
use crate::predict::{predict, EvalInputs};
use crate::saved_model::SavedModel;
use crate::spec::InferenceMode;

/// What a saved model predicts for each example.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPredictions {
    pub mode: InferenceMode,
    /// Predicted class index per example.
    pub labels: Vec<usize>,
    /// Class scores per example (each row sums to 1), see [`mode_scores`].
    pub scores: Vec<Vec<f32>>,
}

/// Predicts `examples` with `saved` in `mode`; `proxy` and `mix` load the saved loss parameters
/// and fail with one clear error when the folder has none.
pub fn predict_saved<B: Backend>(
    saved: &SavedModel,
    examples: &[Example],
    mode: &InferenceMode,
    batch_size: usize,
    device: &B::Device,
) -> Result<SavedPredictions, TrainError> {
    if batch_size == 0 {
        return Err(TrainError::InvalidSetting {
            key: "batch_size".into(),
            value: "0".into(),
            valid: ">= 1".into(),
        });
    }
    // Fail on missing proxies before loading the encoder.
    let objective = match mode {
        InferenceMode::Head => None,
        _ => Some(saved.load_objective::<B>(device)?),
    };
    let model = saved.load::<B>(device)?;
    let tokenizer = saved.tokenizer()?;
    let inputs = EvalInputs {
        tokenizer: &tokenizer,
        max_length: saved.max_length,
        head_pooling: saved.head_pooling,
        batch_size,
        progress: None,
    };
    let raw = predict(&model, objective.as_ref(), examples, &inputs, device)?;
    let loss_name = saved
        .loss
        .as_ref()
        .map_or("unknown", |m| m.loss_name.as_str());
    Ok(SavedPredictions {
        mode: *mode,
        labels: predict_labels(&raw, mode, loss_name)?,
        scores: mode_scores(&raw, mode, loss_name)?,
    })
}
