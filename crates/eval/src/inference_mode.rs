//! How predictions are made from a trained model (2211.15202's inference modes, and the
//! classifiers over the training set's embeddings), and the key of their results: `head`,
//! `proxy`, `mix-<beta>`, `knn-<k>` or `centroid`. One type for the grid's `inference` entries,
//! the cells, the records and the reports.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Which predictions: the classification head's, the proxy loss's, their softmax mixture with
/// weight `beta` on the head, or a classifier over the embeddings of the cell's training
/// examples (kNN, nearest centroid). Results, records and reports are keyed by it and write it
/// as its label (`head`, `proxy`, `mix-0.4`, `knn-5`, `centroid`: its `Display` and serde form);
/// cells and grid tables write it as a table (`{ mode = "mix", beta = 0.4 }`,
/// `{ mode = "knn", k = 5 }`, [`table`]); users write it in one word ([`MODE_SHORTHANDS`], its
/// `FromStr`).
#[derive(Debug, Clone, Copy)]
pub enum InferenceMode {
    /// argmax of the classification head's logits.
    Head,
    /// argmax of the proxy loss's class scores on the head's sentence vector.
    Proxy,
    /// argmax of `beta * softmax(head) + (1 - beta) * softmax(proxy scores)` (2211.15202).
    Mix { beta: f64 },
    /// Majority vote of the `k` training examples whose embeddings are most cosine-similar to
    /// the example's (a vote tie goes to the class with the larger summed similarity, then to the
    /// lower class id).
    Knn { k: usize },
    /// The class whose mean of L2-normalised training embeddings is nearest (Euclidean) to the
    /// example's L2-normalised embedding (scikit-learn's `NearestCentroid` on normalised vectors).
    Centroid,
}

/// `k` of the one word `knn`: the nearest neighbour, defined at every number of shots.
pub const DEFAULT_KNN_K: usize = 1;

/// How users write a mode in one word (a grid's `inference` entry, `dmlft predict --mode`).
pub const MODE_SHORTHANDS: &str =
    "head, proxy, mix:BETA (0 <= BETA <= 1), knn (k = 1), knn:K (K >= 1), centroid";

/// A mode that is not one: an unknown word, or a mix weight outside [0, 1].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModeParseError {
    #[error("unknown inference mode `{0}`; valid: {MODE_SHORTHANDS}")]
    Unknown(String),
    #[error("mix beta must be {valid}, got {value}")]
    Beta { value: String, valid: String },
    #[error("knn k must be {valid}, got {value}")]
    K { value: String, valid: String },
}

impl InferenceMode {
    /// Whether the mode reads a proxy loss's class scores (proxy and mix): the one place that
    /// says so.
    pub fn needs_proxies(self) -> bool {
        matches!(self, InferenceMode::Proxy | InferenceMode::Mix { .. })
    }

    /// Whether the mode classifies by the training examples' embeddings (kNN and centroid): the
    /// one place that says so.
    pub fn needs_training_set(self) -> bool {
        matches!(self, InferenceMode::Knn { .. } | InferenceMode::Centroid)
    }

    /// The modes of `requested` that a model can run (`with_proxies`: its loss has proxies), or
    /// `head` when none is left.
    pub fn runnable(requested: &[InferenceMode], with_proxies: bool) -> Vec<InferenceMode> {
        let mut modes: Vec<InferenceMode> = requested
            .iter()
            .copied()
            .filter(|m| with_proxies || !m.needs_proxies())
            .collect();
        if modes.is_empty() {
            modes.push(InferenceMode::Head);
        }
        modes
    }

