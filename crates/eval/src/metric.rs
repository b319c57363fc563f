//! The scalar metrics a report can tabulate, by name.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One scalar of [`crate::Metrics`] that reports aggregate across runs. Written in records,
/// reports and on the command line by its snake_case name (`accuracy`, `macro_f1`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", value(rename_all = "snake_case"))]
pub enum Metric {
    Accuracy,
    MacroF1,
    WeightedF1,
    /// F1 of the positive class (class 1) of a binary task: GLUE's F1 for MRPC. Undefined for
    /// tasks with more than two classes.
    PositiveF1,
    /// Each task's conventional metric ([`Metric::conventional`]): F1 of the positive class
    /// for MRPC (as GLUE), accuracy elsewhere.
    Task,
}

impl Metric {
    /// Every metric, in the order reports list them.
    pub const ALL: [Metric; 5] = [
        Metric::Accuracy,
        Metric::MacroF1,
        Metric::WeightedF1,
        Metric::PositiveF1,
        Metric::Task,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro_f1",
            Metric::WeightedF1 => "weighted_f1",
            Metric::PositiveF1 => "positive_f1",
            Metric::Task => "task",
        }
    }

    /// The name for captions: the snake_case name, and what it means where it is not plain.
    pub fn describe(self) -> String {
        match self {
            Metric::PositiveF1 => "positive_f1 (F1 of the positive class)".to_string(),
            Metric::Task => {
                "task (each task's metric: F1 of the positive class for MRPC, as GLUE; accuracy \
                 elsewhere)"
                    .to_string()
            }
            m => m.as_str().to_string(),
        }
    }

    /// The metric a task is conventionally reported in: F1 of the positive class for MRPC
    /// (GLUE reports it beside accuracy), accuracy for the other tasks. [`Metric::Task`]
    /// resolves to it; any other metric is itself.
    pub fn conventional(self, task: &str) -> Metric {
        match self {
            Metric::Task if task.eq_ignore_ascii_case("mrpc") => Metric::PositiveF1,
            Metric::Task => Metric::Accuracy,
            m => m,
        }
    }

    /// Whether values are proportions in [0, 1], shown in percent.
    pub fn is_proportion(self) -> bool {
        match self {
            Metric::Accuracy
            | Metric::MacroF1
            | Metric::WeightedF1
            | Metric::PositiveF1
            | Metric::Task => true,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`Metric`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown metric `{0}`: valid metrics are accuracy, macro_f1, weighted_f1, positive_f1, task"
)]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMetric(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display_from_str_and_serde() {
        for m in Metric::ALL {
            assert_eq!(m.to_string().parse::<Metric>(), Ok(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{m}\""));
            assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), m);
        }
        assert_eq!(Metric::MacroF1.to_string(), "macro_f1");
    }

    #[test]
    fn unknown_names_are_refused_with_the_valid_ones() {
        let err = "f1".parse::<Metric>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown metric `f1`: valid metrics are accuracy, macro_f1, weighted_f1, positive_f1, task"
        );
    }

    #[test]
    fn the_task_metric_is_glue_f1_for_mrpc_and_accuracy_elsewhere() {
        assert_eq!(Metric::Task.conventional("mrpc"), Metric::PositiveF1);
        assert_eq!(Metric::Task.conventional("sst2"), Metric::Accuracy);
        assert_eq!(Metric::MacroF1.conventional("mrpc"), Metric::MacroF1);
    }
}
