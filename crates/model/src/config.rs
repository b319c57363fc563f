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
    /// DeBERTa-v2 / v3: BERT's post-LN layers with disentangled (content-to-position,
    /// position-to-content) attention over shared relative embeddings, the `ContextPooler` head.
    DebertaV2,
    /// ModernBERT: pre-norm layers with rotary embeddings, global and sliding-window attention, a
    /// GeGLU MLP and a final norm; its own head (`ModernBertPredictionHead`).
    ModernBert,
}

impl ModelFamily {
    pub const ALL: [ModelFamily; 7] = [
        ModelFamily::Bert,
        ModelFamily::Roberta,
        ModelFamily::XlmRoberta,
        ModelFamily::Electra,
        ModelFamily::Mpnet,
        ModelFamily::DebertaV2,
        ModelFamily::ModernBert,
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
            ModelFamily::DebertaV2 => "deberta-v2",
            ModelFamily::ModernBert => "modernbert",
        }
    }

    /// Prefix of the encoder's tensors in a `*ForSequenceClassification` / `*ForMaskedLM` checkpoint.
    pub fn tensor_prefix(self) -> &'static str {
        match self {
            ModelFamily::Bert => "bert.",
            ModelFamily::Roberta | ModelFamily::XlmRoberta => "roberta.",
            ModelFamily::Electra => "electra.",
            ModelFamily::Mpnet => "mpnet.",
            ModelFamily::DebertaV2 => "deberta.",
            ModelFamily::ModernBert => "model.",
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
            ModelFamily::DebertaV2 => "DebertaV2ForSequenceClassification",
            ModelFamily::ModernBert => "ModernBertForSequenceClassification",
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
            ModelFamily::DebertaV2 => "DebertaV2Model",
            ModelFamily::ModernBert => "ModernBertModel",
        }
    }

    /// RoBERTa and MPNet number positions from `pad_token_id + 1` and skip padding; BERT,
    /// ELECTRA and DeBERTa count from 0 (ModernBERT has no position table).
    pub fn positions_follow_padding(self) -> bool {
        matches!(
            self,
            ModelFamily::Roberta | ModelFamily::XlmRoberta | ModelFamily::Mpnet
        )
    }

    /// The word-embedding table's name under the encoder (how a checkpoint's prefix is found).
    pub fn word_embeddings_name(self) -> &'static str {
        match self {
            ModelFamily::ModernBert => "embeddings.tok_embeddings.weight",
            _ => "embeddings.word_embeddings.weight",
        }
    }
}

/// DeBERTa-v2/v3 attention settings (`DebertaV2Config`'s keys, defaults as in transformers).
#[derive(Debug, Clone, PartialEq)]
pub struct DebertaSettings {
    /// `relative_attention`: without it DeBERTa is BERT without absolute positions' offset.
    pub relative_attention: bool,
    /// `pos_att_type` holds `c2p` / `p2c`.
    pub c2p: bool,
    pub p2c: bool,
    /// `share_att_key`: positions go through the content query / key projections.
    pub share_att_key: bool,
    /// `position_buckets` (0: relative positions are not bucketed).
    pub position_buckets: usize,
    /// `max_relative_positions`, or `max_position_embeddings` when it is below 1.
    pub max_relative_positions: usize,
    /// `norm_rel_ebd` contains `layer_norm`: the relative embeddings are normalised.
    pub norm_rel_ebd: bool,
    /// `position_biased_input`: absolute position embeddings are added to the input.
    pub position_biased_input: bool,
    /// `pooler_dropout`: the dropout before the pooler's dense layer (0 in every release).
    pub pooler_dropout: f64,
}

impl DebertaSettings {
    /// Relative distances are clamped to `[-span, span)`: the table has `2 * span` rows.
    pub fn span(&self) -> usize {
        if self.position_buckets > 0 {
            self.position_buckets
        } else {
            self.max_relative_positions
        }
    }

    /// transformers' `scale_factor`: the scores are divided by `sqrt(head_dim * this)`.
    pub fn scale_factor(&self) -> usize {
        1 + usize::from(self.c2p) + usize::from(self.p2c)
    }
}

/// How ModernBERT's classifier pools the token states (`classifier_pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadPooling {
    Cls,
    Mean,
}

