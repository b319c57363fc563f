//! SetFit's head: scikit-learn's `LogisticRegression(C, max_iter)` (L2 penalty on the weights,
//! intercept not penalised, L-BFGS) fitted on the body's embeddings of the training examples,
//! through `linfa-logistic`:
//!
//! - objective: scikit-learn minimises `C * sum_i loss_i + |W|^2 / 2`, linfa
//!   `sum_i loss_i + alpha * |W|^2 / 2`: the same minimiser with `alpha = 1 / C`;
//! - two classes: one weight vector, the logistic loss on `y == classes[1]` (linfa picks its
//!   "positive" class by the label counts, so its sign is turned to scikit-learn's);
//! - three or more: multinomial softmax with one row per class (linfa's
//!   `MultiLogisticRegression`, over-parametrised like scikit-learn's). It is not used for two
//!   classes: with both rows penalised it is a different, more regularised model.
//!
//! linfa stops on the L2 norm of the summed gradient (1e-4), tighter than scikit-learn's
//! max-abs of the mean gradient: its fit is closer to the exact optimum than scikit-learn's.

use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};

use crate::error::TrainError;

/// A fitted head over the classes present in its training labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticHead {
    /// The task's class ids that the head knows, ascending (scikit-learn's `classes_`).
    pub classes: Vec<usize>,
    /// `[1, dim]` for two classes (the score of `classes[1]`), `[classes, dim]` otherwise
    /// (scikit-learn's `coef_`).
    pub coef: Array2<f64>,
    /// `[1]` or `[classes]` (`intercept_`).
    pub intercept: Array1<f64>,
}

fn matrix(rows: &[Vec<f32>]) -> Result<Array2<f64>, TrainError> {
    let dim = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.iter().flatten().map(|&v| f64::from(v)).collect();
    Array2::from_shape_vec((rows.len(), dim), flat)
        .map_err(|e| TrainError::SetFit(format!("SetFit head: embeddings of unequal sizes: {e}")))
}

fn failed(e: impl std::fmt::Display) -> TrainError {
    TrainError::SetFit(format!("SetFit head: logistic regression failed: {e}"))
}

impl LogisticHead {
    /// Fits the head on embeddings `x` `[n][dim]` with task labels `y`.
    pub fn fit(x: &[Vec<f32>], y: &[usize], c: f64, max_iter: usize) -> Result<Self, TrainError> {
        let mut classes = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 || x.len() != y.len() {
            return Err(TrainError::SetFit(format!(
                "SetFit head: needs embeddings of examples of at least 2 classes (got {} embeddings, {} labels, {} class(es))",
                x.len(),
                y.len(),
                classes.len()
            )));
        }
        let records = matrix(x)?;
        let dataset = Dataset::new(records, Array1::from(y.to_vec()));
        let alpha = 1.0 / c;
        if classes.len() == 2 {
            let fitted = LogisticRegression::default()
                .alpha(alpha)
                .max_iterations(max_iter as u64)
                .fit(&dataset)
                .map_err(failed)?;
            let sign = if fitted.labels().pos.class == classes[1] {
                1.0
            } else {
                -1.0
            };
            let coef = fitted
                .params()
                .mapv(|v| v * sign)
                .insert_axis(ndarray::Axis(0));
            Ok(Self {
                classes,
                coef,
                intercept: Array1::from(vec![fitted.intercept() * sign]),
            })
        } else {
            let fitted = MultiLogisticRegression::default()
                .alpha(alpha)
                .max_iterations(max_iter as u64)
                .fit(&dataset)
                .map_err(failed)?;
            debug_assert_eq!(fitted.classes(), classes.as_slice());
            Ok(Self {
                classes,
                coef: fitted.params().t().to_owned(),
                intercept: fitted.intercept().clone(),
            })
        }
    }

    /// Decision values `[n, classes]` (the binary head's `[0, z]`, whose softmax is
    /// scikit-learn's `predict_proba`).
    pub fn decision(&self, x: &[Vec<f32>]) -> Result<Array2<f64>, TrainError> {
        let z = matrix(x)?.dot(&self.coef.t()) + &self.intercept;
        if self.classes.len() == 2 {
            let mut out = Array2::zeros((x.len(), 2));
            out.column_mut(1).assign(&z.column(0));
            Ok(out)
        } else {
            Ok(z)
        }
    }

    /// Class probabilities `[n, classes]` (columns in `classes` order).
    pub fn predict_proba(&self, x: &[Vec<f32>]) -> Result<Array2<f64>, TrainError> {
        let mut p = self.decision(x)?;
        for mut row in p.rows_mut() {
            let max = row.fold(f64::NEG_INFINITY, |a, &v| a.max(v));
            row.mapv_inplace(|v| (v - max).exp());
            let sum = row.sum();
            row.mapv_inplace(|v| v / sum);
        }
        Ok(p)
    }

    /// Scores per task class, `[n][num_classes]`: the decision values, and `-inf` for classes
    /// the training sample did not have (so the argmax is the head's prediction).
    pub fn task_scores(
        &self,
        x: &[Vec<f32>],
        num_classes: usize,
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        let d = self.decision(x)?;
        Ok(d.rows()
            .into_iter()
            .map(|row| {
                let mut out = vec![f32::NEG_INFINITY; num_classes];
                for (&class, &v) in self.classes.iter().zip(row.iter()) {
                    if class < num_classes {
                        out[class] = v as f32;
                    }
                }
                out
            })
            .collect())
    }
}
