//! `EncoderConfig`: the parts of a Hugging Face `config.json` that shape a BERT / RoBERTa encoder.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::ModelError;
use crate::mpnet_bias;

/// Which member of the family a checkpoint is. It decides the tensor-name prefix, how position
/// ids are computed, and which transformers class a saved checkpoint names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFamily {
    Bert,
    Roberta,
    XlmRoberta,
    /// ELECTRA discriminator: BERT's blocks, embeddings of `embedding_size` projected to
    /// `hidden_size` when the two differ, a GELU classification head.
    Electra,
    /// MPNet: RoBERTa-style positions, no token types, a relative position bias shared by all
    /// layers added to the attention scores.
    Mpnet,
}

impl ModelFamily {
    const ALL: [ModelFamily; 5] = [
        ModelFamily::Bert,
        ModelFamily::Roberta,
        ModelFamily::XlmRoberta,
        ModelFamily::Electra,
        ModelFamily::Mpnet,
    ];

    /// The supported `model_type` values, for error messages.
    pub fn valid_model_types() -> String {
        Self::ALL.map(Self::model_type).join(", ")
    }

    fn from_model_type(model_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.model_type() == model_type)
    }

    pub fn model_type(self) -> &'static str {
        match self {
            ModelFamily::Bert => "bert",
            ModelFamily::Roberta => "roberta",
            ModelFamily::XlmRoberta => "xlm-roberta",
            ModelFamily::Electra => "electra",
            ModelFamily::Mpnet => "mpnet",
        }
    }

    /// Prefix of the encoder's tensors in a `*ForSequenceClassification` / `*ForMaskedLM` checkpoint.
    pub fn tensor_prefix(self) -> &'static str {
        match self {
            ModelFamily::Bert => "bert.",
            ModelFamily::Roberta | ModelFamily::XlmRoberta => "roberta.",
            ModelFamily::Electra => "electra.",
            ModelFamily::Mpnet => "mpnet.",
        }
    }

    /// The transformers class that a saved classifier checkpoint declares.
    pub fn classifier_architecture(self) -> &'static str {
        match self {
            ModelFamily::Bert => "BertForSequenceClassification",
            ModelFamily::Roberta => "RobertaForSequenceClassification",
            ModelFamily::XlmRoberta => "XLMRobertaForSequenceClassification",
            ModelFamily::Electra => "ElectraForSequenceClassification",
            ModelFamily::Mpnet => "MPNetForSequenceClassification",
        }
    }

    /// The transformers class that a saved encoder-only checkpoint (no head) declares.
    pub fn encoder_architecture(self) -> &'static str {
        match self {
            ModelFamily::Bert => "BertModel",
            ModelFamily::Roberta => "RobertaModel",
            ModelFamily::XlmRoberta => "XLMRobertaModel",
            ModelFamily::Electra => "ElectraModel",
            ModelFamily::Mpnet => "MPNetModel",
        }
    }

    /// RoBERTa and MPNet number positions from `pad_token_id + 1` and skip padding; BERT and
    /// ELECTRA count from 0.
    pub fn positions_follow_padding(self) -> bool {
        !matches!(self, ModelFamily::Bert | ModelFamily::Electra)
    }

    /// MPNet has no token-type embeddings (its models take no `token_type_ids`).
    pub fn has_token_types(self) -> bool {
        self != ModelFamily::Mpnet
    }
}

/// Encoder hyperparameters read from `config.json`. Structural keys are required; the others
/// default as in transformers' config classes when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    pub family: ModelFamily,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    /// Width of the embedding tables: ELECTRA's `embedding_size` (projected to `hidden_size`
    /// when different); `hidden_size` for the other families.
    pub embedding_size: usize,
    /// Rows of MPNet's relative position bias table (`relative_attention_num_buckets`); 0 for
    /// the families without one.
    pub relative_attention_num_buckets: usize,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    /// Dropout of the classification head; `None` means `hidden_dropout_prob`, as in transformers.
    pub classifier_dropout: Option<f64>,
    pub pad_token_id: usize,
    pub initializer_range: f64,
    /// The whole `config.json`, so that saving keeps the keys this crate does not interpret.
    pub raw: Map<String, Value>,
}

