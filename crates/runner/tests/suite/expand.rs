//! Expansion counts (sweeps, zip, filters, folds), variant names and cell ids, through the library.

use dmlft::grid::{cell_id::canonical_json, parse_grid, Grid, LoadOptions};
use std::path::Path;

const BASE: &str = r#"
name = "e"
datasets = ["mr", "trec"]
shots = [4, 8]
seeds = [1, 2, 3]
[model]
source = "m"
[protocol]
kind = "per-class"
[losses.ce]
"#;

fn parse(text: &str) -> Grid {
    parse_grid(text, Path::new("e.toml"), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn count(text: &str) -> usize {
    parse(text).cells.len()
}

#[test]
fn cartesian_product_of_lists() {
    assert_eq!(count(BASE), 2 * 2 * 3);
    let swept = BASE.replace("source = \"m\"", "source = \"m\"\nmax_length = [64, 128]")
        + "[train.optimizer]\nlr = [1e-5, 2e-5, 3e-5]\n";
    let g = parse(&swept);
    assert_eq!(g.cells.len(), 12 * 2 * 3);
    assert_eq!(g.swept, ["model.max_length", "train.optimizer.lr"]);
    let lrs: std::collections::BTreeSet<String> = g
        .cells
        .iter()
        .map(|c| c.axes["train.optimizer.lr"].clone())
        .collect();
    assert_eq!(lrs.len(), 3);
    assert!(g
        .cells
        .iter()
        .all(|c| [64, 128].contains(&c.spec.model.max_length)));
}

#[test]
fn kfold_expands_each_seed_into_folds() {
    let text = BASE.replace("kind = \"per-class\"", "kind = \"kfold\"\nfolds = [3, 5]");
    let g = parse(&text);
    assert_eq!(g.cells.len(), 12 * (3 + 5));
    let folds: Vec<_> = g.cells.iter().take(3).map(|c| c.spec.split.fold).collect();
    assert_eq!(
        folds,
        [Some(0), Some(1), Some(2)],
        "fold is the innermost axis"
    );
}

#[test]
fn loss_hyperparameter_lists_create_named_variants() {
    let text = format!(
        "{BASE}[losses.ce-st]\nce_weight = 0.4\n[[losses.ce-st.dml]]\nweight = 0.6\nloss = {{ kind = \"soft-triple\", centers_per_class = 5, la = [8.0, 20.0], gamma = [0.1, 0.05], margin = 0.1 }}\n"
    );
    let g = parse(&text);
    assert_eq!(
        g.losses,
        [
            "ce",
            "ce-st[la=8,gamma=0.1]",
            "ce-st[la=8,gamma=0.05]",
            "ce-st[la=20,gamma=0.1]",
            "ce-st[la=20,gamma=0.05]"
        ]
    );
    assert_eq!(g.cells.len(), 12 * 5);
    let c = g
        .cells
        .iter()
        .find(|c| c.spec.loss_name == "ce-st[la=20,gamma=0.05]")
        .unwrap();
    assert_eq!(c.loss_base, "ce-st");
    let dmlft_losses::spec::DmlLossSpec::SoftTriple(st) = c.spec.objective.dml[0].loss else {
        panic!()
    };
    assert_eq!((st.la, st.gamma), (20.0, 0.05));
}

#[test]
fn zip_pairs_lists_instead_of_crossing() {
    let text = format!("zip = [[\"train.optimizer.lr\", \"train.schedule.warmup_steps\"], [\"losses.b.ce_weight\", \"losses.b.dml.0.weight\"]]\n{BASE}[train.optimizer]\nlr = [1e-5, 2e-5, 3e-5]\n[train.schedule]\nwarmup_steps = [0, 10, 20]\n[losses.b]\nce_weight = [0.2, 0.5]\n[[losses.b.dml]]\nweight = [0.8, 0.5]\nloss = {{ kind = \"sup-con\", temperature = 0.1 }}\n");
    let g = parse(&text);
    // 3 (zipped lr/warmup) x (ce + 2 zipped b variants) x 12
    assert_eq!(g.cells.len(), 3 * 3 * 12);
    for c in &g.cells {
        let pairs = [(1e-5, 0), (2e-5, 10), (3e-5, 20)];
        assert!(pairs.contains(&(
            c.spec.train.optimizer.lr,
            c.spec.train.schedule.warmup_steps
        )));
        if c.loss_base == "b" {
            assert!(
                (c.spec.objective.ce_weight + c.spec.objective.dml[0].weight - 1.0).abs() < 1e-12
            );
        }
    }
    // shots and seeds are axes too, and can be zipped
    let zipped = format!(
        "zip = [[\"shots\", \"seeds\"]]\n{}",
        BASE.replace("seeds = [1, 2, 3]", "seeds = [1, 2]")
    );
    assert_eq!(count(&zipped), 2 * 2);
}

#[test]
fn exclude_and_include_filters() {
    let with = |filters: &str| count(&format!("{filters}\n{BASE}"));
    assert_eq!(
        with("exclude = [{ dataset = \"trec\", shots = 4 }]"),
        12 - 3
    );
    assert_eq!(
        with("exclude = [{ dataset = \"trec\" }, { seed = [1, 2] }]"),
        12 - 6 - 4
    );
    // include adds a combination outside the lists; the other axes take all their values
    assert_eq!(
        with("include = [{ dataset = \"sst5\", shots = 16 }]"),
        12 + 3
    );
    // include of an existing combination adds nothing (same cell id)
    assert_eq!(with("include = [{ dataset = \"mr\", shots = 4 }]"), 12);
    // swept settings by dotted path or by unique last key
    let swept = format!(
        "exclude = [{{ lr = 2e-5, shots = 8 }}]\n{BASE}[train.optimizer]\nlr = [1e-5, 2e-5]\n"
    );
    assert_eq!(count(&swept), 24 - 6);
    let dotted = format!("exclude = [{{ \"train.optimizer.lr\" = 2e-5 }}]\n{BASE}[train.optimizer]\nlr = [1e-5, 2e-5]\n");
    assert_eq!(count(&dotted), 12);
    let g = parse(&format!(
        "include = [{{ dataset = \"sst5\", shots = 16, seed = 9, loss = \"ce\" }}]\n{BASE}"
    ));
    let last = g.cells.last().unwrap();
    assert_eq!(
        (
            last.spec.dataset_name.as_str(),
            last.spec.split.shots,
            last.spec.split.seed
        ),
        ("sst5", 16, 9)
    );
    assert_eq!(last.index, 12);
}

#[test]
fn expansion_order_is_dataset_loss_settings_shots_seed() {
    let g = parse(&format!("{BASE}[losses.x]\nce_weight = 0.5\n"));
    let key = |c: &dmlft::grid::Cell| {
        (
            c.spec.dataset_name.clone(),
            c.spec.loss_name.clone(),
            c.spec.split.shots,
            c.spec.split.seed,
        )
    };
    let first: Vec<_> = g.cells.iter().take(7).map(key).collect();
    assert_eq!(first[0], ("mr".into(), "ce".into(), 4, 1));
    assert_eq!(first[1], ("mr".into(), "ce".into(), 4, 2));
    assert_eq!(first[3], ("mr".into(), "ce".into(), 8, 1));
    assert_eq!(first[6], ("mr".into(), "x".into(), 4, 1));
    assert!(g.cells.iter().enumerate().all(|(i, c)| c.index == i));
}

#[test]
fn inference_modes_needing_proxies_are_dropped_for_losses_without_them() {
    let text = format!("inference = [\"head\", \"proxy\", {{ mode = \"mix\", beta = 0.5 }}]\n{BASE}[losses.pa]\nce_weight = 0.5\n[[losses.pa.dml]]\nweight = 0.5\nloss = {{ kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }}\n");
    let g = parse(&text);
    let ce = g.cells.iter().find(|c| c.spec.loss_name == "ce").unwrap();
    let pa = g.cells.iter().find(|c| c.spec.loss_name == "pa").unwrap();
    assert_eq!(ce.spec.inference.len(), 1);
    assert_eq!(pa.spec.inference.len(), 3);
    let shorthand = parse(&format!("inference = [\"mix:0.5\"]\n{BASE}[losses.pa]\nce_weight = 0.5\n[[losses.pa.dml]]\nweight = 0.5\nloss = {{ kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }}\n"));
    let pa2 = shorthand
        .cells
        .iter()
        .find(|c| c.spec.loss_name == "pa")
        .unwrap();
    assert_eq!(
        pa2.spec.inference,
        vec![dmlft_train::spec::InferenceMode::Mix { beta: 0.5 }]
    );
}

#[test]
fn cell_ids_are_stable_and_sensitive() {
    let a = parse(BASE);
    // formatting, comments and key order do not change ids
    let reordered = "# comment\nseeds = [1, 2, 3]\nname = \"e\"\nshots = [4, 8]\ndatasets = [\"mr\", \"trec\"]\n[losses.ce]\n[protocol]\nkind = \"per-class\"\n[model]\nsource   = \"m\"\n";
    let b = parse(reordered);
    let ids_a: Vec<_> = a.cells.iter().map(|c| c.id.clone()).collect();
    let mut ids_b: Vec<_> = b.cells.iter().map(|c| c.id.clone()).collect();
    let mut sorted_a = ids_a.clone();
    sorted_a.sort();
    ids_b.sort();
    assert_eq!(sorted_a, ids_b);
    // explicit defaults are the same configuration
    let explicit = parse(&format!("{BASE}[train.optimizer]\nlr = 1e-5\n"));
    assert_eq!(explicit.cells[0].id, a.cells[0].id);
    // any change of the resolved cell changes the id
    let changed = parse(&format!("{BASE}[train.optimizer]\nlr = 2e-5\n"));
    assert_ne!(changed.cells[0].id, a.cells[0].id);
    let ids: std::collections::BTreeSet<_> = ids_a.iter().collect();
    assert_eq!(ids.len(), ids_a.len(), "every cell has its own id");
    assert!(ids_a
        .iter()
        .all(|id| id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit())));
    // canonical JSON: sorted keys, no whitespace, and no data location
    let json = canonical_json(&a.cells[0].spec);
    assert!(json.starts_with("{\"dataset\":") && !json.contains(": "));
    assert!(!json.contains("data_root"));
    let mut moved = a.cells[0].spec.clone();
    moved.data_root = "/somewhere/else".into();
    assert_eq!(dmlft::grid::cell_id::cell_id(&moved), a.cells[0].id);
    // the id is the first 16 hex digits of sha256(canonical json)
    use sha2::Digest;
    assert_eq!(
        a.cells[0].id,
        hex::encode(&sha2::Sha256::digest(json.as_bytes())[..8])
    );
}

#[test]
fn the_annotated_example_stays_valid() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/examples/annotated.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let g = parse(&text);
    // 2 datasets x 5 variants x 2 lr x 2 shots x 2 seeds x 4 folds = 320; the two excludes drop
    // 80 + 48, the include adds 16 (trec, 50 shots, ce)
    assert_eq!(g.cells.len(), 320 - 80 - 48 + 16);
    assert!(g
        .losses
        .contains(&"ce-supcon[ce_weight=0.3,weight=0.7]".to_string()));
}

