//! `dmlft data ...` and plan-time sample checks on the real SentEval folder (skipped when it is
//! absent, unless DMLFT_REQUIRE_DATA=1).

mod common;
use common::{stderr, Fixture};
use std::path::PathBuf;

/// The real SentEval folder (see dmlft-testing), or `None` (skip).
fn senteval() -> Option<PathBuf> {
    dmlft_testing::senteval_dir()
}

#[test]
fn data_commands_wrap_dmlft_data() {
    let Some(dir) = senteval() else { return };
    let fx = Fixture::new();
    let d = dir.to_str().unwrap();
    let out = fx.run(&["data", "stats", "trec", "--data-dir", d, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["splits"]["train"]["n"], 5452);
    assert_eq!(stats["splits"]["train"]["labels"]["ABBR"], 86);

    let out = fx.run(&[
        "data",
        "sample",
        "mr",
        "--protocol",
        "per-class",
        "--shots",
        "3",
        "--seed",
        "7",
        "--data-dir",
        d,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sample: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sample["train"].as_array().unwrap().len(), 6);
    // same request, same sample
    let again = fx.run(&[
        "data",
        "sample",
        "mr",
        "--protocol",
        "per-class",
        "--shots",
        "3",
        "--seed",
        "7",
        "--data-dir",
        d,
        "--json",
    ]);
    assert_eq!(out.stdout, again.stdout);

    let out = fx.run(&["data", "verify", "--data-dir", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn plan_rejects_shots_larger_than_a_senteval_class() {
    let Some(dir) = senteval() else { return };
    let fx = Fixture::new();
    let grid = format!(
        "name = \"t\"\ndata_root = \"{}\"\ndatasets = [\"trec\"]\nshots = [8, 100]\nseeds = [1]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n",
        dir.display()
    );
    fx.write("g.toml", &grid);
    let out = fx.run(&["plan", "g.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("key `shots`") && err.contains("100") && err.contains("ABBR"),
        "{err}"
    );
}
