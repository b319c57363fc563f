//! dmlft-pooling: the one name for "first token or mean", the sentence vector that a
//! classification head reads ([`Pooling`]). The model (`ModelSpec::head_pooling`, the pooling
//! kernels), the losses (a DML term's embeddings wrap it) and the analyses (which vector a map
//! or a distance is of) all take this type; no dependencies, so every crate can.
//!
//! ```
//! use dmlft_pooling::Pooling;
//!
//! assert_eq!(Pooling::default(), Pooling::First);
//! assert_eq!("mean".parse::<Pooling>(), Ok(Pooling::Mean));
//! assert_eq!(Pooling::Mean.to_string(), "mean");
//! ```
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which token states become one sentence vector. Written as `first` / `mean` in grid files,
/// records, saved models and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The first token's last-layer state (`<s>` / `[CLS]`), as `RobertaClassificationHead`
    /// (the papers' head and t-SNE maps).
    #[default]
    First,
    /// The mean of the last-layer states of the non-padding tokens: for encoders trained for
    /// mean pooling, such as the sentence-transformers models (all-MiniLM-L6-v2), whose first
    /// token carries little.
    Mean,
}

impl Pooling {
    /// Every pooling, in the order analyses list them.
    pub const ALL: [Pooling; 2] = [Pooling::First, Pooling::Mean];

    /// The name it is written as (`first`, `mean`).
    pub fn name(self) -> &'static str {
        match self {
            Pooling::First => "first",
            Pooling::Mean => "mean",
        }
    }
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`Pooling`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPooling(pub String);

impl fmt::Display for UnknownPooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown pooling `{}`: valid are first and mean", self.0)
    }
}

impl std::error::Error for UnknownPooling {}

impl FromStr for Pooling {
    type Err = UnknownPooling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pooling::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPooling(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_agree_across_display_from_str_and_serde() {
        for p in Pooling::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{p}\""));
            assert_eq!(serde_json::from_str::<Pooling>(&json).unwrap(), p);
            assert_eq!(p.name().parse::<Pooling>(), Ok(p));
        }
        let err = "cls".parse::<Pooling>().unwrap_err().to_string();
        assert!(
            err.contains("`cls`") && err.contains("first and mean"),
            "{err}"
        );
    }

    #[cfg(feature = "clap")]
    #[test]
    fn command_line_names_are_the_serde_names() {
        use clap::ValueEnum;
        for p in Pooling::ALL {
            let value = p.to_possible_value().unwrap();
            assert_eq!(value.get_name(), p.name());
        }
    }
}
