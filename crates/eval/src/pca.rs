//! Principal component analysis for embedding maps: the top principal axes of the centred data
//! by subspace (block power) iteration with Rayleigh-Ritz steps, never forming the dim x dim
//! covariance (O(n * dim) per step), so 1024-d embeddings of a few thousand texts are cheap.
//! Conventions follow sklearn's `PCA`: variance with n - 1, components as unit rows, sign
//! chosen so that the largest-magnitude entry of each component is positive.

use crate::embeddings::{EmbeddingError, EmbeddingView};
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    pub mean: Vec<f64>,
    /// `components[k]` is the k-th principal axis (unit length, length dim).
    pub components: Vec<Vec<f64>>,
    /// Eigenvalues of the covariance (n - 1 denominator), descending.
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
    /// Coordinates of the input rows on the components (n rows of n_components values).
    pub projected: Vec<Vec<f64>>,
    /// Whether the iteration met its residual tolerance (it always has in our tests).
    pub converged: bool,
}

const MAX_ITERATIONS: usize = 20_000;
/// Stop when every wanted Ritz pair has `|C q - l q| <= TOLERANCE * l_max`.
const TOLERANCE: f64 = 1e-12;
/// Extra vectors in the block: convergence goes as (l_{k+extra+1} / l_k)^iterations.
const OVERSAMPLING: usize = 4;

/// 2-D PCA (the embedding-map case).
pub fn pca_2d(view: &EmbeddingView) -> Result<Pca, EmbeddingError> {
    pca(view, 2)
}

/// PCA with `n_components` axes, `1 <= n_components <= min(n - 1, dim)`.
pub fn pca(view: &EmbeddingView, n_components: usize) -> Result<Pca, EmbeddingError> {
    let (n, dim) = (view.len(), view.dim());
    if n < 2 {
        return Err(EmbeddingError::TooFew {
            what: "PCA",
            needed: 2,
            got: n,
        });
    }
    if n_components == 0 || n_components > dim.min(n - 1) {
        return Err(EmbeddingError::Parameter(format!(
            "PCA n_components = {n_components} must be in 1..={} (min(n - 1, dim))",
            dim.min(n - 1)
        )));
    }
    let mut mean = vec![0.0f64; dim];
    for i in 0..n {
        for (m, &v) in mean.iter_mut().zip(view.row(i)) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            view.row(i)
                .iter()
                .zip(&mean)
                .map(|(&v, m)| v as f64 - m)
                .collect()
        })
        .collect();
    let cov = Covariance { rows: &centred };
    let total_variance: f64 = centred.iter().flatten().map(|v| v * v).sum::<f64>() / (n - 1) as f64;

    let (values, vectors, converged) = top_eigenpairs(&cov, dim, n_components);
    let components: Vec<Vec<f64>> = vectors.into_iter().map(flip_sign).collect();
    let projected = centred
        .iter()
        .map(|row| components.iter().map(|c| dot(row, c)).collect())
        .collect();
    let explained_variance_ratio = values
        .iter()
        .map(|v| {
            if total_variance > 0.0 {
                v / total_variance
            } else {
                0.0
            }
        })
        .collect();
    Ok(Pca {
        mean,
        components,
        explained_variance: values,
        explained_variance_ratio,
        projected,
        converged,
    })
}

impl Pca {
    /// Projects new rows (dimension must match) onto the fitted components.
    pub fn transform(&self, view: &EmbeddingView) -> Result<Vec<Vec<f64>>, EmbeddingError> {
        if view.dim() != self.mean.len() {
            return Err(EmbeddingError::Parameter(format!(
                "PCA was fitted on dimension {}, got {}",
                self.mean.len(),
                view.dim()
            )));
        }
        Ok((0..view.len())
            .map(|i| {
                let row: Vec<f64> = view
                    .row(i)
                    .iter()
                    .zip(&self.mean)
                    .map(|(&v, m)| v as f64 - m)
                    .collect();
                self.components.iter().map(|c| dot(&row, c)).collect()
            })
            .collect())
    }
}

/// The covariance `X^T X / (n - 1)` applied to vectors without being formed.
struct Covariance<'a> {
    rows: &'a [Vec<f64>],
}

impl Covariance<'_> {
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; v.len()];
        for row in self.rows {
            let s = dot(row, v);
            for (o, x) in out.iter_mut().zip(row) {
                *o += s * x;
            }
        }
        let scale = 1.0 / (self.rows.len() - 1) as f64;
        out.iter_mut().for_each(|o| *o *= scale);
        out
    }
}

