//! Optimisation: PyTorch-semantics AdamW with parameter groups, and global-norm clipping.

pub mod adamw;
pub mod clip;
mod fused;
pub mod param_group;

pub use adamw::{AdamW, AdamWConfig, GroupLrs};
pub use clip::{clip_scale, global_grad_norm};
pub use param_group::{ParamClass, ParamGroup, ParamGroups};
