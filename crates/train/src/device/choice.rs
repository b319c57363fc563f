//! The device a run uses, as the user writes it (`--device`, a grid's `device`), and what each
//! device supports.

use std::fmt;
use std::str::FromStr;

use dmlft_model::Precision;

use crate::error::TrainError;

/// `cpu` (burn-flex, the default CPU backend), `cpu-ndarray` (burn-ndarray), `cuda[:N]`
/// (burn-cuda; `cuda` feature), `wgpu[:N]` (burn-wgpu on Vulkan / Metal / DX12; `wgpu` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeviceChoice {
    #[default]
    Cpu,
    CpuNdarray,
    Cuda(usize),
    /// `None`: the adapter wgpu ranks best (a discrete GPU before an integrated one before a
    /// software driver); `Some(n)`: the n-th adapter of `dmlft env`'s list.
    Wgpu(Option<usize>),
}

/// Every spelling [`DeviceChoice::from_str`] accepts.
pub const DEVICE_SYNTAX: &str = "cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N";

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let indexed = |prefix: &str| {
            s.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::parse::<usize>)
        };
        match s {
            "cpu" | "cpu-flex" | "flex" => Ok(Self::Cpu),
            "cpu-ndarray" | "ndarray" => Ok(Self::CpuNdarray),
            "cuda" => Ok(Self::Cuda(0)),
            "wgpu" => Ok(Self::Wgpu(None)),
            _ => match (indexed("cuda"), indexed("wgpu")) {
                (Some(Ok(i)), _) => Ok(Self::Cuda(i)),
                (_, Some(Ok(i))) => Ok(Self::Wgpu(Some(i))),
                _ => Err(format!("unknown device `{s}`: valid are {DEVICE_SYNTAX}")),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::CpuNdarray => write!(f, "cpu-ndarray"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
            Self::Wgpu(None) => write!(f, "wgpu"),
            Self::Wgpu(Some(i)) => write!(f, "wgpu:{i}"),
        }
    }
}

impl serde::Serialize for DeviceChoice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceChoice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A device without its index: the backend family, as in `--device cuda` (any CUDA GPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Cpu,
    CpuNdarray,
    Cuda,
    Wgpu,
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::CpuNdarray => "cpu-ndarray",
            Self::Cuda => "cuda",
            Self::Wgpu => "wgpu",
        })
    }
}

impl DeviceChoice {
    /// The backend family, without the index.
    pub fn kind(&self) -> DeviceKind {
        match self {
            Self::Cpu => DeviceKind::Cpu,
            Self::CpuNdarray => DeviceKind::CpuNdarray,
            Self::Cuda(_) => DeviceKind::Cuda,
            Self::Wgpu(_) => DeviceKind::Wgpu,
        }
    }

    /// The burn backend behind the choice, for results.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Cpu => "burn-flex",
            Self::CpuNdarray => "burn-ndarray",
            Self::Cuda(_) => "burn-cuda",
            Self::Wgpu(_) => "burn-wgpu",
        }
    }

    /// Whether the device is an accelerator (its tensors live outside host memory).
    pub fn is_gpu(&self) -> bool {
        matches!(self, Self::Cuda(_) | Self::Wgpu(_))
    }

    /// Whether this build has the device's backend (cargo features `cuda`, `wgpu`).
    pub fn is_compiled(&self) -> bool {
        match self {
            Self::Cpu | Self::CpuNdarray => true,
            Self::Cuda(_) => cfg!(feature = "cuda"),
            Self::Wgpu(_) => cfg!(feature = "wgpu"),
        }
    }

    /// The precisions the device trains in. The CPU kernels are f32 only; WGSL has no bf16 type
    /// (f16 needs the adapter's `shader-f16` feature, checked when the device is opened).
    pub fn precisions(&self) -> &'static [Precision] {
        match self {
            Self::Cpu | Self::CpuNdarray => &[Precision::F32],
            Self::Cuda(_) => &[Precision::F32, Precision::Bf16, Precision::F16],
            Self::Wgpu(_) => &[Precision::F32, Precision::F16],
        }
    }

    /// One error naming what is valid when the device cannot run `precision`.
    pub fn check_precision(&self, precision: Precision) -> Result<(), TrainError> {
        if self.precisions().contains(&precision) {
            return Ok(());
        }
        let here: Vec<&str> = self.precisions().iter().map(Precision::as_str).collect();
        let elsewhere = match precision {
            Precision::Bf16 => "bf16 needs --device cuda",
            _ => "f16 needs --device cuda or wgpu",
        };
        Err(TrainError::InvalidSetting {
            key: "model.precision".into(),
            value: precision.to_string(),
            valid: format!("{} on {self}; {elsewhere}", here.join(", ")),
        })
    }

    /// The backends this build has, by device name.
    pub fn compiled_backends() -> Vec<&'static str> {
        let mut names = vec!["cpu (burn-flex)", "cpu-ndarray (burn-ndarray)"];
        if cfg!(feature = "cuda") {
            names.push("cuda (burn-cuda)");
        }
        if cfg!(feature = "wgpu") {
            names.push("wgpu (burn-wgpu)");
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_choice() {
        for s in [
            "cpu",
            "cpu-ndarray",
            "cuda:0",
            "cuda:3",
            "wgpu",
            "wgpu:0",
            "wgpu:2",
        ] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap().to_string(), s);
        }
        assert_eq!(
            "cuda".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(0)
        );
        assert_eq!(
            "wgpu".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Wgpu(None)
        );
        for bad in ["tpu", "wgpu:", "cuda:x", "wgpu:-1", "cudax"] {
            let err = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(err.contains(DEVICE_SYNTAX), "{bad}: {err}");
        }
    }

    #[test]
    fn serde_uses_the_command_line_spelling() {
        let json = serde_json::to_string(&DeviceChoice::Wgpu(Some(1))).unwrap();
        assert_eq!(json, "\"wgpu:1\"");
        let back: DeviceChoice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, DeviceChoice::Wgpu(Some(1)));
        let err = serde_json::from_str::<DeviceChoice>("\"gpu\"").unwrap_err();
        assert!(err.to_string().contains("unknown device `gpu`"), "{err}");
    }

    #[test]
    fn precision_rules_name_what_is_valid() {
        let cpu = DeviceChoice::Cpu
            .check_precision(Precision::F16)
            .unwrap_err();
        let msg = cpu.to_string();
        assert!(
            msg.contains("model.precision") && msg.contains("f16"),
            "{msg}"
        );
        assert!(
            msg.contains("f32 on cpu") && msg.contains("cuda or wgpu"),
            "{msg}"
        );
        let wgpu = DeviceChoice::Wgpu(None)
            .check_precision(Precision::Bf16)
            .unwrap_err()
            .to_string();
        assert!(wgpu.contains("f32, f16 on wgpu") && wgpu.contains("bf16 needs --device cuda"));
        assert!(DeviceChoice::Wgpu(None)
            .check_precision(Precision::F16)
            .is_ok());
        for p in [Precision::F32, Precision::Bf16, Precision::F16] {
            assert!(DeviceChoice::Cuda(0).check_precision(p).is_ok());
        }
        assert!(DeviceChoice::Cpu.check_precision(Precision::F32).is_ok());
    }
}