/// Activations this implementation computes; "gelu" in transformers is the exact erf form.
const SUPPORTED_ACTIVATIONS: &[&str] = &["gelu"];

impl EncoderConfig {
    /// Reads and validates `config.json` at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_json_str(&text, path)
    }

    /// Parses `config.json` text; `file` is only used in error messages.
    pub(crate) fn from_json_str(text: &str, file: &Path) -> Result<Self, ModelError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ModelError::Config {
            file: file.to_path_buf(),
            message: format!("not valid JSON: {e}"),
        })?;
        let Value::Object(raw) = value else {
            return Err(ModelError::Config {
                file: file.to_path_buf(),
                message: "expected a JSON object".into(),
            });
        };
        let keys = Keys { raw: &raw, file };

        let model_type = keys.string("model_type")?;
        let family = ModelFamily::from_model_type(&model_type).ok_or_else(|| {
            keys.error(
                "model_type",
                format!(
                    "`{model_type}` is not supported; valid: {}",
                    ModelFamily::valid_model_types()
                ),
            )
        })?;
        let hidden_act = keys.opt_string("hidden_act")?.unwrap_or("gelu".into());
        if !SUPPORTED_ACTIVATIONS.contains(&hidden_act.as_str()) {
            return Err(keys.error(
                "hidden_act",
                format!(
                    "`{hidden_act}` is not supported; valid: {} (the exact erf GELU)",
                    SUPPORTED_ACTIVATIONS.join(", ")
                ),
            ));
        }
        if let Some(kind) = keys.opt_string("position_embedding_type")? {
            if kind != "absolute" {
                return Err(keys.error(
                    "position_embedding_type",
                    format!("`{kind}` is not supported; valid: absolute"),
                ));
            }
        }
        let default_pad = if family.positions_follow_padding() {
            1
        } else {
            0
        };
        let hidden_size = keys.positive("hidden_size")?;
        let embedding_size = match family {
            // ElectraConfig's default when the key is absent.
            ModelFamily::Electra => keys.opt_positive("embedding_size")?.unwrap_or(128),
            _ => hidden_size,
        };
        let relative_attention_num_buckets = match family {
            ModelFamily::Mpnet => {
                let buckets = keys
                    .opt_positive("relative_attention_num_buckets")?
                    .unwrap_or(32);
                // transformers always buckets into 32 (`compute_position_bias`'s default), so
                // a smaller table would be indexed past its end.
                if buckets < mpnet_bias::BUCKETS {
                    return Err(keys.error(
                        "relative_attention_num_buckets",
                        format!(
                            "{buckets} is too small: MPNet's position bias uses {} buckets",
                            mpnet_bias::BUCKETS
                        ),
                    ));
                }
                buckets
            }
            _ => 0,
        };
        let config = EncoderConfig {
            family,
            hidden_size,
            num_hidden_layers: keys.positive("num_hidden_layers")?,
            num_attention_heads: keys.positive("num_attention_heads")?,
            intermediate_size: keys.positive("intermediate_size")?,
            vocab_size: keys.positive("vocab_size")?,
            max_position_embeddings: keys.positive("max_position_embeddings")?,
            type_vocab_size: keys.opt_usize("type_vocab_size")?.unwrap_or(2),
            layer_norm_eps: keys.opt_f64("layer_norm_eps")?.unwrap_or(1e-12),
            embedding_size,
            relative_attention_num_buckets,
            hidden_dropout_prob: keys.probability("hidden_dropout_prob")?.unwrap_or(0.1),
            attention_probs_dropout_prob: keys
                .probability("attention_probs_dropout_prob")?
                .unwrap_or(0.1),
            classifier_dropout: keys.probability("classifier_dropout")?,
            pad_token_id: keys.opt_usize("pad_token_id")?.unwrap_or(default_pad),
            initializer_range: keys.opt_f64("initializer_range")?.unwrap_or(0.02),
            raw: raw.clone(),
        };
        if !config
            .hidden_size
            .is_multiple_of(config.num_attention_heads)
        {
            return Err(keys.error(
                "num_attention_heads",
                format!(
                    "{} does not divide hidden_size {}",
                    config.num_attention_heads, config.hidden_size
                ),
            ));
        }
        if config.type_vocab_size == 0 {
            return Err(keys.error("type_vocab_size", "must be at least 1".into()));
        }
        if config.family.positions_follow_padding()
            && config.pad_token_id + 1 >= config.max_position_embeddings
        {
            return Err(keys.error(
                "max_position_embeddings",
                format!(
                    "{} leaves no position after padding_idx {}",
                    config.max_position_embeddings, config.pad_token_id
                ),
            ));
        }
        Ok(config)
    }

    /// Sets hidden, attention and head dropout to `p` (the `ModelSpec::dropout` override).
    pub fn with_dropout(mut self, p: f64) -> Result<Self, ModelError> {
        if !(0.0..1.0).contains(&p) {
            return Err(ModelError::InvalidArgument(format!(
                "dropout {p} is outside [0, 1)"
            )));
        }
        self.hidden_dropout_prob = p;
        self.attention_probs_dropout_prob = p;
        self.classifier_dropout = Some(p);
        Ok(self)
    }

    /// The longest input, in tokens (special tokens included), whose positions the checkpoint
    /// can number: `max_position_embeddings`, less RoBERTa's offset of `pad_token_id + 1`
    /// (transformers' `create_position_ids_from_input_ids` starts counting after the padding
    /// index, so RoBERTa-large's 514 positions hold 512 tokens). A longer input would index past
    /// the position table.
    pub fn usable_max_length(&self) -> usize {
        self.max_position_embeddings
            .saturating_sub(self.position_offset())
    }

    /// Positions used up before the first token: `pad_token_id + 1` for RoBERTa, 0 for BERT.
    pub fn position_offset(&self) -> usize {
        if self.family.positions_follow_padding() {
            self.pad_token_id.saturating_add(1)
        } else {
            0
        }
    }

    /// Refuses a truncation length the position table cannot hold; `origin` says where the
    /// config came from (a config.json path, or a known architecture's name), for the error.
    pub fn check_max_length(&self, max_length: usize, origin: &str) -> Result<(), ModelError> {
        let usable = self.usable_max_length();
        if max_length <= usable {
            return Ok(());
        }
        let offset = self.position_offset();
        let detail = if offset > 0 {
            format!(
                "max_position_embeddings {} minus {offset} (pad_token_id {} + 1, {}'s position offset)",
                self.max_position_embeddings,
                self.pad_token_id,
                self.family.model_type()
            )
        } else {
            format!("max_position_embeddings {}", self.max_position_embeddings)
        };
        Err(ModelError::MaxLength {
            origin: origin.to_string(),
            requested: max_length,
            usable,
            detail,
        })
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    pub fn head_dropout(&self) -> f64 {
        match self.family {
            // MPNetClassificationHead reads only hidden_dropout_prob.
            ModelFamily::Mpnet => self.hidden_dropout_prob,
            _ => self.classifier_dropout.unwrap_or(self.hidden_dropout_prob),
        }
    }

    /// A synthetic config (no file) for random models: benchmarks and tests.
    #[allow(clippy::too_many_arguments)]
    pub fn synthetic(
        family: ModelFamily,
        hidden_size: usize,
        num_hidden_layers: usize,
        num_attention_heads: usize,
        intermediate_size: usize,
        vocab_size: usize,
        max_position_embeddings: usize,
    ) -> Result<Self, ModelError> {
        let roberta = family.positions_follow_padding();
        let mut json = serde_json::json!({
            "model_type": family.model_type(),
            "hidden_size": hidden_size,
            "num_hidden_layers": num_hidden_layers,
            "num_attention_heads": num_attention_heads,
            "intermediate_size": intermediate_size,
            "vocab_size": vocab_size,
            "max_position_embeddings": max_position_embeddings,
            "type_vocab_size": if roberta { 1 } else { 2 },
            "layer_norm_eps": if roberta { 1e-5 } else { 1e-12 },
            "pad_token_id": if roberta { 1 } else { 0 },
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02,
        });
        if family == ModelFamily::Electra {
            // no projection: ElectraConfig's default of 128 would rarely match a test's width
            json["embedding_size"] = hidden_size.into();
        }
        Self::from_json_str(&json.to_string(), Path::new("<synthetic config>"))
    }
}

