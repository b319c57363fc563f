//! The runner with the fake executor: resume after kill -9, concurrent runners, stale locks,
//! shards, --retry-failed, Ctrl-C, and the records it writes.

use crate::common::{seeds_grid, stderr, Fixture};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn records(fx: &Fixture) -> Vec<String> {
    fx.cell_files()
        .into_iter()
        .filter_map(|f| f.strip_suffix(".json").map(String::from))
        .collect()
}

fn no_leftovers(fx: &Fixture) {
    let odd: Vec<String> = fx
        .cell_files()
        .into_iter()
        .filter(|f| !f.ends_with(".json") || f.contains(".tmp."))
        .collect();
    assert!(odd.is_empty(), "leftover files: {odd:?}");
}

#[test]
fn records_have_the_documented_content_and_rerun_skips_done_cells() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(3, ""));
    let log = fx.path().join("log");
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids = fx.cell_ids("g.toml");
    assert_eq!(ids.len(), 3);
    assert_eq!(
        records(&fx),
        ids.iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let r = fx.record(&ids[0]);
    assert_eq!(r["schema_version"], dmlft::store::SCHEMA_VERSION);
    assert_eq!(r["data_fingerprint"].as_str().map(str::len), Some(16));
    assert_eq!(r["cell_id"], ids[0].as_str());
    assert_eq!(r["status"], "done");
    assert_eq!(r["cell"]["loss_name"], "ce");
    assert_eq!(r["device"], "cpu");
    assert!(r["result"]["metrics"]["head"]["accuracy"]
        .as_f64()
        .is_some());
    assert!(r["started_at"].as_str().unwrap().ends_with('Z') && r["host"].as_str().is_some());
    assert_eq!(
        std::fs::read_to_string(fx.path().join("out/grid.toml")).unwrap(),
        seeds_grid(3, "")
    );
    // second run: nothing to do
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(fx.log_ids(&log).len(), 3, "done cells must not run again");
    no_leftovers(&fx);
}

#[test]
fn records_of_an_older_schema_are_stale_reported_and_re_run() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let log = fx.path().join("log");
    let run = || {
        fx.dmlft()
            .args(["run", "g.toml"])
            .env("DMLFT_FAKE_LOG", &log)
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let ids = fx.cell_ids("g.toml");
    // Make the first record one of the previous schema.
    let path = fx.cells_dir().join(format!("{}.json", ids[0]));
    let mut old = fx.record(&ids[0]);
    let previous = dmlft::store::SCHEMA_VERSION - 1;
    old["schema_version"] = previous.into();
    std::fs::write(&path, old.to_string()).unwrap();
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "stale (schema {previous}, now {}): will be re-run",
            dmlft::store::SCHEMA_VERSION
        )),
        "{said}"
    );
    // Only the stale cell ran again, and its record is current now.
    let ran = fx.log_ids(&log);
    assert_eq!(ran.len(), 3, "{ran:?}");
    assert_eq!(ran[2], ids[0]);
    assert_eq!(
        fx.record(&ids[0])["schema_version"],
        dmlft::store::SCHEMA_VERSION
    );
}

#[test]
fn resume_after_kill_9_runs_every_cell_exactly_once() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(10, ""));
    let ids = fx.cell_ids("g.toml");
    let log = fx.path().join("log");
    let mut child = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .env("DMLFT_FAKE_SLEEP_MS", "150")
        .spawn()
        .unwrap();
    wait_for(|| records(&fx).len() >= 3, "three finished cells");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let finished_before = records(&fx).len();
    assert!(
        finished_before < ids.len(),
        "the kill came too late to test anything"
    );
    // the killed runner's lock is stale now; a re-run takes it over
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(records(&fx), expected);
    no_leftovers(&fx);
    // every cell ran once, except at most the one that was running at the kill
    let mut counts = BTreeMap::new();
    for id in fx.log_ids(&log) {
        *counts.entry(id).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), ids.len());
    assert!(
        counts.values().filter(|&&c| c > 1).count() <= 1,
        "{counts:?}"
    );
    assert!(counts.values().all(|&c| c <= 2));
}

#[test]
fn two_concurrent_runners_run_each_cell_once() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(12, ""));
    let log = fx.path().join("log");
    let spawn = || {
        fx.dmlft()
            .args(["run", "g.toml", "--jobs", "2"])
            .env("DMLFT_FAKE_LOG", &log)
            .env("DMLFT_FAKE_SLEEP_MS", "60")
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let ran = fx.log_ids(&log);
    let unique: BTreeSet<_> = ran.iter().cloned().collect();
    assert_eq!(ran.len(), 12, "each cell exactly once: {ran:?}");
    assert_eq!(unique.len(), 12);
    assert_eq!(records(&fx).len(), 12);
    no_leftovers(&fx);
}

