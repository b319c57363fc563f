//! Dev-driven training on a tiny random BERT: early stopping returns exactly the weights of the
//! best dev evaluation (the saved weights of a run of that many steps, same seed and schedule),
//! for fine-tuning with a k-fold dev fold (SetFit with per-class dev shots: the best
//! evaluation's body); and
//! `eval_every` without dev examples is one error naming the key.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use dmlft_data::spec::ProtocolSpec;
use dmlft_train::spec::{CellSpec, DevMetric, EarlyStoppingSpec, InferenceMode};
use dmlft_train::{run_cell, CellOptions, CellResult, DeviceChoice};

/// `max_length`'s cell with 24 short examples (12 per class) in its CSV.
fn cell(root: &Path) -> CellSpec {
    let mut cell = crate::max_length::cell(root, 32);
    let mut csv = String::from("text,label\n");
    for i in 0..12 {
        csv.push_str(&format!("a good film {i},pos\na bad plot {i},neg\n"));
    }
    std::fs::write(root.join("long.csv"), csv).unwrap();
    cell.train.optimizer.lr = 1e-3;
    cell.train.steps = Some(6);
    cell.train.schedule.total_steps = Some(6);
    cell
}

fn early_stopping(patience: usize) -> Option<EarlyStoppingSpec> {
    Some(EarlyStoppingSpec {
        metric: DevMetric::Accuracy,
        mode: InferenceMode::Head,
        patience,
        restore_best: true,
    })
}

/// Runs `cell`, saving its model into `dir`; the result and the bytes of its weights.
fn run(cell: &CellSpec, dir: PathBuf) -> (CellResult, Vec<Vec<u8>>) {
    let cancel = AtomicBool::new(false);
    let mut options = CellOptions::new(DeviceChoice::Cpu, &cancel);
    options.save_dir = Some(dir.clone());
    let result = run_cell(cell, &options).unwrap_or_else(|e| panic!("{e}"));
    let mut files: Vec<PathBuf> = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no weights saved in {}", dir.display());
    (
        result,
        files.iter().map(|f| std::fs::read(f).unwrap()).collect(),
    )
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Early stopping with `cell`'s settings, then runs of exactly the best and the last step.
fn check_restores_the_best_step(cell: CellSpec, root: &Path) {
    let mut stopped = cell.clone();
    stopped.train.eval_every = Some(1);
    stopped.train.early_stopping = early_stopping(2);
    let (result, weights) = run(&stopped, root.join("stopped"));
    let dev = result
        .curve
        .as_ref()
        .unwrap()
        .dev
        .as_ref()
        .expect("a dev curve");
    let record = dev
        .early_stopping
        .as_ref()
        .expect("an early-stopping record");
    assert_eq!(dev.points.len(), result.steps);
    assert!(record.best_step <= result.steps);
    // The cell's final dev scoring is the best evaluation's.
    let best = &dev.points[record.best_step - 1].scores[&InferenceMode::Head];
    assert_eq!(
        result.dev_metrics[&InferenceMode::Head].accuracy,
        best.accuracy
    );

    let exactly = |steps: usize, name: &str| {
        let mut c = cell.clone();
        c.train.steps = Some(steps);
        run(&c, root.join(name)).1
    };
    assert_eq!(weights, exactly(record.best_step, "best"));
    assert_ne!(
        weights,
        exactly(result.steps, "last"),
        "the test tells the steps apart"
    );
    if record.best_step < result.steps {
        assert_eq!(record.stopped_at, Some(result.steps));
    }
}

#[test]
fn fine_tuning_stops_early_on_a_kfold_dev_fold_and_restores_the_best_weights() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cell(dir.path());
    if let ProtocolSpec::Kfold { dev_per_class, .. } = &mut c.split.protocol {
        *dev_per_class = 2;
    }
    check_restores_the_best_step(c, dir.path());
}

#[test]
fn setfit_scores_dev_shots_during_training_and_returns_the_best_body() {
    // SetFit's step count comes from its pairs, so there is no run of exactly k steps to
    // compare with: the restored body must be the best evaluation's (its dev metrics, a head
    // fitted the same way) and differ from the last step's when they are different steps.
    let dir = tempfile::tempdir().unwrap();
    let mut c = cell(dir.path());
    c.split.protocol = ProtocolSpec::PerClass { dev_shots: 2 };
    c.split.shots = 3;
    c.split.fold = None;
    c.setfit = Some(serde_json::from_str(r#"{"num_iterations": 1, "batch_size": 2}"#).unwrap());
    c.train.eval_every = Some(1);
    c.train.early_stopping = early_stopping(2);
    let (result, restored) = run(&c, dir.path().join("restored"));
    let dev = result
        .curve
        .as_ref()
        .unwrap()
        .dev
        .as_ref()
        .expect("a dev curve");
    let record = dev.early_stopping.as_ref().unwrap();
    assert_eq!(dev.points.len(), result.steps);
    let best = &dev.points[record.best_step - 1].scores[&InferenceMode::Head];
    assert_eq!(
        result.dev_metrics[&InferenceMode::Head].accuracy,
        best.accuracy
    );
    assert_eq!(
        result.dev_metrics[&InferenceMode::Head].macro_f1,
        best.macro_f1
    );
    let stats = result.setfit.as_ref().unwrap();
    assert_eq!(stats.pairs_from, "num_iterations = 1");
    assert!(result.steps <= stats.planned_body_steps);
    c.train.early_stopping.as_mut().unwrap().restore_best = false;
    let (last, weights) = run(&c, dir.path().join("last"));
    assert_eq!(
        last.steps, result.steps,
        "the same evaluations stop both runs"
    );
    assert_eq!(restored == weights, record.best_step == result.steps);
}

#[test]
fn eval_every_without_dev_examples_is_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cell(dir.path());
    c.train.eval_every = Some(2);
    let err = c.validate().unwrap_err().to_string();
    assert!(
        err.contains("train.eval_every") && err.contains("protocol.dev_per_class"),
        "{err}"
    );
    c.train.eval_every = None;
    c.train.early_stopping = early_stopping(1);
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("train.early_stopping"), "{err}");
}
