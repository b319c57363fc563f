//! The one place where a [`DeviceChoice`] and a [`Precision`] become a concrete burn backend.
//!
//! burn code is generic over the backend type, which must be known at compile time; the device
//! is known only at run time. A [`BackendJob`] is the generic code, and [`DeviceChoice::dispatch`]
//! instantiates it for every backend this build has and calls the one chosen, after checking
//! that the device can run the precision and (for accelerators) that it is really there, so a
//! missing driver is one clear error instead of a panic inside the backend.

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{get_device_settings, DType, Element};
use dmlft_model::Precision;

use super::DeviceChoice;
use crate::error::TrainError;

/// Work generic over the (autodiff) backend; inference-only work uses `B::InnerBackend`.
pub trait BackendJob {
    type Output;
    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Self::Output;
}

impl DeviceChoice {
    /// Runs `job` on this device's backend with float elements of `precision`.
    pub fn dispatch<J: BackendJob>(
        self,
        precision: Precision,
        job: J,
    ) -> Result<J::Output, TrainError> {
        self.check_precision(precision)?;
        match self {
            DeviceChoice::Cpu => run_on::<Autodiff<Flex>, J>(self, &Default::default(), job),
            DeviceChoice::CpuNdarray => {
                run_on::<Autodiff<NdArray>, J>(self, &Default::default(), job)
            }
            DeviceChoice::Cuda(index) => on_cuda(index, precision, job),
            DeviceChoice::Wgpu(index) => on_wgpu(index, precision, job),
        }
    }
}

/// Runs `job` on backend `B` once the device's float type is `B`'s. burn 0.21 fixes a device's
/// default float type at the device's first use in a process (tensors are created in it
/// whatever the backend's element type), so a second precision on the same device would
/// silently compute in the first one.
fn run_on<B: AutodiffBackend, J: BackendJob>(
    choice: DeviceChoice,
    device: &B::Device,
    job: J,
) -> Result<J::Output, TrainError> {
    let want = <B::FloatElem as Element>::dtype();
    let have: DType = get_device_settings::<B>(device).float_dtype.into();
    if have != want {
        return Err(unavailable(
            choice,
            format!(
                "it already runs {} in this process and burn 0.21 fixes a device's float type \
                 at its first use: run the {} cells in a separate `dmlft run` (a grid per \
                 precision)",
                dtype_name(have),
                dtype_name(want)
            ),
        ));
    }
    Ok(job.run::<B>(device))
}

fn dtype_name(dtype: DType) -> String {
    match dtype {
        DType::F32 => "f32".into(),
        DType::F16 => "f16".into(),
        DType::BF16 => "bf16".into(),
        other => format!("{other:?}"),
    }
}

impl DeviceChoice {
    /// Ok when the device can be used: its backend is built in and (accelerators) its driver and
    /// the device itself are present. Starts no backend.
    pub fn check_available(&self) -> Result<(), TrainError> {
        if !self.is_compiled() {
            return Err(not_compiled(*self));
        }
        match *self {
            DeviceChoice::Cpu | DeviceChoice::CpuNdarray => Ok(()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda(index) => {
                super::cuda_probe::check_device(index).map_err(|e| unavailable(*self, e))
            }
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu(index) => super::wgpu_probe::open(index, Precision::F32)
                .map(drop)
                .map_err(|e| unavailable(*self, e)),
            #[allow(unreachable_patterns)]
            _ => Err(not_compiled(*self)),
        }
    }
}

fn unavailable(device: DeviceChoice, reason: String) -> TrainError {
    TrainError::Device(device.to_string(), reason)
}

/// The error for a device whose backend this build lacks, naming the cargo feature.
fn not_compiled(device: DeviceChoice) -> TrainError {
    let feature = device.backend_name().trim_start_matches("burn-");
    unavailable(
        device,
        format!(
            "this dmlft was built without the `{feature}` backend: rebuild with `--features \
             {feature}` (cargo build --release -p dmlft --features {feature}), or use --device cpu"
        ),
    )
}

#[cfg(feature = "cuda")]
fn on_cuda<J: BackendJob>(
    index: usize,
    precision: Precision,
    job: J,
) -> Result<J::Output, TrainError> {
    use burn::backend::cuda::{Cuda, CudaDevice};
    use burn::tensor::{bf16, f16};
    super::cuda_probe::check_device(index)
        .map_err(|e| unavailable(DeviceChoice::Cuda(index), e))?;
    let device = CudaDevice::new(index);
    let choice = DeviceChoice::Cuda(index);
    match precision {
        Precision::F32 => run_on::<Autodiff<Cuda<f32>>, J>(choice, &device, job),
        Precision::Bf16 => run_on::<Autodiff<Cuda<bf16>>, J>(choice, &device, job),
        Precision::F16 => run_on::<Autodiff<Cuda<f16>>, J>(choice, &device, job),
    }
}

#[cfg(not(feature = "cuda"))]
fn on_cuda<J: BackendJob>(index: usize, _: Precision, _: J) -> Result<J::Output, TrainError> {
    Err(not_compiled(DeviceChoice::Cuda(index)))
}

#[cfg(feature = "wgpu")]
fn on_wgpu<J: BackendJob>(
    index: Option<usize>,
    precision: Precision,
    job: J,
) -> Result<J::Output, TrainError> {
    use burn::backend::wgpu::Wgpu;
    use burn::tensor::f16;
    let device = super::wgpu_probe::open(index, precision)
        .map_err(|e| unavailable(DeviceChoice::Wgpu(index), e))?;
    let choice = DeviceChoice::Wgpu(index);
    match precision {
        Precision::F32 => run_on::<Autodiff<Wgpu<f32>>, J>(choice, &device, job),
        Precision::F16 => run_on::<Autodiff<Wgpu<f16>>, J>(choice, &device, job),
        // check_precision turned bf16 away already.
        Precision::Bf16 => DeviceChoice::Wgpu(index)
            .check_precision(precision)
            .map(|()| unreachable!("wgpu has no bf16")),
    }
}

#[cfg(not(feature = "wgpu"))]
fn on_wgpu<J: BackendJob>(
    index: Option<usize>,
    _: Precision,
    _: J,
) -> Result<J::Output, TrainError> {
    Err(not_compiled(DeviceChoice::Wgpu(index)))
}
