//! Behaviour beyond parity: class scores, the objective, seeded initialisation, numerics on
//! degenerate batches, errors instead of panics.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_losses::losses::*;
use dmlft_losses::spec::{DmlLossSpec, DmlTermSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_losses::{DmlLoss, LossError, Objective, ProxyLossConfig};
use dmlft_pooling::Pooling;

type B = Autodiff<Flex>;

fn floats(t: &Tensor<B, 2>) -> Vec<f32> {
    t.to_data().iter::<f32>().collect()
}

fn scalar(t: &Tensor<B, 1>) -> f32 {
    t.to_data().iter::<f32>().next().unwrap()
}

fn labels(v: &[i64]) -> Tensor<B, 1, Int> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &Default::default())
}

fn matrix(v: Vec<f32>, rows: usize, cols: usize) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(v, [rows, cols]), &Default::default())
}

/// Deterministic pseudo-random values in [-1, 1).
fn noise(count: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn argmax_rows(scores: &Tensor<B, 2>) -> Vec<usize> {
    let [n, c] = scores.dims();
    let v = floats(scores);
    (0..n)
        .map(|i| {
            (0..c)
                .max_by(|&a, &b| v[i * c + a].total_cmp(&v[i * c + b]))
                .unwrap()
        })
        .collect()
}

fn proxy_specs() -> Vec<DmlLossSpec> {
    vec![
        DmlLossSpec::SoftTriple(SoftTripleConfig {
            centers_per_class: 3,
            la: 8.0,
            gamma: 0.1,
            margin: 0.1,
            tau: 0.2,
        }),
        DmlLossSpec::ProxyAnchor(ProxyAnchorConfig {
            alpha: 32.0,
            margin: 0.1,
        }),
        DmlLossSpec::ProxyNca(ProxyNcaConfig { softmax_scale: 1.0 }),
        DmlLossSpec::NormalizedSoftmax(NormalizedSoftmaxConfig { temperature: 0.05 }),
        DmlLossSpec::ArcFace(ArcFaceConfig {
            margin_degrees: 28.6,
            scale: 64.0,
            ..Default::default()
        }),
        DmlLossSpec::CosFace(CosFaceConfig {
            margin: 0.35,
            scale: 64.0,
        }),
    ]
}

/// Each class's own parameter direction (a proxy, a center, a weight column), `[C, D]`.
fn class_directions(loss: &DmlLoss<B>, c: usize) -> Tensor<B, 2> {
    match loss {
        // Center 0 of each class: columns 0, K, 2K, ... of [D, C*K].
        DmlLoss::SoftTriple(l) => {
            let k = l.centers_per_class;
            let cols: Vec<i64> = (0..c).map(|i| (i * k) as i64).collect();
            l.centers.val().transpose().select(
                0,
                Tensor::from_data(TensorData::new(cols, [c]), &Default::default()),
            )
        }
        DmlLoss::ProxyAnchor(l) => l.proxies.val(),
        DmlLoss::ProxyNca(l) => l.proxies.val(),
        DmlLoss::NormalizedSoftmax(l) => l.weights.val().transpose(),
        DmlLoss::ArcFace(l) => l.weights.val().transpose(),
        DmlLoss::CosFace(l) => l.weights.val().transpose(),
        DmlLoss::Tuple(_) => unreachable!(),
    }
}

#[test]
fn class_scores_have_shape_and_pick_the_class_whose_parameter_the_row_is() {
    let (c, d) = (4, 16);
    for spec in proxy_specs() {
        let loss = DmlLoss::<B>::new(&spec, c, d, 11, &Default::default()).unwrap();
        let own = class_directions(&loss, c).detach();
        let scores = loss.class_scores(own.clone()).unwrap();
        assert_eq!(scores.dims(), [c, c], "{spec:?}");
        assert_eq!(argmax_rows(&scores), (0..c).collect::<Vec<_>>(), "{spec:?}");
    }
}

#[test]
fn every_class_proxy_row_is_scored_highest_for_its_own_class() {
    let (c, d) = (4, 16);
    for spec in proxy_specs() {
        let loss = DmlLoss::<B>::new(&spec, c, d, 11, &Default::default()).unwrap();
        let (rows, classes) = loss.class_proxies().unwrap();
        let per_class = match spec {
            DmlLossSpec::SoftTriple(c) => c.centers_per_class,
            _ => 1,
        };
        assert_eq!(rows.dims(), [c * per_class, d], "{spec:?}");
        let want: Vec<usize> = (0..c).flat_map(|k| [k].repeat(per_class)).collect();
        assert_eq!(classes, want, "{spec:?}");
        let scores = loss.class_scores(rows.detach()).unwrap();
        assert_eq!(argmax_rows(&scores), classes, "{spec:?}");
    }
}

#[test]
fn proxy_nca_scores_are_negative_distances() {
    let loss = ProxyNcaConfig::default()
        .init::<B>(3, 8, 5, &Default::default())
        .unwrap();
    let emb = matrix(noise(16, 1), 2, 8);
    let d = floats(&loss.proxy_distances(emb.clone()));
    let s = floats(&loss.class_scores(emb));
    assert!(d
        .iter()
        .zip(&s)
        .all(|(d, s)| (*d + *s).abs() < 1e-6 && *d >= 0.0));
}

fn papers_objective() -> ObjectiveSpec {
    // The TOML example of the grid files, as JSON: the same serde contract.
    serde_json::from_str(
        r#"{"ce_weight": 0.4, "dml": [{"weight": 0.6, "embeddings": "all-tokens",
            "loss": {"kind": "soft-triple", "centers_per_class": 5, "la": 8.0, "gamma": 0.1, "margin": 0.1}}]}"#,
    )
    .unwrap()
}

