//! Results on other data are not taken for done: each record carries the fingerprint of the data
//! files its cell read; `plan` and `run` refuse a folder whose records were computed on data
//! other than what they read now, `report` refuses a folder whose records of one dataset
//! disagree, each naming both fingerprints, and `--allow-data-change` overrides. Cell ids stay
//! the same wherever the data lives.

use crate::common::{seeds_grid, stderr, Fixture};

fn fingerprint(fx: &Fixture, id: &str) -> String {
    fx.record(id)["data_fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn plan_run_and_report_refuse_to_mix_data_unless_allowed() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(3, ""));
    assert!(fx.run(&["run", "g.toml", "--limit", "2"]).status.success());
    let ids = fx.cell_ids("g.toml");
    let before = fingerprint(&fx, &ids[0]);

    // same content in another folder: same ids, same fingerprint, still done
    let copy = fx.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["tiny.csv", "tiny_test.csv"] {
        std::fs::copy(fx.path().join("data").join(f), copy.join(f)).unwrap();
    }
    let out = fx.run(&["plan", "g.toml", "--json", "--data-dir", "copy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let moved: Vec<&str> = plan["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(moved, ids);
    assert_eq!(plan["done"], 2);

    // other content, same ids: refused, both fingerprints named
    let test_file = fx.path().join("data/tiny_test.csv");
    std::fs::write(&test_file, "text,label\nt a,a\nt b,b\nt c,c\nt d,a\n").unwrap();
    for args in [vec!["plan", "g.toml"], vec!["run", "g.toml"]] {
        let out = fx.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&before)
                && err.contains("fingerprint")
                && err.contains("dataset `tiny`")
                && err.contains("--allow-data-change")
                && err.contains(&format!("{}.json", ids[0])),
            "{args:?}: {err}"
        );
    }
    let out = fx.run(&["plan", "g.toml", "--json", "--allow-data-change"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["cells"][0]["id"],
        ids[0].as_str(),
        "ids do not depend on data"
    );
    assert!(plan["warnings"][0].as_str().unwrap().contains(&before));
    assert!(
        !fx.cells_dir().join(format!("{}.json", ids[2])).exists(),
        "a refused run runs nothing"
    );

    // allowed: the third cell runs on the new data; the folder now mixes two versions
    let out = fx.run(&["run", "g.toml", "--allow-data-change"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = fingerprint(&fx, &ids[2]);
    assert_ne!(after, before);
    let out = fx.run(&["report", "out"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&before) && err.contains(&after), "{err}");
    let out = fx.run(&["report", "out", "--allow-data-change"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("kept: --allow-data-change"));
}
