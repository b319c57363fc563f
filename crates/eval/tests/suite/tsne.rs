//! t-SNE: reproducible for a seed, and well-separated clusters stay separated in the map.

use dmlft_eval::embedding_metrics::silhouette_score;
use dmlft_eval::embeddings::EmbeddingError;
use dmlft_eval::embeddings::EmbeddingView;
use dmlft_eval::tsne::{tsne_2d, tsne_2d_with, TsneConfig, TsneInit, TsneMethod};

/// Three Gaussian clusters in 10-D (centres 8 apart, unit noise) from a fixed LCG.
fn clusters(per_class: usize) -> (Vec<f32>, Vec<usize>) {
    let mut state = 12345u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut data = Vec::new();
    let mut labels = Vec::new();
    for class in 0..3 {
        for _ in 0..per_class {
            for d in 0..10 {
                let centre = if d == class { 8.0 } else { 0.0 };
                // Irwin-Hall approximation of a standard normal.
                let noise: f64 = (0..12).map(|_| uniform()).sum::<f64>() - 6.0;
                data.push((centre + noise) as f32);
            }
            labels.push(class);
        }
    }
    (data, labels)
}

fn config(seed: u64, init: TsneInit) -> TsneConfig {
    TsneConfig {
        perplexity: 10.0,
        iterations: 400,
        seed,
        init,
        ..TsneConfig::default()
    }
}

fn nearest_neighbour_agreement(points: &[[f64; 2]], labels: &[usize]) -> f64 {
    let mut same = 0;
    for (i, p) in points.iter().enumerate() {
        let nearest = (0..points.len())
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let da = (points[a][0] - p[0]).powi(2) + (points[a][1] - p[1]).powi(2);
                let db = (points[b][0] - p[0]).powi(2) + (points[b][1] - p[1]).powi(2);
                da.total_cmp(&db)
            })
            .unwrap();
        same += usize::from(labels[nearest] == labels[i]);
    }
    same as f64 / points.len() as f64
}

#[test]
fn same_seed_same_map_other_seed_other_map() {
    let (data, _) = clusters(15);
    let view = EmbeddingView::new(&data, 10).unwrap();
    let a = tsne_2d(&view, &config(7, TsneInit::Random)).unwrap();
    let b = tsne_2d(&view, &config(7, TsneInit::Random)).unwrap();
    assert_eq!(a.points, b.points);
    let c = tsne_2d(&view, &config(8, TsneInit::Random)).unwrap();
    assert_ne!(a.points, c.points);
    assert!(a
        .kl_divergence
        .is_some_and(|kl| kl.is_finite() && kl >= 0.0));
}

#[test]
fn separated_clusters_stay_separated() {
    let (data, labels) = clusters(25);
    let view = EmbeddingView::new(&data, 10).unwrap();
    for init in [TsneInit::Random, TsneInit::Pca] {
        let map = tsne_2d(&view, &config(3, init)).unwrap();
        assert_eq!(map.points.len(), 75);
        let agreement = nearest_neighbour_agreement(&map.points, &labels);
        assert_eq!(
            agreement, 1.0,
            "{init:?}: a point's nearest neighbour is in another cluster"
        );
        let flat: Vec<f32> = map
            .points
            .iter()
            .flat_map(|p| [p[0] as f32, p[1] as f32])
            .collect();
        let s = silhouette_score(&EmbeddingView::new(&flat, 2).unwrap(), &labels).unwrap();
        eprintln!(
            "{init:?}: map silhouette {s:.3}, KL {:?}",
            map.kl_divergence
        );
        assert!(s > 0.7, "{init:?}: silhouette of the map {s}");
    }
}

fn map_silhouette(points: &[[f64; 2]], labels: &[usize]) -> f64 {
    let flat: Vec<f32> = points
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect();
    silhouette_score(&EmbeddingView::new(&flat, 2).unwrap(), labels).unwrap()
}

#[test]
fn barnes_hut_separates_clusters_like_the_exact_map() {
    let (data, labels) = clusters(40);
    let view = EmbeddingView::new(&data, 10).unwrap();
    let map = tsne_2d_with(
        &view,
        &config(3, TsneInit::Pca),
        TsneMethod::BarnesHut { theta: 0.5 },
    )
    .unwrap();
    assert_eq!(map.points.len(), 120);
    assert_eq!(map.kl_divergence, None);
    assert!(map
        .points
        .iter()
        .all(|p| p[0].is_finite() && p[1].is_finite()));
    assert_eq!(nearest_neighbour_agreement(&map.points, &labels), 1.0);
    let s = map_silhouette(&map.points, &labels);
    eprintln!("Barnes-Hut: map silhouette {s:.3}");
    assert!(s > 0.7, "silhouette of the Barnes-Hut map {s}");
}

#[test]
fn barnes_hut_rejects_what_bhtsne_would_panic_on() {
    let (data, _) = clusters(5);
    let view = EmbeddingView::new(&data, 10).unwrap();
    // 15 points: bhtsne needs n - 1 >= 3 * perplexity, so 10 is too large (it would panic).
    let err = tsne_2d_with(
        &view,
        &config(1, TsneInit::Pca),
        TsneMethod::BarnesHut { theta: 0.5 },
    )
    .unwrap_err();
    assert!(
        matches!(&err, EmbeddingError::Parameter(m) if m.contains("perplexity 10")),
        "{err}"
    );
    let err = tsne_2d_with(
        &view,
        &TsneConfig {
            perplexity: 2.0,
            ..config(1, TsneInit::Pca)
        },
        TsneMethod::BarnesHut { theta: f64::NAN },
    )
    .unwrap_err();
    assert!(err.to_string().contains("angle"), "{err}");
}

#[test]
fn the_exact_algorithm_draws_maps_up_to_its_memory_bound() {
    assert_eq!(TsneMethod::for_points(2), TsneMethod::Exact);
    assert_eq!(
        TsneMethod::for_points(TsneMethod::EXACT_MAX_POINTS),
        TsneMethod::Exact
    );
    assert_eq!(
        TsneMethod::for_points(TsneMethod::EXACT_MAX_POINTS + 1),
        TsneMethod::BarnesHut { theta: 0.5 }
    );
}
