//! Locks left by runners of another host (issue 32, item 9): `plan` and `run` name the host, pid
//! and time, `run` exits 3 while a cell is blocked that way, and `dmlft unlock` breaks such locks
//! only when the user names the host or a minimum age.

use crate::common::{seeds_grid, stderr, Fixture};

/// A lock file as a runner on `host` writes it.
fn write_lock(fx: &Fixture, id: &str, host: &str, pid: u32, started_at: &str) {
    std::fs::create_dir_all(fx.cells_dir()).unwrap();
    let lock = serde_json::json!({ "pid": pid, "host": host, "started_at": started_at });
    std::fs::write(fx.cells_dir().join(format!("{id}.lock")), lock.to_string()).unwrap();
}

fn lock_exists(fx: &Fixture, id: &str) -> bool {
    fx.cells_dir().join(format!("{id}.lock")).exists()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_lock_of_another_host_is_named_by_plan_and_run_and_run_exits_3() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let ids = fx.cell_ids("g.toml");
    write_lock(&fx, &ids[0], "node-gone", 4242, "2026-01-02T03:04:05Z");

    let plan = fx.run(&["plan", "g.toml"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains(&format!(
            "locked cell {}: held by host node-gone, pid 4242, since 2026-01-02T03:04:05Z",
            ids[0]
        )),
        "{text}"
    );
    assert!(
        text.contains("`dmlft unlock g.toml --host node-gone`") && text.contains("Safety rule"),
        "{text}"
    );
    assert!(
        text.contains("1 locked by another host, 1 pending"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fx.run(&["plan", "g.toml", "--json"]).stdout).unwrap();
    assert_eq!(json["locked"], 1);
    assert_eq!(json["pending"], 1);
    assert_eq!(json["cells"][0]["status"], "locked");
    assert_eq!(json["locks"][0]["host"], "node-gone");
    assert_eq!(json["locks"][0]["pid"], 4242);

    let run = fx.run(&["run", "g.toml"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "cell {}: held by host node-gone, pid 4242, since 2026-01-02T03:04:05Z",
            ids[0]
        )),
        "{err}"
    );
    assert!(err.contains("1 locked by another host"), "{err}");
    assert!(
        err.contains("`dmlft unlock g.toml --host node-gone`"),
        "{err}"
    );
    // the other cell ran; the blocked one did not, and its lock is untouched
    assert_eq!(fx.record(&ids[1])["status"], "done");
    assert!(!fx.cells_dir().join(format!("{}.json", ids[0])).exists());
    assert!(lock_exists(&fx, &ids[0]));
    // still blocked on the next run: the exit code does not depend on there being work
    assert_eq!(fx.run(&["run", "g.toml"]).status.code(), Some(3));

    let unlock = fx.run(&["unlock", "g.toml", "--host", "node-gone"]);
    assert!(unlock.status.success(), "{}", stderr(&unlock));
    assert!(
        stdout(&unlock).contains(&format!("removed lock of cell {}", ids[0])),
        "{}",
        stdout(&unlock)
    );
    assert!(!lock_exists(&fx, &ids[0]));
    let run = fx.run(&["run", "g.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(fx.record(&ids[0])["status"], "done");
}

#[test]
fn unlock_refuses_without_a_selector_and_removes_only_what_it_selects() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(4, ""));
    let ids = fx.cell_ids("g.toml");
    let now = dmlft::host::rfc3339_now();
    write_lock(&fx, &ids[0], "node-a", 11, "2026-01-02T03:04:05Z");
    write_lock(&fx, &ids[1], "node-b", 12, "2026-01-02T03:04:05Z");
    write_lock(&fx, &ids[2], "node-b", 13, &now);
    // a live process of this host (this test): never removed, whatever the selector
    write_lock(
        &fx,
        &ids[3],
        &dmlft::host::hostname(),
        std::process::id(),
        "2026-01-02T03:04:05Z",
    );

    let out = fx.run(&["unlock", "g.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--host HOST or --older-than DURATION") && err.contains("another host"),
        "{err}"
    );
    assert!(ids.iter().all(|id| lock_exists(&fx, id)), "nothing removed");

    let out = fx.run(&["unlock", "g.toml", "--older-than", "soon"]);
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(stderr(&out).contains("`soon` is not a duration"));

    // older than a day: the two old locks of other hosts, not the fresh one nor the live one
    let out = fx.run(&["unlock", "g.toml", "--older-than", "1d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 lock(s) removed"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("that process is alive on this host"));
    assert!(!lock_exists(&fx, &ids[0]) && !lock_exists(&fx, &ids[1]));
    assert!(lock_exists(&fx, &ids[2]) && lock_exists(&fx, &ids[3]));

    // both selectors: both must match
    let out = fx.run(&["unlock", "g.toml", "--host", "node-b", "--older-than", "1h"]);
    assert!(out.status.success());
    assert!(lock_exists(&fx, &ids[2]), "too young for --older-than 1h");
    let out = fx.run(&["unlock", "g.toml", "--host", "node-b"]);
    assert!(
        stdout(&out).contains("1 lock(s) removed"),
        "{}",
        stdout(&out)
    );
    assert!(!lock_exists(&fx, &ids[2]) && lock_exists(&fx, &ids[3]));
}
