//! Barnes-Hut t-SNE (van der Maaten 2014) through the `bhtsne` crate, the engine of
//! linfa-tsne, for maps too large for the exact t-SNE's n x n matrices. Measured against
//! scikit-learn's Barnes-Hut and the exact t-SNE (trustworthiness and neighbour labels on the
//! same inputs): see docs/ANALYSIS.md.
//!
//! Settings follow the exact t-SNE's config where bhtsne exposes them (perplexity, iterations,
//! exaggeration phase, the initial map from the same seeded PCA/random initialisation);
//! bhtsne fixes the learning rate at 200 and the exaggeration at 12. The neighbour search picks
//! vantage points with a thread-local generator, so two runs agree up to the order of
//! floating-point sums, not bit for bit.

use crate::embeddings::{EmbeddingError, EmbeddingView};
use crate::tsne::{initial_map, TsneConfig, TsneMap};

/// bhtsne's own bound (`n - 1 >= 3 * perplexity`), checked here so it never panics.
fn check(n: usize, config: &TsneConfig, theta: f64) -> Result<(), EmbeddingError> {
    if n < 4 {
        return Err(EmbeddingError::TooFew {
            what: "Barnes-Hut t-SNE",
            needed: 4,
            got: n,
        });
    }
    if !(config.perplexity > 0.0 && 3.0 * config.perplexity <= (n - 1) as f64) {
        return Err(EmbeddingError::Parameter(format!(
            "Barnes-Hut t-SNE perplexity {} must be in (0, (n - 1) / 3 = {}]",
            config.perplexity,
            (n - 1) as f64 / 3.0
        )));
    }
    if !(theta.is_finite() && theta > 0.0) {
        return Err(EmbeddingError::Parameter(format!(
            "Barnes-Hut t-SNE angle {theta} must be positive (0 is the exact algorithm)"
        )));
    }
    if config.exaggeration_iterations > config.iterations {
        return Err(EmbeddingError::Parameter(format!(
            "t-SNE exaggeration iterations {} exceed the iterations {}",
            config.exaggeration_iterations, config.iterations
        )));
    }
    Ok(())
}

/// Runs Barnes-Hut t-SNE with angle `theta` (sklearn's default 0.5). The map has no KL
/// divergence (bhtsne does not return it).
pub fn tsne_2d_barnes_hut(
    view: &EmbeddingView,
    config: &TsneConfig,
    theta: f64,
) -> Result<TsneMap, EmbeddingError> {
    let n = view.len();
    check(n, config, theta)?;
    let mut data: Vec<f64> = (0..n)
        .flat_map(|i| view.row(i).iter().map(|&v| f64::from(v)))
        .collect();
    let mut map: Vec<f64> = initial_map(view, config)
        .into_iter()
        .flat_map(|p| p.into_iter())
        .collect();
    let iterations = config.iterations as u64;
    let exaggeration = config.exaggeration_iterations as u64;
    // A panic in the library must not take the caller down: it becomes an error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        bhtsne::run(
            &mut data,
            n,
            view.dim(),
            &mut map,
            2,
            config.perplexity,
            theta,
            true,
            iterations,
            exaggeration,
            exaggeration,
        )
    }))
    .map_err(|_| EmbeddingError::Parameter("Barnes-Hut t-SNE failed inside bhtsne".into()))?;
    if map.iter().any(|v| !v.is_finite()) {
        return Err(EmbeddingError::Parameter(
            "Barnes-Hut t-SNE produced a non-finite map".into(),
        ));
    }
    Ok(TsneMap {
        points: map.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
        kl_divergence: None,
    })
}
