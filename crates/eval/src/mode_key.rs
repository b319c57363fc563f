//! The key of an inference mode's results: `head`, `proxy` or `mix-<beta>`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Which predictions a result is of (2211.15202's inference modes): the classification head's,
/// the proxy loss's, or their softmax mixture with weight `beta` on the head. Results, records
/// and reports are keyed by it; written as its label (`head`, `proxy`, `mix-0.4`).
#[derive(Debug, Clone, Copy)]
pub enum ModeKey {
    Head,
    Proxy,
    Mix { beta: f64 },
}

impl ModeKey {
    /// Whether the mode reads the proxy loss's class scores (proxy and mix).
    pub fn needs_proxies(self) -> bool {
        !matches!(self, ModeKey::Head)
    }
}

impl fmt::Display for ModeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModeKey::Head => f.write_str("head"),
            ModeKey::Proxy => f.write_str("proxy"),
            ModeKey::Mix { beta } => write!(f, "mix-{beta}"),
        }
    }
}

/// A label that is not a [`ModeKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown inference mode `{0}`: valid modes are head, proxy and mix-<beta> (e.g. mix-0.4)")]
pub struct UnknownMode(pub String);

impl FromStr for ModeKey {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "head" => Ok(ModeKey::Head),
            "proxy" => Ok(ModeKey::Proxy),
            _ => s
                .strip_prefix("mix-")
                .and_then(|b| b.parse::<f64>().ok())
                .filter(|b| b.is_finite())
                .map(|beta| ModeKey::Mix { beta })
                .ok_or_else(|| UnknownMode(s.to_string())),
        }
    }
}

// Equality and order are the labels': maps keyed by modes iterate (and records list them) in
// the order they had when the keys were the label strings.
impl PartialEq for ModeKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ModeKey {}

impl PartialOrd for ModeKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ModeKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl Serialize for ModeKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ModeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        label.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn labels_round_trip_through_display_from_str_and_serde() {
        for (key, label) in [
            (ModeKey::Head, "head"),
            (ModeKey::Proxy, "proxy"),
            (ModeKey::Mix { beta: 0.4 }, "mix-0.4"),
            (ModeKey::Mix { beta: 1.0 }, "mix-1"),
        ] {
            assert_eq!(key.to_string(), label);
            assert_eq!(label.parse::<ModeKey>(), Ok(key));
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(json, format!("\"{label}\""));
            assert_eq!(serde_json::from_str::<ModeKey>(&json).unwrap(), key);
        }
    }

    #[test]
    fn maps_keyed_by_modes_keep_the_label_order() {
        let keys = [
            ModeKey::Proxy,
            ModeKey::Mix { beta: 0.25 },
            ModeKey::Head,
            ModeKey::Mix { beta: 1.0 },
            ModeKey::Mix { beta: 0.05 },
        ];
        let map: BTreeMap<ModeKey, usize> = keys.iter().map(|&k| (k, 0)).collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(
            json,
            r#"{"head":0,"mix-0.05":0,"mix-0.25":0,"mix-1":0,"proxy":0}"#
        );
        let by_label: BTreeMap<String, usize> = serde_json::from_str(&json).unwrap();
        let back: BTreeMap<ModeKey, usize> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.keys().map(ToString::to_string).collect::<Vec<_>>(),
            by_label.keys().cloned().collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_labels_are_refused() {
        for bad in ["Head", "mix", "mix-", "mix-x", "mix-NaN", "proxies"] {
            let err = bad.parse::<ModeKey>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }
}
