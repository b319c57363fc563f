//! Statistics against numpy / scipy values in tests/fixtures/stats.json, within 1e-9 relative.

use crate::common::{assert_close, f64s, fixture};
use dmlft_eval::stats::{compare_paired, holm_adjust, summarize, WilcoxonMethod};

const REL: f64 = 1e-9;

#[test]
fn summaries_match_numpy_and_scipy() {
    let fx = fixture("stats.json");
    for case in fx["summary"].as_array().unwrap() {
        let values = f64s(&case["values"]);
        let s = summarize(&values).unwrap();
        let label = format!("{values:?}");
        assert_eq!(s.n, case["n"].as_u64().unwrap() as usize);
        assert_close(
            s.mean,
            case["mean"].as_f64().unwrap(),
            REL,
            &format!("mean {label}"),
        );
        assert_close(
            s.std_pop,
            case["std_pop"].as_f64().unwrap(),
            REL,
            &format!("std_pop {label}"),
        );
        assert_close(
            s.median,
            case["median"].as_f64().unwrap(),
            REL,
            &format!("median {label}"),
        );
        match case["std_sample"].as_f64() {
            Some(want) => assert_close(s.std.unwrap(), want, REL, &format!("std {label}")),
            None => assert_eq!(s.std, None),
        }
        match case["ci95"].as_array() {
            Some(ci) => {
                let got = s.ci.unwrap();
                assert_close(
                    got.low,
                    ci[0].as_f64().unwrap(),
                    REL,
                    &format!("ci low {label}"),
                );
                assert_close(
                    got.high,
                    ci[1].as_f64().unwrap(),
                    REL,
                    &format!("ci high {label}"),
                );
            }
            None => assert_eq!(s.ci, None),
        }
    }
}

#[test]
fn paired_tests_match_scipy() {
    let fx = fixture("stats.json");
    let mut methods = Vec::new();
    for case in fx["paired"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let c = compare_paired(&f64s(&case["candidate"]), &f64s(&case["baseline"])).unwrap();
        assert_close(
            c.mean_diff,
            case["mean_diff"].as_f64().unwrap(),
            REL,
            &format!("{name} mean diff"),
        );
        assert_eq!(
            (c.wins, c.ties, c.losses),
            (
                case["wins"].as_u64().unwrap() as usize,
                case["ties"].as_u64().unwrap() as usize,
                case["losses"].as_u64().unwrap() as usize
            ),
            "{name} wins/ties/losses"
        );
        let t = c.t_test.clone().unwrap();
        match case["ttest_p"].as_f64() {
            Some(want) => assert_close(t.p_value, want, REL, &format!("{name} t-test p")),
            // scipy: NaN when every difference is zero; documented as p = 1 here.
            None => assert_eq!(t.p_value, 1.0, "{name}"),
        }
        match (t.statistic, case["ttest_statistic"].as_f64()) {
            (Some(got), Some(want)) => assert_close(got, want, REL, &format!("{name} t")),
            // scipy: +-inf (serialised as a huge number or null) or NaN at zero variance.
            (None, _) => {}
            (Some(got), None) => panic!("{name}: t = {got} where scipy has none"),
        }
        let w = c.wilcoxon.clone().unwrap();
        assert_close(
            w.statistic,
            case["wilcoxon_statistic"].as_f64().unwrap(),
            REL,
            &format!("{name} W"),
        );
        methods.push(w.method);
        if w.method == WilcoxonMethod::ExactTies && c.n_pairs > 13 {
            // scipy approximates here; the exact value is checked in stats_across.rs
            continue;
        }
        assert_close(
            w.p_value,
            case["wilcoxon_p"].as_f64().unwrap(),
            REL,
            &format!("{name} Wilcoxon p"),
        );
    }
    // The fixture covers every branch of scipy's method="auto" rule.
    for m in [
        WilcoxonMethod::Exact,
        WilcoxonMethod::ExactTies,
        WilcoxonMethod::Asymptotic,
    ] {
        assert!(methods.contains(&m), "no fixture case uses {m:?}");
    }
}

#[test]
fn holm_matches_statsmodels_formula() {
    let fx = fixture("stats.json");
    for case in fx["holm"].as_array().unwrap() {
        let got = holm_adjust(&f64s(&case["p"]));
        let want = f64s(&case["holm"]);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_close(*g, *w, REL, "holm");
        }
    }
}
