//! SetFit (Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts"; the `setfit`
//! package 1.2) as a method of a cell: sentence pairs from the few-shot sample ([`pairs`]), the
//! body fine-tuned on them with CosineSimilarityLoss or a DML loss ([`body`]), then a
//! logistic-regression head on the body's embeddings of the training examples ([`head`]),
//! evaluated like every cell ([`cell`]).

pub mod body;
pub mod cell;
pub mod cosine_loss;
pub mod embed;
pub mod head;
pub mod pairs;
pub mod spec;

pub use spec::{BodyLoss, HeadSpec, Method, SamplingStrategy, SetFitSpec};
