//! Exact t-SNE (van der Maaten & Hinton 2008) to 2-D, following sklearn's `method="exact"`:
//! Gaussian affinities calibrated by binary search to the perplexity, symmetrised and
//! normalised; Student-t kernel in the map; gradient descent with momentum (0.5 then 0.8),
//! delta-bar-delta gains, early exaggeration and sklearn's "auto" learning rate
//! `max(n / early_exaggeration / 4, 50)`; momentum and gains restart after the exaggeration
//! phase as in sklearn. O(n^2) time and memory per iteration: meant for up
//! to a few thousand points ([`TsneMethod::for_points`] switches to Barnes-Hut above). Deterministic for a seed (own SplitMix64 generator, sequential sums).

use crate::embeddings::{EmbeddingError, EmbeddingView};
use crate::pca::pca_2d;
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// How the map is initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsneInit {
    /// N(0, 1e-4^2) from the seed (the original paper's choice).
    Random,
    /// The first two principal components scaled to std 1e-4 in the first axis (sklearn's
    /// default); needs dim >= 2 and n >= 3, otherwise falls back to `Random`.
    Pca,
}

/// t-SNE settings; `Default` gives sklearn's defaults with a random initialisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneConfig {
    pub perplexity: f64,
    pub iterations: usize,
    pub early_exaggeration: f64,
    pub exaggeration_iterations: usize,
    /// `None`: sklearn's "auto" rule.
    pub learning_rate: Option<f64>,
    pub init: TsneInit,
    pub seed: u64,
}

impl Default for TsneConfig {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: None,
            init: TsneInit::Random,
            seed: 0,
        }
    }
}

/// A 2-D t-SNE map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneMap {
    /// One point per input row.
    pub points: Vec<[f64; 2]>,
    /// KL(P || Q) of the final map (exact t-SNE; Barnes-Hut does not report it).
    pub kl_divergence: Option<f64>,
}

/// Which algorithm draws a map: the exact one where its n x n matrices fit (four of them,
/// 800 MB at 5,000 points), Barnes-Hut above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TsneMethod {
    Exact,
    /// `theta`: the Barnes-Hut angle (sklearn's default 0.5).
    BarnesHut {
        theta: f64,
    },
}

impl TsneMethod {
    /// The largest map the exact algorithm draws.
    pub const EXACT_MAX_POINTS: usize = 5_000;

    /// Exact up to [`Self::EXACT_MAX_POINTS`], Barnes-Hut with sklearn's angle above.
    pub fn for_points(n: usize) -> Self {
        if n <= Self::EXACT_MAX_POINTS {
            TsneMethod::Exact
        } else {
            TsneMethod::BarnesHut { theta: 0.5 }
        }
    }
}

/// Runs t-SNE with `method`.
pub fn tsne_2d_with(
    view: &EmbeddingView,
    config: &TsneConfig,
    method: TsneMethod,
) -> Result<TsneMap, EmbeddingError> {
    match method {
        TsneMethod::Exact => tsne_2d(view, config),
        TsneMethod::BarnesHut { theta } => {
            crate::tsne_barnes_hut::tsne_2d_barnes_hut(view, config, theta)
        }
    }
}

const PERPLEXITY_TOLERANCE: f64 = 1e-5;
const PERPLEXITY_STEPS: usize = 100;
const MIN_GAIN: f64 = 0.01;
const INIT_STD: f64 = 1e-4;
/// sklearn's floor for P and Q (`np.finfo(np.double).eps`).
const MACHINE_EPSILON: f64 = f64::EPSILON;

