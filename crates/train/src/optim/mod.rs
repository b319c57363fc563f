//! Optimisation: PyTorch-semantics AdamW with parameter groups (f32 master weights for half
//! precision), global-norm clipping, and dynamic loss scaling for f16.

pub mod adamw;
pub mod clip;
mod fused;
pub mod loss_scale;
pub mod param_group;

pub use adamw::{AdamW, AdamWConfig, GroupLrs};
pub use clip::{clip_scale, global_grad_norm};
pub use loss_scale::{LossScaleConfig, LossScaler};
pub use param_group::{ParamClass, ParamGroup, ParamGroups};
