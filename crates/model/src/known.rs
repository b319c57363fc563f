//! Architectures of well-known Hub checkpoints, as their `config.json` on the Hugging Face Hub
//! states them, so that a model can be sized (parameters, compute per token) before its weights
//! are downloaded, and so that benchmarks build random models of exactly those shapes.

use std::path::Path;

use crate::checkpoint::CONFIG_FILE;
use crate::config::{EncoderConfig, ModelFamily};
use crate::error::ModelError;
use crate::hub::resolve_source_in;

/// (Hub ids, family, hidden, layers, heads, intermediate, vocabulary, positions).
type Shape = (
    &'static [&'static str],
    ModelFamily,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const KNOWN: &[Shape] = &[
    (
        &["roberta-large", "FacebookAI/roberta-large"],
        ModelFamily::Roberta,
        1024,
        24,
        16,
        4096,
        50265,
        514,
    ),
    (
        &["roberta-base", "FacebookAI/roberta-base"],
        ModelFamily::Roberta,
        768,
        12,
        12,
        3072,
        50265,
        514,
    ),
    (
        &["bert-base-uncased", "google-bert/bert-base-uncased"],
        ModelFamily::Bert,
        768,
        12,
        12,
        3072,
        30522,
        512,
    ),
    (
        &[
            "sentence-transformers/all-mpnet-base-v2",
            "sentence-transformers/paraphrase-mpnet-base-v2",
            "microsoft/mpnet-base",
        ],
        ModelFamily::Mpnet,
        768,
        12,
        12,
        3072,
        30527,
        514,
    ),
    (
        &["google/electra-base-discriminator"],
        ModelFamily::Electra,
        768,
        12,
        12,
        3072,
        30522,
        512,
    ),
    (
        &["google/electra-large-discriminator"],
        ModelFamily::Electra,
        1024,
        24,
        16,
        4096,
        30522,
        512,
    ),
    (
        &["microsoft/deberta-v3-base"],
        ModelFamily::DebertaV2,
        768,
        12,
        12,
        3072,
        128100,
        512,
    ),
    (
        &["microsoft/deberta-v3-large"],
        ModelFamily::DebertaV2,
        1024,
        24,
        16,
        4096,
        128100,
        512,
    ),
    (
        &["microsoft/deberta-v3-small"],
        ModelFamily::DebertaV2,
        768,
        6,
        12,
        3072,
        128100,
        512,
    ),
    (
        &["microsoft/deberta-v3-xsmall"],
        ModelFamily::DebertaV2,
        384,
        12,
        6,
        1536,
        128100,
        512,
    ),
    (
        &["answerdotai/ModernBERT-base"],
        ModelFamily::ModernBert,
        768,
        22,
        12,
        1152,
        50368,
        8192,
    ),
    (
        &["answerdotai/ModernBERT-large"],
        ModelFamily::ModernBert,
        1024,
        28,
        16,
        2624,
        50368,
        8192,
    ),
    (
        &["sentence-transformers/all-MiniLM-L6-v2"],
        ModelFamily::Bert,
        384,
        6,
        12,
        1536,
        30522,
        512,
    ),
];

/// The Hub ids this table knows, for error messages.
pub fn known_ids() -> Vec<&'static str> {
    KNOWN.iter().flat_map(|k| k.0.iter().copied()).collect()
}

/// The architecture of a well-known Hub id (exact id, case-sensitive as on the Hub); `None` for
/// any other source.
pub fn known_architecture(model_id: &str) -> Option<EncoderConfig> {
    let &(_, family, hidden, layers, heads, inner, vocab, positions) =
        KNOWN.iter().find(|k| k.0.contains(&model_id))?;
    Some(
        EncoderConfig::synthetic(family, hidden, layers, heads, inner, vocab, positions)
            .expect("the table's shapes are valid configs"),
    )
}

