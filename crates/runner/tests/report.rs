//! `dmlft report` on fake results.

mod common;
use common::{seeds_grid, stderr, Fixture};

fn row<'a>(md: &'a str, starts: &str) -> Option<&'a str> {
    md.lines().find(|l| l.starts_with(starts))
}

#[test]
fn report_tables_every_loss_against_the_baseline() {
    let fx = Fixture::new();
    let extra = "inference = [\"head\", \"proxy\"]";
    let grid = seeds_grid(3, extra)
        + "[losses.ce-pa]\nce_weight = 0.5\n[[losses.ce-pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }\n";
    fx.write("g.toml", &grid);
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.run(&["report", "out", "--plots"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("baseline `ce`"), "{md}");
    assert!(md.contains("| dataset | shots | loss | mode | n |"), "{md}");
    // ce: head only (no proxies); ce-pa: head (compared with ce) and proxy
    let ce = row(&md, "| tiny | 2 | ce | head | 3 |").expect("ce row");
    let pa = row(&md, "| tiny | 2 | ce-pa | head | 3 |").expect("ce-pa head row");
    assert!(row(&md, "| tiny | 2 | ce-pa | proxy | 3 |").is_some());
    // the mean is the mean of the cells' accuracies, and the difference is ce-pa minus ce
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/runs.json")).unwrap(),
    )
    .unwrap();
    let mean_of = |loss: &str| {
        let v: Vec<f64> = json[0]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["loss"] == loss && r["mode"] == "head")
            .map(|r| r["metrics"]["accuracy"].as_f64().unwrap())
            .collect();
        assert_eq!(v.len(), 3);
        v.iter().sum::<f64>() / 3.0
    };
    let cell = |line: &str, i: usize| {
        line.split('|')
            .map(str::trim)
            .nth(i + 1)
            .unwrap()
            .to_string()
    };
    assert_eq!(cell(ce, 5), format!("{:.2}", 100.0 * mean_of("ce")));
    assert_eq!(
        cell(pa, 11),
        format!("{:+.2}", 100.0 * (mean_of("ce-pa") - mean_of("ce")))
    );
    for f in [
        "report.md",
        "report.csv",
        "report.tex",
        "report.json",
        "runs.json",
        "shots.svg",
        "diff-vs-baseline.svg",
    ] {
        assert!(fx.path().join("out/report").join(f).is_file(), "{f}");
    }
    // unknown metric or baseline: a clear error
    let bad = fx.run(&["report", "out", "--metric", "auc"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("auc"),
        "{}",
        stderr(&bad)
    );
    let bad = fx.run(&["report", "out", "--baseline", "nope"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("nope"),
        "{}",
        stderr(&bad)
    );
}