    /// The mix weight is a probability; kNN asks for at least one neighbour.
    pub fn validate(self) -> Result<(), ModeParseError> {
        match self {
            InferenceMode::Knn { k: 0 } => Err(ModeParseError::K {
                value: "0".into(),
                valid: ">= 1".into(),
            }),
            InferenceMode::Mix { beta } if !(0.0..=1.0).contains(&beta) => {
                Err(ModeParseError::Beta {
                    value: beta.to_string(),
                    valid: "in [0, 1]".into(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The name of its variant in a table (`head`, `proxy`, `mix`, `knn`, `centroid`).
    fn variant(self) -> &'static str {
        match self {
            InferenceMode::Head => "head",
            InferenceMode::Proxy => "proxy",
            InferenceMode::Mix { .. } => "mix",
            InferenceMode::Knn { .. } => "knn",
            InferenceMode::Centroid => "centroid",
        }
    }
}

impl fmt::Display for InferenceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferenceMode::Mix { beta } => write!(f, "mix-{beta}"),
            InferenceMode::Knn { k } => write!(f, "knn-{k}"),
            other => f.write_str(other.variant()),
        }
    }
}

/// The one-word forms: `head`, `proxy`, `mix:BETA`, `knn`, `knn:K`, `centroid`, and the
/// results' labels `mix-BETA`, `knn-K`; BETA must be in [0, 1], K at least 1.
impl FromStr for InferenceMode {
    type Err = ModeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mode = match s {
            "head" => InferenceMode::Head,
            "proxy" => InferenceMode::Proxy,
            "centroid" => InferenceMode::Centroid,
            "knn" => InferenceMode::Knn { k: DEFAULT_KNN_K },
            _ if s.starts_with("knn:") || s.starts_with("knn-") => {
                let k = &s[4..];
                match k.parse::<usize>() {
                    Ok(k) => InferenceMode::Knn { k },
                    Err(_) => {
                        return Err(ModeParseError::K {
                            value: k.to_string(),
                            valid: "a whole number >= 1".into(),
                        })
                    }
                }
            }
            _ => {
                // `mix:BETA` is how users write it; `mix-BETA` is the results' label.
                let Some(beta) = s.strip_prefix("mix:").or_else(|| s.strip_prefix("mix-")) else {
                    return Err(ModeParseError::Unknown(s.to_string()));
                };
                match beta.parse::<f64>() {
                    Ok(beta) => InferenceMode::Mix { beta },
                    Err(_) => {
                        return Err(ModeParseError::Beta {
                            value: beta.to_string(),
                            valid: "a number in [0, 1]".into(),
                        })
                    }
                }
            }
        };
        mode.validate()?;
        Ok(mode)
    }
}

// Equality and order are the labels': maps keyed by modes iterate (and records list them) in
// the order they had when the keys were the label strings.
impl PartialEq for InferenceMode {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for InferenceMode {}

impl PartialOrd for InferenceMode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InferenceMode {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl Serialize for InferenceMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InferenceMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        label.parse().map_err(de::Error::custom)
    }
}

/// A mode in its table form, `{ mode = "mix", beta = 0.4 }` (`{"mode": "head"}` in JSON): how
/// cells (whose ids hash it), saved models' `loss.json` and grid tables write it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeTable(pub InferenceMode);

const TABLE_VARIANTS: &[&str] = &["head", "proxy", "mix", "knn", "centroid"];

impl Serialize for ModeTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Only the new modes' tables carry `k`: the older modes' tables (hashed into cell ids)
        // are what they were.
        let mut map = serializer.serialize_map(Some(match self.0 {
            InferenceMode::Mix { .. } | InferenceMode::Knn { .. } => 2,
            _ => 1,
        }))?;
        map.serialize_entry("mode", self.0.variant())?;
        match self.0 {
            InferenceMode::Mix { beta } => map.serialize_entry("beta", &beta)?,
            InferenceMode::Knn { k } => map.serialize_entry("k", &k)?,
            _ => {}
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ModeTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = ModeTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an inference mode table such as { mode = \"mix\", beta = 0.5 } or { mode = \"knn\", k = 5 }",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModeTable, A::Error> {
        let mut mode: Option<String> = None;
        let mut beta: Option<f64> = None;
        let mut k: Option<usize> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "mode" if mode.is_none() => mode = Some(map.next_value()?),
                "beta" if beta.is_none() => beta = Some(map.next_value()?),
                "k" if k.is_none() => k = Some(map.next_value()?),
                "mode" | "beta" | "k" => {
                    return Err(de::Error::custom(format!("duplicate field `{key}`")))
                }
                _ => return Err(de::Error::unknown_field(&key, &["mode", "beta", "k"])),
            }
        }
        let mode = mode.ok_or_else(|| de::Error::missing_field("mode"))?;
        // Each variant's own parameter only.
        let allowed: &[&str] = match mode.as_str() {
            "mix" => &["beta"],
            "knn" => &["k"],
            _ => &[],
        };
        if beta.is_some() && !allowed.contains(&"beta") {
            return Err(de::Error::unknown_field("beta", allowed));
        }
        if k.is_some() && !allowed.contains(&"k") {
            return Err(de::Error::unknown_field("k", allowed));
        }
        Ok(ModeTable(match mode.as_str() {
            "mix" => InferenceMode::Mix {
                beta: beta.ok_or_else(|| de::Error::missing_field("beta"))?,
            },
            "knn" => InferenceMode::Knn {
                k: k.unwrap_or(DEFAULT_KNN_K),
            },
            "head" => InferenceMode::Head,
            "proxy" => InferenceMode::Proxy,
            "centroid" => InferenceMode::Centroid,
            other => return Err(de::Error::unknown_variant(other, TABLE_VARIANTS)),
        }))
    }
}

