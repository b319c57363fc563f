//! Metrics of one run from predictions and labels, defined as scikit-learn defines them.
//!
//! * `accuracy`: fraction of exact matches.
//! * per class: precision, recall, F1 and support; a 0/0 ratio is 0 (sklearn's default
//!   `zero_division="warn"` also returns 0, with a warning).
//! * `macro_f1`: unweighted mean of the per-class F1 over the classes that occur in the labels
//!   *or* in the predictions (sklearn's `f1_score(average="macro")` with `labels=None`): a class
//!   that appears in neither does not pull the mean down.
//! * `weighted_f1`: per-class F1 weighted by support, so classes with zero support have no
//!   weight (sklearn's `average="weighted"`).

use crate::metric::Metric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// Precision / recall / F1 / support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Everything measured on one evaluation set in one inference mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    /// One entry per class `0..num_classes`, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// Invalid input to [`Metrics::compute`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    #[error("{predictions} predictions but {labels} labels: they must have the same length")]
    LengthMismatch { predictions: usize, labels: usize },
    #[error("no predictions: metrics need at least one example")]
    Empty,
    #[error("num_classes is 0: there must be at least one class")]
    NoClasses,
    #[error(
        "{which} {value} at position {index} is out of range: valid classes are 0..{num_classes}"
    )]
    OutOfRange {
        which: &'static str,
        index: usize,
        value: usize,
        num_classes: usize,
    },
    #[error("{got} label names given for {num_classes} classes: give one name per class")]
    LabelNames { got: usize, num_classes: usize },
}

impl Metrics {
    /// Computes all metrics. `label_names` (one per class) name the per-class rows; without
    /// them the class index is used.
    pub fn compute(
        predictions: &[usize],
        labels: &[usize],
        num_classes: usize,
        label_names: Option<&[String]>,
    ) -> Result<Self, MetricsError> {
        validate(predictions, labels, num_classes, label_names)?;
        let mut confusion = vec![vec![0usize; num_classes]; num_classes];
        for (&p, &t) in predictions.iter().zip(labels) {
            confusion[t][p] += 1;
        }
        let n = labels.len();
        let correct: usize = (0..num_classes).map(|c| confusion[c][c]).sum();

        let mut per_class = Vec::with_capacity(num_classes);
        let (mut macro_sum, mut macro_count, mut weighted_sum) = (0.0, 0usize, 0.0);
        for c in 0..num_classes {
            let tp = confusion[c][c];
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            // sklearn computes F1 as 2tp / (2tp + fp + fn), which is 0/0 -> 0 only when the
            // class is absent from both labels and predictions.
            let f1 = ratio(2 * tp, predicted + support);
            if support > 0 || predicted > 0 {
                macro_sum += f1;
                macro_count += 1;
            }
            weighted_sum += f1 * support as f64;
            let label = match label_names {
                Some(names) => names[c].clone(),
                None => c.to_string(),
            };
            per_class.push(ClassMetrics {
                label,
                precision,
                recall,
                f1,
                support,
            });
        }
        Ok(Self {
            n,
            accuracy: correct as f64 / n as f64,
            // macro_count >= 1 because n >= 1 and every label is a class.
            macro_f1: macro_sum / macro_count as f64,
            weighted_f1: weighted_sum / n as f64,
            per_class,
            confusion,
        })
    }

    /// The value of one scalar metric on task `task`; `None` where it is undefined (the
    /// positive class's F1 of a task with more than two classes). The positive class's F1 comes
    /// from the per-class rows that every record holds, so old records give it too.
    pub fn value(&self, metric: Metric, task: &str) -> Option<f64> {
        match metric.conventional(task) {
            Metric::Accuracy => Some(self.accuracy),
            Metric::MacroF1 => Some(self.macro_f1),
            Metric::WeightedF1 => Some(self.weighted_f1),
            // class 1 is the positive class (sklearn's pos_label=1; MRPC's "paraphrase")
            Metric::PositiveF1 => (self.per_class.len() == 2).then(|| self.per_class[1].f1),
            Metric::Task => None,
        }
    }