/// Runs t-SNE. Needs n >= 2 and 0 < perplexity < n (sklearn's rule).
pub fn tsne_2d(view: &EmbeddingView, config: &TsneConfig) -> Result<TsneMap, EmbeddingError> {
    let n = view.len();
    if n < 2 {
        return Err(EmbeddingError::TooFew {
            what: "t-SNE",
            needed: 2,
            got: n,
        });
    }
    if !(config.perplexity > 0.0 && config.perplexity < n as f64) {
        return Err(EmbeddingError::Parameter(format!(
            "t-SNE perplexity {} must be in (0, n = {n})",
            config.perplexity
        )));
    }
    let not_positive = |v: f64| v.is_nan() || v <= 0.0;
    if config.learning_rate.is_some_and(not_positive) || not_positive(config.early_exaggeration) {
        return Err(EmbeddingError::Parameter(
            "t-SNE learning rate and early exaggeration must be positive".to_string(),
        ));
    }
    let p = joint_probabilities(view, config.perplexity);
    let mut y = initial_map(view, config);
    let lr = config
        .learning_rate
        .unwrap_or_else(|| (n as f64 / config.early_exaggeration / 4.0).max(50.0));

    let mut update = vec![[0.0f64; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    let mut grad = vec![[0.0f64; 2]; n];
    let mut num = vec![0.0f64; n * n];
    for iteration in 0..config.iterations {
        let exploring = iteration < config.exaggeration_iterations;
        let exaggeration = if exploring {
            config.early_exaggeration
        } else {
            1.0
        };
        let momentum = if exploring { 0.5 } else { 0.8 };
        if iteration == config.exaggeration_iterations {
            // sklearn runs the two phases as separate optimiser calls: fresh momentum and gains.
            update.iter_mut().for_each(|u| *u = [0.0; 2]);
            gains.iter_mut().for_each(|g| *g = [1.0; 2]);
        }
        gradient(&p, &y, exaggeration, &mut num, &mut grad);
        for i in 0..n {
            for d in 0..2 {
                // delta-bar-delta: grow the gain while the step keeps its direction.
                if update[i][d] * grad[i][d] < 0.0 {
                    gains[i][d] += 0.2;
                } else {
                    gains[i][d] = (gains[i][d] * 0.8).max(MIN_GAIN);
                }
                update[i][d] = momentum * update[i][d] - lr * gains[i][d] * grad[i][d];
                y[i][d] += update[i][d];
            }
        }
    }
    let kl_divergence = kl(&p, &y);
    Ok(TsneMap {
        points: y,
        kl_divergence: Some(kl_divergence),
    })
}

/// Symmetric joint probabilities `P = (P_{j|i} + P_{i|j}) / sum`, floored at machine epsilon
/// as sklearn.
fn joint_probabilities(view: &EmbeddingView, perplexity: f64) -> Vec<f64> {
    let n = view.len();
    let mut dist = vec![0.0f64; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let d: f64 = view
                .row(i)
                .iter()
                .zip(view.row(j))
                .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                .sum();
            dist[i * n + j] = d;
            dist[j * n + i] = d;
        }
    }
    let mut cond = vec![0.0f64; n * n];
    let target_entropy = perplexity.ln();
    for i in 0..n {
        let row = &dist[i * n..(i + 1) * n];
        let out = &mut cond[i * n..(i + 1) * n];
        calibrate_row(row, i, target_entropy, out);
    }
    let mut p = vec![0.0f64; n * n];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            let v = cond[i * n + j] + cond[j * n + i];
            p[i * n + j] = v;
            total += v;
        }
    }
    for v in p.iter_mut() {
        *v = (*v / total).max(MACHINE_EPSILON);
    }
    p
}

/// Binary search on the precision beta so that the entropy (nats) of
/// `P_{j|i} ∝ exp(-beta * d_ij)` equals ln(perplexity).
fn calibrate_row(dist: &[f64], i: usize, target_entropy: f64, out: &mut [f64]) {
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    for _ in 0..PERPLEXITY_STEPS {
        let mut sum = 0.0;
        for (j, (o, &d)) in out.iter_mut().zip(dist).enumerate() {
            *o = if j == i { 0.0 } else { (-d * beta).exp() };
            sum += *o;
        }
        if sum == 0.0 {
            sum = 1e-8; // sklearn's EPSILON_DBL guard
        }
        let mut weighted = 0.0;
        for (o, &d) in out.iter_mut().zip(dist) {
            *o /= sum;
            weighted += d * *o;
        }
        let entropy = sum.ln() + beta * weighted;
        let diff = entropy - target_entropy;
        if diff.abs() <= PERPLEXITY_TOLERANCE {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_infinite() {
                beta * 2.0
            } else {
                (beta + hi) / 2.0
            };
        } else {
            hi = beta;
            beta = if lo.is_infinite() {
                beta / 2.0
            } else {
                (beta + lo) / 2.0
            };
        }
    }
}

