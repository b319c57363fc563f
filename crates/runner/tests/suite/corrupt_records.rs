//! Record files that cannot be read (truncated, emptied, of an older schema): `plan`, `run` and
//! `report` agree. Each names the file and the reason, counts the other cells as they are, and
//! says what happens to it (`run` runs its cell again and replaces the file). A lock file that
//! cannot be read blocks nothing.

use crate::common::{seeds_grid, stderr, Fixture};

fn plan(fx: &Fixture) -> serde_json::Value {
    let out = fx.run(&["plan", "g.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn one_truncated_record_does_not_hide_the_others() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(10, ""));
    let log = fx.path().join("log");
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids = fx.cell_ids("g.toml");
    let victim = fx.cells_dir().join(format!("{}.json", ids[3]));
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, &text[..text.len() / 2]).unwrap();

    // plan: 9 done, the tenth named as unreadable, with what will happen to it
    let p = plan(&fx);
    assert_eq!(
        (p["done"].as_u64(), p["unreadable"].as_u64()),
        (Some(9), Some(1)),
        "{p}"
    );
    assert_eq!(p["pending"], 0);
    let listed = &p["unreadable_records"][0];
    assert!(listed["path"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}.json", ids[3])));
    assert!(listed["reason"]
        .as_str()
        .unwrap()
        .contains("not a cell record"));
    let text_plan = String::from_utf8(fx.run(&["plan", "g.toml"]).stdout).unwrap();
    assert!(
        text_plan.contains(&format!("{}.json", ids[3]))
            && text_plan.contains("`dmlft run` runs its cell again")
            && text_plan.contains("10 cells: 9 done, 0 failed, 1 unreadable"),
        "{text_plan}"
    );

    // report: the other nine, and a warning naming the file
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(md.contains("| tiny | 2 | ce | head | 9 |"), "{md}");
    assert!(
        stderr(&out).contains(&format!("{}.json", ids[3]))
            && stderr(&out).contains("runs its cell again"),
        "{}",
        stderr(&out)
    );

    // run: names it, runs that cell (and only it) again, and the folder is whole again
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}.json", ids[3]))
            && stderr(&out).contains("will be re-run"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("1 with an unreadable record (run again)"));
    let ran = fx.log_ids(&log);
    assert_eq!(ran.len(), 11);
    assert_eq!(ran[10], ids[3]);
    assert_eq!(plan(&fx)["done"], 10);
}

#[test]
fn records_of_an_older_schema_are_stale_not_mixed() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let ids = fx.cell_ids("g.toml");
    let path = fx.cells_dir().join(format!("{}.json", ids[0]));
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    record["schema_version"] = 1.into();
    record.as_object_mut().unwrap().remove("data_fingerprint");
    std::fs::write(&path, record.to_string()).unwrap();
    let p = plan(&fx);
    assert_eq!(
        (p["done"].as_u64(), p["unreadable"].as_u64()),
        (Some(1), Some(1))
    );
    let reason = p["unreadable_records"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("stale") && reason.contains("schema 1"),
        "{reason}"
    );
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));
    assert!(String::from_utf8(out.stdout.clone())
        .unwrap()
        .contains("| tiny | 2 | ce | head | 1 |"));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    assert_eq!(plan(&fx)["done"], 2);
}

#[test]
fn a_record_holding_another_cell_is_not_taken_for_its_file_name() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let ids = fx.cell_ids("g.toml");
    std::fs::copy(
        fx.cells_dir().join(format!("{}.json", ids[0])),
        fx.cells_dir().join(format!("{}.json", ids[1])),
    )
    .unwrap();
    let p = plan(&fx);
    assert_eq!(
        (p["done"].as_u64(), p["unreadable"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(p["unreadable_records"][0]["reason"]
        .as_str()
        .unwrap()
        .contains(&format!("holds cell `{}`", ids[0])));
}

#[test]
fn an_empty_lock_left_by_a_full_disk_does_not_block_the_cell() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let ids = fx.cell_ids("g.toml");
    std::fs::create_dir_all(fx.cells_dir()).unwrap();
    // what a full disk used to leave: a fresh, empty lock
    std::fs::write(fx.cells_dir().join(format!("{}.lock", ids[0])), "").unwrap();
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" 0 running elsewhere"),
        "{}",
        stderr(&out)
    );
    assert_eq!(plan(&fx)["done"], 2);
    assert!(fx.cell_files().iter().all(|f| f.ends_with(".json")));
}