    /// The scalar metrics that reports aggregate across runs, those defined on `task`.
    pub fn scalars_for(&self, task: &str) -> BTreeMap<Metric, f64> {
        Metric::ALL
            .into_iter()
            .filter_map(|m| Some((m, self.value(m, task)?)))
            .collect()
    }

    /// The metrics defined on every task (accuracy, macro- and weighted F1), for model cards
    /// and tracking servers.
    pub fn scalars(&self) -> BTreeMap<Metric, f64> {
        [Metric::Accuracy, Metric::MacroF1, Metric::WeightedF1]
            .into_iter()
            .filter_map(|m| Some((m, self.value(m, "")?)))
            .collect()
    }
}

fn validate(
    predictions: &[usize],
    labels: &[usize],
    num_classes: usize,
    label_names: Option<&[String]>,
) -> Result<(), MetricsError> {
    if predictions.len() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            predictions: predictions.len(),
            labels: labels.len(),
        });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty);
    }
    if num_classes == 0 {
        return Err(MetricsError::NoClasses);
    }
    if let Some(names) = label_names {
        if names.len() != num_classes {
            return Err(MetricsError::LabelNames {
                got: names.len(),
                num_classes,
            });
        }
    }
    for (which, values) in [("label", labels), ("prediction", predictions)] {
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, &v)| v >= num_classes) {
            return Err(MetricsError::OutOfRange {
                which,
                index,
                value,
                num_classes,
            });
        }
    }
    Ok(())
}

/// `num / den`, with 0/0 defined as 0 (sklearn's zero-division default).
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_binary_case() {
        // labels 0 0 1 1, predictions 0 1 1 1: class 0 P=1 R=.5, class 1 P=2/3 R=1.
        let m = Metrics::compute(&[0, 1, 1, 1], &[0, 0, 1, 1], 2, None).unwrap();
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.confusion, vec![vec![1, 1], vec![0, 2]]);
        let f0 = 2.0 * 1.0 * 0.5 / 1.5;
        let f1 = 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0);
        assert!((m.macro_f1 - (f0 + f1) / 2.0).abs() < 1e-12);
        assert_eq!(m.per_class[0].label, "0");
        // GLUE's MRPC F1 is sklearn's f1_score(pos_label=1): class 1's F1
        assert_eq!(m.value(Metric::PositiveF1, "cr"), Some(f1));
        assert_eq!(m.value(Metric::Task, "mrpc"), Some(f1));
        assert_eq!(m.value(Metric::Task, "cr"), Some(0.75));
        let three = Metrics::compute(&[0, 1, 2], &[0, 1, 2], 3, None).unwrap();
        assert_eq!(three.value(Metric::PositiveF1, "trec"), None);
        assert!(!three.scalars_for("trec").contains_key(&Metric::PositiveF1));
        assert_eq!(three.scalars().len(), 3);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            Metrics::compute(&[0], &[0, 1], 2, None),
            Err(MetricsError::LengthMismatch {
                predictions: 1,
                labels: 2
            })
        );
        let err = Metrics::compute(&[0, 3], &[0, 1], 2, None).unwrap_err();
        assert_eq!(
            err,
            MetricsError::OutOfRange {
                which: "prediction",
                index: 1,
                value: 3,
                num_classes: 2
            }
        );
        assert!(err.to_string().contains("0..2"));
        assert_eq!(
            Metrics::compute(&[], &[], 2, None),
            Err(MetricsError::Empty)
        );
        let names = vec!["neg".to_string()];
        assert!(matches!(
            Metrics::compute(&[0], &[0], 2, Some(&names)),
            Err(MetricsError::LabelNames { .. })
        ));
    }

    #[test]
    fn label_names_and_serde_round_trip() {
        let names = vec!["neg".to_string(), "pos".to_string()];
        let m = Metrics::compute(&[0, 1], &[0, 0], 2, Some(&names)).unwrap();
        assert_eq!(m.per_class[1].label, "pos");
        let json = serde_json::to_string(&m).unwrap();
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
