//! dmlft-model: the encoders (BERT, RoBERTa, XLM-R, ELECTRA, MPNet, DeBERTa-v2/v3, ModernBERT) in burn, the classification head, and loading and
//! saving of Hugging Face `config.json` + safetensors checkpoints.
//!
//! The module tree mirrors transformers' names (`embeddings.word_embeddings`,
//! `encoder.layer.{i}.attention.self.query`, ...), so a checkpoint loads without renaming rules.
//! Everything is generic over the burn `Backend`; dropout is active only on an autodiff backend
//! (training) and a no-op after `.valid()`.
// Unsafe code only in `kernels` (raw-pointer GEMM and SIMD), allowed there alone.
#![deny(unsafe_code)]
#![warn(unreachable_pub)]

pub mod attention;
pub mod checkpoint;
pub mod classifier;
pub mod config;
mod config_sizes;
pub mod deberta;
pub mod dropout;
pub mod embeddings;
pub mod encoder;
pub mod error;
pub mod head;
pub mod hub;
#[cfg(feature = "hub")]
mod hub_download;
pub mod init;
#[allow(unsafe_code)]
pub mod kernels;
pub mod known;
pub mod layer;
pub mod load;
pub mod modernbert;
pub mod mpnet_bias;
pub mod params;
pub mod pooling;
pub mod report;
pub mod save;
mod size;
pub mod spec;

pub use classifier::{ClassifierOutput, SequenceClassifier};
pub use config::{EncoderConfig, ModelFamily};
pub use dropout::set_dropout_seed;
pub use encoder::Encoder;
pub use error::ModelError;
pub use head::ClassificationHead;
pub use hub::{resolve_source, resolve_source_in, resolve_source_with, HubSettings};
pub use known::known_architecture;
pub use load::{load_classifier, load_encoder, load_from_spec};
pub use pooling::{declared_pooling, first_token, mean_pool, pool};
pub use report::{HeadReport, LoadReport, PartSource};
pub use save::{save_classifier, save_encoder};
pub use spec::{ModelSpec, Precision};
