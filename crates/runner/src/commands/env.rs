//! `dmlft env`: what a bug report needs to know about this build and this machine. Each fact is
//! asked of the crate that owns it (devices: dmlft-train; kernels and the model cache:
//! dmlft-model; the data root: this crate's `data_root`).

use std::path::PathBuf;

use dmlft_train::DeviceChoice;
use serde::Serialize;

/// Everything `dmlft env` reports.
#[derive(Debug, Serialize)]
pub struct EnvReport {
    pub dmlft_version: &'static str,
    /// The commit this binary was built from ("unknown" outside a git checkout).
    pub git_commit: &'static str,
    pub burn_version: &'static str,
    pub os: String,
    /// Devices this build can use (`--device` values).
    pub backends: Vec<&'static str>,
    pub cpu: Cpu,
    pub cuda: Probe<CudaFound>,
    pub wgpu: Probe<WgpuFound>,
    pub data_root: DataRoot,
    pub model_cache: ModelCache,
}

#[derive(Debug, Serialize)]
pub struct Cpu {
    pub model: String,
    pub logical_cpus: usize,
    /// Threads of the CPU backends' pool (rayon; `RAYON_NUM_THREADS` sets it).
    pub threads: usize,
    pub rayon_num_threads: Option<String>,
    /// The instruction set dmlft's CPU kernels run with here.
    pub kernels_simd: &'static str,
    /// `DMLFT_FUSED_KERNELS=0` turns the kernels off.
    pub fused_kernels: bool,
}

/// An accelerator backend: not in this build, in it but unusable here (and why), or found.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Probe<T> {
    NotCompiled { feature: &'static str },
    Unavailable { reason: String },
    Found(T),
}

#[derive(Debug, Serialize)]
pub struct CudaFound {
    pub driver_version: String,
    pub devices: Vec<CudaDeviceInfo>,
    pub nvrtc: bool,
}

#[derive(Debug, Serialize)]
pub struct CudaDeviceInfo {
    pub device: String,
    pub name: String,
    pub memory_gib: f64,
}

#[derive(Debug, Serialize)]
pub struct WgpuFound {
    /// The adapter `--device wgpu` takes (its index in `adapters`).
    pub default_adapter: Option<usize>,
    pub adapters: Vec<WgpuAdapter>,
}

#[derive(Debug, Serialize)]
pub struct WgpuAdapter {
    pub device: String,
    pub name: String,
    pub device_type: String,
    pub api: String,
    pub driver: String,
    pub shader_f16: bool,
}

#[derive(Debug, Serialize)]
pub struct DataRoot {
    /// The SentEval folder used when neither `--data-dir` nor a grid's `data_root` says.
    pub path: PathBuf,
    /// `DMLFT_DATA_DIR` or `default`.
    pub source: &'static str,
    pub exists: bool,
}

#[derive(Debug, Serialize)]
pub struct ModelCache {
    /// Where Hugging Face model ids are looked up (`HF_HUB_CACHE`, `HF_HOME`, `~/.cache`).
    pub hf_cache: PathBuf,
    pub exists: bool,
    /// A model missing from the cache is downloaded (`hub` feature on, `HF_HUB_OFFLINE` unset).
    pub downloads: bool,
}

