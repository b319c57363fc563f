//! `dmlft data ...` and plan-time sample checks on the real SentEval folder (skipped when it is
//! absent, unless DMLFT_REQUIRE_DATA=1).

use crate::common::{authors_data, senteval, stderr, Fixture};

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

fn authors_fixture() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/tests/fixtures/authors/authors_samples.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn data_sample_shows_the_authors_samples() {
    let Some(dir) = authors_data() else { return };
    let fixture = authors_fixture();
    let fx = Fixture::new();
    for (task, shuffle_seed, fold) in [("mr", 2048, 2), ("trec", 42, 0), ("mrpc", 42, 3)] {
        let expected = fixture["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["task"] == task
                    && s["shuffle_seed"] == shuffle_seed
                    && s["n_split"] == 4
                    && s["seed"] == 2048
                    && s["sample_size"] == 20
            })
            .unwrap();
        let expected = &expected["folds"][fold];
        let (fold_arg, shuffle_arg) = (fold.to_string(), shuffle_seed.to_string());
        let out = fx.run(&[
            "data",
            "sample",
            task,
            "--protocol",
            "kfold",
            "--shots",
            "20",
            "--seed",
            "2048",
            "--fold",
            &fold_arg,
            "--authors",
            "--shuffle-seed",
            &shuffle_arg,
            "--data-dir",
            dir.to_str().unwrap(),
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let sample: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let train = sample["train"].as_array().unwrap();
        let field = |key: &str| -> Vec<serde_json::Value> {
            train.iter().map(|e| e[key].clone()).collect()
        };
        assert_eq!(
            field("row"),
            *expected["train_iloc"].as_array().unwrap(),
            "{task}"
        );
        assert_eq!(
            field("index"),
            *expected["train_rows"].as_array().unwrap(),
            "{task}"
        );
        if task == "mr" {
            // the authors' raw texts, line ends included
            assert!(train
                .iter()
                .all(|e| e["text"].as_str().unwrap().ends_with(" \n")));
        }
    }
    // the text view names both positions
    let out = fx.run(&[
        "data",
        "sample",
        "cr",
        "--protocol",
        "kfold",
        "--shots",
        "5",
        "--seed",
        "2048",
        "--authors",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("the authors' pool") && text.contains("row"),
        "{text}"
    );
}

#[test]
fn plan_checks_the_authors_files() {
    let Some(dir) = authors_data() else { return };
    let fx = Fixture::new();
    let grid = format!(
        "name = \"t\"\ndata_root = \"{}\"\ndatasets = [\"trec\", \"mrpc\"]\nshots = [20]\nseeds = [2048]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"kfold\"\nrng = \"numpy-compat\"\n[data]\npools = \"authors\"\n[losses.ce]\n",
        dir.display()
    );
    fx.write("g.toml", &grid);
    assert_eq!(fx.cell_ids("g.toml").len(), 8);
    let empty = tempfile::tempdir().unwrap();
    let out = fx
        .dmlft()
        .env(dmlft_data::authors::AUTHORS_DIR_ENV, empty.path())
        .args(["plan", "g.toml"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("key `datasets`")
            && err.contains("TREC/trec.tsv")
            && !err.contains("panicked"),
        "{err}"
    );
}