/// `#[serde(with = "dmlft_eval::inference_mode::table")]` for a `Vec<InferenceMode>` written in
/// the table form ([`ModeTable`]).
pub mod table {
    use super::{InferenceMode, ModeTable};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        modes: &[InferenceMode],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let tables: Vec<ModeTable> = modes.iter().copied().map(ModeTable).collect();
        tables.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<InferenceMode>, D::Error> {
        let tables = Vec::<ModeTable>::deserialize(deserializer)?;
        Ok(tables.into_iter().map(|t| t.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn labels_round_trip_through_display_from_str_and_serde() {
        for (mode, label) in [
            (InferenceMode::Head, "head"),
            (InferenceMode::Proxy, "proxy"),
            (InferenceMode::Mix { beta: 0.4 }, "mix-0.4"),
            (InferenceMode::Mix { beta: 1.0 }, "mix-1"),
            (InferenceMode::Knn { k: 5 }, "knn-5"),
            (InferenceMode::Centroid, "centroid"),
        ] {
            assert_eq!(mode.to_string(), label);
            assert_eq!(label.parse::<InferenceMode>(), Ok(mode));
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{label}\""));
            assert_eq!(serde_json::from_str::<InferenceMode>(&json).unwrap(), mode);
        }
    }

    #[test]
    fn maps_keyed_by_modes_keep_the_label_order() {
        let keys = [
            InferenceMode::Proxy,
            InferenceMode::Mix { beta: 0.25 },
            InferenceMode::Head,
            InferenceMode::Mix { beta: 1.0 },
            InferenceMode::Mix { beta: 0.05 },
        ];
        let map: BTreeMap<InferenceMode, usize> = keys.iter().map(|&k| (k, 0)).collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(
            json,
            r#"{"head":0,"mix-0.05":0,"mix-0.25":0,"mix-1":0,"proxy":0}"#
        );
        let by_label: BTreeMap<String, usize> = serde_json::from_str(&json).unwrap();
        let back: BTreeMap<InferenceMode, usize> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.keys().map(ToString::to_string).collect::<Vec<_>>(),
            by_label.keys().cloned().collect::<Vec<_>>()
        );
    }