/// Top-k eigenpairs (descending) of the covariance by subspace iteration.
fn top_eigenpairs(cov: &Covariance, dim: usize, k: usize) -> (Vec<f64>, Vec<Vec<f64>>, bool) {
    let block = (k + OVERSAMPLING).min(dim);
    // A fixed seed: PCA is a deterministic function of its input.
    let mut rng = SplitMix64::new(0x0005_EED0_F9CA);
    let mut q: Vec<Vec<f64>> = (0..block)
        .map(|_| (0..dim).map(|_| rng.next_normal()).collect())
        .collect();
    orthonormalize(&mut q, &mut rng);
    let mut values = vec![0.0; block];
    let mut converged = false;
    for _ in 0..MAX_ITERATIONS {
        // Rayleigh-Ritz on span(q): rotate q to the eigenvectors of q^T C q.
        let cq: Vec<Vec<f64>> = q.iter().map(|v| cov.apply(v)).collect();
        let h: Vec<Vec<f64>> = q
            .iter()
            .map(|qi| cq.iter().map(|cqj| dot(qi, cqj)).collect())
            .collect();
        let (ritz_values, ritz_vectors) = symmetric_eigen(h);
        let rotate = |basis: &[Vec<f64>]| -> Vec<Vec<f64>> {
            (0..block)
                .map(|j| {
                    let mut v = vec![0.0; dim];
                    for (b, basis_vec) in basis.iter().enumerate() {
                        let w = ritz_vectors[b][j];
                        v.iter_mut().zip(basis_vec).for_each(|(o, x)| *o += w * x);
                    }
                    v
                })
                .collect()
        };
        q = rotate(&q);
        let cq = rotate(&cq);
        values = ritz_values;
        let scale = values[0].abs().max(f64::MIN_POSITIVE);
        let worst = (0..k)
            .map(|j| {
                cq[j]
                    .iter()
                    .zip(&q[j])
                    .map(|(c, x)| (c - values[j] * x).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(0.0, f64::max);
        if worst <= TOLERANCE * scale {
            converged = true;
            break;
        }
        q = cq;
        orthonormalize(&mut q, &mut rng);
    }
    q.truncate(k);
    values.truncate(k);
    // Rounding can leave tiny negative eigenvalues on rank-deficient data.
    values.iter_mut().for_each(|v| *v = v.max(0.0));
    (values, q, converged)
}

/// Modified Gram-Schmidt (twice, for stability); a vector that vanishes (rank-deficient
/// data) is replaced by a fresh random direction.
fn orthonormalize(vectors: &mut [Vec<f64>], rng: &mut SplitMix64) {
    for i in 0..vectors.len() {
        for _attempt in 0..4 {
            let scale: f64 = vectors[i].iter().map(|x| x * x).sum::<f64>().sqrt();
            for _ in 0..2 {
                for j in 0..i {
                    let p = dot(&vectors[i], &vectors[j]);
                    let (head, tail) = vectors.split_at_mut(i);
                    tail[0]
                        .iter_mut()
                        .zip(&head[j])
                        .for_each(|(x, y)| *x -= p * y);
                }
            }
            let norm: f64 = vectors[i].iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-10 * scale && norm > 0.0 {
                vectors[i].iter_mut().for_each(|x| *x /= norm);
                break;
            }
            let dim = vectors[i].len();
            vectors[i] = (0..dim).map(|_| rng.next_normal()).collect();
        }
    }
}

/// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations. Returns the
/// eigenvalues in descending order and the matrix whose column j is eigenvector j.
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = a.len();
    let mut v: Vec<Vec<f64>> = (0..m)
        .map(|i| (0..m).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let diag: f64 = (0..m).map(|i| a[i][i] * a[i][i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                // signum(+0.0) = 1: a 45 degree rotation when the diagonal entries are equal.
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
                let (head, tail) = a.split_at_mut(q);
                for (x, y) in head[p].iter_mut().zip(tail[0].iter_mut()) {
                    (*x, *y) = (c * *x - s * *y, s * *x + c * *y);
                }
                for row in v.iter_mut() {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let values = order.iter().map(|&i| a[i][i]).collect();
    let vectors = (0..m)
        .map(|r| order.iter().map(|&c| v[r][c]).collect())
        .collect();
    (values, vectors)
}

/// sklearn's `svd_flip(u_based_decision=False)`: largest-magnitude entry positive.
fn flip_sign(mut v: Vec<f64>) -> Vec<f64> {
    let max = v
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(0.0);
    if max < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    v
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_on_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 3 (axis (1,1)/sqrt2) and 1 (axis (1,-1)/sqrt2).
        let (values, vectors) = symmetric_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        assert!((values[0] - 3.0).abs() < 1e-14 && (values[1] - 1.0).abs() < 1e-14);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vectors[0][0].abs() - h).abs() < 1e-14);
        assert!((vectors[0][0] - vectors[1][0]).abs() < 1e-14);
    }

    #[test]
    fn known_decomposition_in_a_rotated_frame() {
        // Points (a, b, 0) rotated by 30 degrees in the x-y plane, with a spread on a grid of
        // {-3..3} and b on {-1, 1}: the covariance axes are the rotated unit vectors with
        // variances var(a) and var(b) (n - 1 denominator), and the third is zero.
        let (cos, sin) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let mut data = Vec::new();
        for a in -3..=3 {
            for b in [-1.0, 1.0] {
                let a = a as f64;
                data.extend([(a * cos - b * sin) as f32, (a * sin + b * cos) as f32, 0.0]);
            }
        }
        let view = EmbeddingView::new(&data, 3).unwrap();
        let fit = pca_2d(&view).unwrap();
        assert!(fit.converged);
        // var(a): sum of a^2 over 14 points = 2 * 28 = 56, / 13; var(b) = 14 / 13.
        assert!((fit.explained_variance[0] - 56.0 / 13.0).abs() < 1e-5);
        assert!((fit.explained_variance[1] - 14.0 / 13.0).abs() < 1e-5);
        let axis0 = [cos, sin, 0.0];
        let along: f64 = fit.components[0]
            .iter()
            .zip(axis0)
            .map(|(x, y)| x * y)
            .sum();
        assert!((along.abs() - 1.0).abs() < 1e-6);
        assert!((fit.explained_variance_ratio.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        let again = fit.transform(&view).unwrap();
        assert_eq!(again.len(), 14);
        assert!((again[3][0] - fit.projected[3][0]).abs() < 1e-12);
    }

    #[test]
    fn parameter_checks() {
        let data = [0.0, 1.0, 2.0, 3.0];
        let view = EmbeddingView::new(&data, 2).unwrap();
        assert!(pca(&view, 2).is_err()); // n - 1 = 1
        assert!(pca(&view, 1).is_ok());
        let one = EmbeddingView::new(&data[..2], 2).unwrap();
        assert!(matches!(pca(&one, 1), Err(EmbeddingError::TooFew { .. })));
    }
}
