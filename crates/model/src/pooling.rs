//! Sentence embeddings from token states, and the pooling a sentence-transformers folder
//! declares for them.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use serde_json::Value;

use dmlft_pooling::Pooling;

use crate::error::ModelError;

/// The first token's state (`<s>` / `[CLS]`): `[batch, seq, hidden]` -> `[batch, hidden]`.
pub fn first_token<B: Backend>(token_states: &Tensor<B, 3>) -> Tensor<B, 2> {
    token_states.clone().narrow(1, 0, 1).squeeze_dim(1)
}

/// Mean of the states of non-padding tokens (sentence-transformers' mean pooling):
/// `[batch, seq, hidden]`, `[batch, seq]` 1/0 mask -> `[batch, hidden]`. A row with no token
/// gives zeros rather than NaN.
pub fn mean_pool<B: Backend>(
    token_states: &Tensor<B, 3>,
    attention_mask: &Tensor<B, 2, Int>,
) -> Tensor<B, 2> {
    let mask = attention_mask.clone().float().unsqueeze_dim::<3>(2);
    let summed = (token_states.clone() * mask.clone())
        .sum_dim(1)
        .squeeze_dim::<2>(1);
    let counts = mask.sum_dim(1).squeeze_dim::<2>(1).clamp_min(1e-9);
    summed / counts
}

/// The sentence vector `pooling` names: [`first_token`] or [`mean_pool`].
pub fn pool<B: Backend>(
    pooling: Pooling,
    token_states: &Tensor<B, 3>,
    attention_mask: &Tensor<B, 2, Int>,
) -> Tensor<B, 2> {
    match pooling {
        Pooling::First => first_token(token_states),
        Pooling::Mean => mean_pool(token_states, attention_mask),
    }
}

const MODULES_FILE: &str = "modules.json";
const POOLING_TYPE: &str = "sentence_transformers.models.Pooling";
/// The pooling modes of sentence-transformers' `Pooling`, and what this crate computes for each
/// (`cls_token` is the first token).
const POOLING_MODES: &[(&str, Option<Pooling>)] = &[
    ("pooling_mode_mean_tokens", Some(Pooling::Mean)),
    ("pooling_mode_cls_token", Some(Pooling::First)),
    ("pooling_mode_max_tokens", None),
    ("pooling_mode_mean_sqrt_len_tokens", None),
    ("pooling_mode_weightedmean_tokens", None),
    ("pooling_mode_lasttoken", None),
];

/// The pooling that the sentence-transformers files in `dir` declare; `None` for a folder without
/// `modules.json` (a plain transformers checkpoint) or whose modules have no `Pooling`.
pub fn declared_pooling(dir: &Path) -> Result<Option<Pooling>, ModelError> {
    let modules_file = dir.join(MODULES_FILE);
    if !modules_file.is_file() {
        return Ok(None);
    }
    let modules = read_json(&modules_file)?;
    let bad_modules = || ModelError::Config {
        file: modules_file.clone(),
        message: "expected a list of modules, each with a string `type` and `path`".into(),
    };
    let list = modules.as_array().ok_or_else(bad_modules)?;
    let mut pooling_path = None;
    for module in list {
        let kind = module.get("type").and_then(Value::as_str);
        let path = module.get("path").and_then(Value::as_str);
        match (kind, path) {
            (Some(POOLING_TYPE), Some(path)) => pooling_path = Some(path.to_string()),
            (Some(_), Some(_)) => {}
            _ => return Err(bad_modules()),
        }
    }
    let Some(path) = pooling_path else {
        return Ok(None);
    };
    let config_file = dir.join(path).join("config.json");
    let config = read_json(&config_file)?;
    let enabled: Vec<&(&str, Option<Pooling>)> = POOLING_MODES
        .iter()
        .filter(|(key, _)| config.get(*key).and_then(Value::as_bool) == Some(true))
        .collect();
    let supported = "pooling_mode_mean_tokens or pooling_mode_cls_token";
    match enabled.as_slice() {
        [(_, Some(pooling))] => Ok(Some(*pooling)),
        [(key, None)] => Err(ModelError::ConfigKey {
            file: config_file,
            key: key.to_string(),
            message: format!("this pooling is not supported; valid: {supported}"),
        }),
        _ => Err(ModelError::Config {
            file: config_file,
            message: format!(
                "{} pooling modes are true ({}); exactly one is supported: {supported}",
                enabled.len(),
                enabled
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

fn read_json(path: &Path) -> Result<Value, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Config {
        file: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sentence-transformers folder as all-mpnet-base-v2 ships it (Transformer, Pooling,
    /// Normalize), with `pooling` as the Pooling module's config.
    fn folder(pooling: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let modules = r#"[
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        ]"#;
        std::fs::write(dir.path().join(MODULES_FILE), modules).unwrap();
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        std::fs::write(dir.path().join("1_Pooling/config.json"), pooling).unwrap();
        dir
    }

    const MEAN: &str = r#"{"word_embedding_dimension": 768, "pooling_mode_cls_token": false,
        "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false,
        "pooling_mode_mean_sqrt_len_tokens": false}"#;

    #[test]
    fn reads_the_declared_mode() {
        assert_eq!(
            declared_pooling(folder(MEAN).path()).unwrap(),
            Some(Pooling::Mean)
        );
        let cls = MEAN
            .replace(r#"cls_token": false"#, r#"cls_token": true"#)
            .replace(r#"mean_tokens": true"#, r#"mean_tokens": false"#);
        assert_eq!(
            declared_pooling(folder(&cls).path()).unwrap(),
            Some(Pooling::First)
        );
        // A plain transformers folder declares nothing.
        let plain = tempfile::tempdir().unwrap();
        assert_eq!(declared_pooling(plain.path()).unwrap(), None);
    }

    #[test]
    fn unsupported_or_ambiguous_modes_are_named() {
        let max = MEAN
            .replace(r#"max_tokens": false"#, r#"max_tokens": true"#)
            .replace(r#"mean_tokens": true"#, r#"mean_tokens": false"#);
        let msg = declared_pooling(folder(&max).path())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("1_Pooling/config.json")
                && msg.contains("`pooling_mode_max_tokens`")
                && msg.contains("valid: pooling_mode_mean_tokens or pooling_mode_cls_token"),
            "{msg}"
        );
        let two = MEAN.replace(r#"cls_token": false"#, r#"cls_token": true"#);
        let msg = declared_pooling(folder(&two).path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("2 pooling modes are true"), "{msg}");
        let dir = folder(MEAN);
        std::fs::write(dir.path().join(MODULES_FILE), r#"{"not": "a list"}"#).unwrap();
        let msg = declared_pooling(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("modules.json") && msg.contains("expected a list"),
            "{msg}"
        );
    }
}
