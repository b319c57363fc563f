//! Silhouette, intra/inter ratio and PCA against sklearn / numpy values in
//! tests/fixtures/embedding.json. The fixture stores f32-representable inputs; we accumulate in
//! f64 like sklearn does on f64 input.

use crate::common::{assert_close, f64s, fixture, usizes};
use dmlft_eval::embedding_metrics::{intra_inter_distance_ratio, silhouette_score};
use dmlft_eval::embeddings::EmbeddingView;
use dmlft_eval::pca::pca_2d;

fn flat(rows: &serde_json::Value) -> Vec<f32> {
    rows.as_array()
        .unwrap()
        .iter()
        .flat_map(|r| f64s(r).into_iter().map(|v| v as f32))
        .collect()
}

#[test]
fn silhouette_and_ratio_match_sklearn() {
    let fx = fixture("embedding.json");
    for case in fx["silhouette"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let data = flat(&case["embeddings"]);
        let view = EmbeddingView::new(&data, case["dim"].as_u64().unwrap() as usize).unwrap();
        let labels = usizes(&case["labels"]);
        let s = silhouette_score(&view, &labels).unwrap();
        assert_close(
            s,
            case["silhouette"].as_f64().unwrap(),
            1e-9,
            &format!("{name} silhouette"),
        );
        let r = intra_inter_distance_ratio(&view, &labels).unwrap();
        assert_close(
            r,
            case["intra_inter_ratio"].as_f64().unwrap(),
            1e-9,
            &format!("{name} ratio"),
        );
    }
}

#[test]
fn pca_matches_sklearn_up_to_sign() {
    let fx = fixture("embedding.json");
    let case = &fx["pca"][0];
    let data = flat(&case["data"]);
    let view = EmbeddingView::new(&data, case["dim"].as_u64().unwrap() as usize).unwrap();
    let fit = pca_2d(&view).unwrap();
    assert!(fit.converged);
    let want_var = f64s(&case["explained_variance"]);
    for k in 0..2 {
        assert_close(
            fit.explained_variance[k],
            want_var[k],
            1e-9,
            "explained variance",
        );
        let want = f64s(&case["components"][k]);
        let sign = if fit.components[k]
            .iter()
            .zip(&want)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            < 0.0
        {
            -1.0
        } else {
            1.0
        };
        for (g, w) in fit.components[k].iter().zip(&want) {
            assert!((sign * g - w).abs() < 1e-9, "component {k}: {g} vs {w}");
        }
        for (row, want_row) in fit
            .projected
            .iter()
            .zip(case["projected"].as_array().unwrap())
        {
            let w = want_row[k].as_f64().unwrap();
            assert!(
                (sign * row[k] - w).abs() < 1e-8,
                "projection {k}: {} vs {w}",
                row[k]
            );
        }
    }
    for (g, w) in fit.mean.iter().zip(f64s(&case["mean"])) {
        assert_close(*g, w, 1e-9, "mean");
    }
}
