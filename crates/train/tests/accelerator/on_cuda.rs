//! The accelerator tests of `on_wgpu.rs` on burn's CUDA backend: built here with
//! `cargo test --release -p dmlft-train --features cuda --test cuda --no-run` and run on a GPU
//! machine by scripts/gpu-check.sh (`DMLFT_REQUIRE_CUDA=1` makes a missing GPU a failure).

mod adamw;
mod cell;
mod encoder;
mod half;
mod losses;
#[path = "../../../model/tests/suite/common/mod.rs"]
mod model_common;
mod support;

pub use support::*;

use burn::backend::cuda::{Cuda, CudaDevice};
use burn::backend::Autodiff;
use dmlft_train::DeviceChoice;

/// The backend under test, in f32, with autodiff.
pub type Gpu = Autodiff<Cuda<f32>>;
/// The same device for `run_cell` and the other run-time dispatches.
pub const DEVICE: DeviceChoice = DeviceChoice::Cuda(0);

/// CUDA device 0; `None` (a skip) without a driver, GPU or NVRTC, or a failure when
/// `DMLFT_REQUIRE_CUDA=1`.
pub fn device_or_skip() -> Option<CudaDevice> {
    if let Err(reason) = dmlft_train::device::cuda_probe::check_device(0) {
        skip(&reason, "DMLFT_REQUIRE_CUDA")?;
    }
    Some(CudaDevice::new(0))
}

/// CUDA device 0: the half-precision tests need a process of their own per precision (burn
/// fixes a device's float type at its first use), which scripts/gpu-check.sh gives them.
pub fn half_device() -> DeviceChoice {
    DEVICE
}

/// The loss fixture cases run here.
pub const LOSS_COVERAGE: losses::parity_cases::Coverage = losses::parity_cases::Coverage::All;

/// On a GPU every test is quick.
pub fn run_slow_tests() -> bool {
    true
}

/// CUDA's math functions are within a few ulp: the CPU test's tolerance for every loss.
pub fn loss_tolerance(_case: &str) -> losses::parity_cases::Tolerance {
    losses::parity_cases::CPU
}
