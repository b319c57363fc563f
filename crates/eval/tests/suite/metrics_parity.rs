//! Metrics against sklearn values in tests/fixtures/metrics.json, within 1e-9 relative.

use crate::common::{assert_close, f64s, fixture, usizes};
use dmlft_eval::Metrics;

#[test]
fn metrics_match_sklearn() {
    let fx = fixture("metrics.json");
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let k = case["num_classes"].as_u64().unwrap() as usize;
        let m = Metrics::compute(
            &usizes(&case["predictions"]),
            &usizes(&case["labels"]),
            k,
            None,
        )
        .unwrap();
        assert_close(
            m.accuracy,
            case["accuracy"].as_f64().unwrap(),
            1e-9,
            &format!("{name} accuracy"),
        );
        assert_close(
            m.macro_f1,
            case["macro_f1"].as_f64().unwrap(),
            1e-9,
            &format!("{name} macro F1"),
        );
        assert_close(
            m.weighted_f1,
            case["weighted_f1"].as_f64().unwrap(),
            1e-9,
            &format!("{name} weighted F1"),
        );
        let (p, r, f) = (
            f64s(&case["precision"]),
            f64s(&case["recall"]),
            f64s(&case["f1"]),
        );
        let support = usizes(&case["support"]);
        for (c, pc) in m.per_class.iter().enumerate() {
            assert_close(pc.precision, p[c], 1e-9, &format!("{name} precision {c}"));
            assert_close(pc.recall, r[c], 1e-9, &format!("{name} recall {c}"));
            assert_close(pc.f1, f[c], 1e-9, &format!("{name} f1 {c}"));
            assert_eq!(pc.support, support[c], "{name} support {c}");
        }
        let confusion: Vec<Vec<usize>> = case["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(usizes)
            .collect();
        assert_eq!(m.confusion, confusion, "{name} confusion");
    }
}
