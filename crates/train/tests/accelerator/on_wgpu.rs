//! burn's wgpu backend against burn's CPU backend (burn-flex), on the machine's default wgpu
//! adapter: in CI Mesa's lavapipe, a conformant Vulkan driver that runs on the CPU. burn-wgpu and
//! burn-cuda share the cubecl kernel compiler and burn-cubecl's op implementations (fusion and
//! autotune included), so these tests run, without a GPU, the path a CUDA GPU runs; only the
//! final code generation (WGSL vs CUDA C++) and the runtime differ. `on_cuda.rs` runs the same
//! modules on CUDA.
//!
//! `cargo test -p dmlft-train --features wgpu --test wgpu` (scripts/test.sh runs it when a
//! Vulkan driver is present; `DMLFT_REQUIRE_WGPU=1`, set by CI, makes a missing adapter a
//! failure instead of a skip). Few and small: lavapipe is slow.

mod adamw;
mod cell;
mod encoder;
mod half;
mod losses;
#[path = "../../../model/tests/suite/common/mod.rs"]
mod model_common;
mod support;

pub use support::*;

use burn::backend::wgpu::{Wgpu, WgpuDevice};
use burn::backend::Autodiff;
use dmlft_train::DeviceChoice;

/// The backend under test, in f32, with autodiff.
pub type Gpu = Autodiff<Wgpu<f32>>;
/// The same device for `run_cell` and the other run-time dispatches.
pub const DEVICE: DeviceChoice = DeviceChoice::Wgpu(None);

/// The default adapter's device; `None` (a skip) without an adapter, or a failure when
/// `DMLFT_REQUIRE_WGPU=1`.
pub fn device_or_skip() -> Option<WgpuDevice> {
    if dmlft_train::device::wgpu_probe::adapters().is_empty() {
        skip(
            "no wgpu adapter (install a Vulkan driver; without a GPU: apt-get install mesa-vulkan-drivers)",
            "DMLFT_REQUIRE_WGPU",
        )?;
    }
    Some(WgpuDevice::DefaultDevice)
}

/// A device for half precision: a second handle on the default adapter (`wgpu:N`), since the
/// f32 tests fix `wgpu`'s float type for this process.
pub fn half_device() -> DeviceChoice {
    let adapter = dmlft_train::device::wgpu_probe::default_adapter().expect("an adapter");
    DeviceChoice::Wgpu(Some(adapter.index))
}

/// The loss fixture cases run here.
pub const LOSS_COVERAGE: losses::parity_cases::Coverage =
    losses::parity_cases::Coverage::OnePerLoss;

/// The slow tests (a second cell, in f16) run on lavapipe only with `DMLFT_WGPU_SLOW=1`: each
/// new kernel takes lavapipe about a second to compile, and CI has minutes for all of them.
pub fn run_slow_tests() -> bool {
    std::env::var("DMLFT_WGPU_SLOW").is_ok_and(|v| v == "1")
}

/// The CPU test's tolerance, except for ArcFace (acos, then cos of the angle plus the margin):
/// Vulkan lets a driver compute `cos` with an absolute error of 2^-11 and `acos` within 4096 ulp
/// (SPIR-V GLSL.std.450 precision rules), where CPUs and CUDA are within a few ulp. Measured on
/// lavapipe: ArcFace's cases miss the CPU tolerance by up to 50x (gradients 4.6e-4 off at scale
/// 64), every other loss meets it; 100x the CPU tolerance still fails a wrong margin or scale.
pub fn loss_tolerance(case: &str) -> losses::parity_cases::Tolerance {
    let cpu = losses::parity_cases::CPU;
    if case.starts_with("arc-face") {
        losses::parity_cases::Tolerance {
            rtol: cpu.rtol * 100.0,
            atol_rel: cpu.atol_rel * 100.0,
        }
    } else {
        cpu
    }
}
