//! Renderers of the report: column set, percent formatting, escaping, full precision in CSV and
//! JSON, and a JSON round trip.

use dmlft_eval::report::{
    aggregate, aggregate_with, render_csv, render_json, render_latex, render_markdown,
    AggregateOptions, HolmFamily, HolmSource, Report, RowKind, RunRecord,
};
use dmlft_eval::{InferenceMode, Metric};
use std::collections::BTreeMap;

fn record(dataset: &str, loss: &str, seed: u32, acc: f64) -> RunRecord {
    RunRecord {
        dataset: dataset.into(),
        shots: 8,
        loss: loss.into(),
        mode: InferenceMode::Head,
        pair_key: format!("seed{seed}"),
        metrics: BTreeMap::from([(Metric::Accuracy, acc), (Metric::MacroF1, 0.5)]),
    }
}

fn records() -> Vec<RunRecord> {
    let base = [0.8012, 0.8150, 0.7990, 0.8233, 0.8101];
    let mut out = Vec::new();
    for (s, &b) in base.iter().enumerate() {
        out.push(record("mr", "ce", s as u32, b));
        out.push(record(
            "mr",
            "supcon_0.5",
            s as u32,
            b + 0.01 + 0.003 * s as f64,
        ));
        out.push(record("c&r", "ce", s as u32, b - 0.05));
        out.push(record(
            "c&r",
            "supcon_0.5",
            s as u32,
            b - 0.052 + 0.001 * s as f64,
        ));
    }
    out
}

#[test]
fn markdown_has_every_column_in_percent() {
    let report = aggregate(&records(), "ce", Metric::Accuracy).unwrap();
    let md = render_markdown(&report);
    let header = md.lines().find(|l| l.starts_with("| dataset")).unwrap();
    for col in [
        "shots",
        "loss",
        "mode",
        "n",
        "mean (%)",
        "std (sample)",
        "std_pop (population)",
        "median",
        "CI95 low",
        "CI95 high",
        "diff vs ce",
        "p t-test",
        "p Wilcoxon",
        "p Holm",
        "wins/ties/losses",
    ] {
        assert!(header.contains(col), "missing column {col} in {header}");
    }
    let mr_supcon = md
        .lines()
        .find(|l| l.starts_with("| mr | 8 | supcon_0.5"))
        .unwrap();
    let cells: Vec<&str> = mr_supcon.split('|').map(str::trim).collect();
    // mean of b + 0.01 + 0.003 s over 5 seeds, in percent with 2 decimals.
    let mean = report
        .rows
        .iter()
        .find(|r| r.dataset == "mr" && r.loss == "supcon_0.5")
        .unwrap()
        .mean;
    assert_eq!(cells[6], format!("{:.2}", mean * 100.0));
    assert_eq!(cells[12], "+1.60"); // 0.01 + 0.003 * mean(0..5) = 0.016
    assert_eq!(cells[16], "5/0/0");
    // Baseline rows have no comparison.
    let mr_ce = md.lines().find(|l| l.starts_with("| mr | 8 | ce")).unwrap();
    assert!(mr_ce.ends_with("| - | - | - | - | - |"), "{mr_ce}");
    assert!(md.contains("| (average) | 8 | supcon_0.5 | head | 2 |"));
}

#[test]
fn csv_is_full_precision_and_parses() {
    let report = aggregate(&records(), "ce", Metric::Accuracy).unwrap();
    let text = render_csv(&report).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        [
            "kind",
            "dataset",
            "shots",
            "loss",
            "mode",
            "n",
            "mean",
            "std",
            "std_pop",
            "median",
            "ci_low",
            "ci_high",
            "diff_vs_baseline",
            "p_ttest",
            "p_wilcoxon",
            "p_holm",
            "wins",
            "ties",
            "losses"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.rows.len());
    for (row, rec) in report.rows.iter().zip(&rows) {
        // Exact round trip of the f64 mean.
        assert_eq!(rec[6].parse::<f64>().unwrap(), row.mean);
        assert_eq!(rec[1], row.dataset);
    }
    assert_eq!(&rows.last().unwrap()[0], "average");
    // "c&r" survives (CSV needs no escaping for &).
    assert!(rows.iter().any(|r| &r[1] == "c&r"));
}

#[test]
fn latex_is_booktabs_and_escaped() {
    let report = aggregate(&records(), "ce", Metric::Accuracy).unwrap();
    let tex = render_latex(&report);
    for needle in [
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        // the summaries and the comparisons, each a longtable that fits a page
        "\\begin{longtable}{llllrrrr}",
        "\\begin{longtable}{llllrrr}",
        "\\begin{longtable}{llllrrrrr}",
        "All statistics (3 of 3)",
    ] {
        assert!(tex.contains(needle), "missing {needle}");
    }
    assert!(tex.contains("c\\&r & 8 & ce"), "dataset not escaped");
    assert!(tex.contains("supcon\\_0.5"), "underscore not escaped");
    assert!(tex.contains("mean (\\%)"));
    assert!(!tex.contains(" _"), "raw underscore");
    // Averages are separated by a rule.
    let avg = tex.find("(average)").unwrap();
    assert!(tex[..avg].rfind("\\midrule").unwrap() > tex.find("mr & 8 & supcon").unwrap());
}

#[test]
fn json_round_trips_and_holm_source_is_selectable() {
    let report = aggregate_with(
        &records(),
        &AggregateOptions {
            baseline_loss: "ce".into(),
            metric: Metric::Accuracy,
            holm_source: HolmSource::Wilcoxon,
            holm_family: HolmFamily::PerMethod,
        },
    )
    .unwrap();
    let text = render_json(&report).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    // serde_json's default parser may be off by one ulp; the writer is exact (shortest
    // round-trip digits), which the text check below shows.
    assert_eq!(back.rows.len(), report.rows.len());
    for (b, r) in back.rows.iter().zip(&report.rows) {
        assert_eq!(
            (&b.dataset, &b.loss, b.kind, b.n),
            (&r.dataset, &r.loss, r.kind, r.n)
        );
        assert!((b.mean - r.mean).abs() <= 1e-15 * r.mean.abs());
        assert_eq!(b.comparison.is_some(), r.comparison.is_some());
        assert!(
            text.contains(&format!("\"mean\": {}", r.mean)),
            "mean {} not exact",
            r.mean
        );
    }
    assert_eq!(
        (back.holm_source, back.holm_family, back.percent),
        (HolmSource::Wilcoxon, HolmFamily::PerMethod, true)
    );
    // reports written before the family was selectable read as one family over all
    let old = text.replace("\"holm_family\": \"per_method\",", "");
    assert_ne!(old, text);
    let back: Report = serde_json::from_str(&old).unwrap();
    assert_eq!(back.holm_family, HolmFamily::All);
    let compared: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Cell)
        .filter_map(|r| r.comparison.as_ref())
        .collect();
    assert_eq!(compared.len(), 2);
    // Holm over a family of two Wilcoxon p-values: the smaller is doubled.
    let ps: Vec<f64> = compared.iter().map(|c| c.p_wilcoxon.unwrap()).collect();
    let smallest = ps.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(compared
        .iter()
        .any(|c| c.p_holm == Some((2.0 * smallest).min(1.0))));
}

#[test]
fn non_proportion_metric_is_not_in_percent() {
    let mut report = aggregate(&records(), "ce", Metric::MacroF1).unwrap();
    assert!(report.percent, "every metric so far is a proportion");
    report.percent = false;
    let md = render_markdown(&report);
    assert!(md.contains("| 0.5000 |"), "{md}");
    assert!(!md.contains("mean (%)"));
}
