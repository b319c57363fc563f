//! Which backend and device a cell runs on, chosen at run time.

use std::fmt;
use std::str::FromStr;

/// `cpu` (burn-flex, the default CPU backend), `cpu-ndarray` (burn-ndarray), `cuda[:N]`
/// (burn-cuda; needs the `cuda` cargo feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Cpu,
    CpuNdarray,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" | "cpu-flex" | "flex" => Ok(Self::Cpu),
            "cpu-ndarray" | "ndarray" => Ok(Self::CpuNdarray),
            "cuda" => Ok(Self::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => Ok(Self::Cuda(i)),
                _ => Err(format!(
                    "unknown device `{s}`: valid are cpu, cpu-ndarray, cuda, cuda:N"
                )),
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
        }
    }
}

impl DeviceChoice {
    /// The burn backend behind the choice, for results.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Cpu => "burn-flex",
            Self::CpuNdarray => "burn-ndarray",
            Self::Cuda(_) => "burn-cuda",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_choice() {
        for s in ["cpu", "cpu-ndarray", "cuda:0", "cuda:3"] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap().to_string(), s);
        }
        assert_eq!(
            "cuda".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(0)
        );
        assert!("tpu"
            .parse::<DeviceChoice>()
            .unwrap_err()
            .contains("valid are"));
    }
}
