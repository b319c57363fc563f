//! `dmlft report --select AXIS`: per dataset, shots and loss, the value of a swept setting with
//! the best mean dev accuracy is chosen, and only its cells are reported. The fake executor's
//! records get dev metrics written in by the test, so the right choice is known.

use crate::common::{seeds_grid, stderr, Fixture, CE_PROXY_ANCHOR};

/// 3 seeds x lr {0.001, 0.002} x {ce, ce-pa}, run by the fake executor.
fn run_grid(fx: &Fixture) {
    let grid = seeds_grid(3, "").replace(
        "[protocol]\nkind = \"per-class\"",
        "[protocol]\nkind = \"per-class\"\ndev_shots = 1\n[train.optimizer]\nlr = [0.001, 0.002]",
    ) + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Writes a dev accuracy into every record: `dev(loss, lr value, seed)`.
fn write_dev(fx: &Fixture, dev: impl Fn(&str, &str, &str) -> f64) {
    for file in fx.cell_files() {
        let id = file.trim_end_matches(".json");
        let mut r = fx.record(id);
        let (loss, lr, seed) = (
            r["axes"]["loss"].as_str().unwrap().to_string(),
            r["axes"]["train.optimizer.lr"]
                .as_str()
                .expect("lr axis")
                .to_string(),
            r["axes"]["seed"].as_str().unwrap().to_string(),
        );
        let mut head = r["result"]["metrics"]["head"].clone();
        head["accuracy"] = dev(&loss, &lr, &seed).into();
        r["result"]["dev_metrics"] = serde_json::json!({ "head": head });
        r["result"]["dev_size"] = 2.into();
        std::fs::write(fx.cells_dir().join(&file), r.to_string()).unwrap();
    }
}

#[test]
fn each_loss_is_reported_at_its_best_dev_value() {
    let fx = Fixture::new();
    run_grid(&fx);
    // ce is best on dev at 0.001, ce-pa at 0.002 (by mean: one seed of ce-pa prefers 0.001)
    write_dev(&fx, |loss, lr, seed| match (loss, lr, seed) {
        ("ce", "0.001", _) => 0.9,
        ("ce-pa", "0.001", "1") => 0.95,
        ("ce-pa", "0.002", _) => 0.8,
        _ => 0.5,
    });
    let out = fx.run(&["report", "out", "--select", "lr"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("## Chosen on dev: `train.optimizer.lr`"),
        "{md}"
    );
    assert!(
        md.contains("| - | tiny | 2 | ce | 0.001 | 0.001: 90.00 (3/0); 0.002: 50.00 (3/0) |"),
        "{md}"
    );
    assert!(
        md.contains("| - | tiny | 2 | ce-pa | 0.002 | 0.001: 65.00 (3/0); 0.002: 80.00 (3/0) |"),
        "{md}"
    );
    // each method at every lr beside the choice, against the baseline
    assert!(
        md.contains("### Sensitivity to `train.optimizer.lr`"),
        "{md}"
    );
    let row = md
        .lines()
        .find(|l| {
            l.starts_with("| - | tiny | 2 | ce-pa | ") && l.contains(" (+") | l.contains(" (-")
        })
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        row.contains("at every value |") || row.contains("depends on the value"),
        "{row}"
    );
    assert!(fx.path().join("out/report/sensitivity.csv").is_file());
    // one section (lr is no longer a setting), whose runs are exactly the chosen cells' test metrics
    assert!(!md.contains("### Settings"), "{md}");
    let runs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/runs.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["settings"], "");
    let mut expected: Vec<(String, String, f64)> = Vec::new();
    for file in fx.cell_files() {
        let r = fx.record(file.trim_end_matches(".json"));
        let chosen = if r["axes"]["loss"] == "ce" {
            "0.001"
        } else {
            "0.002"
        };
        if r["axes"]["train.optimizer.lr"] == chosen {
            for (mode, m) in r["result"]["metrics"].as_object().unwrap() {
                let loss = r["axes"]["loss"].as_str().unwrap().to_string();
                expected.push((
                    format!("{loss}/{mode}"),
                    r["axes"]["seed"].to_string(),
                    m["accuracy"].as_f64().unwrap(),
                ));
            }
        }
    }
    let mut got: Vec<(String, String, f64)> = runs[0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["loss"].as_str().unwrap(),
                    r["mode"].as_str().unwrap()
                ),
                format!(
                    "\"{}\"",
                    r["pair_key"].as_str().unwrap().trim_start_matches("seed=")
                ),
                r["metrics"]["accuracy"].as_f64().unwrap(),
            )
        })
        .collect();
    expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(got, expected);
    // the choice is also written as JSON
    let selection: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/selection.json")).unwrap(),
    )
    .unwrap();
    // `lr` named the swept setting by its last key
    assert_eq!(selection["axis"], "train.optimizer.lr");
    assert_eq!(selection["choices"].as_array().unwrap().len(), 2);
}

