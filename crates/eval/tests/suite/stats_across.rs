//! Statistics across tasks and methods against scipy / statsmodels / scikit-posthocs values in
//! tests/fixtures/stats_across.json (scripts/make_stats_fixtures.py).

use crate::common::{assert_close, f64s, fixture};
use dmlft_eval::stats::{
    compare_across_tasks, compare_paired, detectable_d_z, friedman, nemenyi_critical_difference,
    nemenyi_p_values, paired_t_power, studentized_range_quantile, wilcoxon_holm_p_values,
    wilcoxon_signed_rank, WilcoxonMethod,
};
use serde_json::Value;

const REL: f64 = 1e-9;

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(f64s).collect()
}

fn assert_matrix(got: &[Vec<f64>], want: &[Vec<f64>], abs: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: size");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (j, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (a - b).abs() <= abs,
                "{what}[{i}][{j}]: got {a:e}, want {b:e}"
            );
        }
    }
}

#[test]
fn across_tasks_matches_scipy_and_the_bootstrap_to_its_monte_carlo_error() {
    let fx = fixture("stats_across.json");
    for case in fx["across_tasks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let diffs: Vec<Vec<f64>> = rows(&case["candidate"])
            .iter()
            .zip(rows(&case["baseline"]))
            .map(|(c, b)| c.iter().zip(&b).map(|(x, y)| x - y).collect())
            .collect();
        let r = compare_across_tasks(&diffs).unwrap();
        for (g, w) in r.task_mean_diffs.iter().zip(f64s(&case["task_mean_diffs"])) {
            assert_close(*g, w, REL, &format!("{name} task mean"));
        }
        assert_close(r.mean_diff, case["mean_diff"].as_f64().unwrap(), REL, name);
        let t = f64s(&case["t_interval"]);
        let ti = r.t_interval.unwrap();
        assert_close(ti.low, t[0], REL, &format!("{name} t low"));
        assert_close(ti.high, t[1], REL, &format!("{name} t high"));
        let tp = r.t_test.as_ref().unwrap().p_value;
        assert_close(tp, case["ttest_p"].as_f64().unwrap(), REL, name);
        let wp = r.wilcoxon.as_ref().unwrap().p_value;
        assert_close(wp, case["wilcoxon_p"].as_f64().unwrap(), REL, name);
        assert_eq!(r.tasks_ahead as u64, case["tasks_ahead"].as_u64().unwrap());
        assert_eq!(
            r.tasks_behind as u64,
            case["tasks_behind"].as_u64().unwrap()
        );
        // The reference used 400 000 resamples of numpy's generator, this 10 000 of another:
        // the 2.5% / 97.5% quantiles agree to their Monte Carlo error, about
        // sqrt(0.025 * 0.975 / B) / phi(1.96) = 0.027 bootstrap standard errors; 5 of those.
        let se = case["bootstrap_se"].as_f64().unwrap();
        let b = f64s(&case["bootstrap_interval"]);
        let tol = 5.0 * 0.027 * se;
        let bi = r.bootstrap_interval;
        assert!(
            (bi.low - b[0]).abs() < tol,
            "{name}: {} vs {} (tol {tol})",
            bi.low,
            b[0]
        );
        assert!(
            (bi.high - b[1]).abs() < tol,
            "{name}: {} vs {} (tol {tol})",
            bi.high,
            b[1]
        );
    }
}

#[test]
fn friedman_and_posthocs_match_scipy_and_scikit_posthocs() {
    let fx = fixture("stats_across.json");
    let mut wilcoxon_checked = 0;
    for case in fx["friedman"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let blocks = rows(&case["blocks"]);
        let f = friedman(&blocks).unwrap();
        assert_close(
            f.statistic,
            case["friedman_statistic"].as_f64().unwrap(),
            REL,
            name,
        );
        assert_close(f.p_value, case["friedman_p"].as_f64().unwrap(), 1e-8, name);
        for (g, w) in f.average_ranks.iter().zip(f64s(&case["average_ranks"])) {
            assert_close(*g, w, REL, &format!("{name} average rank"));
        }
        let k = f.n_methods;
        let q = studentized_range_quantile(0.95, k) / std::f64::consts::SQRT_2;
        assert_close(q, case["nemenyi_q_05"].as_f64().unwrap(), 1e-8, name);
        let cd = nemenyi_critical_difference(k, f.n_blocks, 0.05);
        assert_close(cd, case["nemenyi_cd_05"].as_f64().unwrap(), 1e-8, name);
        let cd10 = nemenyi_critical_difference(k, f.n_blocks, 0.10);
        assert_close(cd10, case["nemenyi_cd_10"].as_f64().unwrap(), 1e-8, name);
        let nem = nemenyi_p_values(&f.average_ranks, f.n_blocks);
        assert_matrix(
            &nem,
            &rows(&case["nemenyi_p"]),
            1e-9,
            &format!("{name} Nemenyi"),
        );
        if let Some(want) = case["wilcoxon_holm_p"].as_array() {
            let want: Vec<Vec<f64>> = want.iter().map(f64s).collect();
            let got = wilcoxon_holm_p_values(&blocks).unwrap();
            assert_matrix(&got, &want, 1e-12, &format!("{name} Wilcoxon-Holm"));
            wilcoxon_checked += 1;
        }
    }
    assert!(wilcoxon_checked > 0);
}

