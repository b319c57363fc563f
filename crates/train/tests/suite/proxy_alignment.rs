//! Proxy alignment of saved models (what `dmlft analyze` reports): a SoftTriple and a
//! ProxyAnchor folder give their trained class representatives to the embedding metrics, and the
//! alignment equals an independent computation from `loss.safetensors` on the same embeddings;
//! folders without loss parameters, or with a loss without proxies, say why it is n/a.

use burn::backend::Flex;
use dmlft_data::Example;
use dmlft_eval::analysis::outputs::ModelProxies;
use dmlft_eval::analysis::space_metrics::{metrics_markdown, space_metrics};
use dmlft_losses::losses::ProxyAnchorConfig;
use dmlft_losses::spec::{DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_pooling::Pooling;
use dmlft_train::analysis::embeddings::outputs_of_saved;
use dmlft_train::saved_model::SavedModel;
use dmlft_train::InferenceMode;

use super::saved_predict::{cell, run, saved_ce, softtriple};

fn proxy_anchor() -> ObjectiveSpec {
    let loss = DmlLossSpec::ProxyAnchor(ProxyAnchorConfig {
        alpha: 16.0,
        margin: 0.1,
    });
    ObjectiveSpec::ce_plus(loss, 0.5).with_embeddings(EmbeddingSelection::Pooled(Pooling::First))
}

fn examples() -> Vec<Example> {
    [
        ("a good film", 1),
        ("the plot was boring and too long", 0),
        ("fun and great acting", 1),
        ("not a great movie", 2),
        ("it is a film", 2),
        ("this story was sad", 0),
        ("the movie was bad", 0),
        ("a funny short film", 1),
        ("very long", 2),
    ]
    .into_iter()
    .map(|(t, l)| Example::new(t, l))
    .collect()
}

/// Columns (`transposed`: `[D, R]`, as SoftTriple's centers) or rows (`[R, D]`) of a tensor of
/// `loss.safetensors`, as f64 vectors.
fn saved_rows(dir: &std::path::Path, name: &str, transposed: bool) -> Vec<Vec<f64>> {
    let bytes = std::fs::read(dir.join("loss.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    let (r, c) = (t.shape()[0], t.shape()[1]);
    let v: Vec<f64> = t
        .data()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
        .collect();
    if transposed {
        (0..c)
            .map(|j| (0..r).map(|i| v[i * c + j]).collect())
            .collect()
    } else {
        v.chunks(c).map(<[f64]>::to_vec).collect()
    }
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// Mean over classes of the best cosine between one of the class's `per_class` proxies (rows
/// `c*per_class..`) and the class's mean embedding.
fn expected_alignment(
    emb: &[f32],
    dim: usize,
    labels: &[usize],
    proxies: &[Vec<f64>],
    per_class: usize,
) -> f64 {
    let classes = proxies.len() / per_class;
    let mut total = 0.0;
    for c in 0..classes {
        let rows: Vec<&[f32]> = emb
            .chunks(dim)
            .zip(labels)
            .filter(|(_, &l)| l == c)
            .map(|(r, _)| r)
            .collect();
        let mean: Vec<f64> = (0..dim)
            .map(|d| rows.iter().map(|r| r[d] as f64).sum::<f64>() / rows.len() as f64)
            .collect();
        let best = (0..per_class)
            .map(|k| cosine(&proxies[c * per_class + k], &mean))
            .fold(f64::NEG_INFINITY, f64::max);
        total += best;
    }
    total / classes as f64
}

#[test]
fn saved_proxies_and_centers_are_aligned_with_the_class_means_as_computed_independently() {
    for (objective, tensor, transposed, per_class) in [
        (softtriple(), "dml.0.centers", true, 2),
        (proxy_anchor(), "dml.0.proxies", false, 1),
    ] {
        let root = tempfile::tempdir().unwrap();
        let save = root.path().join("saved");
        run(
            &cell(root.path(), objective, vec![InferenceMode::Head]),
            &save,
        );
        let saved = SavedModel::open(&save, None, None).unwrap();
        let examples = examples();
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let named =
            outputs_of_saved::<Flex>("m", &saved, &examples, 24, 4, &Default::default()).unwrap();
        let ModelProxies::Loaded(p) = &named.proxies else {
            panic!("{tensor}: no proxies loaded: {:?}", named.proxies);
        };
        assert_eq!(p.classes.len(), 3 * per_class);
        let metrics = space_metrics("m", &named.outputs, &named.proxies, &labels, 3).unwrap();
        let proxies = saved_rows(&save, tensor, transposed);
        assert_eq!(proxies.len(), 3 * per_class);
        for m in &metrics {
            let got = m
                .metrics
                .proxy_alignment
                .as_ref()
                .unwrap_or_else(|| panic!("{tensor} {:?}: proxy alignment n/a", m.embedding))
                .mean;
            let emb = named.outputs.embeddings(m.embedding);
            let want = expected_alignment(emb, named.outputs.dim, &labels, &proxies, per_class);
            assert!(
                (got - want).abs() < 1e-9,
                "{tensor} {:?}: {got} vs {want}",
                m.embedding
            );
        }
        let md = metrics_markdown(&metrics);
        let first = md.lines().find(|l| l.starts_with("| m | first |")).unwrap();
        assert!(!first.ends_with("| n/a |"), "{md}");
        assert!(md.contains(&format!("{per_class} per class")), "{md}");
        assert_eq!(metrics[0].embedding, Pooling::First);
    }
}

#[test]
fn folders_without_proxies_say_why_alignment_is_na() {
    let root = tempfile::tempdir().unwrap();
    let save = saved_ce(root.path());
    let examples = examples();
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let saved = SavedModel::open(&save, None, None).unwrap();
    let named =
        outputs_of_saved::<Flex>("ce", &saved, &examples, 24, 4, &Default::default()).unwrap();
    assert_eq!(
        named.proxies,
        ModelProxies::Missing("loss `ce` has no proxy-based term".into())
    );
    // as a folder saved before loss parameters existed
    std::fs::remove_file(save.join("loss.json")).unwrap();
    let saved = SavedModel::open(&save, None, None).unwrap();
    let named =
        outputs_of_saved::<Flex>("old", &saved, &examples, 24, 4, &Default::default()).unwrap();
    let ModelProxies::Missing(why) = &named.proxies else {
        panic!("{:?}", named.proxies)
    };
    assert!(
        why.contains("holds no loss parameters (no loss.json"),
        "{why}"
    );
    let metrics = space_metrics("old", &named.outputs, &named.proxies, &labels, 3).unwrap();
    assert!(metrics.iter().all(|m| m.metrics.proxy_alignment.is_none()));
    let md = metrics_markdown(&metrics);
    assert!(md.contains("proxy alignment of old n/a:"), "{md}");
}
