//! The library's `Experiment` builder and the equivalent grid file give the same cells: same
//! ids (hashes of the resolved specs), same order, same axes.

use dmlft::exec::FakeExecutor;
use dmlft::grid::{parse_grid, LoadOptions};
use dmlft::prelude::*;
use dmlft_data::spec::{PoolChoice, ProtocolSpec};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn grid_ids(text: &str) -> Vec<(String, String)> {
    let grid = parse_grid(text, Path::new("g.toml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    grid.cells
        .iter()
        .map(|c| (c.id.clone(), c.loss().to_string()))
        .collect()
}

fn soft_triple() -> DmlLossSpec {
    DmlLossSpec::SoftTriple(SoftTripleConfig::default())
}

#[test]
fn builder_and_grid_file_give_identical_cell_ids() {
    let toml = r#"
name = "s"
datasets = ["sst2", "mr"]
shots = [16, 8]
seeds = [0, 1, 2, 3, 4]
inference = ["head", "proxy"]
[model]
source = "m"
[protocol]
kind = "per-class"
[losses.ce]
[losses."ce+softtriple"]
ce_weight = 0.4
[[losses."ce+softtriple".dml]]
weight = 0.6
loss = { kind = "soft-triple" }
"#;
    let study = Experiment::new("m")
        .dataset(TaskName::Sst2)
        .dataset(TaskName::Mr)
        .per_class(16)
        .shots(8)
        .loss("ce", ObjectiveSpec::default())
        .loss("ce+softtriple", ObjectiveSpec::ce_plus(soft_triple(), 0.4))
        .inference(vec![InferenceMode::Head, InferenceMode::Proxy])
        .seeds(0..5);
    let built: Vec<(String, String)> = study
        .cells()
        .unwrap()
        .iter()
        .map(|c| (c.id.clone(), c.loss().to_string()))
        .collect();
    assert_eq!(built.len(), 2 * 2 * 2 * 5);
    assert_eq!(built, grid_ids(toml));

    // a SetFit variant: `.setfit(name, spec)` is `method = "setfit"` with a `setfit` table
    let setfit_toml = toml.replace(
        "[losses.ce]\n",
        "[losses.ce]\n[losses.sf]\nmethod = \"setfit\"\n[losses.sf.setfit]\nlr = 3e-5\n",
    );
    let with_setfit: Vec<(String, String)> = Experiment::new("m")
        .dataset(TaskName::Sst2)
        .dataset(TaskName::Mr)
        .per_class(16)
        .shots(8)
        .loss("ce", ObjectiveSpec::default())
        .setfit(
            "sf",
            dmlft_train::setfit::SetFitSpec {
                lr: 3e-5,
                ..Default::default()
            },
        )
        .loss("ce+softtriple", ObjectiveSpec::ce_plus(soft_triple(), 0.4))
        .inference(vec![InferenceMode::Head, InferenceMode::Proxy])
        .seeds(0..5)
        .cells()
        .unwrap()
        .iter()
        .map(|c| (c.id.clone(), c.loss().to_string()))
        .collect();
    assert_eq!(with_setfit.len(), 2 * 3 * 2 * 5);
    assert_eq!(with_setfit, grid_ids(&setfit_toml));

    // k-fold: one cell per fold; a changed default changes every id
    let kfold_toml = "name = \"k\"\ndatasets = [\"trec\"]\nshots = [32]\nseeds = [7]\n[model]\nsource = \"m\"\n[protocol]\nkind = \"kfold\"\nfolds = 3\n[losses.ce]\n";
    let kfold = Experiment::new("m")
        .dataset(TaskName::Trec)
        .protocol(ProtocolSpec::kfold(3, false, PoolChoice::Train))
        .shots(32)
        .loss("ce", ObjectiveSpec::default())
        .seeds([7]);
    let ids: Vec<_> = kfold
        .cells()
        .unwrap()
        .iter()
        .map(|c| (c.id.clone(), c.loss().to_string()))
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids, grid_ids(kfold_toml));
    let other = kfold.clone().eval_limit(10).cells().unwrap();
    assert!(other.iter().zip(&ids).all(|(c, (id, _))| &c.id != id));
}

#[test]
fn the_builder_asks_the_same_owners_as_plan() {
    let bad = Experiment::new("m")
        .dataset(TaskName::Sst2)
        .per_class(16)
        .loss(
            "arc",
            ObjectiveSpec::ce_plus(
                DmlLossSpec::ArcFace(ArcFaceConfig {
                    margin_degrees: 200.0,
                    scale: 64.0,
                    ..Default::default()
                }),
                0.4,
            ),
        );
    let msg = bad.cells().unwrap_err().to_string();
    assert!(
        msg.contains("`losses.arc.dml.0.loss.margin`") && msg.contains("[0, 180)"),
        "{msg}"
    );
    let empty = Experiment::new("m")
        .per_class(16)
        .loss("ce", ObjectiveSpec::default());
    assert!(empty.cells().unwrap_err().to_string().contains("`dataset`"));
}

/// Data from memory: the builder writes the examples as a custom dataset (label ids kept in the
/// given order, not re-sorted), and a real (tiny) study trains and evaluates on exactly them.
#[test]
fn a_study_from_examples_in_memory_trains_on_them_with_their_label_ids() {
    use dmlft_data::spec::DatasetSpec;

    let dir = tempfile::tempdir().unwrap();
    let (study, test, names) = tiny_memory_study(dir.path());
    let cells = study.cells().unwrap();
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0].dataset(), "mine");
    assert_eq!(cells[0].axes["dataset"], cells[0].dataset());
    let DatasetSpec::Custom(custom) = &cells[0].spec.dataset else {
        panic!("expected a custom dataset, got {:?}", cells[0].spec.dataset);
    };
    assert_eq!(custom.labels.as_ref(), Some(&names));
    assert!(custom.train.starts_with(dir.path().join("memory")));

    // The progress callback sees each cell start, report its steps and finish, in order.
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let opts = RunOptions::new(Device::Cpu).progress(move |e| seen.lock().unwrap().push(e.clone()));
    let results = study.run(&opts).unwrap();
    assert_eq!(results.len(), 2);
    let events = events.lock().unwrap();
    assert_eq!(events[0], GridEvent::Queued { cells: 2 });
    for (cell, _) in &results {
        let of_cell: Vec<&GridEvent> = events
            .iter()
            .filter(|e| match e {
                GridEvent::Started { cell_id }
                | GridEvent::Cell { cell_id, .. }
                | GridEvent::Finished { cell_id, .. } => *cell_id == cell.id,
                GridEvent::Queued { .. } => false,
            })
            .collect();
        assert_eq!(
            of_cell[0],
            &GridEvent::Started {
                cell_id: cell.id.clone()
            }
        );
        let steps = of_cell
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    GridEvent::Cell {
                        event: CellEvent::Step { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(steps, 2, "{of_cell:?}");
        assert_eq!(
            of_cell.last(),
            Some(&&GridEvent::Finished {
                cell_id: cell.id.clone(),
                ok: true
            })
        );
    }
    for (_, result) in &results {
        assert_eq!((result.train_size, result.eval_size), (8, test.len()));
        let head = &result.metrics[&dmlft_train::InferenceMode::Head];
        assert_eq!(head.n, test.len());
        // Class 0 is "pos": 3 of the 6 test examples, as given.
        assert_eq!(head.per_class[0].label, "pos");
        assert_eq!(head.confusion[0].iter().sum::<usize>(), 3);
    }

    // A label id without a name is one clear error from `cells()`, before any training.
    let bad = Experiment::new("unused")
        .examples("bad", vec![Example::new("good film", 2)], None, names)
        .memory_dir(dir.path().join("memory"))
        .per_class(1)
        .loss("ce", ObjectiveSpec::default());
    let err = bad.cells().unwrap_err().to_string();
    assert!(err.contains("label") && err.contains("below 2"), "{err}");
}

/// Two cells (seeds 1 and 2, 4 examples per class, 2 steps) of a tiny BERT on examples from
/// memory: the study, its test examples and its label names.
fn tiny_memory_study(dir: &Path) -> (Experiment, Vec<Example>, Vec<String>) {
    let words = [
        "good", "bad", "film", "plot", "great", "dull", "fun", "boring",
    ];
    let model = dmlft_testing::tiny_bert(dir, &[], &words);
    // "pos" is label 0: sorted names would make it 1.
    let names = vec!["pos".to_string(), "neg".to_string()];
    let text = |i: usize, label: usize| {
        let w = if label == 0 {
            ["good", "great", "fun"]
        } else {
            ["bad", "dull", "boring"]
        };
        format!("{} {} film", w[i % 3], w[(i + 1) % 3])
    };
    let train: Vec<Example> = (0..12)
        .map(|i| Example::new(text(i, i % 2), i % 2))
        .collect();
    let test: Vec<Example> = (0..6)
        .map(|i| Example::new(text(i + 5, i % 2), i % 2))
        .collect();
    let mut train_spec = TrainSpec {
        steps: Some(2),
        batch_size: 4,
        eval_batch_size: 8,
        ..TrainSpec::default()
    };
    train_spec.schedule.warmup_steps = 0;
    let model_spec = serde_json::from_value(serde_json::json!({
        "source": model.display().to_string(),
        "max_length": 16,
    }))
    .unwrap();
    let study = Experiment::new("unused")
        .model(model_spec)
        .examples("mine", train.clone(), Some(test.clone()), names.clone())
        .memory_dir(dir.join("memory"))
        .per_class(4)
        .loss("ce", ObjectiveSpec::default())
        .train(train_spec)
        .seeds(1..3);

    (study, test, names)
}

/// `Experiment::output` + `run_into`: the study runs through `dmlft run`'s own path (records,
/// resume, locks), and the report reads the folder.
#[test]
fn a_study_from_code_runs_into_a_results_folder_that_resumes_and_reports() {
    use dmlft::report;
    use dmlft::store::CellStatus;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let (study, _, _) = tiny_memory_study(dir.path());
    let study = study.name("from-code").output(&out);
    let ids: Vec<String> = study.cells().unwrap().into_iter().map(|c| c.id).collect();

    let first = study.run_into(&RunOptions::new(Device::Cpu)).unwrap();
    assert_eq!((first.summary.succeeded, first.summary.failed), (2, 0));
    let recorded: Vec<&str> = first.records.iter().map(|r| r.cell_id.as_str()).collect();
    assert_eq!(recorded, ids.iter().map(String::as_str).collect::<Vec<_>>());
    for r in &first.records {
        assert_eq!(r.status, CellStatus::Done);
        assert_eq!(r.grid, "from-code");
        assert!(out
            .join("cells")
            .join(format!("{}.json", r.cell_id))
            .is_file());
    }
    let grid_copy = std::fs::read_to_string(out.join("grid.toml")).unwrap();
    assert!(
        grid_copy.contains(&ids[0]) && grid_copy.contains(&ids[1]),
        "{grid_copy}"
    );

    // Run again: nothing is trained, the records are untouched.
    let record = |id: &str| std::fs::read(out.join("cells").join(format!("{id}.json"))).unwrap();
    let before: Vec<Vec<u8>> = ids.iter().map(|id| record(id)).collect();
    let again = study.run_into(&RunOptions::new(Device::Cpu)).unwrap();
    assert_eq!(
        (again.summary.succeeded, again.summary.already_done),
        (0, 2)
    );
    assert_eq!(ids.iter().map(|id| record(id)).collect::<Vec<_>>(), before);

    // A lost record is run again, and only that one.
    std::fs::remove_file(out.join("cells").join(format!("{}.json", ids[1]))).unwrap();
    let resumed = study.run_into(&RunOptions::new(Device::Cpu)).unwrap();
    assert_eq!(
        (resumed.summary.succeeded, resumed.summary.already_done),
        (1, 1)
    );
    assert_eq!(record(&ids[0]), before[0]);

    let report = report::run(study.output_dir(), &ReportOptions::default()).unwrap();
    assert!(report.markdown.contains("mine"), "{}", report.markdown);
    assert!(out.join("report").join("report.md").is_file());
}

/// A set cancel flag stops `run` before the next cell: nothing is trained, one clear error.
#[test]
fn a_cancelled_study_stops_with_a_cancelled_error() {
    let dir = tempfile::tempdir().unwrap();
    let (study, _, _) = tiny_memory_study(dir.path());
    let cancel = Arc::new(AtomicBool::new(true));
    let err = study
        .run(&RunOptions::new(Device::Cpu).cancel(cancel.clone()))
        .unwrap_err();
    assert!(
        matches!(err, dmlft::train::TrainError::Cancelled { .. }),
        "{err}"
    );
}

/// A test double is injected, not read from the environment: `run_into` with the fake executor
/// writes the folder's records (typed reads of them), resumes, and the cancel flag leaves the
/// remaining cells for the next run.
#[test]
fn run_into_runs_an_injected_executor_through_the_results_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (study, _, _) = tiny_memory_study(dir.path());
    let study = study
        .seeds([1, 2, 3])
        .output(dir.path().join("results"))
        .executor(Arc::new(FakeExecutor::default()));
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    // cancel once the first cell has finished: the other two are not started
    let opts = RunOptions::new(Device::Cpu)
        .cancel(cancel.clone())
        .progress(move |e| {
            if matches!(e, GridEvent::Finished { .. }) {
                stop.store(true, Ordering::SeqCst);
            }
        });
    let first = study.run_into(&opts).unwrap();
    assert_eq!((first.summary.succeeded, first.summary.not_run), (1, 2));
    let record = &first.records[0];
    assert_eq!(
        (
            record.dataset(),
            record.loss(),
            record.shots(),
            record.seed()
        ),
        ("mine", "ce", 4, 1)
    );
    assert_eq!(record.fold(), None);
    let result = record.result.as_ref().unwrap();
    assert_eq!(result.versions["executor"], "fake");

    cancel.store(false, Ordering::SeqCst);
    let rest = study.run_into(&RunOptions::new(Device::Cpu)).unwrap();
    assert_eq!((rest.summary.succeeded, rest.summary.already_done), (2, 1));
    let seeds: Vec<u64> = rest.records.iter().map(|r| r.seed()).collect();
    assert_eq!(seeds, [1, 2, 3]);
}
