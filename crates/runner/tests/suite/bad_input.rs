//! Malformed grids: each gives one `error:` line naming the file, the key and what is valid,
//! exit code 1, and no panic.

use crate::common;
use crate::common::{stderr, Fixture, HEAD};

const MODEL: &str = "[model]\nsource = \"model\"\n";
const PROTO: &str = "[protocol]\nkind = \"per-class\"\n";
const SS: &str = "shots = [2]\nseeds = [1]\n";

fn valid_with(top: &str, tail: &str) -> String {
    format!("{HEAD}{SS}{top}\n{MODEL}{PROTO}[losses.ce]\n{tail}")
}

#[test]
fn malformed_grids_give_one_clear_error() {
    let fx = Fixture::new();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("unknown top-level key", valid_with("lrr = 1", ""), vec!["g.toml:7:1", "unknown key `lrr`", "valid top-level keys"]),
        (
            "unknown key in a section, with line:col",
            valid_with("", "[train.optimizer]\nlrr = 1e-5\n"),
            vec!["g.toml:14:1", "key `train.optimizer.lrr`", "unknown field `lrr`", "expected one of"],
        ),
        ("wrong type", valid_with("", "[train]\nbatch_size = \"big\"\n"), vec!["key `train.batch_size`", "invalid type: string"]),
        ("negative learning rate", valid_with("", "[train.optimizer]\nlr = -1e-5\n"), vec!["key `train.optimizer.lr`", "positive number"]),
        ("ce_weight 1.5", valid_with("", "[losses.x]\nce_weight = 1.5\n"), vec!["key `losses.x.ce_weight`", "[0, 1]", "beta"]),
        (
            "unknown loss kind",
            valid_with("", "[[losses.x.dml]]\nweight = 0.5\nloss = { kind = \"soft-tripel\" }\n"),
            vec!["losses.x.dml.0.loss", "unknown variant `soft-tripel`", "soft-triple"],
        ),
        (
            "unknown field inside a loss",
            valid_with("", "[[losses.x.dml]]\nweight = 0.5\nloss = { kind = \"sup-con\", temperature = 0.1, temp = 2 }\n"),
            vec!["key `losses.x.dml.0.loss.temp`", "unknown field `temp`"],
        ),
        (
            "unknown key in a loss variant names `method` too",
            valid_with("", "[losses.x]\nmethd = \"setfit\"\n"),
            vec!["key `losses.x.methd`", "unknown field `methd`", "`dml`", "`method` (\"fine-tune\" (default), \"setfit\" or \"linear-probe\")"],
        ),
        (
            "missing DML loss",
            valid_with("", "[[losses.x.dml]]\nweight = 0.5\n"),
            vec!["g.toml:13:", "key `losses.x.dml.0`", "missing field `loss`"],
        ),
        (
            "unknown dataset",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [\"imdb\"]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["g.toml:3:", "unknown dataset `imdb`", "mr, cr, subj"],
        ),
        (
            "missing data folder",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [\"mr\"]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `datasets`", "data folder", "MR not found", "--data-dir"],
        ),
        (
            "missing custom file",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [{{ name = \"n\", train = \"nope.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }}]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["custom dataset `n`", "nope.csv not found"],
        ),
        ("shots 0", format!("{HEAD}shots = [0]\nseeds = [1]\n{MODEL}{PROTO}[losses.ce]\n"), vec!["key `shots`", "at least 1"]),
        (
            "shots larger than a class",
            format!("{HEAD}shots = [2, 4]\nseeds = [1]\n{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `shots`", "cannot give 4 shots", "\"c\""],
        ),
        ("empty seeds list", format!("{HEAD}shots = [2]\nseeds = []\n{MODEL}{PROTO}[losses.ce]\n"), vec!["g.toml:6:1", "key `seeds`", "empty list"]),
        (
            "zip of unequal lengths",
            valid_with("zip = [[\"train.optimizer.lr\", \"train.batch_size\"]]", "[train]\nbatch_size = [8, 16, 32]\n[train.optimizer]\nlr = [1e-5, 2e-5]\n"),
            vec!["key `zip.0`", "equal lengths", "has 2 values", "has 3"],
        ),
        (
            "zip of a key that is not swept",
            valid_with("zip = [[\"train.optimizer.lr\", \"train.epochs\"]]", "[train.optimizer]\nlr = [1e-5, 2e-5]\n"),
            vec!["`train.epochs` is not a swept", "swept keys: "],
        ),
        ("missing model folder", format!("{HEAD}{SS}[model]\nsource = \"./nomodel\"\n{PROTO}[losses.ce]\n"), vec!["key `model.source`", "nomodel", "config.json"]),
        ("invalid TOML", "name = \n".to_string(), vec!["g.toml:1:", "invalid TOML"]),
        ("missing name", format!("datasets = [\"mr\"]\n{SS}{MODEL}[losses.ce]\n"), vec!["missing key `name`"]),
        ("mix beta out of range", valid_with("inference = [\"mix:1.5\"]", ""), vec!["key `inference.0`", "mix beta must be in [0, 1]"]),
        ("unknown inference mode", valid_with("inference = [\"bogus\"]", ""), vec!["unknown inference mode `bogus`", "valid: head, proxy, mix:BETA", "{ mode = \"mix\""]),
        (
            "unknown protocol kind",
            format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfoldd\"\n[losses.ce]\n"),
            vec!["key `protocol", "unknown variant `kfoldd`", "per-class"],
        ),
        ("one fold", format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfold\"\nfolds = 1\n[losses.ce]\n"), vec!["protocol.folds", "at least 2 folds"]),
        ("unknown filter axis", valid_with("exclude = [{ datset = \"tiny\" }]", ""), vec!["exclude.0.datset", "unknown axis `datset`", "dataset, loss"]),
        ("bad loss name", valid_with("", "[losses.\"a.b\"]\n"), vec!["losses.a.b", "may not be empty or contain"]),
        (
            "top-level key after a header",
            format!("{HEAD}{SS}{MODEL}{PROTO}[losses.ce]\nexclude = [{{ shots = 2 }}]\n"),
            vec!["key `losses.ce.exclude`", "is a top-level key", "move it above"],
        ),
        ("dropout 1.5", format!("{HEAD}{SS}[model]\nsource = \"model\"\ndropout = 1.5\n{PROTO}[losses.ce]\n"), vec!["model.dropout", "[0, 1)"]),
        ("warmup beyond total", valid_with("", "[train.schedule]\nwarmup_steps = 200\ntotal_steps = 100\n"), vec!["train.schedule.warmup_steps", "exceed total_steps"]),
        ("unknown device", valid_with("device = \"tpu\"", ""), vec!["key `device`", "unknown device `tpu`", "cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N"]),
        ("no loss variant", format!("{HEAD}{SS}{MODEL}{PROTO}"), vec!["missing `[losses.<name>]`"]),
        // sizes: overflow in the cost estimate used to panic; each has a bound
        ("steps = i64::MAX", valid_with("", "[train]\nsteps = 9223372036854775807\n"), vec!["key `train.steps`", "at most 10000000", "9223372036854775807"]),
        ("epochs huge", valid_with("", "[train]\nepochs = 9223372036854775807\n"), vec!["key `train.epochs`", "at most"]),
        ("batch huge", valid_with("", "[train]\nbatch_size = 100000000\n"), vec!["key `train.batch_size`", "at most 65536"]),
        ("eval batch huge", valid_with("", "[train]\neval_batch_size = 100000000\n"), vec!["key `train.eval_batch_size`", "at most"]),
        ("grad_accum huge", valid_with("", "[train]\ngrad_accum = 100000000\n"), vec!["key `train.grad_accum`", "at most"]),
        ("warmup huge", valid_with("", "[train.schedule]\nwarmup_steps = 9223372036854775807\ntotal_steps = 9223372036854775807\n"), vec!["key `train.schedule.warmup_steps`", "at most"]),
        ("total steps huge", valid_with("", "[train.schedule]\ntotal_steps = 9223372036854775807\n"), vec!["key `train.schedule.total_steps`", "at most"]),
        ("shots huge", format!("{HEAD}shots = [9223372036854775807]\nseeds = [1]\n{MODEL}{PROTO}[losses.ce]\n"), vec!["key `shots`", "at most"]),
        ("eval_limit huge", valid_with("eval_limit = 9223372036854775807", ""), vec!["key `eval_limit`", "at most"]),
        ("folds huge", format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfold\"\nfolds = 9223372036854775807\n[losses.ce]\n"), vec!["key `protocol.folds`", "at most 1000"]),
        ("dev_shots huge", format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"per-class\"\ndev_shots = 9223372036854775807\n[losses.ce]\n"), vec!["key `protocol.dev_shots`", "at most"]),
        ("max_length huge", format!("{HEAD}{SS}[model]\nsource = \"model\"\nmax_length = 100000\n{PROTO}[losses.ce]\n"), vec!["key `model.max_length`", "at most 65536"]),
        (
            "centers huge",
            valid_with("", "[[losses.x.dml]]\nweight = 0.5\nloss = { kind = \"soft-triple\", centers_per_class = 9223372036854775807 }\n"),
            vec!["key `losses.x.dml.0.loss.centers_per_class`", "at most 1000"],
        ),
        ("too many cells", format!("{HEAD}shots = [{}]\nseeds = [{}]\n{MODEL}{PROTO}[losses.ce]\n", (1..=400).map(|i| i.to_string()).collect::<Vec<_>>().join(","), (1..=400).map(|i| i.to_string()).collect::<Vec<_>>().join(",")), vec!["expands to", "cells", "limit of 100000"]),
        // values no setting means, and values that would end up in scripts and logs
        ("nan", valid_with("", "[train.optimizer]\nlr = nan\n"), vec!["key `train.optimizer.lr`", "finite number", "NaN"]),
        ("inf tau", valid_with("", "[[losses.x.dml]]\nweight = 0.5\nloss = { kind = \"soft-triple\", tau = inf }\n"), vec!["key `losses.x.dml.0.loss.tau`", "finite"]),
        ("line break in output", format!("name = \"t\"\noutput = \"out\\ntouch pwned\"\n{SS}datasets = [\"mr\"]\n{MODEL}{PROTO}[losses.ce]\n"), vec!["g.toml:2:1", "key `output`", "control character"]),
        ("line break in data_root", format!("name = \"t\"\ndata_root = \"a\\nb\"\n{SS}datasets = [\"mr\"]\n{MODEL}{PROTO}[losses.ce]\n"), vec!["key `data_root`", "control character"]),
        ("line break in a loss name", valid_with("", "[losses.\"a\\nb\"]\n"), vec!["key `losses.a\\nb`", "may not be empty or contain", "control"]),
        (
            "a labels list of one value",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [{{ name = \"n\", train = \"tiny.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\", labels = [\"pos\"] }}]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `datasets.0.labels`", "at least 2 distinct"],
        ),
        (
            "a custom dataset named like a SentEval task",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [{{ name = \"mr\", train = \"tiny.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }}]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `datasets.0.name`", "not a SentEval task name"],
        ),
        (
            "two datasets, one name",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [{{ name = \"n\", train = \"tiny.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }}, {{ name = \"n\", train = \"tiny_test.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }}]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `datasets`", "two different datasets are named `n`"],
        ),
        (
            "empty data file",
            format!("name = \"t\"\ndata_root = \"data\"\ndatasets = [{{ name = \"e\", train = \"empty.csv\", format = \"csv\", text_column = \"text\", label_column = \"label\" }}]\n{SS}{MODEL}{PROTO}[losses.ce]\n"),
            vec!["key `datasets`", "empty.csv is empty"],
        ),
        ("raw_text without the authors' pools", valid_with("", "[data]\nraw_text = false\n"), vec!["key `data.raw_text`", "applies only to pools = \"authors\""]),
        ("unknown key in [data]", valid_with("", "[data]\npool = \"authors\"\n"), vec!["key `data.pool`", "unknown field `pool`", "pools"]),
        ("unknown pools", valid_with("", "[data]\npools = \"theirs\"\n"), vec!["key `data.pools`", "unknown variant `theirs`", "authors"]),
        ("authors' pools of a custom dataset", valid_with("", "[data]\npools = \"authors\"\n"), vec!["key `datasets", "no pool for the custom dataset `tiny`", "mr, cr, subj, mpqa, sst2, trec, mrpc"]),
        (
            "authors' pools of sst5",
            format!("name = \"t\"\ndatasets = [\"sst5\"]\n{SS}{MODEL}{PROTO}[losses.ce]\n[data]\npools = \"authors\"\n"),
            vec!["g.toml:2:", "no pool for `sst5`"],
        ),
        (
            "numpy-compat and stratified",
            format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfold\"\nrng = \"numpy-compat\"\nstratified = true\n[losses.ce]\n"),
            vec!["key `protocol.stratified`", "unstratified"],
        ),
        (
            "shuffle_seed with dmlft's sampler",
            format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfold\"\nshuffle_seed = 2048\n[losses.ce]\n"),
            vec!["key `protocol.shuffle_seed`", "applies only to rng = \"numpy-compat\""],
        ),
        (
            "unknown rng",
            format!("{HEAD}{SS}{MODEL}[protocol]\nkind = \"kfold\"\nrng = \"numpy\"\n[losses.ce]\n"),
            vec!["key `protocol`", "unknown variant `numpy`", "numpy-compat"],
        ),
        (
            "seed beyond NumPy's range",
            format!("{HEAD}shots = [2]\nseeds = [1, 4294967296]\n{MODEL}[protocol]\nkind = \"kfold\"\nrng = \"numpy-compat\"\n[losses.ce]\n"),
            vec!["key `seeds", "4294967296", "0 ..= 4294967295"],
        ),
    ];
    assert!(cases.len() >= 20);
    fx.write("data/empty.csv", "text,label\n");
    let mut failures = Vec::new();
    for (what, text, fragments) in &cases {
        let grid = fx.write("g.toml", text);
        let out = fx.run(&["plan", grid.to_str().unwrap()]);
        let err = stderr(&out);
        let ok = out.status.code() == Some(1)
            && err.starts_with("error: ")
            && err.contains("g.toml")
            && !err.contains("panicked")
            && err.lines().count() == 1
            && fragments.iter().all(|f| err.contains(f));
        if !ok {
            failures.push(format!(
                "{what}: exit {:?}\n  stderr: {err}\n  expected fragments: {fragments:?}",
                out.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_command_line_values_are_rejected() {
    let fx = Fixture::new();
    let grid = fx.write("g.toml", &valid_with("", ""));
    for (args, fragment) in [
        (
            vec!["run", "g.toml", "--shard", "3/2"],
            "invalid shard `3/2`",
        ),
        (vec!["run", "g.toml", "--shard", "x"], "expected I/N"),
        (
            vec!["run", "g.toml", "--jobs", "0"],
            "--jobs must be at least 1",
        ),
        (vec!["report", "nothing-here"], "no such results folder"),
    ] {
        let out = fx.run(&args);
        let err = stderr(&out);
        assert!(
            !out.status.success() && err.contains(fragment) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    assert!(grid.exists());
}

#[test]
fn help_is_available_for_every_command() {
    let fx = Fixture::new();
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["plan", "--help"],
        vec!["slurm", "--help"],
        vec!["report", "--help"],
        vec!["data", "--help"],
        vec!["data", "sample", "--help"],
    ] {
        let out = fx.run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn an_empty_senteval_file_is_named_as_such() {
    let fx = Fixture::new();
    common::synthetic_senteval(&fx.path().join("se"), 20);
    std::fs::write(fx.path().join("se/MR/rt-polarity.pos"), "").unwrap();
    let grid = format!(
        "name = \"t\"\ndata_root = \"se\"\ndatasets = [\"mr\"]\n{SS}{MODEL}{PROTO}[losses.ce]\n"
    );
    fx.write("g.toml", &grid);
    let out = fx.run(&["plan", "g.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("MR/rt-polarity.pos is empty") && !err.contains("shots"),
        "{err}"
    );
}

#[test]
fn hostile_slurm_options_are_refused_by_name() {
    let fx = Fixture::new();
    fx.write("g.toml", &valid_with("", ""));
    for (option, value, valid) in [
        (
            "--partition",
            "gpu\n#SBATCH --wrap=touch pwned",
            "partition name",
        ),
        ("--partition", "gpu;touch pwned", "partition name"),
        ("--mem", "$(touch pwned)", "K, M, G or T"),
        ("--mem", "32G\ntouch pwned", "K, M, G or T"),
        ("--time", "`touch pwned`", "HH:MM:SS"),
        ("--time", "1:00 \"x\"", "HH:MM:SS"),
    ] {
        let out = fx.run(&["slurm", "g.toml", option, value]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{option} {value:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {option} ")) && err.contains(valid),
            "{option} {value:?}: {err}"
        );
        assert!(!fx.path().join("out/slurm/t.sbatch").exists());
        assert!(!fx.path().join("pwned").exists());
    }
}