/// The architecture of a model source without downloading anything: the `config.json` of a local
/// folder or of its snapshot in the Hub cache `cache`, else the table's entry for a well-known Hub
/// id; otherwise the error that resolving the source gave.
pub fn source_architecture(source: &str, cache: &Path) -> Result<EncoderConfig, ModelError> {
    match resolve_source_in(source, cache, false) {
        Ok(dir) => EncoderConfig::from_file(&dir.join(CONFIG_FILE)),
        Err(e) => known_architecture(source).ok_or(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roberta_large_is_the_hub_config() {
        let c = known_architecture("FacebookAI/roberta-large").unwrap();
        assert_eq!(c.family, ModelFamily::Roberta);
        assert_eq!(
            (c.hidden_size, c.num_hidden_layers, c.num_attention_heads),
            (1024, 24, 16)
        );
        assert_eq!((c.intermediate_size, c.vocab_size), (4096, 50265));
        assert_eq!((c.max_position_embeddings, c.type_vocab_size), (514, 1));
        assert_eq!((c.pad_token_id, c.layer_norm_eps), (1, 1e-5));
        assert_eq!(known_architecture("roberta-large"), Some(c));
    }

    #[test]
    fn setfit_and_electra_bodies_are_known() {
        let mpnet = known_architecture("sentence-transformers/paraphrase-mpnet-base-v2").unwrap();
        assert_eq!(mpnet.family, ModelFamily::Mpnet);
        assert_eq!((mpnet.vocab_size, mpnet.usable_max_length()), (30527, 512));
        assert_eq!(mpnet.relative_attention_num_buckets, 32);
        let electra = known_architecture("google/electra-base-discriminator").unwrap();
        assert_eq!(electra.family, ModelFamily::Electra);
        assert_eq!(
            (electra.embedding_size, electra.usable_max_length()),
            (768, 512)
        );
    }

    #[test]
    fn deberta_v3_and_modernbert_are_sized_as_transformers_builds_them() {
        // transformers' DebertaV2Model / ModernBertModel of these configs (built on the meta
        // device) plus the head's dense layer (DeBERTa's pooler: with bias; ModernBERT's
        // prediction head: without, and its norm's weight).
        let deberta = known_architecture("microsoft/deberta-v3-base").unwrap();
        assert_eq!(deberta.parameter_count(), 184_422_144);
        let d = deberta.deberta.clone().unwrap();
        assert!(d.relative_attention && d.share_att_key && d.c2p && d.p2c);
        assert_eq!((d.span(), deberta.usable_max_length()), (256, 512));
        let modern = known_architecture("answerdotai/ModernBERT-base").unwrap();
        assert_eq!(modern.parameter_count(), 149_604_864);
        assert_eq!(modern.usable_max_length(), 8192);
    }

    #[test]
    fn unknown_ids_are_none() {
        assert!(known_architecture("roberta-huge").is_none());
        assert!(known_architecture("ROBERTA-LARGE").is_none());
        assert!(known_ids().contains(&"roberta-base"));
    }

    #[test]
    fn a_source_is_sized_from_its_files_else_from_the_table() {
        let cache = tempfile::tempdir().unwrap();
        // Not downloaded: the table.
        let large = source_architecture("roberta-large", cache.path()).unwrap();
        assert_eq!(large.num_hidden_layers, 24);
        // A local folder: its own config.json, even under a known name's shape.
        let dir = tempfile::tempdir().unwrap();
        let small = EncoderConfig::synthetic(ModelFamily::Bert, 32, 2, 4, 64, 100, 64).unwrap();
        let model = crate::SequenceClassifier::<burn::backend::NdArray>::random(
            &small,
            2,
            0,
            &Default::default(),
        );
        crate::save_classifier(&model, dir.path(), None).unwrap();
        let found = source_architecture(dir.path().to_str().unwrap(), cache.path()).unwrap();
        assert_eq!((found.hidden_size, found.num_hidden_layers), (32, 2));
        // Neither: the resolver's error, naming the source.
        let e = source_architecture("someone/unknown-model", cache.path()).unwrap_err();
        assert!(e.to_string().contains("someone/unknown-model"), "{e}");
    }
}