pub fn collect() -> EnvReport {
    // dmlft-data owns the rule; this only says which branch of it applied.
    use dmlft_data::senteval::{resolve_data_root, DATA_DIR_ENV};
    let data_path = resolve_data_root(None);
    let data_source = match std::env::var_os(DATA_DIR_ENV) {
        Some(_) => DATA_DIR_ENV,
        None => "default",
    };
    let hf_cache = dmlft_model::hub::hf_cache_dir();
    EnvReport {
        dmlft_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("DMLFT_GIT_COMMIT"),
        burn_version: dmlft_train::result::BURN_VERSION,
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        backends: DeviceChoice::compiled_backends(),
        cpu: Cpu {
            model: crate::host::cpu_model(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: rayon::current_num_threads(),
            rayon_num_threads: std::env::var("RAYON_NUM_THREADS").ok(),
            kernels_simd: dmlft_model::kernels::simd_level().as_str(),
            fused_kernels: dmlft_model::kernels::fused_kernels(),
        },
        cuda: cuda(),
        wgpu: wgpu(),
        data_root: DataRoot {
            exists: data_path.is_dir(),
            path: data_path,
            source: data_source,
        },
        model_cache: ModelCache {
            exists: hf_cache.is_dir(),
            hf_cache,
            downloads: dmlft_model::hub::downloads_enabled(),
        },
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Probe<CudaFound> {
    match dmlft_train::device::cuda_probe::probe() {
        Err(reason) => Probe::Unavailable { reason },
        Ok(r) => Probe::Found(CudaFound {
            driver_version: format!(
                "{}.{}",
                r.driver_version / 1000,
                r.driver_version % 1000 / 10
            ),
            devices: r
                .devices
                .iter()
                .map(|d| CudaDeviceInfo {
                    device: DeviceChoice::Cuda(d.index).to_string(),
                    name: d.name.clone(),
                    memory_gib: d.memory_bytes as f64 / (1u64 << 30) as f64,
                })
                .collect(),
            nvrtc: r.nvrtc,
        }),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Probe<CudaFound> {
    Probe::NotCompiled { feature: "cuda" }
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Probe<WgpuFound> {
    use dmlft_train::device::wgpu_probe;
    let adapters = wgpu_probe::adapters();
    if adapters.is_empty() {
        return Probe::Unavailable {
            reason: "no adapter (no GPU driver for wgpu; without a GPU, Mesa's lavapipe: \
                     apt-get install mesa-vulkan-drivers)"
                .into(),
        };
    }
    Probe::Found(WgpuFound {
        default_adapter: wgpu_probe::default_adapter().map(|a| a.index),
        adapters: adapters
            .into_iter()
            .map(|a| WgpuAdapter {
                device: DeviceChoice::Wgpu(Some(a.index)).to_string(),
                name: a.name,
                device_type: a.device_type,
                api: a.backend,
                driver: format!("{} {}", a.driver, a.driver_info).trim().to_string(),
                shader_f16: a.shader_f16,
            })
            .collect(),
    })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Probe<WgpuFound> {
    Probe::NotCompiled { feature: "wgpu" }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn probe_line<T>(name: &str, probe: &Probe<T>, found: impl Fn(&T) -> String) -> String {
    match probe {
        Probe::NotCompiled { feature } => {
            format!("{name}: not in this build (cargo feature `{feature}`)\n")
        }
        Probe::Unavailable { reason } => format!("{name}: unavailable: {reason}\n"),
        Probe::Found(t) => found(t),
    }
}

/// The report as text, one fact per line.
pub fn render_text(r: &EnvReport) -> String {
    let mut out = format!(
        "dmlft {} (git {})\nburn {}\nos: {}\nbackends: {}\n",
        r.dmlft_version,
        r.git_commit,
        r.burn_version,
        r.os,
        r.backends.join(", ")
    );
    let c = &r.cpu;
    out += &format!(
        "cpu: {}, {} logical CPUs; {} threads (RAYON_NUM_THREADS={}); kernels {} (fused {})\n",
        c.model,
        c.logical_cpus,
        c.threads,
        c.rayon_num_threads.as_deref().unwrap_or("unset"),
        c.kernels_simd,
        if c.fused_kernels { "on" } else { "off" }
    );
    out += &probe_line("cuda", &r.cuda, |f| {
        let mut s = format!(
            "cuda: driver {} ({} device(s)), nvrtc {}\n",
            f.driver_version,
            f.devices.len(),
            if f.nvrtc { "found" } else { "NOT found" }
        );
        for d in &f.devices {
            s += &format!("  {}: {} ({:.1} GiB)\n", d.device, d.name, d.memory_gib);
        }
        s
    });
    out += &probe_line("wgpu", &r.wgpu, |f| {
        let mut s = format!("wgpu: {} adapter(s)\n", f.adapters.len());
        for (i, a) in f.adapters.iter().enumerate() {
            let default = if f.default_adapter == Some(i) {
                " [default: --device wgpu]"
            } else {
                ""
            };
            s += &format!(
                "  {}: {} ({}, {}, driver {}, shader-f16 {}){default}\n",
                a.device,
                a.name,
                a.device_type,
                a.api,
                a.driver,
                yes_no(a.shader_f16)
            );
        }
        s
    });
    out += &format!(
        "data root: {} ({}; {})\n",
        r.data_root.path.display(),
        r.data_root.source,
        if r.data_root.exists {
            "exists"
        } else {
            "missing"
        }
    );
    out += &format!(
        "model cache: {} ({}; downloads {})\n",
        r.model_cache.hf_cache.display(),
        if r.model_cache.exists {
            "exists"
        } else {
            "missing"
        },
        if r.model_cache.downloads { "on" } else { "off" }
    );
    out
}
