//! `dmlft report` on fake results.

use crate::common::{seeds_grid, stderr, Fixture};

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

#[test]
fn failed_cells_are_counted_listed_and_warned_about() {
    let fx = Fixture::new();
    // 2 losses x 4 seeds; every ce-pa cell fails at lr 2e-5, and one ce cell at lr 1e-5
    let grid = seeds_grid(4, "")
        + "[losses.ce-pa]\nce_weight = 0.5\n[[losses.ce-pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }\n[train.optimizer]\nlr = [1e-5, 2e-5]\n";
    fx.write("g.toml", &grid);
    let plan: serde_json::Value =
        serde_json::from_slice(&fx.run(&["plan", "g.toml", "--json"]).stdout).unwrap();
    let cells = plan["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 16);
    let mut failing = Vec::new();
    for c in cells {
        let lr = c["settings"]["train.optimizer.lr"].as_str().unwrap();
        let fails = (c["loss"] == "ce-pa" && lr == "0.00002")
            || (c["loss"] == "ce" && lr == "0.00001" && c["seed"] == 2);
        if fails {
            failing.push(c["id"].as_str().unwrap()[..10].to_string());
        }
    }
    assert_eq!(failing.len(), 5);
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_FAIL", failing.join(","))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout.clone()).unwrap();
    // per row: how many failed, of how many, and the first error
    assert!(
        md.contains("| tiny | 2 | ce | 1 | 4 | fake failure requested by DMLFT_FAKE_FAIL |"),
        "{md}"
    );
    assert!(md.contains("| tiny | 2 | ce-pa | 4 | 4 |"), "{md}");
    // the section where every ce-pa cell failed is there, with its done ce rows
    let section = md
        .split("### Settings: train.optimizer.lr=0.00002")
        .nth(1)
        .expect("the lr 2e-5 section");
    assert!(
        section.contains("| tiny | 2 | ce | head | 4 |"),
        "{section}"
    );
    assert!(
        section.contains("Failed cells in this section: 4"),
        "{section}"
    );
    // and every failed cell is listed, with a warning on stderr
    assert!(md.contains("## Failed cells (5)"), "{md}");
    assert_eq!(
        md.matches("| fake failure requested by DMLFT_FAKE_FAIL |")
            .count(),
        5 + 2
    );
    assert!(
        stderr(&out).contains("warning: 5 of 16 cells failed"),
        "{}",
        stderr(&out)
    );
    for f in ["failed.csv", "failed.json"] {
        assert!(fx.path().join("out/report").join(f).is_file(), "{f}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/failed.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 5);
}

#[test]
fn a_grid_whose_every_cell_failed_is_still_reported() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let ids = fx.cell_ids("g.toml");
    let prefixes: Vec<&str> = ids.iter().map(|i| &i[..10]).collect();
    fx.dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_FAIL", prefixes.join(","))
        .output()
        .unwrap();
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("No cell of these settings is done: all 2 failed."),
        "{md}"
    );
    assert!(md.contains("## Failed cells (2)"), "{md}");
}

#[test]
fn tests_that_cannot_be_computed_say_so() {
    let fx = Fixture::new();
    // 2 seeds: one degree of freedom, no meaningful t-test
    let grid = seeds_grid(2, "")
        + "[losses.ce-pa]\nce_weight = 0.5\n[[losses.ce-pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }\n";
    fx.write("g.toml", &grid);
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let md = String::from_utf8(fx.run(&["report", "out"]).stdout).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| tiny | 2 | ce-pa | head | 2 |"))
        .expect("ce-pa row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[13], "n/a", "t-test on 2 pairs: {row}");
    assert_eq!(cells[15], "n/a", "Holm of an n/a test: {row}");
    assert_ne!(cells[14], "n/a", "Wilcoxon is defined: {row}");
    assert!(
        md.contains("the t-test needs at least 3 pairs")
            && md.contains("p < 0.05 needs at least 6"),
        "{md}"
    );
    assert!(!md.contains("<0.0001"), "{md}");
}

#[test]
fn the_default_baseline_is_a_fine_tuned_loss_before_a_setfit_variant() {
    use crate::common::HEAD;
    let fx = Fixture::new();
    let base = format!("{HEAD}shots = [2]\nseeds = [1, 2, 3]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.a-setfit]\nmethod = \"setfit\"\n");
    for (grid, baseline) in [
        (format!("{base}[losses.b]\n"), "baseline `b`"),
        (base.clone(), "baseline `a-setfit`"),
    ] {
        fx.write("g.toml", &grid);
        let _ = std::fs::remove_dir_all(fx.path().join("out"));
        let out = fx.run(&["run", "g.toml"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = fx.run(&["report", "out"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let md = String::from_utf8(out.stdout).unwrap();
        assert!(md.contains(baseline), "want {baseline}: {md}");
    }
}
