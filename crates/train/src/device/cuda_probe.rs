//! What CUDA this machine has, asked of the driver before burn-cuda is touched: burn-cuda (through
//! cudarc) loads libcuda and NVRTC lazily and panics when either is missing, so `--device cuda`
//! on a machine without an NVIDIA driver would otherwise end in a panic message.

/// One CUDA device as the driver reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CudaDevice {
    pub index: usize,
    pub name: String,
    pub memory_bytes: u64,
}

/// The driver, its devices, and whether NVRTC (burn's kernel compiler) can be loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CudaReport {
    /// `cuDriverGetVersion`, e.g. 12040 for CUDA 12.4.
    pub driver_version: i32,
    pub devices: Vec<CudaDevice>,
    pub nvrtc: bool,
}

const NO_DRIVER: &str = "the NVIDIA driver's CUDA library (libcuda.so.1) was not found: this \
     machine has no NVIDIA driver, or its folder is not on LD_LIBRARY_PATH";
const NO_NVRTC: &str = "NVRTC (libnvrtc.so, the CUDA runtime compiler burn-cuda builds its \
     kernels with) was not found: install the CUDA toolkit, or `pip install \
     nvidia-cuda-nvrtc-cu12` and put its `nvidia/cuda_nvrtc/lib` folder on LD_LIBRARY_PATH";

/// Asks the driver; an error says what is missing.
pub fn probe() -> Result<CudaReport, String> {
    // SAFETY: only tries to load the library names cudarc itself would load.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(NO_DRIVER.into());
    }
    use cudarc::driver::result;
    result::init().map_err(|e| format!("the CUDA driver did not initialise (cuInit: {e:?})"))?;
    let mut driver_version = 0;
    // SAFETY: cuDriverGetVersion writes one int; the library is loaded and initialised.
    unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut driver_version) }
        .result()
        .map_err(|e| format!("cuDriverGetVersion failed: {e:?}"))?;
    let count =
        result::device::get_count().map_err(|e| format!("cuDeviceGetCount failed: {e:?}"))?;
    let mut devices = Vec::new();
    for index in 0..count.max(0) {
        let dev = result::device::get(index).map_err(|e| format!("cuDeviceGet: {e:?}"))?;
        devices.push(CudaDevice {
            index: index as usize,
            name: result::device::get_name(dev).unwrap_or_else(|e| format!("? ({e:?})")),
            // SAFETY: `dev` comes from cuDeviceGet.
            memory_bytes: unsafe { result::device::total_mem(dev) }.unwrap_or(0) as u64,
        });
    }
    Ok(CudaReport {
        driver_version,
        devices,
        // SAFETY: as above, for NVRTC's library names.
        nvrtc: unsafe { cudarc::nvrtc::sys::is_culib_present() },
    })
}

/// Ok when `cuda:{index}` exists and burn-cuda can compile kernels for it.
pub fn check_device(index: usize) -> Result<(), String> {
    let report = probe()?;
    check_report(&report, index)
}

fn check_report(report: &CudaReport, index: usize) -> Result<(), String> {
    let visible = std::env::var("CUDA_VISIBLE_DEVICES")
        .map(|v| format!(" (CUDA_VISIBLE_DEVICES={v})"))
        .unwrap_or_default();
    if report.devices.is_empty() {
        return Err(format!("the CUDA driver sees no GPU{visible}"));
    }
    if index >= report.devices.len() {
        return Err(format!(
            "there is no CUDA device {index}: {} visible{visible}, valid are cuda:0..cuda:{}",
            report.devices.len(),
            report.devices.len() - 1
        ));
    }
    if !report.nvrtc {
        return Err(NO_NVRTC.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(devices: usize, nvrtc: bool) -> CudaReport {
        CudaReport {
            driver_version: 12040,
            devices: (0..devices)
                .map(|index| CudaDevice {
                    index,
                    name: "GPU".into(),
                    memory_bytes: 1 << 30,
                })
                .collect(),
            nvrtc,
        }
    }

    #[test]
    fn each_missing_piece_is_named() {
        assert!(check_report(&report(0, true), 0)
            .unwrap_err()
            .contains("sees no GPU"));
        assert!(check_report(&report(2, true), 2)
            .unwrap_err()
            .contains("valid are cuda:0..cuda:1"));
        assert!(check_report(&report(1, false), 0)
            .unwrap_err()
            .contains("NVRTC"));
        assert!(check_report(&report(1, true), 0).is_ok());
    }

    /// The probe itself, on whatever this machine has: without a driver it must say so (not
    /// panic); with one it must list a device.
    #[test]
    fn probe_answers_without_panicking() {
        match probe() {
            Ok(r) => assert!(r.driver_version > 0, "{r:?}"),
            Err(e) => assert!(e.contains("libcuda") || e.contains("cuInit"), "{e}"),
        }
    }
}