#[test]
fn authors_pools_and_the_numpy_sampler_are_explicit_and_leave_other_ids_alone() {
    use dmlft_data::spec::{AuthorsPoolSpec, DatasetSpec, KfoldRng, ProtocolSpec, TaskName};
    let kfold = BASE.replace("kind = \"per-class\"", "kind = \"kfold\"");
    let plain = parse(&kfold);
    // Ids of grids without the new keys are those of dmlft before them (pinned). The schedule's
    // length was 120 by default then; it follows the run now, so the pinned grids state it.
    let then = "[train.schedule]\ntotal_steps = 120\n";
    assert_eq!(
        parse(&(BASE.to_string() + then)).cells[0].id,
        PINNED_PER_CLASS_ID
    );
    assert_eq!(parse(&(kfold.clone() + then)).cells[0].id, PINNED_KFOLD_ID);
    assert_ne!(plain.cells[0].id, PINNED_KFOLD_ID);
    let json = canonical_json(&plain.cells[0].spec);
    assert!(!json.contains("rng") && !json.contains("shuffle_seed") && !json.contains("authors"));
    // Spelled-out defaults are the same cells.
    let explicit = kfold.replace("kind = \"kfold\"", "kind = \"kfold\"\nrng = \"dmlft\"")
        + "[data]\npools = \"senteval\"\n";
    assert_eq!(parse(&explicit).cells[0].id, plain.cells[0].id);

    let authors_text = kfold.replace(
        "kind = \"kfold\"",
        "kind = \"kfold\"\nrng = \"numpy-compat\"",
    ) + "[data]\npools = \"authors\"\n";
    let authors = parse(&authors_text);
    let spec = &authors.cells[0].spec;
    assert_eq!(
        spec.dataset,
        DatasetSpec::Authors(AuthorsPoolSpec {
            authors_pool: TaskName::Mr,
            raw_text: true
        })
    );
    assert_eq!(spec.dataset_name, "mr");
    assert!(matches!(
        spec.split.protocol,
        ProtocolSpec::Kfold {
            rng: KfoldRng::NumpyCompat,
            shuffle_seed: 42,
            ..
        }
    ));
    assert_ne!(authors.cells[0].id, plain.cells[0].id);
    // shuffle_seed = 42 and raw_text = true are the defaults; other values are other cells
    let same = parse(
        &authors_text
            .replace(
                "rng = \"numpy-compat\"",
                "rng = \"numpy-compat\"\nshuffle_seed = 42",
            )
            .replace(
                "pools = \"authors\"",
                "pools = \"authors\"\nraw_text = true",
            ),
    );
    assert_eq!(same.cells[0].id, authors.cells[0].id);
    for changed in [
        authors_text.replace(
            "rng = \"numpy-compat\"",
            "rng = \"numpy-compat\"\nshuffle_seed = 2048",
        ),
        authors_text.replace(
            "pools = \"authors\"",
            "pools = \"authors\"\nraw_text = false",
        ),
    ] {
        assert_ne!(parse(&changed).cells[0].id, authors.cells[0].id);
    }
}

