//! dmlft-losses: cross-entropy and the distance-metric-learning losses (with pytorch-metric-learning
//! semantics), miners, distances, weighted combinations and proxy class scores for inference.
//!
//! Every loss takes `embeddings: Tensor<B, 2>` `[N, D]` and `labels: Tensor<B, 1, Int>` `[N]` and
//! returns a scalar `Tensor<B, 1>` that burn's autodiff differentiates. Losses with parameters are
//! burn `Module`s initialised as PML does from a `u64` seed. [`Objective`] combines them as a grid
//! file says ([`spec::ObjectiveSpec`]).
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod catalog;
pub mod distance;
pub mod error;
pub mod init;
pub mod losses;
pub mod miners;
mod numerics;
pub mod objective;
pub mod proxy;
mod reduce;
pub mod select;
pub mod spec;
pub mod tuples;
mod validate;

pub use distance::Distance;
pub use error::LossError;
pub use miners::Miner;
pub use objective::{DmlLoss, DmlTerm, Objective, ObjectiveOutput, TupleLoss, TupleTerm};
pub use proxy::{ProxyLoss, ProxyLossConfig, TupleLossConfig};
pub use select::select_embeddings;
pub use tuples::IndexTuple;
