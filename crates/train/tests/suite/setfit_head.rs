//! SetFit's head against scikit-learn's `LogisticRegression()` (fixture
//! tests/fixtures/setfit/head.*, five sets: real MiniLM embeddings of SST2 (2 classes) and TREC
//! (6), random unit-norm 2- and 6-class sets, a raw (not normalised) 3-class set). Compared with
//! the exact optimum of scikit-learn's objective (`*_tight`): scikit-learn's own default fit
//! stops up to 1e-3 away from it, linfa's closer.

use dmlft_train::setfit::head::LogisticHead;

use crate::setfit_fixture::{max_abs_diff, usizes, Fixture};

/// scikit-learn's objective: mean loss + |W|^2 / (2 C n), intercept not penalised.
fn objective(head: &LogisticHead, x: &[Vec<f32>], y: &[usize], c: f64) -> f64 {
    let p = head.predict_proba(x).unwrap();
    let n = y.len() as f64;
    let nll: f64 = y
        .iter()
        .enumerate()
        .map(|(i, &yi)| {
            let col = head.classes.iter().position(|&k| k == yi).unwrap();
            -p[[i, col]].ln()
        })
        .sum();
    nll / n + head.coef.mapv(|w| w * w).sum() / (2.0 * c * n)
}

#[test]
fn probabilities_predictions_and_objective_match_scikit_learn() {
    let fx = Fixture::open("head");
    assert_eq!(fx.cases().len(), 5);
    for case in fx.cases() {
        let name = case["name"].as_str().unwrap();
        let x = fx.rows_f32(&format!("{name}.x_train"));
        let x_test = fx.rows_f32(&format!("{name}.x_test"));
        let y = usizes(&case["y_train"]);
        let head = LogisticHead::fit(&x, &y, 1.0, 100).unwrap();
        let k = case["n_classes"].as_u64().unwrap() as usize;
        assert_eq!(head.classes, (0..k).collect::<Vec<_>>(), "{name}");
        let proba = head.predict_proba(&x_test).unwrap();
        let proba: Vec<f64> = proba.iter().copied().collect();
        let tight = fx.array(&format!("{name}.proba_test_tight")).1;
        let dp = max_abs_diff(&proba, &tight);
        assert!(
            dp < 1e-5,
            "{name}: probabilities differ from the optimum by {dp:e}"
        );
        let default = fx.array(&format!("{name}.proba_test")).1;
        let dd = max_abs_diff(&proba, &default);
        assert!(
            dd < 2e-3,
            "{name}: probabilities differ from scikit-learn's fit by {dd:e}"
        );
        let predicted: Vec<usize> = x_test
            .iter()
            .map(|r| {
                let s = head.task_scores(std::slice::from_ref(r), k).unwrap();
                dmlft_eval::scores::argmax(&s[0])
            })
            .collect();
        assert_eq!(predicted, usizes(&case["pred_test"]), "{name}");
        assert_eq!(predicted, usizes(&case["pred_test_tight"]), "{name}");
        let obj = objective(&head, &x, &y, 1.0);
        let best = case["objective_tight"].as_f64().unwrap();
        assert!(
            (obj - best).abs() < 1e-8,
            "{name}: objective {obj} vs optimum {best} ({:e})",
            obj - best
        );
    }
}

#[test]
fn the_binary_head_keeps_scikit_learns_sign_whatever_class_is_more_frequent() {
    // linfa picks its positive class by the label counts: 3 of class 1, 1 of class 0, and the
    // reverse, must both score class 1 with a positive decision on class-1-like inputs.
    let x = vec![
        vec![1.0f32, 0.0],
        vec![0.9, 0.1],
        vec![0.8, 0.0],
        vec![-1.0, 0.0],
    ];
    for y in [vec![1, 1, 1, 0], vec![0, 0, 0, 1]] {
        let head = LogisticHead::fit(&x, &y, 1.0, 100).unwrap();
        let p = head.predict_proba(&[vec![1.0, 0.0]]).unwrap();
        let want = y[0];
        assert!(p[[0, want]] > 0.5, "{y:?}: {p:?}");
    }
}

#[test]
fn classes_missing_from_the_sample_score_minus_infinity() {
    let x = vec![vec![1.0f32], vec![-1.0], vec![0.9], vec![-0.9]];
    let head = LogisticHead::fit(&x, &[0, 2, 0, 2], 1.0, 100).unwrap();
    let s = head.task_scores(&[vec![1.0]], 3).unwrap();
    assert_eq!(s[0][1], f32::NEG_INFINITY);
    assert!(s[0][0] > s[0][2]);
    assert!(LogisticHead::fit(&x, &[1, 1, 1, 1], 1.0, 100).is_err());
}