// Computed by dmlft before `[data]`, `rng` and `shuffle_seed` existed.
const PINNED_PER_CLASS_ID: &str = "f05d521818545481";
const PINNED_KFOLD_ID: &str = "c8d14f0654ecbc87";

#[test]
fn the_paper_grids_train_on_the_authors_samples() {
    use dmlft_data::spec::{DatasetSpec, KfoldRng, ProtocolSpec};
    for name in ["paper-2211.15195.toml", "paper-2211.15202.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../experiments")
            .join(name);
        let g = parse(&std::fs::read_to_string(&path).unwrap());
        let datasets: std::collections::BTreeSet<_> = g
            .cells
            .iter()
            .map(|c| c.spec.dataset_name.as_str())
            .collect();
        assert_eq!(datasets.len(), 7, "{name}");
        for cell in &g.cells {
            let spec = &cell.spec;
            assert!(
                matches!(&spec.dataset, DatasetSpec::Authors(a) if a.raw_text),
                "{name}"
            );
            assert!(
                matches!(
                    spec.split.protocol,
                    ProtocolSpec::Kfold {
                        folds: 4,
                        stratified: false,
                        rng: KfoldRng::NumpyCompat,
                        shuffle_seed: 42,
                        ..
                    }
                ),
                "{name}"
            );
            assert_eq!((spec.split.shots, spec.split.seed), (20, 2048), "{name}");
        }
    }
}

#[test]
fn every_committed_grid_parses_and_expands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut parsed = 0;
    for dir in [root.clone(), root.join("examples")] {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let grid = parse_grid(&text, &path, &LoadOptions::default())
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(!grid.cells.is_empty(), "{}", path.display());
                parsed += 1;
            }
        }
    }
    assert!(parsed >= 8, "{parsed} grid files");
}
