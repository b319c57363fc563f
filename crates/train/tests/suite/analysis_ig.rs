//! Integrated Gradients: completeness (attributions sum to logit(x) - logit(baseline)) on the
//! tiny random BERT and RoBERTa fixtures and on all-MiniLM-L6-v2 when present, with an error
//! that shrinks with more steps; batching the interpolation points does not change the result.
//!
//! Tolerances (stated): at 64 midpoint steps the completeness error must be below 1% of
//! |logit(x) - logit(baseline)| + 1e-4, and strictly below the error at 8 steps.

use std::path::PathBuf;

use burn::backend::{Autodiff, Flex};
use dmlft_data::{Example, TextTokenizer};
use dmlft_eval::analysis::attribution::{Attributions, Baseline, IgConfig, RiemannRule};
use dmlft_model::{load_classifier, SequenceClassifier};
use dmlft_pooling::Pooling;
use dmlft_testing::model_dir;
use dmlft_train::analysis::integrated_gradients::integrated_gradients;

type B = Autodiff<Flex>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../model/tests/fixtures")
        .join(name)
}

fn load(dir: &std::path::Path, labels: usize) -> SequenceClassifier<B> {
    load_classifier::<B>(dir, labels, 7, Some(0.0), &Default::default())
        .expect("model loads")
        .0
}

fn ig(
    model: &SequenceClassifier<B>,
    pooling: Pooling,
    ids: &[u32],
    pad: u32,
    config: &IgConfig,
) -> Attributions {
    let types = vec![0u32; ids.len()];
    integrated_gradients(
        model,
        pooling,
        ids,
        &types,
        pad,
        config,
        &Default::default(),
    )
    .expect("IG runs")
}

fn config(steps: usize, rule: RiemannRule, baseline: Baseline) -> IgConfig {
    IgConfig {
        steps,
        rule,
        baseline,
        target: None,
        batch: 16,
    }
}

/// Checks completeness at 8 and 64 steps and returns (error at 8, error at 64, |delta|).
fn check_completeness(
    model: &SequenceClassifier<B>,
    pooling: Pooling,
    ids: &[u32],
    pad: u32,
    rule: RiemannRule,
    baseline: Baseline,
) -> (f64, f64, f64) {
    let coarse = ig(model, pooling, ids, pad, &config(8, rule, baseline));
    let fine = ig(model, pooling, ids, pad, &config(64, rule, baseline));
    let delta = (fine.logit - fine.baseline_logit).abs();
    let (e8, e64) = (
        coarse.completeness_error.abs(),
        fine.completeness_error.abs(),
    );
    eprintln!("{rule:?} {baseline:?} {pooling:?}: delta {delta:.5}, error at 8 steps {e8:.2e}, at 64 steps {e64:.2e}");
    assert_eq!(fine.attributions.len(), ids.len());
    assert!(fine.attributions.iter().all(|a| a.is_finite()));
    assert!(
        delta > 1e-3,
        "logit difference {delta} too small for a meaningful check"
    );
    assert!(
        fine.attributions.iter().any(|a| a.abs() > 1e-6),
        "all attributions are zero"
    );
    assert!(
        e64 < 0.01 * delta + 1e-4,
        "error {e64} at 64 steps above tolerance for delta {delta}"
    );
    assert!(
        e64 < e8,
        "error did not shrink with more steps: {e8} at 8, {e64} at 64"
    );
    // Attributions of both runs tell the same story at the sentence level.
    assert_eq!(coarse.target, fine.target);
    (e8, e64, delta)
}

#[test]
fn completeness_on_tiny_bert_both_rules_and_baselines() {
    let model = load(&fixture("tiny-bert"), 3);
    let ids = [2u32, 17, 45, 99, 150, 201, 3];
    for rule in [RiemannRule::Midpoint, RiemannRule::Trapezoid] {
        for baseline in [Baseline::Pad, Baseline::Zero] {
            check_completeness(&model, Pooling::First, &ids, 0, rule, baseline);
        }
    }
    check_completeness(
        &model,
        Pooling::Mean,
        &ids,
        0,
        RiemannRule::Midpoint,
        Baseline::Pad,
    );
}

#[test]
fn completeness_on_tiny_roberta() {
    let model = load(&fixture("tiny-roberta"), 3);
    let ids = [0u32, 31, 77, 140, 12, 2];
    check_completeness(
        &model,
        Pooling::First,
        &ids,
        1,
        RiemannRule::Midpoint,
        Baseline::Pad,
    );
    check_completeness(
        &model,
        Pooling::Mean,
        &ids,
        1,
        RiemannRule::Trapezoid,
        Baseline::Zero,
    );
}

#[test]
fn batching_and_target_choice() {
    let model = load(&fixture("tiny-bert"), 3);
    let ids = [2u32, 8, 9, 120, 3];
    let batched = ig(
        &model,
        Pooling::First,
        &ids,
        0,
        &IgConfig {
            steps: 20,
            batch: 7,
            ..IgConfig::default()
        },
    );
    let single = ig(
        &model,
        Pooling::First,
        &ids,
        0,
        &IgConfig {
            steps: 20,
            batch: 1,
            ..IgConfig::default()
        },
    );
    for (a, b) in batched.attributions.iter().zip(&single.attributions) {
        assert!(
            (a - b).abs() < 1e-5 * (1.0 + a.abs()),
            "batched {a} vs one at a time {b}"
        );
    }
    // The predicted class by default, any class on request, and a clear error past the last one.
    let probs = &batched.probabilities;
    assert_eq!(batched.target, batched.predicted);
    assert!(probs.iter().all(|&p| p <= probs[batched.predicted]));
    let other = (batched.predicted + 1) % 3;
    let chosen = ig(
        &model,
        Pooling::First,
        &ids,
        0,
        &IgConfig {
            target: Some(other),
            ..IgConfig::default()
        },
    );
    assert_eq!(chosen.target, other);
    assert_ne!(chosen.logit, batched.logit);
    let types = vec![0u32; ids.len()];
    let bad = IgConfig {
        target: Some(3),
        ..IgConfig::default()
    };
    let err = integrated_gradients(
        &model,
        Pooling::First,
        &ids,
        &types,
        0,
        &bad,
        &Default::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("0..3"), "{err}");
    let zero = IgConfig {
        steps: 0,
        ..IgConfig::default()
    };
    assert!(integrated_gradients(
        &model,
        Pooling::First,
        &ids,
        &types,
        0,
        &zero,
        &Default::default()
    )
    .is_err());
}

#[test]
fn completeness_on_minilm() {
    let Some(dir) = model_dir() else { return };
    let model = load(&dir, 2);
    let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
    let encoded = tokenizer
        .encode(&[Example::new("a gripping, beautifully acted film", 1)], 64)
        .unwrap();
    for pooling in [Pooling::Mean, Pooling::First] {
        check_completeness(
            &model,
            pooling,
            &encoded.input_ids,
            tokenizer.pad_id(),
            RiemannRule::Midpoint,
            Baseline::Pad,
        );
    }
}
