//! `dmlft search`: every method gets the same drawn trials, as ordinary cells: they resume after
//! kill -9 without running a finished trial again, and `report --select trial` states the budget.

use crate::common::{seeds_grid, stderr, Fixture, CE_PROXY_ANCHOR};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SPACE: &str = "[search]\nseed = 5\n[search.space]\ntrain.optimizer.lr = { log-uniform = [1e-5, 1e-3] }\nlosses.ce-pa.dml.0.loss.alpha = { uniform = [1, 64] }\n";

fn records(fx: &Fixture) -> Vec<String> {
    fx.cell_files()
        .into_iter()
        .filter_map(|f| f.strip_suffix(".json").map(String::from))
        .collect()
}

#[test]
fn trials_resume_after_kill_9_once_each_and_the_report_states_the_budget() {
    let fx = Fixture::new();
    let grid = seeds_grid(2, "").replace(
        "kind = \"per-class\"",
        "kind = \"per-class\"\ndev_shots = 1",
    ) + CE_PROXY_ANCHOR
        + SPACE;
    fx.write("g.toml", &grid);
    let log = fx.path().join("log");
    let search = || {
        let mut c = fx.dmlft();
        c.args(["search", "g.toml", "--trials", "4"])
            .env("DMLFT_FAKE_LOG", &log);
        c
    };
    let mut child = search().env("DMLFT_FAKE_SLEEP_MS", "100").spawn().unwrap();
    let start = Instant::now();
    while records(&fx).len() < 3 {
        assert!(start.elapsed() < Duration::from_secs(20), "no 3 records");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(records(&fx).len() < 16, "the kill came too late");
    let out = search().output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("search, 4 trials for each of 2 methods (16 cells)"),
        "{}",
        stderr(&out)
    );
    // the results folder's grid states the trials run: its cells are exactly the records
    let mut ids = fx.cell_ids("out/grid.toml");
    ids.sort();
    assert_eq!(records(&fx), ids);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for id in fx.log_ids(&log) {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), 16);
    // only the cell running at the kill ran twice
    assert!(
        counts.values().filter(|&&n| n > 1).count() <= 1,
        "{counts:?}"
    );
    // dev: trial 2 of each method is best
    for id in &ids {
        let path = fx.cells_dir().join(format!("{id}.json"));
        let mut r = fx.record(id);
        let trial = r["axes"]["trial"].as_str().unwrap().to_string();
        let mut head = r["result"]["metrics"]["head"].clone();
        head["accuracy"] = if trial.starts_with("2[") { 0.9 } else { 0.5 }.into();
        r["result"]["dev_metrics"] = serde_json::json!({ "head": head });
        std::fs::write(path, r.to_string()).unwrap();
    }
    let out = fx.run(&["report", "out", "--select", "trial"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains(
            "**Tuning budget:** 4 trials per method, the same for every method (ce, ce-pa)"
        ),
        "{md}"
    );
    assert!(md.contains("### Sensitivity to the trial"), "{md}");
    assert!(md.contains("| - | tiny | 2 | ce | 4 |"), "{md}");
    assert!(md.contains("| - | tiny | 2 | ce | 2[lr="), "{md}");
    assert!(md.contains("| - | tiny | 2 | ce-pa | 2[lr="), "{md}");
    // a grid without [search] is refused by `search`
    fx.write("plain.toml", &seeds_grid(1, ""));
    let out = fx.run(&["search", "plain.toml"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no `[search]` table"),
        "{}",
        stderr(&out)
    );
}