#[test]
fn objective_combines_weighted_terms_and_reports_each() {
    let device = Default::default();
    let mut spec = papers_objective();
    spec.dml.push(DmlTermSpec {
        weight: 0.25,
        embeddings: EmbeddingSelection::Pooled(Pooling::First),
        loss: DmlLossSpec::SupCon(SupConLoss { temperature: 0.1 }),
    });
    let objective = Objective::<B>::new(&spec, 3, 8, 42, &device).unwrap();
    // Parameters are exactly the SoftTriple centers: D x C*K.
    assert_eq!(objective.num_params(), 8 * 3 * 5);
    let (b, t, h) = (4, 5, 8);
    let states =
        Tensor::<B, 3>::from_data(TensorData::new(noise(b * t * h, 2), [b, t, h]), &device)
            .require_grad();
    let mask = Tensor::<B, 2, Int>::from_data(
        TensorData::new(
            vec![
                1i64, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0,
            ],
            [b, t],
        ),
        &device,
    );
    let logits = matrix(noise(b * 3, 3), b, 3).require_grad();
    let out = objective
        .forward(logits, states.clone(), mask, labels(&[0, 1, 2, 1]))
        .unwrap();
    let names: Vec<&str> = out.dml_terms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["soft-triple", "sup-con"]);
    let expected = 0.4 * scalar(&out.ce)
        + 0.6 * scalar(&out.dml_terms[0].1)
        + 0.25 * scalar(&out.dml_terms[1].1);
    assert!((scalar(&out.total) - expected).abs() < 1e-5);
    let grads = out.total.backward();
    assert!(states.grad(&grads).is_some());
    let centers = match &objective.terms[0].loss {
        DmlLoss::SoftTriple(l) => l.centers.val(),
        _ => unreachable!(),
    };
    assert!(
        centers.grad(&grads).is_some(),
        "loss parameters receive gradients"
    );
    let first = states.clone().slice([0..b, 0..1]).reshape([b, h]);
    assert_eq!(objective.class_scores(first).unwrap().dims(), [b, 3]);
}

#[test]
fn objective_without_proxy_terms_has_no_class_scores_and_no_parameters() {
    let spec = ObjectiveSpec {
        dml: vec![DmlTermSpec {
            weight: 1.0,
            embeddings: EmbeddingSelection::Pooled(Pooling::Mean),
            loss: DmlLossSpec::NPairs(NPairsLoss {}),
        }],
        ..ObjectiveSpec::default()
    };
    let objective = Objective::<B>::new(&spec, 2, 4, 0, &Default::default()).unwrap();
    assert_eq!(objective.num_params(), 0);
    assert!(objective.class_scores(matrix(noise(8, 1), 2, 4)).is_none());
    assert!(objective.class_proxies().is_none());
}

