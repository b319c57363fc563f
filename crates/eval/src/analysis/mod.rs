//! Host-side analysis of fine-tuned classifiers' outputs: why a loss helps, not only that it
//! does. The model-side half (computing embeddings, Integrated Gradients) lives in dmlft-train;
//! everything here needs only numbers.
//!
//! - [`outputs`]: a model's sentence embeddings and predictions on a list of examples;
//! - [`deciles`]: the papers' accuracy-by-decile analyses (distance to the mean embedding,
//!   sentence length);
//! - [`space_metrics`]: silhouette, k-NN accuracy, intra/inter distance ratio per model;
//! - [`maps`]: PCA and t-SNE maps coloured by label with errors marked;
//! - [`attribution`]: token attributions and the settings of Integrated Gradients;
//! - [`explain_html`]: the self-contained HTML page of token attributions;
//! - [`pipeline`]: the whole `dmlft analyze` run over several models as one call.

pub mod attribution;
pub mod deciles;
pub mod error;
pub mod explain_html;
pub mod maps;
pub mod outputs;
pub mod pipeline;
pub mod space_metrics;

pub use error::AnalysisError;
