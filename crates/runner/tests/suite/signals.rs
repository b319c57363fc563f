//! Signals to a real `dmlft run` process (fake executor): two SIGTERMs a few milliseconds apart,
//! as `timeout` and schedulers send them to a process and its group, are one request to stop,
//! not "Ctrl-C twice"; a second signal after the grace period exits at once; neither leaves a
//! lock or a partial record behind.

use crate::common::{seeds_grid, Fixture};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn leftovers(fx: &Fixture) -> Vec<String> {
    fx.cell_files()
        .into_iter()
        .filter(|f| !f.ends_with(".json") || f.contains(".tmp."))
        .collect()
}

/// A run whose cells take 1 s (10 steps of 100 ms), stopped while one holds its lock.
fn running(fx: &Fixture) -> Child {
    let child = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_SLEEP_MS", "1000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        || fx.cell_files().iter().any(|f| f.ends_with(".lock")),
        "a running cell",
    );
    child
}

#[test]
fn two_sigterms_milliseconds_apart_never_skip_cleanup() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(4, ""));
    for (try_no, gap_ms) in [5u64, 15, 30, 50].into_iter().enumerate() {
        let child = running(&fx);
        signal(&child, "-TERM");
        std::thread::sleep(Duration::from_millis(gap_ms));
        signal(&child, "-TERM");
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "try {try_no}: {err}");
        assert!(
            !err.contains("exiting now"),
            "try {try_no}: a repeat {gap_ms} ms later was taken as a second Ctrl-C: {err}"
        );
        assert!(
            leftovers(&fx).is_empty(),
            "try {try_no} ({gap_ms} ms apart): left {:?}",
            leftovers(&fx)
        );
        // the stopped cells are not done; start afresh for the next try
        let _ = std::fs::remove_dir_all(fx.path().join("out"));
    }
}

#[test]
fn a_second_interrupt_after_the_grace_period_exits_at_once_without_leaving_locks() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    // 60 s per cell: the first interrupt alone would stop only after the current 6 s step
    let child = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_SLEEP_MS", "60000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        || fx.cell_files().iter().any(|f| f.ends_with(".lock")),
        "a running cell",
    );
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(2300));
    let sent = Instant::now();
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "the second interrupt did not exit at once"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("removed 1 lock file(s)"), "{err}");
    assert!(leftovers(&fx).is_empty(), "left {:?}", leftovers(&fx));
}