#[test]
fn seeded_initialisation_is_deterministic() {
    let device = Default::default();
    let a = Objective::<B>::new(&papers_objective(), 6, 32, 7, &device).unwrap();
    let b = Objective::<B>::new(&papers_objective(), 6, 32, 7, &device).unwrap();
    let c = Objective::<B>::new(&papers_objective(), 6, 32, 8, &device).unwrap();
    let centers = |o: &Objective<B>| match &o.terms[0].loss {
        DmlLoss::SoftTriple(l) => floats(&l.centers.val()),
        _ => unreachable!(),
    };
    assert_eq!(centers(&a), centers(&b));
    assert_ne!(centers(&a), centers(&c));
    // PML's kaiming_uniform(a=sqrt5) with fan_in C*K = 30: all within 1/sqrt(30).
    let bound = 1.0 / 30f32.sqrt();
    assert!(centers(&a).iter().all(|x| x.abs() <= bound));
}

fn every_loss() -> Vec<DmlLossSpec> {
    let mut specs = proxy_specs();
    let json = [
        r#"{"kind": "sup-con"}"#,
        r#"{"kind": "nt-xent"}"#,
        r#"{"kind": "n-pairs"}"#,
        r#"{"kind": "triplet-margin"}"#,
        r#"{"kind": "triplet-margin", "miner": {"kind": "batch-hard"}}"#,
        r#"{"kind": "triplet-margin", "miner": {"kind": "triplet-margin", "triplets": "semihard"}}"#,
        r#"{"kind": "contrastive", "miner": {"kind": "multi-similarity"}}"#,
        r#"{"kind": "contrastive", "distance": {"kind": "euclidean", "normalize": false}}"#,
        r#"{"kind": "multi-similarity"}"#,
        r#"{"kind": "circle"}"#,
        r#"{"kind": "lifted-structure"}"#,
        r#"{"kind": "batch-all-triplet"}"#,
    ];
    specs.extend(
        json.iter()
            .map(|j| serde_json::from_str::<DmlLossSpec>(j).unwrap()),
    );
    specs
}

fn assert_finite(spec: &DmlLossSpec, what: &str, emb: Vec<f32>, n: usize, d: usize, lab: &[i64]) {
    let loss = DmlLoss::<B>::new(spec, 3, d, 3, &Default::default()).unwrap();
    let emb = matrix(emb, n, d).require_grad();
    let value = loss.forward(emb.clone(), labels(lab)).unwrap();
    let v = scalar(&value);
    assert!(v.is_finite(), "{spec:?} on {what}: loss {v}");
    let grads = value.backward();
    if let Some(g) = emb.grad(&grads) {
        assert!(
            g.to_data().iter::<f32>().all(f32::is_finite),
            "{spec:?} on {what}: gradient not finite"
        );
    }
}

#[test]
fn degenerate_batches_give_finite_losses_and_gradients() {
    let (n, d) = (6, 4);
    let mixed = [0, 1, 2, 0, 1, 2];
    for spec in every_loss() {
        let mut with_zero = noise(n * d, 4);
        with_zero[..d].fill(0.0);
        assert_finite(&spec, "a zero row", with_zero, n, d, &mixed);
        let same: Vec<f32> = noise(d, 5).into_iter().cycle().take(n * d).collect();
        assert_finite(&spec, "identical rows", same, n, d, &mixed);
        assert_finite(&spec, "a single class", noise(n * d, 6), n, d, &[1; 6]);
        let huge: Vec<f32> = noise(n * d, 7).into_iter().map(|x| x * 1e4).collect();
        assert_finite(&spec, "huge values", huge, n, d, &mixed);
    }
}

#[test]
fn single_class_batches_give_zero_for_pair_and_triplet_losses() {
    // PML returns 0 when there are no negative pairs / no triplets.
    for j in [
        r#"{"kind": "sup-con"}"#,
        r#"{"kind": "nt-xent"}"#,
        r#"{"kind": "triplet-margin"}"#,
        r#"{"kind": "circle"}"#,
        r#"{"kind": "lifted-structure"}"#,
        r#"{"kind": "batch-all-triplet"}"#,
    ] {
        let spec: DmlLossSpec = serde_json::from_str(j).unwrap();
        let loss = DmlLoss::<B>::new(&spec, 2, 4, 0, &Default::default()).unwrap();
        let v = scalar(
            &loss
                .forward(matrix(noise(20, 9), 5, 4), labels(&[1; 5]))
                .unwrap(),
        );
        assert_eq!(v, 0.0, "{j}");
    }
}

