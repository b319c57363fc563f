//! Real checks of a whole cell: all-MiniLM-L6-v2 fine-tuned on 16 SST2 examples per class with
//! CE and with CE + SoftTriple, evaluated on (a seeded subset of) the SST2 test split; and the
//! same cell twice gives identical metrics. Skips without the data or the model unless
//! DMLFT_REQUIRE_DATA / DMLFT_REQUIRE_MODEL say they are required.

use std::sync::atomic::AtomicBool;

use dmlft_losses::losses::SoftTripleConfig;
use dmlft_losses::spec::{DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_train::spec::{OptimizerSpec, ScheduleKind, ScheduleSpec};
use dmlft_train::{run_cell, CellOptions, CellSpec, DeviceChoice, InferenceMode, TrainSpec};

use crate::sst2_cell::sst2_cell;

fn cell(
    objective: ObjectiveSpec,
    steps: usize,
    eval_limit: Option<usize>,
    inference: Vec<InferenceMode>,
) -> Option<CellSpec> {
    let mut cell = sst2_cell(16, 0, 13, 64)?;
    cell.objective = objective;
    cell.train = TrainSpec {
        // all-MiniLM-L6-v2 is small and its new head starts from scratch: a larger head lr.
        optimizer: OptimizerSpec {
            lr: 5e-5,
            head_lr: Some(5e-3),
            ..Default::default()
        },
        schedule: ScheduleSpec {
            kind: ScheduleKind::Cosine,
            warmup_steps: 2,
            total_steps: None,
        },
        epochs: 1,
        steps: Some(steps),
        batch_size: 16,
        grad_accum: 1,
        max_grad_norm: Some(1.0),
        eval_batch_size: 64,
        sampler: Default::default(),
        eval_every: None,
        early_stopping: None,
    };
    cell.inference = inference;
    cell.eval_limit = eval_limit;
    Some(cell)
}

fn softtriple() -> ObjectiveSpec {
    let loss = DmlLossSpec::SoftTriple(SoftTripleConfig {
        centers_per_class: 5,
        la: 8.0,
        gamma: 0.1,
        margin: 0.1,
        tau: 0.0,
    });
    ObjectiveSpec::ce_plus(loss, 0.4).with_embeddings(EmbeddingSelection::AllTokens)
}

fn run(cell: &CellSpec) -> dmlft_train::CellResult {
    run_saving(cell, None)
}

fn run_saving(cell: &CellSpec, save_dir: Option<std::path::PathBuf>) -> dmlft_train::CellResult {
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device: DeviceChoice::Cpu,
        cancel: &cancel,
        save_dir,
        progress: None,
    };
    run_cell(cell, &options).unwrap_or_else(|e| panic!("cell failed: {e}"))
}

#[test]
fn minilm_learns_sst2_from_16_examples_per_class() {
    // The whole SST2 test split (1,821 sentences): chance is 0.5 +- 0.012 (one std).
    let Some(ce) = cell(
        ObjectiveSpec::default(),
        30,
        None,
        vec![InferenceMode::Head],
    ) else {
        return;
    };
    let Some(st) = cell(
        softtriple(),
        30,
        None,
        vec![
            InferenceMode::Head,
            InferenceMode::Proxy,
            InferenceMode::Mix { beta: 0.5 },
        ],
    ) else {
        return;
    };
    for (name, cell) in [("ce", ce), ("ce+softtriple", st)] {
        let result = run(&cell);
        let acc = result.metrics[&dmlft_train::InferenceMode::Head].accuracy;
        eprintln!(
            "{name}: head accuracy {acc:.4} ({} train, {} eval, {} steps, train {:.1}s, eval {:.1}s); all modes: {:?}",
            result.train_size,
            result.eval_size,
            result.steps,
            result.timings.train_s,
            result.timings.eval_s,
            result.metrics.iter().map(|(k, m)| (k.to_string(), m.accuracy)).collect::<Vec<_>>()
        );
        assert_eq!(result.train_size, 32);
        assert_eq!(result.steps, 30);
        // Chance is 0.5; a broken trainer (no update, wrong labels, frozen head) stays near it.
        // Seen on 2026-11-28: see the README (MiniLM trained on 32 SST2 *phrases* is weak; a
        // logistic-regression probe on its mean-pooled embeddings gets ~0.64).
        assert!(acc > 0.55, "{name}: accuracy {acc} is too close to chance");
    }
}

#[test]
fn the_same_cell_twice_gives_identical_metrics() {
    let Some(cell) = cell(
        softtriple(),
        4,
        Some(64),
        vec![InferenceMode::Head, InferenceMode::Proxy],
    ) else {
        return;
    };
    let saved = tempfile::tempdir().unwrap();
    let a = run_saving(&cell, Some(saved.path().to_path_buf()));
    let b = run(&cell);
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(a.final_loss, b.final_loss);
    // The saved folder is complete: weights, config, tokenizer and the cell (head pooling).
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "cell.json",
        "loss.json",
        "loss.safetensors",
        "README.md",
    ] {
        assert!(
            saved.path().join(file).is_file(),
            "{file} missing from the saved model"
        );
    }
    // Predictions from the folder reproduce the recorded accuracy in every mode, on the very
    // examples the cell evaluated.
    let folder = dmlft_train::saved_model::SavedModel::open(saved.path(), None, None).unwrap();
    let task = dmlft_data::load_task(&cell.dataset, &cell.data_root).unwrap();
    let split = dmlft_data::sample_split(&task, &cell.split).unwrap();
    let eval = dmlft_train::setup::eval_subset(split.eval, cell.eval_limit, cell.split.seed);
    for mode in &cell.inference {
        let p = dmlft_train::predict_saved::predict_saved::<burn::backend::Flex>(
            &folder,
            &eval,
            mode,
            64,
            &Default::default(),
        )
        .unwrap();
        let correct = p
            .labels
            .iter()
            .zip(&eval)
            .filter(|(l, e)| **l == e.label)
            .count();
        let label = *mode;
        assert_eq!(
            correct as f64 / eval.len() as f64,
            a.metrics[&label].accuracy,
            "{label}"
        );
    }
}