#[test]
fn a_tie_goes_to_the_first_value() {
    let fx = Fixture::new();
    run_grid(&fx);
    write_dev(&fx, |_, _, _| 0.7);
    let out = fx.run(&["report", "out", "--select", "lr"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| - | tiny | 2 | ce | 0.001 |"), "{md}");
    assert!(md.contains("| - | tiny | 2 | ce-pa | 0.001 |"), "{md}");
}

#[test]
fn selection_without_dev_metrics_or_on_an_unknown_axis_is_refused() {
    let fx = Fixture::new();
    run_grid(&fx);
    // the fake executor records no dev metrics
    let out = fx.run(&["report", "out", "--select", "lr"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no dev metrics") && stderr(&out).contains("dev_shots"),
        "{}",
        stderr(&out)
    );
    write_dev(&fx, |_, _, _| 0.7);
    let out = fx.run(&["report", "out", "--select", "la"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no cell has the swept setting `la`")
            && stderr(&out).contains("train.optimizer.lr"),
        "{}",
        stderr(&out)
    );
    // a results folder that does not exist is named as such
    let out = fx.run(&["report", "nowhere"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no such results folder"),
        "{}",
        stderr(&out)
    );
}

/// With a grid still running, a choice made on fewer cells, or without one of the values, says
/// it is provisional; complete choices do not.
#[test]
fn choices_on_incomplete_values_are_marked_provisional() {
    let fx = Fixture::new();
    run_grid(&fx);
    write_dev(&fx, |loss, lr, _| match (loss, lr) {
        ("ce", "0.002") => 0.9,
        _ => 0.5,
    });
    // ce: one cell of lr 0.002 is not done yet; ce-pa: no cell of 0.001 is
    for file in fx.cell_files() {
        let r = fx.record(file.trim_end_matches(".json"));
        let (loss, lr, seed) = (
            &r["axes"]["loss"],
            &r["axes"]["train.optimizer.lr"],
            &r["axes"]["seed"],
        );
        if (loss == "ce" && lr == "0.002" && seed == "3") || (loss == "ce-pa" && lr == "0.001") {
            std::fs::remove_file(fx.cells_dir().join(&file)).unwrap();
        }
    }
    let out = fx.run(&["report", "out", "--select", "lr"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains(
            "| - | tiny | 2 | ce | 0.002 (provisional) | 0.001: 50.00 (3/0); 0.002: 90.00 (2/0) |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| - | tiny | 2 | ce-pa | 0.002 (provisional) | 0.002: 50.00 (3/0) |"),
        "{md}"
    );
    // without the grid's copy, a value with fewer records than another is still marked; a
    // value with no record cannot be seen
    std::fs::remove_file(fx.path().join("out/grid.toml")).unwrap();
    let md = String::from_utf8(fx.run(&["report", "out", "--select", "lr"]).stdout).unwrap();
    assert!(
        md.contains("| - | tiny | 2 | ce | 0.002 (provisional) |"),
        "{md}"
    );
    assert!(
        md.contains("| - | tiny | 2 | ce-pa | 0.002 | 0.002: 50.00 (3/0) |"),
        "{md}"
    );
    // complete again: no mark
    let fx = Fixture::new();
    run_grid(&fx);
    write_dev(&fx, |_, _, _| 0.7);
    let md = String::from_utf8(fx.run(&["report", "out", "--select", "lr"]).stdout).unwrap();
    assert!(!md.contains("(provisional) |"), "{md}");
}