/// ModernBERT settings (`ModernBertConfig`'s keys, defaults as in transformers).
#[derive(Debug, Clone, PartialEq)]
pub struct ModernBertSettings {
    /// Per layer: true for global (`full_attention`), false for sliding-window attention.
    pub global_layers: Vec<bool>,
    /// `local_attention`: a local layer's query sees keys within `local_attention / 2`.
    pub local_attention: usize,
    pub global_rope_theta: f64,
    pub local_rope_theta: f64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub classifier_bias: bool,
    pub classifier_pooling: HeadPooling,
    pub embedding_dropout: f64,
}

impl ModernBertSettings {
    /// transformers' `sliding_window`: the largest distance a local layer attends over.
    pub fn half_window(&self) -> usize {
        self.local_attention / 2
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
    /// DeBERTa-v2/v3's attention settings; `None` for the other families.
    pub deberta: Option<DebertaSettings>,
    /// ModernBERT's settings; `None` for the other families.
    pub modernbert: Option<ModernBertSettings>,
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
        let activations: &[&str] = match family {
            ModelFamily::ModernBert => &["hidden_activation", "classifier_activation"],
            ModelFamily::DebertaV2 => &["hidden_act", "pooler_hidden_act"],
            _ => &["hidden_act"],
        };
        for key in activations {
            let act = keys.opt_string(key)?.unwrap_or("gelu".into());
            if !SUPPORTED_ACTIVATIONS.contains(&act.as_str()) {
                return Err(keys.error(
                    key,
                    format!(
                        "`{act}` is not supported; valid: {} (the exact erf GELU)",
                        SUPPORTED_ACTIVATIONS.join(", ")
                    ),
                ));
            }
        }
        if family == ModelFamily::ModernBert {
            return modernbert_config(&keys, &raw);
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
        let deberta = match family {
            ModelFamily::DebertaV2 => Some(deberta_settings(&keys, hidden_size)?),
            _ => None,
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
            type_vocab_size: keys
                .opt_usize("type_vocab_size")?
                .unwrap_or(if deberta.is_some() { 0 } else { 2 }),
            layer_norm_eps: keys
                .opt_f64("layer_norm_eps")?
                .unwrap_or(if deberta.is_some() { 1e-7 } else { 1e-12 }),
            embedding_size,
            relative_attention_num_buckets,
            hidden_dropout_prob: keys.probability("hidden_dropout_prob")?.unwrap_or(0.1),
            attention_probs_dropout_prob: keys
                .probability("attention_probs_dropout_prob")?
                .unwrap_or(0.1),
            classifier_dropout: keys.probability(if deberta.is_some() {
                "cls_dropout"
            } else {
                "classifier_dropout"
            })?,
            pad_token_id: keys.opt_usize("pad_token_id")?.unwrap_or(default_pad),
            initializer_range: keys.opt_f64("initializer_range")?.unwrap_or(0.02),
            deberta,
            modernbert: None,
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
        // DeBERTa-v3 has no token types (`type_vocab_size` 0); the BERT family needs one.
        if config.type_vocab_size == 0 && config.deberta.is_none() {
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
        if let Some(modern) = &mut self.modernbert {
            modern.embedding_dropout = p;
        }
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

    /// Whether the embeddings have a token-type table: not MPNet nor ModernBERT, and DeBERTa
    /// only with `type_vocab_size > 0` (v3 has none).
    pub fn has_token_types(&self) -> bool {
        match self.family {
            ModelFamily::Mpnet | ModelFamily::ModernBert => false,
            ModelFamily::DebertaV2 => self.type_vocab_size > 0,
            _ => true,
        }
    }

    /// Whether absolute position embeddings are added to the input: not ModernBERT (rotary),
    /// DeBERTa only with `position_biased_input`.
    pub fn has_absolute_positions(&self) -> bool {
        match (&self.deberta, self.family) {
            (Some(d), _) => d.position_biased_input,
            (None, ModelFamily::ModernBert) => false,
            _ => true,
        }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    pub fn head_dropout(&self) -> f64 {
        match self.family {
            // MPNetClassificationHead reads only hidden_dropout_prob.
            ModelFamily::Mpnet => self.hidden_dropout_prob,
            // DebertaV2ForSequenceClassification: `cls_dropout`, else hidden_dropout_prob (read
            // into classifier_dropout).
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
        match family {
            // no projection: ElectraConfig's default of 128 would rarely match a test's width
            ModelFamily::Electra => json["embedding_size"] = hidden_size.into(),
            // DeBERTa-v3's published attention settings
            ModelFamily::DebertaV2 => {
                for (key, value) in [
                    ("relative_attention", serde_json::json!(true)),
                    ("pos_att_type", serde_json::json!(["p2c", "c2p"])),
                    ("position_buckets", serde_json::json!(256)),
                    ("max_relative_positions", serde_json::json!(-1)),
                    ("share_att_key", serde_json::json!(true)),
                    ("norm_rel_ebd", serde_json::json!("layer_norm")),
                    ("position_biased_input", serde_json::json!(false)),
                    ("type_vocab_size", serde_json::json!(0)),
                    ("layer_norm_eps", serde_json::json!(1e-7)),
                ] {
                    json[key] = value;
                }
            }
            // ModernBertConfig's defaults serve (global every third layer, windows of 128)
            _ => {}
        }
        Self::from_json_str(&json.to_string(), Path::new("<synthetic config>"))
    }
}

/// DeBERTa-v2/v3's keys. Variants this crate does not compute (a convolution after the first
/// layer, an embedding projection, a pooler of another width) are refused by name.
fn deberta_settings(keys: &Keys<'_>, hidden_size: usize) -> Result<DebertaSettings, ModelError> {
    for (key, ok) in [
        (
            "conv_kernel_size",
            keys.opt_usize("conv_kernel_size")?.unwrap_or(0) == 0,
        ),
        (
            "embedding_size",
            keys.opt_usize("embedding_size")?.unwrap_or(hidden_size) == hidden_size,
        ),
        (
            "pooler_hidden_size",
            keys.opt_usize("pooler_hidden_size")?.unwrap_or(hidden_size) == hidden_size,
        ),
        (
            "attention_head_size",
            keys.opt_usize("attention_head_size")?.is_none(),
        ),
    ] {
        if !ok {
            return Err(keys.error(
                key,
                "is not supported: dmlft computes DeBERTa without a convolution layer, with \
                 embeddings, pooler and heads of hidden_size"
                    .into(),
            ));
        }
    }
    // A list (`["p2c", "c2p"]`) or, in older configs, a string (`"p2c|c2p"`).
    let kinds: Vec<String> = match keys.get("pos_att_type") {
        None => Vec::new(),
        Some(Value::String(s)) => s.split('|').map(|k| k.trim().to_lowercase()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_lowercase))
            .collect::<Option<_>>()
            .ok_or_else(|| keys.error("pos_att_type", "expected a list of strings".into()))?,
        Some(other) => {
            return Err(keys.error(
                "pos_att_type",
                format!("expected a list of strings, found {other}"),
            ))
        }
    };
    if let Some(bad) = kinds.iter().find(|k| !["c2p", "p2c"].contains(&k.as_str())) {
        return Err(keys.error(
            "pos_att_type",
            format!("`{bad}` is not supported; valid: c2p, p2c"),
        ));
    }
    let bool_key = |key: &str, default: bool| match keys.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| keys.error(key, format!("expected true or false, found {v}"))),
    };
    let signed = |key: &str| match keys.get(key) {
        None => Ok(-1),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| keys.error(key, format!("expected an integer, found {v}"))),
    };
    let max_relative = signed("max_relative_positions")?;
    let max_relative_positions = if max_relative < 1 {
        keys.positive("max_position_embeddings")?
    } else {
        max_relative as usize
    };
    let norm_rel_ebd = keys
        .opt_string("norm_rel_ebd")?
        .unwrap_or("none".into())
        .to_lowercase()
        .split('|')
        .any(|k| k.trim() == "layer_norm");
    Ok(DebertaSettings {
        relative_attention: bool_key("relative_attention", false)?,
        c2p: kinds.iter().any(|k| k == "c2p"),
        p2c: kinds.iter().any(|k| k == "p2c"),
        share_att_key: bool_key("share_att_key", false)?,
        position_buckets: signed("position_buckets")?.max(0) as usize,
        max_relative_positions,
        norm_rel_ebd,
        position_biased_input: bool_key("position_biased_input", true)?,
        pooler_dropout: keys.probability("pooler_dropout")?.unwrap_or(0.0),
    })
}

/// ModernBERT's config: its own key names (`norm_eps`, `hidden_activation`, `*_dropout`), the
/// layer pattern from `layer_types` or the older `global_attn_every_n_layers`, the rotary bases
/// from `rope_parameters` or the older `global_rope_theta` / `local_rope_theta`.
fn modernbert_config(
    keys: &Keys<'_>,
    raw: &Map<String, Value>,
) -> Result<EncoderConfig, ModelError> {
    let layers = keys.positive("num_hidden_layers")?;
    let global_layers = match keys.get("layer_types") {
        Some(Value::Array(items)) => {
            let kinds = items
                .iter()
                .map(|v| match v.as_str() {
                    Some("full_attention") => Some(true),
                    Some("sliding_attention") => Some(false),
                    _ => None,
                })
                .collect::<Option<Vec<bool>>>()
                .ok_or_else(|| {
                    keys.error(
                        "layer_types",
                        "valid entries: full_attention, sliding_attention".into(),
                    )
                })?;
            if kinds.len() != layers {
                return Err(keys.error(
                    "layer_types",
                    format!("has {} entries for {layers} layers", kinds.len()),
                ));
            }
            kinds
        }
        Some(other) => {
            return Err(keys.error("layer_types", format!("expected a list, found {other}")))
        }
        None => {
            let every = keys
                .opt_positive("global_attn_every_n_layers")?
                .unwrap_or(3);
            (0..layers).map(|i| i % every == 0).collect()
        }
    };
    let theta = |kind: &str, old_key: &str, default: f64| -> Result<f64, ModelError> {
        let params = keys.get("rope_parameters").and_then(|p| p.get(kind));
        if let Some(params) = params {
            let rope_type = params.get("rope_type").and_then(Value::as_str);
            if rope_type.is_some_and(|t| t != "default") {
                return Err(keys.error(
                    "rope_parameters",
                    format!(
                        "rope_type `{}` is not supported; valid: default",
                        rope_type.unwrap_or("")
                    ),
                ));
            }
            if let Some(t) = params.get("rope_theta") {
                return t.as_f64().filter(|t| *t > 0.0).ok_or_else(|| {
                    keys.error(
                        "rope_parameters",
                        format!("{kind}.rope_theta: expected a positive number, found {t}"),
                    )
                });
            }
        }
        Ok(keys.opt_f64(old_key)?.unwrap_or(default))
    };
    let bool_key = |key: &str, default: bool| match keys.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| keys.error(key, format!("expected true or false, found {v}"))),
    };
    let classifier_pooling = match keys.opt_string("classifier_pooling")?.as_deref() {
        None | Some("cls") => HeadPooling::Cls,
        Some("mean") => HeadPooling::Mean,
        Some(other) => {
            return Err(keys.error(
                "classifier_pooling",
                format!("`{other}` is not supported; valid: cls, mean"),
            ))
        }
    };
    let settings = ModernBertSettings {
        global_layers,
        local_attention: keys.opt_positive("local_attention")?.unwrap_or(128),
        global_rope_theta: theta("full_attention", "global_rope_theta", 160_000.0)?,
        local_rope_theta: theta("sliding_attention", "local_rope_theta", 10_000.0)?,
        norm_bias: bool_key("norm_bias", false)?,
        attention_bias: bool_key("attention_bias", false)?,
        mlp_bias: bool_key("mlp_bias", false)?,
        classifier_bias: bool_key("classifier_bias", false)?,
        classifier_pooling,
        embedding_dropout: keys.probability("embedding_dropout")?.unwrap_or(0.0),
    };
    let config = EncoderConfig {
        family: ModelFamily::ModernBert,
        hidden_size: keys.positive("hidden_size")?,
        num_hidden_layers: layers,
        num_attention_heads: keys.positive("num_attention_heads")?,
        intermediate_size: keys.positive("intermediate_size")?,
        vocab_size: keys.positive("vocab_size")?,
        max_position_embeddings: keys
            .opt_positive("max_position_embeddings")?
            .unwrap_or(8192),
        type_vocab_size: 0,
        layer_norm_eps: keys.opt_f64("norm_eps")?.unwrap_or(1e-5),
        embedding_size: keys.positive("hidden_size")?,
        relative_attention_num_buckets: 0,
        // the MLP's dropout; attention_dropout serves the probabilities and the output
        hidden_dropout_prob: keys.probability("mlp_dropout")?.unwrap_or(0.0),
        attention_probs_dropout_prob: keys.probability("attention_dropout")?.unwrap_or(0.0),
        classifier_dropout: Some(keys.probability("classifier_dropout")?.unwrap_or(0.0)),
        pad_token_id: keys.opt_usize("pad_token_id")?.unwrap_or(50283),
        initializer_range: keys.opt_f64("initializer_range")?.unwrap_or(0.02),
        deberta: None,
        modernbert: Some(settings),
        raw: raw.clone(),
    };
    if !config
        .hidden_size
        .is_multiple_of(config.num_attention_heads)
        || !config.head_dim().is_multiple_of(2)
    {
        return Err(keys.error(
            "num_attention_heads",
            format!(
                "{} must divide hidden_size {} into heads of even width (rotary embeddings)",
                config.num_attention_heads, config.hidden_size
            ),
        ));
    }
    Ok(config)
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
        let msg = parse(&MINIMAL.replace("roberta", "t5"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("dir/config.json") && msg.contains("`model_type`"),
            "{msg}"
        );
        assert!(msg.contains("`t5` is not supported"), "{msg}");
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
        assert!(!mpnet.has_token_types());
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
    fn deberta_and_modernbert_keys_follow_transformers() {
        let deberta = parse(&MINIMAL.replace("roberta", "deberta-v2")).unwrap();
        let d = deberta.deberta.clone().unwrap();
        // DebertaV2Config's defaults: no relative attention, absolute positions, no token types
        assert!(!d.relative_attention && d.position_biased_input && !d.share_att_key);
        assert_eq!((deberta.type_vocab_size, deberta.layer_norm_eps), (0, 1e-7));
        assert!(!deberta.has_token_types() && deberta.has_absolute_positions());
        assert_eq!((d.span(), d.scale_factor()), (20, 1));
        let v3 = MINIMAL.replace("roberta", "deberta-v2").replace(
            '{',
            r#"{"pos_att_type": "p2c|c2p", "position_buckets": 8, "relative_attention": true,
                "position_biased_input": false, "norm_rel_ebd": "layer_norm", "cls_dropout": 0.2, "#,
        );
        let v3 = parse(&v3).unwrap();
        let d = v3.deberta.clone().unwrap();
        assert!(d.c2p && d.p2c && d.norm_rel_ebd && !v3.has_absolute_positions());
        assert_eq!((d.span(), d.scale_factor(), v3.head_dropout()), (8, 3, 0.2));
        for (extra, key) in [
            (r#""conv_kernel_size": 3"#, "conv_kernel_size"),
            (r#""embedding_size": 4"#, "embedding_size"),
            (r#""pos_att_type": ["p2p"]"#, "pos_att_type"),
            (r#""pooler_hidden_act": "tanh""#, "pooler_hidden_act"),
        ] {
            let json = MINIMAL
                .replace("roberta", "deberta-v2")
                .replace('{', &format!("{{{extra}, "));
            let msg = parse(&json).unwrap_err().to_string();
            assert!(msg.contains(&format!("`{key}`")), "{msg}");
        }

        let modern = MINIMAL.replace("roberta", "modernbert");
        let m = parse(&modern).unwrap();
        let s = m.modernbert.clone().unwrap();
        // ModernBertConfig's defaults: global every third layer, window 128, no biases
        assert_eq!(s.global_layers, vec![true]);
        assert_eq!(
            (s.half_window(), s.global_rope_theta, s.local_rope_theta),
            (64, 160_000.0, 10_000.0)
        );
        assert!(!s.norm_bias && !s.attention_bias && s.classifier_pooling == HeadPooling::Cls);
        assert_eq!((m.layer_norm_eps, m.pad_token_id), (1e-5, 50283));
        let layered = modern.replace(
            '{',
            r#"{"layer_types": ["sliding_attention"], "rope_parameters": {"full_attention":
                {"rope_type": "default", "rope_theta": 5.0}, "sliding_attention": {"rope_theta": 7.0}},
                "classifier_pooling": "mean", "#,
        );
        let s = parse(&layered).unwrap().modernbert.unwrap();
        assert_eq!(s.global_layers, vec![false]);
        assert_eq!((s.global_rope_theta, s.local_rope_theta), (5.0, 7.0));
        assert_eq!(s.classifier_pooling, HeadPooling::Mean);
        for (extra, key) in [
            (
                r#""layer_types": ["full_attention", "full_attention"]"#,
                "layer_types",
            ),
            (r#""classifier_pooling": "max""#, "classifier_pooling"),
            (r#""hidden_activation": "silu""#, "hidden_activation"),
            (
                r#""rope_parameters": {"full_attention": {"rope_type": "yarn"}}"#,
                "rope_parameters",
            ),
        ] {
            let msg = parse(&modern.replace('{', &format!("{{{extra}, ")))
                .unwrap_err()
                .to_string();
            assert!(msg.contains(&format!("`{key}`")), "{msg}");
        }
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
