//! Token attributions of one input by Integrated Gradients (Sundararajan et al. 2017), and the
//! settings of the computation (which dmlft-train runs on the model).
//!
//! The path integral is approximated by a Riemann sum over `steps` points:
//!
//! - [`RiemannRule::Midpoint`] (default): `a_k = (k + 1/2) / m`, `k = 0..m`, weights `1/m`;
//! - [`RiemannRule::Trapezoid`]: `a_k = k / m`, `k = 0..=m`, weights `1/m`, halved at both ends
//!   (`m + 1` gradient evaluations).
//!
//! Both are exact for a linear path function and err by O(1/m^2) for a smooth one.

use serde::{Deserialize, Serialize};

/// How the path integral is approximated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiemannRule {
    #[default]
    Midpoint,
    Trapezoid,
}

/// The input the path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// The pad token's word embedding at every position.
    #[default]
    Pad,
    /// All-zero word embeddings.
    Zero,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IgConfig {
    /// Number of Riemann intervals (>= 1).
    pub steps: usize,
    pub rule: RiemannRule,
    pub baseline: Baseline,
    /// Class whose logit is attributed; `None` = the head's predicted class.
    pub target: Option<usize>,
    /// Interpolation points per forward/backward batch (>= 1).
    pub batch: usize,
}

impl Default for IgConfig {
    fn default() -> Self {
        Self {
            steps: 50,
            rule: RiemannRule::Midpoint,
            baseline: Baseline::Pad,
            target: None,
            batch: 16,
        }
    }
}

/// Attributions of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attributions {
    pub token_ids: Vec<u32>,
    /// One per token (special tokens included).
    pub attributions: Vec<f64>,
    /// The class whose logit was attributed.
    pub target: usize,
    /// argmax of the head's logits at the input.
    pub predicted: usize,
    /// Softmax of the head's logits at the input.
    pub probabilities: Vec<f64>,
    /// `F_target(x)`.
    pub logit: f64,
    /// `F_target(x')`.
    pub baseline_logit: f64,
    /// `sum(attributions) - (logit - baseline_logit)`.
    pub completeness_error: f64,
    pub steps: usize,
}

/// Interpolation coefficients and their weights for `steps` intervals.
pub fn riemann_points(rule: RiemannRule, steps: usize) -> Vec<(f64, f64)> {
    let m = steps as f64;
    match rule {
        RiemannRule::Midpoint => (0..steps)
            .map(|k| ((k as f64 + 0.5) / m, 1.0 / m))
            .collect(),
        RiemannRule::Trapezoid => (0..=steps)
            .map(|k| {
                let w = if k == 0 || k == steps {
                    0.5 / m
                } else {
                    1.0 / m
                };
                (k as f64 / m, w)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riemann_weights_sum_to_one_and_points_lie_in_the_unit_interval() {
        for rule in [RiemannRule::Midpoint, RiemannRule::Trapezoid] {
            for steps in [1, 2, 7, 50] {
                let points = riemann_points(rule, steps);
                let total: f64 = points.iter().map(|p| p.1).sum();
                assert!((total - 1.0).abs() < 1e-12, "{rule:?} {steps}: {total}");
                assert!(points.iter().all(|p| (0.0..=1.0).contains(&p.0)));
            }
        }
        assert_eq!(
            riemann_points(RiemannRule::Midpoint, 2),
            vec![(0.25, 0.5), (0.75, 0.5)]
        );
        assert_eq!(
            riemann_points(RiemannRule::Trapezoid, 2),
            vec![(0.0, 0.25), (0.5, 0.5), (1.0, 0.25)]
        );
    }
}
