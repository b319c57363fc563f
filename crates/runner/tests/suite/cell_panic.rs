//! Nothing a cell does takes the runner down. The repro (a custom CSV with a 600-word
//! text, `max_length = 1024`) is refused by `plan` and `run` at the grid's line and column, with
//! both numbers; and a cell that panics anyway (here the fake executor's out-of-bounds index, as
//! burn's gather did) becomes a `failed` record with the panic's message while the grid goes on.

use crate::common::{bert_model, seeds_grid, stderr, Fixture};

#[test]
fn max_length_beyond_the_checkpoint_is_a_grid_error_with_both_numbers() {
    let fx = Fixture::new();
    bert_model(fx.path(), 512);
    let words: Vec<String> = (0..600).map(|i| format!("word{i}")).collect();
    let mut csv = format!("text,label\n{},a\n", words.join(" "));
    for i in 0..4 {
        csv.push_str(&format!("short {i},a\nother {i},b\n"));
    }
    fx.write("data/long.csv", &csv);
    let grid = "name = \"long\"\ndata_root = \"data\"\noutput = \"out\"\n\
        datasets = [{ name = \"long\", train = \"long.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }]\n\
        shots = [2]\nseeds = [1]\n[model]\nsource = \"bert-model\"\nmax_length = 1024\n\
        [protocol]\nkind = \"per-class\"\n[losses.ce]\n";
    fx.write("g.toml", grid);
    for command in ["plan", "run"] {
        let out = fx.run(&[command, "g.toml"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.starts_with("error: g.toml:9:1: key `model.max_length`: ")
                && err.contains("bert-model/config.json")
                && err.contains("1024")
                && err.contains("512")
                && !err.contains("panicked"),
            "{command}: {err}"
        );
    }
    // at the limit the grid is fine
    fx.write("g.toml", &grid.replace("1024", "512"));
    assert!(fx.run(&["plan", "g.toml"]).status.success());
}

#[test]
fn a_panicking_cell_is_recorded_as_failed_and_the_grid_goes_on() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(4, ""));
    let ids = fx.cell_ids("g.toml");
    let out = fx
        .dmlft()
        .args(["run", "g.toml", "--jobs", "2"])
        .env("DMLFT_FAKE_PANIC", &ids[1][..8])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "no backtrace hint: {err}");
    let failed = fx.record(&ids[1]);
    assert_eq!(failed["status"], "failed");
    let message = failed["error"].as_str().unwrap();
    assert!(
        message.starts_with("panic: index out of bounds") && message.contains("512"),
        "{message}"
    );
    for id in [&ids[0], &ids[2], &ids[3]] {
        assert_eq!(fx.record(id)["status"], "done", "the grid went on");
    }
    assert!(
        fx.cell_files().iter().all(|f| f.ends_with(".json")),
        "no lock left"
    );
    // the next run does not panic again on it: it is skipped as failed (exit 2 says so)
    let out = fx.run(&["run", "g.toml"]);
    assert_eq!(out.status.code(), Some(2));
}
