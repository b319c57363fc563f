//! Predictions of a saved model ([`SavedModel`]) in one inference mode: the class, the class
//! scores of that mode ([`mode_scores`]) per example, in the examples' order (batches are
//! length-sorted inside [`predict`]). A SetFit model predicts with its logistic head on the
//! body's sentence embeddings (head mode only).

use burn::tensor::backend::Backend;
use dmlft_data::Example;
use dmlft_eval::scores::argmax;

use crate::error::TrainError;
use crate::modes::{mode_scores, predict_labels};
use crate::predict::{predict, EvalInputs};
use crate::saved_model::setfit_head::SETFIT_HEAD_FILE;
use crate::saved_model::SavedModel;
use crate::setfit::embed::embed_all;
use crate::setfit::head::LogisticHead;
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
    if mode.needs_training_set() {
        return Err(TrainError::NoTrainingSet {
            mode: *mode,
            context: format!("the saved model {} does not keep", saved.dir.display()),
        });
    }
    if let Some(file) = &saved.setfit {
        if *mode != InferenceMode::Head {
            return Err(TrainError::SavedModel {
                file: saved.dir.join(SETFIT_HEAD_FILE),
                message: format!(
                    "a SetFit model predicts with its logistic head only: `--mode head`, not `{}`",
                    mode
                ),
            });
        }
        let (encoder, head) = saved.load_setfit::<B>(device)?;
        let tokenizer = saved.tokenizer()?;
        let x = embed_all(
            &encoder,
            examples,
            &tokenizer,
            saved.max_length,
            file.normalize,
            batch_size,
            device,
        )?;
        let (labels, scores) = setfit_predictions(&head, &x, saved.num_labels())?;
        return Ok(SavedPredictions {
            mode: *mode,
            labels,
            scores,
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
        sentences: false,
        progress: None,
    };
    let raw = predict(&model, objective.as_ref(), examples, &inputs, device)?;
    let loss_name = saved
        .loss
        .as_ref()
        .map_or("unknown", |m| m.loss_name.as_str());
    Ok(SavedPredictions {
        mode: *mode,
        labels: predict_labels(&raw, mode, loss_name, None)?,
        scores: mode_scores(&raw, mode, loss_name)?,
    })
}

/// The head's classes and probabilities (scikit-learn's `predict_proba`) per task class: 0 for
/// the classes the training sample did not have.
fn setfit_predictions(
    head: &LogisticHead,
    x: &[Vec<f32>],
    num_classes: usize,
) -> Result<(Vec<usize>, Vec<Vec<f32>>), TrainError> {
    let proba = head.predict_proba(x)?;
    let scores: Vec<Vec<f32>> = proba
        .rows()
        .into_iter()
        .map(|row| {
            let mut out = vec![0.0f32; num_classes];
            for (&class, &p) in head.classes.iter().zip(row.iter()) {
                out[class] = p as f32;
            }
            out
        })
        .collect();
    // every class the head knows has a positive probability, so the argmax is one of them
    let labels = scores.iter().map(|row| argmax(row)).collect();
    Ok((labels, scores))
}