pub(crate) fn initial_map(view: &EmbeddingView, config: &TsneConfig) -> Vec<[f64; 2]> {
    let n = view.len();
    if config.init == TsneInit::Pca && view.dim() >= 2 && n >= 3 {
        if let Ok(fit) = pca_2d(view) {
            let first: Vec<f64> = fit.projected.iter().map(|r| r[0]).collect();
            let mean = first.iter().sum::<f64>() / n as f64;
            let std = (first.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            if std > 0.0 {
                let scale = INIT_STD / std;
                return fit
                    .projected
                    .iter()
                    .map(|r| [r[0] * scale, r[1] * scale])
                    .collect();
            }
        }
    }
    let mut rng = SplitMix64::new(config.seed);
    (0..n)
        .map(|_| [INIT_STD * rng.next_normal(), INIT_STD * rng.next_normal()])
        .collect()
}

/// Exact KL gradient: `4 * sum_j (exag * p_ij - q_ij) * (y_i - y_j) / (1 + |y_i - y_j|^2)`.
/// Each unordered pair is visited once (its force acts on both points), over the upper
/// triangle of `p` and `num`.
fn gradient(p: &[f64], y: &[[f64; 2]], exaggeration: f64, num: &mut [f64], grad: &mut [[f64; 2]]) {
    let n = y.len();
    let mut total = 0.0;
    for i in 0..n {
        let row = &mut num[i * n..(i + 1) * n];
        for j in i + 1..n {
            let dx = y[i][0] - y[j][0];
            let dy = y[i][1] - y[j][1];
            let v = 1.0 / (1.0 + dx * dx + dy * dy);
            row[j] = v;
            total += 2.0 * v;
        }
    }
    let total = total.max(f64::MIN_POSITIVE);
    grad.iter_mut().for_each(|g| *g = [0.0; 2]);
    for i in 0..n {
        let (p_row, num_row) = (&p[i * n..(i + 1) * n], &num[i * n..(i + 1) * n]);
        let mut g = [0.0f64; 2];
        for j in i + 1..n {
            let v = num_row[j];
            let q = (v / total).max(MACHINE_EPSILON);
            let w = (exaggeration * p_row[j] - q) * v;
            let f = [w * (y[i][0] - y[j][0]), w * (y[i][1] - y[j][1])];
            g[0] += f[0];
            g[1] += f[1];
            grad[j][0] -= f[0];
            grad[j][1] -= f[1];
        }
        grad[i][0] += g[0];
        grad[i][1] += g[1];
    }
    grad.iter_mut().for_each(|g| *g = [4.0 * g[0], 4.0 * g[1]]);
}

fn kl(p: &[f64], y: &[[f64; 2]]) -> f64 {
    let n = y.len();
    let mut num = vec![0.0f64; n * n];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let dx = y[i][0] - y[j][0];
                let dy = y[i][1] - y[j][1];
                num[i * n + j] = 1.0 / (1.0 + dx * dx + dy * dy);
                total += num[i * n + j];
            }
        }
    }
    let mut kl = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let q = (num[i * n + j] / total).max(MACHINE_EPSILON);
                let pij = p[i * n + j];
                kl += pij * (pij / q).ln();
            }
        }
    }
    kl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_rows_reach_the_perplexity() {
        let dist = [0.0, 1.0, 4.0, 9.0, 16.0, 2.0, 3.0];
        let mut out = [0.0; 7];
        calibrate_row(&dist, 0, 3f64.ln(), &mut out);
        let entropy: f64 = out.iter().filter(|&&p| p > 0.0).map(|p| -p * p.ln()).sum();
        assert!((entropy.exp() - 3.0).abs() < 1e-3, "{}", entropy.exp());
        assert_eq!(out[0], 0.0);
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_parameters() {
        let data = [0.0, 1.0, 2.0];
        let view = EmbeddingView::new(&data, 1).unwrap();
        let config = TsneConfig {
            perplexity: 3.0,
            ..TsneConfig::default()
        };
        assert!(matches!(
            tsne_2d(&view, &config),
            Err(EmbeddingError::Parameter(_))
        ));
    }
}
