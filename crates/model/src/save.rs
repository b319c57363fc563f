//! Saving a fine-tuned classifier as a transformers checkpoint: `config.json` declaring
//! `BertForSequenceClassification` / `RobertaForSequenceClassification` (with `num_labels`,
//! `id2label`, `label2id`) and `model.safetensors` with transformers' tensor names, in f32.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Map, Value};

use crate::checkpoint::{CONFIG_FILE, WEIGHTS_FILE};
use crate::classifier::SequenceClassifier;
use crate::config::EncoderConfig;
use crate::error::ModelError;
use crate::params::NamedArray;
use dmlft_fs::write_atomic;

/// All tensors of `model` under the names transformers' `*ForSequenceClassification` uses.
pub(crate) fn classifier_tensors<B: Backend>(model: &SequenceClassifier<B>) -> Vec<NamedArray> {
    let family = model.config().family;
    let prefix = family.tensor_prefix();
    let mut encoder = Vec::new();
    model.encoder.export(&mut encoder);
    let mut out: Vec<NamedArray> = encoder
        .into_iter()
        .map(|a| NamedArray {
            name: format!("{prefix}{}", a.name),
            ..a
        })
        .collect();
    model.head.export(&mut out, family, prefix);
    out
}

/// Writes `config.json` and `model.safetensors` for `model` into `dir` (created if needed).
/// `labels` name the classes in order; `None` gives transformers' `LABEL_0`, `LABEL_1`, ...
pub fn save_classifier<B: Backend>(
    model: &SequenceClassifier<B>,
    dir: &Path,
    labels: Option<&[String]>,
) -> Result<(), ModelError> {
    let num_labels = model.num_labels();
    let labels: Vec<String> = match labels {
        Some(given) if given.len() != num_labels => {
            return Err(ModelError::InvalidArgument(format!(
                "{} label names given for a head with {num_labels} labels",
                given.len()
            )))
        }
        Some(given) => given.to_vec(),
        None => (0..num_labels).map(|i| format!("LABEL_{i}")).collect(),
    };
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;

    let weights_path = dir.join(WEIGHTS_FILE);
    let tensors = classifier_tensors(model);
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            TensorView::new(Dtype::F32, t.shape.clone(), b).map(|view| (t.name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ModelError::Safetensors {
            file: weights_path.clone(),
            message: e.to_string(),
        })?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), &weights_path).map_err(|e| {
        ModelError::Safetensors {
            file: weights_path.clone(),
            message: e.to_string(),
        }
    })?;

    let config = classifier_config_json(model.config(), &labels);
    let config_path = dir.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(&config).expect("a JSON map always serialises");
    write_atomic(&config_path, text.as_bytes()).map_err(|e| ModelError::io(&config_path, e))
}

/// The checkpoint's own config with the classifier declarations and current dropout.
pub(crate) fn classifier_config_json(config: &EncoderConfig, labels: &[String]) -> Value {
    let mut raw: Map<String, Value> = config.raw.clone();
    let id2label: Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let label2id: Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), json!(i)))
        .collect();
    let set = |raw: &mut Map<String, Value>, key: &str, value: Value| {
        raw.insert(key.to_string(), value);
    };
    set(
        &mut raw,
        "architectures",
        json!([config.family.classifier_architecture()]),
    );
    set(&mut raw, "model_type", json!(config.family.model_type()));
    set(&mut raw, "num_labels", json!(labels.len()));
    set(&mut raw, "id2label", Value::Object(id2label));
    set(&mut raw, "label2id", Value::Object(label2id));
    set(
        &mut raw,
        "hidden_dropout_prob",
        json!(config.hidden_dropout_prob),
    );
    set(
        &mut raw,
        "attention_probs_dropout_prob",
        json!(config.attention_probs_dropout_prob),
    );
    set(
        &mut raw,
        "classifier_dropout",
        json!(config.classifier_dropout),
    );
    set(&mut raw, "type_vocab_size", json!(config.type_vocab_size));
    set(&mut raw, "layer_norm_eps", json!(config.layer_norm_eps));
    set(&mut raw, "pad_token_id", json!(config.pad_token_id));
    set(&mut raw, "hidden_act", json!("gelu"));
    Value::Object(raw)
}
