//! Where a run executes: the device choice (`cpu`, `cuda:N`, `wgpu`...), the precisions each
//! device supports, the checks that a chosen accelerator is really there, and the one dispatch
//! from a choice to a concrete burn backend.

mod choice;
#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
pub mod cuda_probe;
mod dispatch;
#[cfg(feature = "wgpu")]
pub mod wgpu_probe;

pub use choice::{DeviceChoice, DeviceKind, DEVICE_SYNTAX};
pub use dispatch::BackendJob;
