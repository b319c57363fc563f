//! Explainability and embedding analysis of fine-tuned classifiers: why a loss helps, not only
//! that it does.
//!
//! - [`integrated_gradients`]: token attributions by Integrated Gradients on the input word
//!   embeddings, with a completeness check;
//! - [`embeddings`]: first-token and mean sentence embeddings and predictions of a model;
//! - [`deciles`]: the papers' accuracy-by-decile analyses (distance to the mean embedding,
//!   sentence length);
//! - [`space_metrics`]: silhouette, k-NN accuracy, intra/inter distance ratio per model;
//! - [`maps`]: PCA and t-SNE maps coloured by label with errors marked;
//! - [`explain_html`]: the self-contained HTML page of token attributions;
//! - [`pipeline`]: the whole `dmlft analyze` run over several models as one call;
//! - [`saved_model`]: what a saved model folder says about itself (labels, pooling, tokenizer).

pub mod deciles;
pub mod embeddings;
pub mod error;
pub mod explain_html;
pub mod integrated_gradients;
pub mod maps;
pub mod pipeline;
pub mod saved_model;
pub mod space_metrics;

pub use error::AnalysisError;
pub use saved_model::SavedModel;