#[test]
fn stale_lock_is_taken_over_and_live_lock_is_respected() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let ids = fx.cell_ids("g.toml");
    std::fs::create_dir_all(fx.cells_dir()).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    // a dead process of this host holds cell 0; a live one (this test) holds cell 1
    let dead = serde_json::json!({ "pid": 4_000_000u32, "host": host, "started_at": "x" });
    let live = serde_json::json!({ "pid": std::process::id(), "host": host, "started_at": "x" });
    std::fs::write(
        fx.cells_dir().join(format!("{}.lock", ids[0])),
        dead.to_string(),
    )
    .unwrap();
    std::fs::write(
        fx.cells_dir().join(format!("{}.lock", ids[1])),
        live.to_string(),
    )
    .unwrap();
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.record(&ids[0])["status"], "done");
    assert!(
        !fx.cells_dir().join(format!("{}.json", ids[1])).exists(),
        "a live lock must be respected"
    );
    assert!(
        stderr(&out).contains("1 running elsewhere"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(fx.cells_dir().join(format!("{}.lock", ids[1]))).unwrap();
    assert!(fx.run(&["run", "g.toml"]).status.success());
    assert_eq!(records(&fx).len(), 2);
}

#[test]
fn shards_partition_the_grid_by_index() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(7, ""));
    let ids = fx.cell_ids("g.toml");
    let log = fx.path().join("log");
    for i in 0..3 {
        let shard = format!("{i}/3");
        let out = fx
            .dmlft()
            .args(["run", "g.toml", "--shard", &shard])
            .env("DMLFT_FAKE_LOG", &log)
            .output()
            .unwrap();
        assert!(out.status.success());
        let ran = fx.log_ids(&log);
        let expected: Vec<&String> = ids
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 3 == i)
            .map(|(_, id)| id)
            .collect();
        let this_shard: Vec<&String> = ran.iter().filter(|id| expected.contains(id)).collect();
        assert_eq!(this_shard.len(), expected.len(), "shard {shard}");
    }
    let ran = fx.log_ids(&log);
    assert_eq!(ran.len(), 7);
    assert_eq!(ran.iter().collect::<BTreeSet<_>>().len(), 7);
}

#[test]
fn failed_cells_are_recorded_skipped_and_retried_on_request() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(3, ""));
    let ids = fx.cell_ids("g.toml");
    let log = fx.path().join("log");
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .env("DMLFT_FAKE_FAIL", &ids[1][..6])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a failed cell gives exit code 2: {}",
        stderr(&out)
    );
    let failed = fx.record(&ids[1]);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failed_step"], 3);
    assert!(failed["error"].as_str().unwrap().contains("fake failure"));
    assert_eq!(fx.record(&ids[0])["status"], "done");
    assert_eq!(
        fx.record(&ids[2])["status"],
        "done",
        "the grid goes on after a failure"
    );
    // without --retry-failed the failed cell is skipped, and the grid is still incomplete:
    // exit 2 and a final line that says so
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_string();
    assert!(
        last.contains("grid incomplete: 1 failed cell(s) (0 in this run, 1 from earlier runs)")
            && last.contains("--retry-failed"),
        "{last}"
    );
    assert_eq!(fx.log_ids(&log).len(), 3);
    // with it, it runs again (and succeeds now)
    assert!(fx
        .dmlft()
        .args(["run", "g.toml", "--retry-failed"])
        .env("DMLFT_FAKE_LOG", &log)
        .status()
        .unwrap()
        .success());
    assert!(
        fx.run(&["run", "g.toml"]).status.success(),
        "complete again: exit 0"
    );
    assert_eq!(
        fx.log_ids(&log),
        vec![
            ids[0].clone(),
            ids[1].clone(),
            ids[2].clone(),
            ids[1].clone()
        ]
    );
    assert_eq!(fx.record(&ids[1])["status"], "done");
    // plan counts what is done
    let plan: serde_json::Value =
        serde_json::from_slice(&fx.run(&["plan", "g.toml", "--json"]).stdout).unwrap();
    assert_eq!(plan["done"], 3);
    assert_eq!(plan["rate_source"], "measured");
}

#[test]
fn ctrl_c_leaves_no_lock_no_temp_file_and_no_record_for_the_cell_in_progress() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(6, ""));
    let mut child = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_SLEEP_MS", "400")
        .spawn()
        .unwrap();
    wait_for(
        || !records(&fx).is_empty() && fx.cell_files().iter().any(|f| f.ends_with(".lock")),
        "a running cell",
    );
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let done = records(&fx).len();
    assert!(done < 6);
    no_leftovers(&fx);
    assert!(fx.run(&["run", "g.toml"]).status.success());
    assert_eq!(records(&fx).len(), 6);
}

#[test]
fn limit_runs_at_most_n_cells() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(5, ""));
    assert!(fx.run(&["run", "g.toml", "--limit", "2"]).status.success());
    assert_eq!(records(&fx).len(), 2);
}
