//! `dmlft plan` without the weights: a well-known Hub id that is not downloaded yet is sized from
//! dmlft-model's table of Hub configs, every cell's work follows from its sample sizes, and the
//! time is estimated on the CPU and on a GPU with the speed each estimate names.

use crate::common;
use crate::common::{authors_data, stderr, Fixture, HEAD};
use dmlft_model::known_architecture;
use serde_json::Value;
use std::process::Command;

/// `dmlft` with an empty Hub cache and downloads allowed, as on a new user's machine.
fn fresh_hub(mut c: Command, cache: &std::path::Path) -> Command {
    c.env("HF_HUB_CACHE", cache)
        .env_remove("HF_HOME")
        .env_remove("HF_HUB_OFFLINE");
    c
}

fn plan_json(c: &mut Command) -> Value {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn a_known_hub_model_is_planned_before_its_weights_are_downloaded() {
    let fx = Fixture::new();
    let cache = tempfile::tempdir().unwrap();
    fx.write(
        "g.toml",
        &format!("{HEAD}shots = [2]\nseeds = [1, 2]\n[model]\nsource = \"roberta-large\"\nmax_length = 64\n[protocol]\nkind = \"per-class\"\n[train]\nsteps = 7\nbatch_size = 4\n[losses.ce]\n"),
    );
    let plan = plan_json(fresh_hub(fx.dmlft(), cache.path()).args(["plan", "g.toml", "--json"]));
    assert_eq!(plan["models"][0]["source"], "roberta-large");
    assert_eq!(plan["models"][0]["weights"], "download");
    assert_eq!(plan["models"][0]["parameters"], 355_359_744u64);
    // Nothing was downloaded at plan time.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);

    let large = known_architecture("roberta-large").unwrap();
    let cells = plan["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    for cell in cells {
        let cost = &cell["cost"];
        // 2 shots x 3 classes = 6 examples, batch 4: 7 steps of 4; the 3 test sentences.
        assert_eq!(cost["steps"], 7);
        assert_eq!(cost["batch"], 4);
        assert_eq!(cost["eval_examples"], 3);
        let train = cost["train_flops"].as_f64().unwrap();
        assert!(approx(
            train,
            7.0 * 4.0 * 64.0 * large.train_flops_per_token(64)
        ));
        let eval = cost["eval_flops"].as_f64().unwrap();
        assert!(approx(eval, 3.0 * 64.0 * large.forward_flops_per_token(64)));
    }

    // Both devices, the grid's first; each estimate is its speed applied to the cells.
    let estimates = plan["estimates"].as_array().unwrap();
    let devices: Vec<&str> = estimates
        .iter()
        .map(|e| e["device"].as_str().unwrap())
        .collect();
    assert_eq!(devices, ["cpu", "cuda"]);
    for e in estimates {
        let s = &e["speed"];
        let expected: f64 = cells
            .iter()
            .map(|c| {
                s["per_cell_s"].as_f64().unwrap()
                    + c["cost"]["train_flops"].as_f64().unwrap()
                        / s["train_flops_per_s"].as_f64().unwrap()
                    + c["cost"]["eval_flops"].as_f64().unwrap()
                        / s["eval_flops_per_s"].as_f64().unwrap()
            })
            .sum();
        assert!(approx(e["seconds"].as_f64().unwrap(), expected), "{e}");
        assert!(!s["note"].as_str().unwrap().is_empty());
    }
    assert_eq!(estimates[0]["speed"]["source"], "calibrated");
    assert_eq!(estimates[1]["speed"]["source"], "assumed");
    assert!(estimates[1]["seconds"].as_f64() < estimates[0]["seconds"].as_f64());
    assert_eq!(plan["pending_seconds"], estimates[0]["seconds"]);
    let on_gpu = plan_json(
        fresh_hub(fx.dmlft(), cache.path()).args(["plan", "g.toml", "--json", "--device", "cuda"]),
    );
    // The grid's own device as DeviceChoice prints it (`cuda` is the first GPU).
    assert_eq!(on_gpu["estimates"][0]["device"], "cuda:0");
    assert_eq!(on_gpu["pending_seconds"], estimates[1]["seconds"]);

    // The text names the model, that it will be downloaded, and both estimates with their source.
    let out = fresh_hub(fx.dmlft(), cache.path())
        .args(["plan", "g.toml"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("model roberta-large: 355M parameters"),
        "{text}"
    );
    assert!(
        text.contains("downloaded from the Hub on the first run"),
        "{text}"
    );
    assert!(text.contains("pending on cpu: about"), "{text}");
    assert!(text.contains("pending on cuda: about"), "{text}");
    assert!(text.contains("assumed: not measured"), "{text}");
}

#[test]
fn a_model_that_cannot_be_had_is_one_clear_error() {
    let fx = Fixture::new();
    let cache = tempfile::tempdir().unwrap();
    let grid = |source: &str| {
        format!("{HEAD}shots = [2]\nseeds = [1]\n[model]\nsource = \"{source}\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n")
    };
    // An id dmlft cannot size, not in the cache.
    fx.write("g.toml", &grid("someone/unknown-model"));
    let out = fresh_hub(fx.dmlft(), cache.path())
        .args(["plan", "g.toml"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("g.toml:")
            && err.contains("model.source")
            && err.contains("someone/unknown-model"),
        "{err}"
    );
    // Downloads are on here: the error says why the grid still cannot be checked, and where
    // the folder of that name would have been.
    assert!(
        err.contains("a run would download it") && !err.contains("downloading is off"),
        "{err}"
    );
    assert!(
        err.contains("(no /") && err.contains("/someone/unknown-model)"),
        "{err}"
    );
    // A known id while downloads are off: the run could not get it.
    fx.write("g.toml", &grid("roberta-large"));
    let out = fresh_hub(fx.dmlft(), cache.path())
        .env("HF_HUB_OFFLINE", "1")
        .args(["plan", "g.toml"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("model.source") && err.contains("downloading is off"),
        "{err}"
    );
}

#[test]
fn finished_cells_give_the_measured_speed_for_the_grids_device() {
    let fx = Fixture::new();
    fx.write("g.toml", &common::seeds_grid(3, ""));
    let run = fx.run(&["run", "g.toml", "--limit", "2"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let plan = plan_json(fx.dmlft().args(["plan", "g.toml", "--json"]));
    assert_eq!(
        (plan["done"].as_u64(), plan["pending"].as_u64()),
        (Some(2), Some(1))
    );
    let cpu = &plan["estimates"][0];
    assert_eq!(cpu["speed"]["source"], "measured");
    assert!(cpu["speed"]["note"]
        .as_str()
        .unwrap()
        .contains("2 finished cells"));
    // Only the pending cell is counted.
    let pending = plan["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "pending")
        .unwrap();
    let s = &cpu["speed"];
    let one = s["per_cell_s"].as_f64().unwrap()
        + pending["cost"]["train_flops"].as_f64().unwrap()
            / s["train_flops_per_s"].as_f64().unwrap()
        + pending["cost"]["eval_flops"].as_f64().unwrap() / s["eval_flops_per_s"].as_f64().unwrap();
    assert!(approx(cpu["seconds"].as_f64().unwrap(), one));
    // The GPU was not measured: its estimate stays the assumed one.
    assert_eq!(plan["estimates"][1]["speed"]["source"], "assumed");
    // Measured cells make a calibration unnecessary: none was run.
    assert!(!fx.cache_dir().exists());
}

fn cache_entries(fx: &Fixture) -> Vec<Value> {
    let text = std::fs::read_to_string(fx.cache_dir().join("calibration.json")).unwrap();
    let cache: Value = serde_json::from_str(&text).unwrap();
    cache["entries"].as_array().unwrap().clone()
}

#[test]
fn plan_calibrates_once_per_machine_and_says_which_speed_it_used() {
    let fx = Fixture::new();
    fx.write("g.toml", &common::seeds_grid(1, ""));
    let plan = |extra: &[&str], threads: &str| {
        plan_json(
            fx.dmlft()
                .env("RAYON_NUM_THREADS", threads)
                .args(["plan", "g.toml", "--json"])
                .args(extra),
        )
    };
    // No finished cell, no cache: measured here, and cached.
    let first = plan(&[], "2");
    let speed = &first["estimates"][0]["speed"];
    assert_eq!(speed["source"], "calibrated");
    assert_eq!(first["rate_source"], "calibrated");
    let note = speed["note"].as_str().unwrap();
    assert!(
        note.contains("on this machine at 20") && note.contains("2 threads"),
        "{note}"
    );
    let entries = cache_entries(&fx);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["key"]["threads"], 2);
    assert_eq!(
        entries[0]["train_flops_per_s"].as_f64(),
        speed["train_flops_per_s"].as_f64()
    );
    // The next plan reads the cache: an edited rate shows through.
    let mut cache: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.cache_dir().join("calibration.json")).unwrap(),
    )
    .unwrap();
    cache["entries"][0]["train_flops_per_s"] = 12345.0.into();
    let edited = cache.to_string();
    std::fs::write(fx.cache_dir().join("calibration.json"), &edited).unwrap();
    let cached = plan(&[], "2");
    assert_eq!(
        cached["estimates"][0]["speed"]["train_flops_per_s"],
        12345.0
    );
    // Another thread count is another machine: measured and cached beside the first.
    let three = plan(&[], "3");
    assert_ne!(three["estimates"][0]["speed"]["train_flops_per_s"], 12345.0);
    assert_eq!(cache_entries(&fx).len(), 2);
    // --calibrate measures again and replaces the entry.
    let again = plan(&["--calibrate"], "2");
    assert_ne!(again["estimates"][0]["speed"]["train_flops_per_s"], 12345.0);
    assert_eq!(cache_entries(&fx).len(), 2);
    // A corrupt cache: a warning naming it, a new measurement, a valid file again.
    std::fs::write(
        fx.cache_dir().join("calibration.json"),
        "{\"schema\": 1, \"ent",
    )
    .unwrap();
    let out = fx
        .dmlft()
        .env("RAYON_NUM_THREADS", "2")
        .args(["plan", "g.toml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: calibration cache") && text.contains("calibration.json"),
        "{text}"
    );
    // The text names the source of each estimate's speed.
    assert!(
        text.contains("pending on cpu: about") && text.contains("calibrated: on this machine at"),
        "{text}"
    );
    assert!(text.contains("assumed: not measured"), "{text}");
    assert_eq!(cache_entries(&fx).len(), 1);
}

#[test]
fn the_paper_grids_plan_without_the_weights() {
    let Some(data) = authors_data() else { return };
    let fx = Fixture::new();
    let cache = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for (grid, cells) in [("paper-2211.15195", 56), ("paper-2211.15202", 196)] {
        let file = format!("{root}/experiments/{grid}.toml");
        let plan = plan_json(fresh_hub(fx.dmlft(), cache.path()).args([
            "plan",
            &file,
            "--json",
            "--data-dir",
            data.to_str().unwrap(),
        ]));
        assert_eq!(plan["count"], cells, "{grid}");
        assert_eq!(plan["models"][0]["weights"], "download");
        let cells = plan["cells"].as_array().unwrap();
        // 120 steps of the 20 examples; the held-out folds of MR (10,662 sentences) evaluated.
        assert!(cells
            .iter()
            .all(|c| c["cost"]["steps"] == 120 && c["cost"]["batch"] == 20));
        let mr_ce: usize = cells
            .iter()
            .filter(|c| c["dataset"] == "mr" && c["loss"] == "ce")
            .map(|c| c["cost"]["eval_examples"].as_u64().unwrap() as usize)
            .sum();
        assert_eq!(mr_ce, 10_662, "{grid}");
        assert!(plan["estimates"][0]["seconds"].as_f64().unwrap() > 0.0);
    }
}