#[test]
fn cross_entropy_survives_huge_logits() {
    let logits = matrix(vec![1e30, -1e30, 0.0, 5e4, 5e4 + 1.0, -5e4], 2, 3);
    let v = scalar(
        &CrossEntropyLoss::new(0.1)
            .unwrap()
            .forward(logits, labels(&[0, 1]))
            .unwrap(),
    );
    assert!(v.is_finite(), "{v}");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let device = Default::default();
    let objective = Objective::<B>::new(&papers_objective(), 3, 8, 0, &device).unwrap();
    let states = Tensor::<B, 3>::zeros([2, 3, 8], &device);
    let mask = Tensor::<B, 2, Int>::ones([2, 3], &device);
    let err = objective
        .forward(matrix(vec![0.0; 6], 2, 3), states, mask, labels(&[0, 3]))
        .unwrap_err();
    assert_eq!(
        err,
        LossError::LabelOutOfRange {
            label: 3,
            num_classes: 3
        }
    );
    let proxy = ProxyAnchorConfig::default()
        .init::<B>(3, 8, 0, &device)
        .unwrap();
    assert!(matches!(
        proxy.forward(matrix(vec![0.0; 16], 2, 8), labels(&[0, 1, 2])),
        Err(LossError::Shape(_))
    ));
    let bad = ObjectiveSpec {
        ce_weight: -1.0,
        ..ObjectiveSpec::default()
    };
    assert!(Objective::<B>::new(&bad, 3, 8, 0, &device)
        .unwrap_err()
        .to_string()
        .contains("ce_weight"));
}

/// The spec's `kind()` is the one owner of "which losses have proxies" and of the loss names:
/// every kind parses from its name with default hyperparameters, and a loss built from it has
/// class scores and parameters exactly when the kind says it has proxies.
#[test]
fn every_kind_parses_from_its_name_and_has_proxies_exactly_when_built_with_parameters() {
    use dmlft_losses::spec::DmlLossKind;
    let device = Default::default();
    for kind in DmlLossKind::ALL {
        let spec: DmlLossSpec = serde_json::from_str(&format!(r#"{{"kind": "{}"}}"#, kind.name()))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(spec.kind(), kind);
        let loss = DmlLoss::<B>::new(&spec, 3, 4, 1, &device).unwrap();
        let scores = loss.class_scores(matrix(noise(8, 1), 2, 4));
        assert_eq!(scores.is_some(), kind.has_proxies(), "{kind}: class scores");
        assert_eq!(
            loss.num_params() > 0,
            kind.has_proxies(),
            "{kind}: parameters"
        );
    }
    let names = DmlLossKind::proxy_loss_names();
    assert_eq!(
        names,
        "soft-triple, proxy-anchor, proxy-nca, normalized-softmax, arc-face, cos-face"
    );
    let objective = |loss: DmlLossSpec| ObjectiveSpec {
        dml: vec![DmlTermSpec {
            weight: 0.5,
            embeddings: EmbeddingSelection::Pooled(Pooling::First),
            loss,
        }],
        ..ObjectiveSpec::default()
    };
    assert!(objective(DmlLossSpec::ProxyNca(ProxyNcaConfig { softmax_scale: 1.0 })).has_proxies());
    assert!(!objective(DmlLossSpec::NPairs(NPairsLoss {})).has_proxies());
    assert!(!ObjectiveSpec::default().has_proxies());
}

#[test]
fn ce_plus_is_the_papers_objective_and_with_embeddings_moves_every_term() {
    // The grid file's objective, rebuilt from its loss alone: weights and embeddings agree.
    let loss = papers_objective().dml[0].loss.clone();
    assert_eq!(
        ObjectiveSpec::ce_plus(loss.clone(), 0.4),
        papers_objective()
    );
    let mut two = ObjectiveSpec::ce_plus(loss, 0.4);
    two.dml.push(DmlTermSpec {
        weight: 0.1,
        embeddings: EmbeddingSelection::AllTokens,
        loss: DmlLossSpec::NPairs(NPairsLoss {}),
    });
    let moved = two.with_embeddings(EmbeddingSelection::Pooled(Pooling::First));
    assert!(moved
        .dml
        .iter()
        .all(|t| t.embeddings == EmbeddingSelection::Pooled(Pooling::First)));
    assert_eq!(moved.ce_weight, 0.4);
}