    #[test]
    fn one_word_modes_parse_and_bad_ones_say_what_is_valid() {
        let ok = |s: &str| s.parse::<InferenceMode>().unwrap();
        assert_eq!(ok("mix:0.4"), InferenceMode::Mix { beta: 0.4 });
        assert_eq!(ok("mix:1"), InferenceMode::Mix { beta: 1.0 });
        assert_eq!(ok("knn"), InferenceMode::Knn { k: DEFAULT_KNN_K });
        assert_eq!(ok("knn:7"), InferenceMode::Knn { k: 7 });
        assert_eq!(ok("centroid"), InferenceMode::Centroid);
        let err = |s: &str| s.parse::<InferenceMode>().unwrap_err();
        for bad in ["kNN", "Head", "mix", "proxies", "knn5", "centroids"] {
            assert_eq!(err(bad), ModeParseError::Unknown(bad.into()));
            let message = err(bad).to_string();
            assert!(message.contains(&format!("`{bad}`")), "{message}");
            assert!(message.contains(MODE_SHORTHANDS), "{message}");
        }
        for bad in [
            "mix:1.5", "mix:-0.1", "mix:nan", "mix:x", "mix:", "mix-", "mix-NaN",
        ] {
            let e = err(bad);
            assert!(matches!(e, ModeParseError::Beta { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("[0, 1]"), "{bad}: {e}");
        }
        for bad in ["knn:0", "knn:-1", "knn:2.5", "knn:", "knn-x"] {
            let e = err(bad);
            assert!(matches!(e, ModeParseError::K { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("knn k must be"), "{bad}: {e}");
        }
        // A record's label that is not a mode is refused when read back.
        assert!(serde_json::from_str::<InferenceMode>(r#""mix-2""#).is_err());
    }

    #[test]
    fn only_head_and_the_training_set_modes_run_without_proxies() {
        let all = [
            InferenceMode::Head,
            InferenceMode::Proxy,
            InferenceMode::Mix { beta: 0.5 },
            InferenceMode::Knn { k: 3 },
            InferenceMode::Centroid,
        ];
        assert_eq!(InferenceMode::runnable(&all, true), all);
        assert_eq!(
            InferenceMode::runnable(&all, false),
            [
                InferenceMode::Head,
                InferenceMode::Knn { k: 3 },
                InferenceMode::Centroid
            ]
        );
        let uses_training_set: Vec<bool> = all.iter().map(|m| m.needs_training_set()).collect();
        assert_eq!(uses_training_set, [false, false, false, true, true]);
        assert_eq!(
            InferenceMode::runnable(&all[1..3], false),
            [InferenceMode::Head]
        );
        assert_eq!(
            InferenceMode::runnable(&all[1..], false),
            [InferenceMode::Knn { k: 3 }, InferenceMode::Centroid]
        );
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cell {
        #[serde(with = "table")]
        inference: Vec<InferenceMode>,
    }

    #[test]
    fn the_table_form_is_the_cells_and_its_errors_name_the_field() {
        let cell = Cell {
            inference: vec![
                InferenceMode::Head,
                InferenceMode::Mix { beta: 0.4 },
                InferenceMode::Knn { k: 5 },
                InferenceMode::Centroid,
            ],
        };
        let json = serde_json::to_string(&cell).unwrap();
        // Cell ids hash this text: it is the form the cells had before the modes were one type.
        assert_eq!(
            json,
            r#"{"inference":[{"mode":"head"},{"mode":"mix","beta":0.4},{"mode":"knn","k":5},{"mode":"centroid"}]}"#
        );
        assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell);
        let table: ModeTable = serde_json::from_str(r#"{"beta": 1, "mode": "mix"}"#).unwrap();
        assert_eq!(table.0, InferenceMode::Mix { beta: 1.0 });
        let knn: ModeTable = serde_json::from_str(r#"{"mode": "knn"}"#).unwrap();
        assert_eq!(knn.0, InferenceMode::Knn { k: DEFAULT_KNN_K });
        for (bad, says) in [
            (
                r#"{"mode": "nn"}"#,
                "unknown variant `nn`, expected one of `head`, `proxy`, `mix`, `knn`, `centroid`",
            ),
            (r#"{"mode": "knn", "beta": 0.5}"#, "unknown field `beta`"),
            (
                r#"{"mode": "mix", "beta": 0.5, "k": 3}"#,
                "unknown field `k`",
            ),
            (r#"{"mode": "centroid", "k": 3}"#, "unknown field `k`"),
            (r#"{"mode": "knn", "k": -1}"#, "invalid value"),
            (r#"{"mode": "mix"}"#, "missing field `beta`"),
            (r#"{"beta": 0.5}"#, "missing field `mode`"),
            (r#"{"mode": "head", "beta": 0.5}"#, "unknown field `beta`"),
            (
                r#"{"mode": "mix", "beta": 0.5, "b": 1}"#,
                "unknown field `b`",
            ),
            (r#""head""#, "an inference mode table"),
        ] {
            let err = serde_json::from_str::<ModeTable>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
