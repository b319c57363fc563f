//! A baseline with only head predictions (plain CE) is the reference for the proxy and mix rows of
//! the other losses.

use dmlft_eval::report::{aggregate, RunRecord};
use dmlft_eval::{InferenceMode, Metric};
use std::collections::BTreeMap;

fn run(loss: &str, mode: &str, seed: u32, acc: f64) -> RunRecord {
    RunRecord {
        dataset: "mr".into(),
        shots: 16,
        loss: loss.into(),
        mode: mode.parse().unwrap(),
        pair_key: format!("seed={seed}"),
        metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
    }
}

#[test]
fn proxy_rows_are_compared_with_the_baselines_head() {
    let records = vec![
        run("ce", "head", 1, 0.60),
        run("ce", "head", 2, 0.62),
        run("ce", "head", 3, 0.64),
        run("st", "head", 1, 0.61),
        run("st", "head", 2, 0.63),
        run("st", "head", 3, 0.66),
        run("st", "proxy", 1, 0.70),
        run("st", "proxy", 2, 0.71),
        run("st", "proxy", 3, 0.75),
    ];
    let report = aggregate(&records, "ce", Metric::Accuracy).unwrap();
    let proxy = report
        .rows
        .iter()
        .find(|r| r.loss == "st" && r.mode == InferenceMode::Proxy && r.dataset == "mr")
        .unwrap();
    let cmp = proxy
        .comparison
        .as_ref()
        .expect("compared with ce's head runs");
    assert!((cmp.mean_diff - 0.10).abs() < 1e-12, "{}", cmp.mean_diff);
    assert_eq!((cmp.wins, cmp.ties, cmp.losses), (3, 0, 0));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("`head` predictions")),
        "{:?}",
        report.warnings
    );
}
