//! A borrowed view of n embeddings of dimension `dim`, stored row-major in one slice, shared by
//! the embedding metrics, PCA and t-SNE.

use thiserror::Error;

/// Invalid input to an embedding analysis.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EmbeddingError {
    #[error("embedding dimension is 0")]
    ZeroDim,
    #[error("{len} values do not form rows of dimension {dim} ({len} is not a multiple of {dim})")]
    Ragged { len: usize, dim: usize },
    #[error("value {value} in row {row} is not a finite number")]
    NonFinite { row: usize, value: f32 },
    #[error("{embeddings} embeddings but {labels} labels: give one label per embedding")]
    LabelCount { embeddings: usize, labels: usize },
    #[error("{what} needs at least {needed} embeddings, got {got}")]
    TooFew {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("{what} needs between 2 and n - 1 = {max} distinct labels, got {got}")]
    LabelRange {
        what: &'static str,
        got: usize,
        max: usize,
    },
    #[error("invalid parameter: {0}")]
    Parameter(String),
    #[error("proxy for class {class} has dimension {got}, embeddings have {dim}")]
    ProxyDim {
        class: usize,
        got: usize,
        dim: usize,
    },
}

/// Row-major embeddings: row i is `data[i * dim..(i + 1) * dim]`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddingView<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> EmbeddingView<'a> {
    /// Checks the shape and that every value is finite.
    pub fn new(data: &'a [f32], dim: usize) -> Result<Self, EmbeddingError> {
        if dim == 0 {
            return Err(EmbeddingError::ZeroDim);
        }
        if !data.len().is_multiple_of(dim) {
            return Err(EmbeddingError::Ragged {
                len: data.len(),
                dim,
            });
        }
        if let Some((i, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EmbeddingError::NonFinite {
                row: i / dim,
                value,
            });
        }
        Ok(Self { data, dim })
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

pub(crate) fn check_labels(view: &EmbeddingView, labels: &[usize]) -> Result<(), EmbeddingError> {
    if view.len() != labels.len() {
        return Err(EmbeddingError::LabelCount {
            embeddings: view.len(),
            labels: labels.len(),
        });
    }
    Ok(())
}

/// Euclidean distance, accumulated in f64.
pub(crate) fn euclidean(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x as f64 - y as f64;
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// Cosine similarity in f64; 0 when either vector is zero.
pub(crate) fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_checks() {
        assert!(matches!(
            EmbeddingView::new(&[1.0, 2.0, 3.0], 2),
            Err(EmbeddingError::Ragged { len: 3, dim: 2 })
        ));
        assert!(matches!(
            EmbeddingView::new(&[1.0, f32::NAN], 1),
            Err(EmbeddingError::NonFinite { row: 1, .. })
        ));
        let v = EmbeddingView::new(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert_eq!((v.len(), v.row(1)), (2, &[3.0f32, 4.0][..]));
    }
}
