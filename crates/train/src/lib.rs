//! dmlft-train: one training run: optimizer with parameter groups, schedules, global-norm
//! clipping, the loop, evaluation in every inference mode, and the cell as a library call
//! ([`run_cell`]).
// Unsafe code only in the CUDA probe (cudarc's driver calls), allowed there alone.
#![deny(unsafe_code)]
#![warn(unreachable_pub)]

pub mod analysis;
pub mod calibrate;
pub mod cell;
pub mod curve;
pub mod device;
pub mod error;
pub mod finetune;
pub mod forward;
pub mod modes;
pub mod optim;
pub mod predict;
pub mod predict_saved;
pub mod probe;
pub mod progress;
pub mod result;
pub mod saved_model;
pub mod schedule;
pub mod setfit;
pub mod setup;
pub mod spec;
pub mod tensors;
pub mod train_loop;
pub mod trainable;
pub mod validate;

pub use cell::{run_cell, CellOptions, Method};
pub use curve::{CurvePoint, TrainingCurve};
pub use device::{DeviceChoice, DeviceKind};
pub use error::TrainError;
pub use result::{CellResult, SetFitStats, Timings};
pub use setup::CellSetup;
pub use spec::{CellSpec, InferenceMode, TrainSpec};
pub use train_loop::{LoopPlan, StepLoss, TrainStats, TrainStep};
pub use trainable::Trainable;
