//! Saving a fine-tuned classifier as a transformers checkpoint: `config.json` declaring
//! `BertForSequenceClassification` / `RobertaForSequenceClassification` (with `num_labels`,
//! `id2label`, `label2id`) and `model.safetensors` with transformers' tensor names, in f32; and
//! an encoder without a head as `BertModel` / `RobertaModel` ([`save_encoder`]).

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Map, Value};

use crate::checkpoint::{CONFIG_FILE, WEIGHTS_FILE};
use crate::classifier::SequenceClassifier;
use crate::config::EncoderConfig;
use crate::encoder::Encoder;
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
    write_tensors(&classifier_tensors(model), &dir.join(WEIGHTS_FILE))?;
    write_config(&classifier_config_json(model.config(), &labels), dir)
}

/// Writes `config.json` and `model.safetensors` of an encoder without a head into `dir`
/// (created if needed), as transformers' `BertModel` / `RobertaModel` saves them: tensor names
/// without the `bert.` / `roberta.` prefix, no pooler (dmlft has none; transformers initialises
/// one and sentence-transformers does not use it). A SetFit body is saved this way.
pub fn save_encoder<B: Backend>(encoder: &Encoder<B>, dir: &Path) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut tensors = Vec::new();
    encoder.export(&mut tensors);
    write_tensors(&tensors, &dir.join(WEIGHTS_FILE))?;
    let mut config = common_config_json(&encoder.config);
    // a source that was a classifier: its classes are not this checkpoint's
    for key in ["id2label", "label2id", "num_labels", "classifier_dropout"] {
        config.remove(key);
    }
    config.insert(
        "architectures".into(),
        json!([encoder.config.family.encoder_architecture()]),
    );
    write_config(&Value::Object(config), dir)
}

/// `tensors` as f32 safetensors at `path`.
fn write_tensors(tensors: &[NamedArray], path: &Path) -> Result<(), ModelError> {
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
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| {
        ModelError::Safetensors {
            file: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

fn write_config(config: &Value, dir: &Path) -> Result<(), ModelError> {
    let path = dir.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(config).expect("a JSON map always serialises");
    write_atomic(&path, text.as_bytes()).map_err(|e| ModelError::io(&path, e))
}

/// The checkpoint's own config with the classifier declarations and current dropout.
pub(crate) fn classifier_config_json(config: &EncoderConfig, labels: &[String]) -> Value {
    let mut raw = common_config_json(config);
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
    raw.insert(
        "architectures".into(),
        json!([config.family.classifier_architecture()]),
    );
    raw.insert("num_labels".into(), json!(labels.len()));
    raw.insert("id2label".into(), Value::Object(id2label));
    raw.insert("label2id".into(), Value::Object(label2id));
    // DebertaV2ForSequenceClassification reads its head's dropout from `cls_dropout`
    let head_dropout_key = if config.deberta.is_some() {
        "cls_dropout"
    } else {
        "classifier_dropout"
    };
    raw.insert(head_dropout_key.into(), json!(config.classifier_dropout));
    Value::Object(raw)
}

/// The checkpoint's own config with the values dmlft's encoder ran with (dropout, sizes,
/// activation), for any saved checkpoint.
fn common_config_json(config: &EncoderConfig) -> Map<String, Value> {
    let mut raw: Map<String, Value> = config.raw.clone();
    let mut set = |key: &str, value: Value| {
        raw.insert(key.to_string(), value);
    };
    set("model_type", json!(config.family.model_type()));
    set("pad_token_id", json!(config.pad_token_id));
    if let Some(modern) = &config.modernbert {
        // ModernBertConfig's own names
        set("mlp_dropout", json!(config.hidden_dropout_prob));
        set(
            "attention_dropout",
            json!(config.attention_probs_dropout_prob),
        );
        set("embedding_dropout", json!(modern.embedding_dropout));
        set("norm_eps", json!(config.layer_norm_eps));
        set("hidden_activation", json!("gelu"));
        return raw;
    }
    set("hidden_dropout_prob", json!(config.hidden_dropout_prob));
    set(
        "attention_probs_dropout_prob",
        json!(config.attention_probs_dropout_prob),
    );
    set("type_vocab_size", json!(config.type_vocab_size));
    set("layer_norm_eps", json!(config.layer_norm_eps));
    set("hidden_act", json!("gelu"));
    raw
}
