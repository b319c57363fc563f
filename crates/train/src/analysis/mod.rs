//! The model-side half of the analyses of fine-tuned classifiers: what needs the model.
//! The host-side half (deciles, maps, space metrics, the reports) is `dmlft_eval::analysis`.
//!
//! - [`integrated_gradients`]: token attributions by Integrated Gradients on the input word
//!   embeddings, with a completeness check;
//! - [`embeddings`]: first-token and mean sentence embeddings and predictions of a model.

pub mod embeddings;
pub mod integrated_gradients;
