//! The wgpu adapters this machine has (GPUs and software drivers such as Mesa's lavapipe), and
//! the choice of one for `--device wgpu[:N]`. burn-wgpu panics when no adapter matches, so the
//! adapter is looked up here first and its absence is an error that names what to install.

use burn::backend::wgpu::graphics::{AutoGraphicsApi, GraphicsApi};
use burn::backend::wgpu::WgpuDevice;
use dmlft_model::Precision;

/// One adapter, as `dmlft env` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adapter {
    /// Position in the list: `--device wgpu:{index}`.
    pub index: usize,
    pub name: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` (a software driver) or `Other`.
    pub device_type: String,
    /// The graphics API (Vulkan on Linux and Windows, Metal on macOS).
    pub backend: String,
    pub driver: String,
    pub driver_info: String,
    /// Whether WGSL's `f16` type is available (`precision = "f16"`).
    pub shader_f16: bool,
}

/// The adapters of the graphics API burn-wgpu uses, in wgpu's order.
pub fn adapters() -> Vec<Adapter> {
    raw_adapters()
        .iter()
        .enumerate()
        .map(|(index, a)| summary(index, a))
        .collect()
}

/// The adapter `--device wgpu` takes: the one wgpu ranks first for high performance, as
/// burn-wgpu's `WgpuDevice::DefaultDevice` does.
pub fn default_adapter() -> Option<Adapter> {
    let instance = instance();
    let adapter = block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
    }))
    .ok()?;
    let info = adapter.get_info();
    let index = adapters()
        .into_iter()
        .position(|a| a.name == info.name && a.driver_info == info.driver_info)
        .unwrap_or(0);
    Some(summary(index, &adapter))
}

/// The burn device for `wgpu` (`None`) or `wgpu:N`, after checking it exists and can run
/// `precision`.
pub fn open(index: Option<usize>, precision: Precision) -> Result<WgpuDevice, String> {
    let all = raw_adapters();
    if all.is_empty() {
        return Err(format!(
            "wgpu found no {:?} adapter: install a driver for the GPU, or, without one, Mesa's \
             software driver lavapipe (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`)",
            <AutoGraphicsApi as GraphicsApi>::backend()
        ));
    }
    let (chosen, device) = match index {
        None => (
            default_adapter().ok_or("wgpu offered no adapter for high-performance use")?,
            WgpuDevice::DefaultDevice,
        ),
        Some(n) => {
            let list: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
            let Some(adapter) = all.get(n) else {
                return Err(format!(
                    "there is no wgpu adapter {n}: {} found ({}), valid are wgpu:0..wgpu:{}",
                    all.len(),
                    list.join(", "),
                    all.len() - 1
                ));
            };
            (summary(n, adapter), burn_device(&all, n)?)
        }
    };
    if precision == Precision::F16 && !chosen.shader_f16 {
        return Err(format!(
            "adapter `{}` has no shader-f16 support, so it cannot run precision f16 (use f32)",
            chosen.name
        ));
    }
    Ok(device)
}

/// burn addresses adapters by type and rank within the type (`DiscreteGpu(1)` is the second
/// discrete GPU); `wgpu:N` is the N-th of all. Adapters of type `Other` are not addressable.
fn burn_device(all: &[wgpu::Adapter], n: usize) -> Result<WgpuDevice, String> {
    let kind = |a: &wgpu::Adapter| a.get_info().device_type;
    let target = kind(&all[n]);
    let rank = all[..n].iter().filter(|a| kind(a) == target).count();
    match target {
        wgpu::DeviceType::DiscreteGpu => Ok(WgpuDevice::DiscreteGpu(rank)),
        wgpu::DeviceType::IntegratedGpu => Ok(WgpuDevice::IntegratedGpu(rank)),
        wgpu::DeviceType::VirtualGpu => Ok(WgpuDevice::VirtualGpu(rank)),
        wgpu::DeviceType::Cpu if rank == 0 => Ok(WgpuDevice::Cpu),
        other => Err(format!(
            "wgpu adapter {n} (`{}`, type {other:?}) cannot be selected by burn-wgpu; use --device wgpu",
            all[n].get_info().name
        )),
    }
}

fn instance() -> wgpu::Instance {
    quiet_window_system_probe();
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: <AutoGraphicsApi as GraphicsApi>::backend().into(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

/// Mesa's Vulkan device-select layer looks for a Wayland display while adapters are listed, and
/// libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment." at each
/// try when the variable is unset or not an absolute folder: six lines per probe on any machine
/// without a desktop session (servers, CI, containers), harmless but alarming. With a private,
/// empty folder in its place the lookup fails quietly, as on a desktop without a compositor.
/// Set once, before this process's first wgpu instance (burn's included, which come later).
fn quiet_window_system_probe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some(dir) = private_runtime_dir(std::env::var_os("XDG_RUNTIME_DIR").as_deref()) {
            std::env::set_var("XDG_RUNTIME_DIR", dir);
        }
    });
}

/// The folder to use as `XDG_RUNTIME_DIR` when `current` is not usable (unset, relative, not a
/// folder): `dmlft-runtime-<uid>` in the temp folder, created owner-only. `None`: keep `current`,
/// or no such folder could be made (the messages then stay, nothing else changes).
#[cfg(unix)]
fn private_runtime_dir(current: Option<&std::ffi::OsStr>) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if let Some(current) = current.map(std::path::Path::new) {
        if current.is_absolute() && current.is_dir() {
            return None;
        }
    }
    // the uid keeps users of one machine apart (the temp folder is shared)
    let uid = std::fs::metadata("/proc/self").ok().map(|m| m.uid());
    let name = match uid {
        Some(uid) => format!("dmlft-runtime-{uid}"),
        None => "dmlft-runtime".to_string(),
    };
    let dir = std::env::temp_dir().join(name);
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    // another user's folder (or a link) under that name is not ours to use
    let ours = meta.is_dir()
        && meta.permissions().mode() & 0o077 == 0
        && uid.is_none_or(|uid| meta.uid() == uid);
    ours.then_some(dir)
}

#[cfg(not(unix))]
fn private_runtime_dir(_current: Option<&std::ffi::OsStr>) -> Option<std::path::PathBuf> {
    None
}

fn raw_adapters() -> Vec<wgpu::Adapter> {
    block_on(instance().enumerate_adapters(<AutoGraphicsApi as GraphicsApi>::backend().into()))
}

fn summary(index: usize, adapter: &wgpu::Adapter) -> Adapter {
    let info = adapter.get_info();
    Adapter {
        index,
        name: info.name,
        device_type: format!("{:?}", info.device_type),
        backend: format!("{:?}", info.backend),
        driver: info.driver,
        driver_info: info.driver_info,
        shader_f16: adapter.features().contains(wgpu::Features::SHADER_F16),
    }
}

/// Drives one of wgpu's futures to completion; on native platforms they are ready at once or
/// after the driver answers, so polling with a yield is enough.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::yield_now();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::private_runtime_dir;
    use std::ffi::OsStr;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_unusable_runtime_folder_is_replaced_by_a_private_one() {
        let tmp = std::env::temp_dir();
        assert_eq!(private_runtime_dir(Some(tmp.as_os_str())), None);
        for current in [None, Some(OsStr::new("")), Some(OsStr::new("run/user/0"))] {
            let dir = private_runtime_dir(current).expect("a private folder");
            assert!(dir.is_absolute() && dir.is_dir(), "{}", dir.display());
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
        }
        let missing = tmp.join("dmlft-no-such-runtime-folder");
        assert!(private_runtime_dir(Some(missing.as_os_str())).is_some());
    }
}