/// Typed access to config keys with errors that name the file and the key.
struct Keys<'a> {
    raw: &'a Map<String, Value>,
    file: &'a Path,
}

impl Keys<'_> {
    fn error(&self, key: &str, message: String) -> ModelError {
        ModelError::ConfigKey {
            file: PathBuf::from(self.file),
            key: key.into(),
            message,
        }
    }

    /// `None` for an absent key or JSON null (transformers writes e.g. `"classifier_dropout": null`).
    fn get(&self, key: &str) -> Option<&Value> {
        self.raw.get(key).filter(|v| !v.is_null())
    }

    fn missing(&self, key: &str) -> ModelError {
        self.error(key, "missing (required to build the encoder)".into())
    }

    fn string(&self, key: &str) -> Result<String, ModelError> {
        self.opt_string(key)?.ok_or_else(|| self.missing(key))
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, ModelError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(key, format!("expected a string, found {other}"))),
        }
    }

    fn opt_usize(&self, key: &str) -> Result<Option<usize>, ModelError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                self.error(key, format!("expected a non-negative integer, found {v}"))
            }),
        }
    }

    fn positive(&self, key: &str) -> Result<usize, ModelError> {
        self.opt_positive(key)?.ok_or_else(|| self.missing(key))
    }

    fn opt_positive(&self, key: &str) -> Result<Option<usize>, ModelError> {
        match self.opt_usize(key)? {
            Some(0) => Err(self.error(key, "must be at least 1, found 0".into())),
            other => Ok(other),
        }
    }

    fn opt_f64(&self, key: &str) -> Result<Option<f64>, ModelError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.error(key, format!("expected a number, found {v}"))),
        }
    }

    fn probability(&self, key: &str) -> Result<Option<f64>, ModelError> {
        match self.opt_f64(key)? {
            Some(p) if !(0.0..1.0).contains(&p) => {
                Err(self.error(key, format!("{p} is not a probability in [0, 1)")))
            }
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<EncoderConfig, ModelError> {
        EncoderConfig::from_json_str(json, Path::new("dir/config.json"))
    }

    const MINIMAL: &str = r#"{"model_type": "roberta", "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "vocab_size": 10,
        "max_position_embeddings": 20}"#;

    #[test]
    fn defaults_follow_transformers() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.family, ModelFamily::Roberta);
        assert_eq!(c.pad_token_id, 1);
        assert_eq!(c.type_vocab_size, 2);
        assert_eq!(c.head_dropout(), 0.1);
        assert_eq!(c.head_dim(), 4);
    }

    #[test]
    fn missing_key_names_file_and_key() {
        let json = MINIMAL.replace(r#""vocab_size": 10,"#, "");
        let msg = parse(&json).unwrap_err().to_string();
        assert!(
            msg.contains("dir/config.json")
                && msg.contains("`vocab_size`")
                && msg.contains("missing"),
            "{msg}"
        );
    }

    #[test]
    fn unsupported_activation_is_rejected_with_valid_list() {
        let json = MINIMAL.replace('{', r#"{"hidden_act": "relu", "#);
        let msg = parse(&json).unwrap_err().to_string();
        assert!(
            msg.contains("`hidden_act`") && msg.contains("relu") && msg.contains("valid: gelu"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        let heads = MINIMAL.replace(r#""num_attention_heads": 2"#, r#""num_attention_heads": 3"#);
        assert!(parse(&heads)
            .unwrap_err()
            .to_string()
            .contains("does not divide"));
        let family = MINIMAL.replace("roberta", "gpt2");
        assert!(parse(&family)
            .unwrap_err()
            .to_string()
            .contains("valid: bert, roberta, xlm-roberta, electra, mpnet"));
        let drop = MINIMAL.replace('{', r#"{"hidden_dropout_prob": 1.5, "#);
        assert!(parse(&drop)
            .unwrap_err()
            .to_string()
            .contains("hidden_dropout_prob"));
        let size = MINIMAL.replace(r#""hidden_size": 8"#, r#""hidden_size": "8""#);
        assert!(parse(&size)
            .unwrap_err()
            .to_string()
            .contains("expected a non-negative integer"));
    }

    #[test]
    fn unsupported_model_type_names_every_supported_one() {
        let msg = parse(&MINIMAL.replace("roberta", "deberta-v2"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("dir/config.json") && msg.contains("`model_type`"),
            "{msg}"
        );
        assert!(msg.contains("`deberta-v2` is not supported"), "{msg}");
        for family in ModelFamily::ALL {
            assert!(msg.contains(family.model_type()), "{msg}");
            assert_eq!(
                ModelFamily::from_model_type(family.model_type()),
                Some(family)
            );
        }
    }

    #[test]
    fn family_specific_keys_follow_transformers_defaults() {
        let electra = parse(&MINIMAL.replace("roberta", "electra")).unwrap();
        // ElectraConfig's embedding_size defaults to 128, BERT-style positions and padding.
        assert_eq!(electra.embedding_size, 128);
        assert_eq!((electra.pad_token_id, electra.position_offset()), (0, 0));
        let sized = MINIMAL
            .replace("roberta", "electra")
            .replace('{', r#"{"embedding_size": 4, "#);
        assert_eq!(parse(&sized).unwrap().embedding_size, 4);
        assert_eq!(parse(MINIMAL).unwrap().embedding_size, 8);

        let mpnet = parse(&MINIMAL.replace("roberta", "mpnet")).unwrap();
        assert_eq!(mpnet.relative_attention_num_buckets, 32);
        assert_eq!((mpnet.pad_token_id, mpnet.position_offset()), (1, 2));
        assert!(!mpnet.family.has_token_types());
        assert_eq!(parse(MINIMAL).unwrap().relative_attention_num_buckets, 0);
        let few = MINIMAL
            .replace("roberta", "mpnet")
            .replace('{', r#"{"relative_attention_num_buckets": 16, "#);
        let msg = parse(&few).unwrap_err().to_string();
        assert!(
            msg.contains("`relative_attention_num_buckets`") && msg.contains("32 buckets"),
            "{msg}"
        );
        // MPNet's head ignores classifier_dropout, as MPNetClassificationHead does.
        let dropout = MINIMAL
            .replace("roberta", "mpnet")
            .replace('{', r#"{"classifier_dropout": 0.3, "#);
        assert_eq!(parse(&dropout).unwrap().head_dropout(), 0.1);
    }

    #[test]
    fn usable_max_length_subtracts_robertas_padding_offset() {
        let roberta = parse(MINIMAL).unwrap();
        assert_eq!(roberta.usable_max_length(), 18);
        assert!(roberta.check_max_length(18, "c.json").is_ok());
        let msg = roberta
            .check_max_length(19, "dir/config.json")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("dir/config.json")
                && msg.contains("max_length 19")
                && msg.contains("18")
                && msg.contains("max_position_embeddings 20 minus 2"),
            "{msg}"
        );
        let bert = parse(&MINIMAL.replace("roberta", "bert")).unwrap();
        assert_eq!(bert.usable_max_length(), 20);
        assert!(bert.check_max_length(20, "c.json").is_ok());
        assert!(bert.check_max_length(21, "c.json").is_err());
    }

    #[test]
    fn dropout_override_checks_range() {
        let c = parse(MINIMAL).unwrap().with_dropout(0.3).unwrap();
        assert_eq!(
            (
                c.hidden_dropout_prob,
                c.attention_probs_dropout_prob,
                c.head_dropout()
            ),
            (0.3, 0.3, 0.3)
        );
        assert!(parse(MINIMAL).unwrap().with_dropout(1.0).is_err());
    }
}