#[test]
fn effect_size_and_difference_interval_match_numpy_and_scipy() {
    let fx = fixture("stats_across.json");
    for case in fx["effect"].as_array().unwrap() {
        let d = f64s(&case["diffs"]);
        let c = compare_paired(&d, &vec![0.0; d.len()]).unwrap();
        assert_close(c.d_z.unwrap(), case["d_z"].as_f64().unwrap(), REL, "d_z");
        let want = f64s(&case["diff_ci95"]);
        let ci = c.diff_ci.unwrap();
        assert_close(ci.low, want[0], REL, "diff ci low");
        assert_close(ci.high, want[1], REL, "diff ci high");
    }
}

#[test]
fn power_matches_scipy_and_statsmodels() {
    let fx = fixture("stats_across.json");
    for case in fx["power"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let alpha = case["alpha"].as_f64().unwrap();
        let what = format!("n {n} alpha {alpha}");
        let dz = detectable_d_z(n, alpha, 0.8).unwrap();
        assert_close(dz, case["detectable_d_z"].as_f64().unwrap(), 1e-6, &what);
        let p = paired_t_power(1.0, n, alpha);
        assert_close(p, case["power_at_d_z_1"].as_f64().unwrap(), 1e-7, &what);
    }
}

#[test]
fn wilcoxon_with_ties_is_exact_beyond_scipys_permutation_limit() {
    let fx = fixture("stats_across.json");
    let mut beyond = 0;
    for case in fx["wilcoxon_ties"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let d = f64s(&case["diffs"]);
        let w = wilcoxon_signed_rank(&d).unwrap();
        assert_close(w.statistic, case["statistic"].as_f64().unwrap(), REL, name);
        match case["exact_p"].as_f64() {
            Some(exact) => {
                assert_eq!(w.method, WilcoxonMethod::ExactTies, "{name}");
                assert_close(w.p_value, exact, 1e-12, name);
                let scipy = case["scipy_p"].as_f64().unwrap();
                if d.len() > 13 {
                    // scipy's normal approximation is not the exact value
                    assert!((w.p_value - scipy).abs() > 1e-4, "{name}");
                    beyond += 1;
                }
            }
            None => {
                assert_eq!(w.method, WilcoxonMethod::Asymptotic, "{name}");
                assert_close(w.p_value, case["scipy_p"].as_f64().unwrap(), REL, name);
            }
        }
    }
    assert!(beyond > 0);
}

/// `dmlft report --holm-family`: each row's Holm p within its family equals statsmodels' over
/// the same rows' paired t-tests (proxy rows compared with the baseline's head predictions).
#[test]
fn holm_families_match_statsmodels() {
    use dmlft_eval::report::{aggregate_with, AggregateOptions, HolmFamily, HolmSource, RowKind};
    use dmlft_eval::{InferenceMode, Metric, RunRecord};
    let fx = fixture("stats_across.json");
    let case = &fx["holm_families"];
    let runs: Vec<RunRecord> = case["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| RunRecord {
            dataset: r["dataset"].as_str().unwrap().into(),
            shots: 8,
            loss: r["loss"].as_str().unwrap().into(),
            mode: r["mode"]
                .as_str()
                .unwrap()
                .parse::<InferenceMode>()
                .unwrap(),
            pair_key: format!("seed={}", r["seed"]),
            metrics: [(Metric::Accuracy, r["accuracy"].as_f64().unwrap())].into(),
        })
        .collect();
    for (family, key) in [
        (HolmFamily::All, "holm_all"),
        (HolmFamily::PerMethod, "holm_per_method"),
        (HolmFamily::Primary, "holm_primary"),
    ] {
        let options = AggregateOptions {
            baseline_loss: "ce".into(),
            metric: Metric::Accuracy,
            holm_source: HolmSource::TTest,
            holm_family: family,
        };
        let report = aggregate_with(&runs, &options).unwrap();
        let want = case["rows"].as_array().unwrap();
        for w in want {
            let row = report
                .rows
                .iter()
                .find(|r| {
                    r.kind == RowKind::Cell
                        && r.dataset == w["dataset"].as_str().unwrap()
                        && r.loss == w["loss"].as_str().unwrap()
                        && r.mode.to_string() == w["mode"].as_str().unwrap()
                })
                .unwrap();
            let c = row.comparison.as_ref().unwrap();
            let what = format!("{key} {} {} {}", row.dataset, row.loss, row.mode);
            assert_close(
                c.p_ttest.unwrap(),
                w["p_ttest"].as_f64().unwrap(),
                REL,
                &what,
            );
            assert_close(c.p_holm.unwrap(), w[key].as_f64().unwrap(), REL, &what);
        }
    }
}

/// The majority-class and chance levels (the tables' reference rows, the figures' lines) equal
/// scikit-learn's metrics of the constant majority answer and of uniform guessing's expected
/// confusion matrix.
#[test]
fn reference_levels_match_scikit_learn() {
    use dmlft_eval::report::reference_values;
    use dmlft_eval::Metric;
    let fx = fixture("stats_across.json");
    for case in fx["reference_levels"].as_array().unwrap() {
        let counts: Vec<usize> = case["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as usize)
            .collect();
        for metric in [
            Metric::Accuracy,
            Metric::MacroF1,
            Metric::WeightedF1,
            Metric::PositiveF1,
        ] {
            let got = reference_values(&counts, metric, "any");
            match case.get(metric.as_str()) {
                Some(want) => {
                    let want = f64s(want);
                    let (majority, chance) = got.unwrap();
                    let what = format!("{counts:?} {metric}");
                    assert_close(majority, want[0], REL, &format!("{what} majority"));
                    assert_close(chance, want[1], REL, &format!("{what} chance"));
                }
                None => assert_eq!(got, None, "{counts:?} {metric}"),
            }
        }
    }
}
