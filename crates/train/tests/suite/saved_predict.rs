//! A whole cell on the tiny random BERT fixture and a small custom data set, saved, then
//! predicted again from the folder: the folder holds the loss parameters, their manifest and a
//! model card; predictions from it reproduce the accuracy the cell recorded in every inference
//! mode; folders without loss parameters still predict with the head and refuse proxy modes with
//! one clear error; the cell records its training curve. Runs in seconds.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use dmlft_data::spec::{CustomDatasetSpec, DatasetSpec, FileFormat, ProtocolSpec, SplitRequest};
use dmlft_data::{load_task, sample_split};
use dmlft_losses::losses::SoftTripleConfig;
use dmlft_losses::spec::{DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_model::ModelSpec;
use dmlft_pooling::Pooling;
use dmlft_train::predict_saved::predict_saved;
use dmlft_train::saved_model::SavedModel;
use dmlft_train::schedule::Schedule;
use dmlft_train::spec::{OptimizerSpec, ScheduleKind, ScheduleSpec};
use dmlft_train::{run_cell, CellOptions, CellSpec, DeviceChoice, InferenceMode, TrainSpec};

const WORDS: &str = "the a film movie is was good bad great boring fun dull and not very plot \
                     acting story it this of to with but too long short funny sad";

/// The tiny BERT (hidden size 64) with a WordPiece vocab of the words above.
fn tiny_model(root: &Path) -> PathBuf {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    dmlft_testing::tiny_bert(root, &[",", "."], &words)
}

/// 3 classes; 4 training texts per class, 10 test texts per class.
fn dataset(root: &Path) -> CustomDatasetSpec {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let row = |i: usize, label: &str| {
        let text: Vec<&str> = (0..1 + i % 5)
            .map(|k| words[(i * 7 + k * 3) % words.len()])
            .collect();
        format!("{},{label}\n", text.join(" "))
    };
    let (mut train, mut test) = (String::from("text,label\n"), String::from("text,label\n"));
    for (c, label) in ["bad", "good", "meh"].iter().enumerate() {
        for i in 0..4 {
            train += &row(c * 31 + i, label);
        }
        for i in 0..10 {
            test += &row(c * 17 + i + 100, label);
        }
    }
    std::fs::write(root.join("train.csv"), train).unwrap();
    std::fs::write(root.join("test.csv"), test).unwrap();
    CustomDatasetSpec {
        name: "tiny".into(),
        train: "train.csv".into(),
        test: Some("test.csv".into()),
        format: FileFormat::Csv,
        text_column: "text".into(),
        text_pair_column: None,
        label_column: "label".into(),
        labels: None,
    }
}

pub(crate) fn softtriple() -> ObjectiveSpec {
    let loss = DmlLossSpec::SoftTriple(SoftTripleConfig {
        centers_per_class: 2,
        la: 8.0,
        gamma: 0.1,
        margin: 0.1,
        tau: 0.0,
    });
    ObjectiveSpec::ce_plus(loss, 0.5).with_embeddings(EmbeddingSelection::Pooled(Pooling::First))
}

pub(crate) fn cell(
    root: &Path,
    objective: ObjectiveSpec,
    inference: Vec<InferenceMode>,
) -> CellSpec {
    CellSpec {
        dataset_name: "tiny".into(),
        dataset: DatasetSpec::Custom(dataset(root)),
        data_root: root.to_path_buf(),
        split: SplitRequest {
            protocol: ProtocolSpec::PerClass { dev_shots: 0 },
            shots: 4,
            seed: 3,
            fold: None,
        },
        model: ModelSpec {
            source: tiny_model(root).display().to_string(),
            max_length: 24,
            dropout: None,
            precision: Default::default(),
            head_pooling: Pooling::First,
        },
        loss_name: "ce+softtriple".into(),
        objective,
        train: TrainSpec {
            optimizer: OptimizerSpec {
                lr: 1e-3,
                head_lr: Some(5e-3),
                ..Default::default()
            },
            schedule: ScheduleSpec {
                kind: ScheduleKind::Linear,
                warmup_steps: 2,
                total_steps: None,
            },
            epochs: 1,
            steps: Some(6),
            batch_size: 4,
            grad_accum: 1,
            max_grad_norm: Some(1.0),
            eval_batch_size: 7,
            sampler: Default::default(),
            eval_every: None,
            early_stopping: None,
        },
        inference,
        eval_limit: None,
        setfit: None,
        probe: None,
    }
}

/// A CE cell (no proxies), run and saved under `root/saved`; returns that folder.
pub(crate) fn saved_ce(root: &Path) -> PathBuf {
    let save = root.join("saved");
    let mut c = cell(root, ObjectiveSpec::default(), vec![InferenceMode::Head]);
    c.loss_name = "ce".into();
    run(&c, &save);
    save
}

pub(crate) fn run(cell: &CellSpec, save: &Path) -> dmlft_train::CellResult {
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device: DeviceChoice::Cpu,
        cancel: &cancel,
        save_dir: Some(save.to_path_buf()),
        progress: None,
    };
    run_cell(cell, &options).unwrap_or_else(|e| panic!("cell failed: {e}"))
}

#[test]
fn a_saved_model_reproduces_the_recorded_accuracy_in_every_mode() {
    let root = tempfile::tempdir().unwrap();
    let save = root.path().join("saved");
    let modes = vec![
        InferenceMode::Head,
        InferenceMode::Proxy,
        InferenceMode::Mix { beta: 0.3 },
    ];
    let cell = cell(root.path(), softtriple(), modes.clone());
    let result = run(&cell, &save);
    for file in ["loss.json", "loss.safetensors", "README.md", "cell.json"] {
        assert!(save.join(file).is_file(), "{file} missing");
    }
    let saved = SavedModel::open(&save, None, None).unwrap();
    let manifest = saved.loss.clone().expect("loss.json read");
    assert_eq!(manifest.tensors, ["dml.0.centers"]);
    assert_eq!(manifest.label_names, ["bad", "good", "meh"]);
    assert_eq!(manifest.inference.mix_beta, Some(0.3));
    assert_eq!(saved.max_length, 24);

    // The cell's eval set, predicted from the folder.
    let task = load_task(&cell.dataset, &cell.data_root).unwrap();
    let eval = sample_split(&task, &cell.split).unwrap().eval;
    let truth: Vec<usize> = eval.iter().map(|e| e.label).collect();
    for mode in &modes {
        // A batch size other than the cell's: batching must not change predictions.
        let p = predict_saved::<Flex>(&saved, &eval, mode, 5, &Default::default()).unwrap();
        let correct = p.labels.iter().zip(&truth).filter(|(a, b)| a == b).count();
        let label = *mode;
        let recorded = &result.metrics[&label];
        assert_eq!(recorded.n, eval.len());
        assert!(
            (correct as f64 / eval.len() as f64 - recorded.accuracy).abs() < 1e-12,
            "{label}: {correct}/{} from the folder, {} recorded",
            eval.len(),
            recorded.accuracy
        );
        for row in &p.scores {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{row:?}");
        }
    }
    // Proxy predictions come from the trained centers, not fresh ones: replacing the saved
    // parameters with zeros changes every proxy score.
    let proxy = predict_saved::<Flex>(&saved, &eval, &InferenceMode::Proxy, 8, &Default::default())
        .unwrap();
    let bytes = std::fs::read(save.join("loss.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = st.tensor("dml.0.centers").unwrap();
    assert_eq!(view.shape(), [64, 6]);
    let zeros = vec![0u8; view.data().len()];
    let zeroed = safetensors::serialize(
        [(
            "dml.0.centers",
            safetensors::tensor::TensorView::new(view.dtype(), view.shape().to_vec(), &zeros)
                .unwrap(),
        )],
        None,
    )
    .unwrap();
    std::fs::write(save.join("loss.safetensors"), zeroed).unwrap();
    let flat = predict_saved::<Flex>(&saved, &eval, &InferenceMode::Proxy, 8, &Default::default())
        .unwrap();
    assert_ne!(flat.scores, proxy.scores);
    assert!(flat.scores[0].iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-5));

    // The model card: HF front matter and the facts of the cell.
    let card = std::fs::read_to_string(save.join("README.md")).unwrap();
    assert!(
        card.starts_with("---\nlibrary_name: transformers\n"),
        "{card}"
    );
    for fact in [
        "base_model: ",
        "| shots | 4 |",
        "| seed | 3 |",
        "| loss | ce+softtriple |",
        "| data set | tiny |",
        "dmlft predict --model",
        "AutoModelForSequenceClassification",
    ] {
        assert!(card.contains(fact), "model card lacks {fact:?}:\n{card}");
    }
    let acc = format!(
        "| head | 30 | {:.4} |",
        result.metrics[&dmlft_train::InferenceMode::Head].accuracy
    );
    assert!(card.contains(&acc), "model card lacks {acc:?}:\n{card}");
}

#[test]
fn a_folder_without_loss_parameters_predicts_with_the_head_only() {
    let root = tempfile::tempdir().unwrap();
    let save = root.path().join("saved");
    let cell = cell(root.path(), softtriple(), vec![InferenceMode::Head]);
    run(&cell, &save);
    let texts = vec![dmlft_data::Example::new("a good film", 0)];
    let with = SavedModel::open(&save, None, None).unwrap();
    let head =
        predict_saved::<Flex>(&with, &texts, &InferenceMode::Head, 4, &Default::default()).unwrap();
    // As an older folder: no loss.json / loss.safetensors.
    std::fs::remove_file(save.join("loss.json")).unwrap();
    std::fs::remove_file(save.join("loss.safetensors")).unwrap();
    let without = SavedModel::open(&save, None, None).unwrap();
    assert!(without.loss.is_none());
    assert_eq!(without.max_length, 24, "from cell.json");
    let again = predict_saved::<Flex>(
        &without,
        &texts,
        &InferenceMode::Head,
        4,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(head, again);
    for mode in [InferenceMode::Proxy, InferenceMode::Mix { beta: 0.5 }] {
        let err = predict_saved::<Flex>(&without, &texts, &mode, 4, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("loss.json") && err.contains("only `--mode head`"),
            "{err}"
        );
    }
}

#[test]
fn a_ce_model_has_no_proxies_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let save = saved_ce(root.path());
    assert!(save.join("loss.json").is_file());
    assert!(!save.join("loss.safetensors").exists());
    let saved = SavedModel::open(&save, None, None).unwrap();
    let texts = vec![dmlft_data::Example::new("fun", 0)];
    let err = predict_saved::<Flex>(
        &saved,
        &texts,
        &InferenceMode::Proxy,
        4,
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`ce`") && err.contains("soft-triple"), "{err}");
}

#[test]
fn the_cell_records_its_training_curve() {
    let root = tempfile::tempdir().unwrap();
    let save = root.path().join("saved");
    let cell = cell(root.path(), softtriple(), vec![InferenceMode::Head]);
    let result = run(&cell, &save);
    let curve = result.curve.as_ref().expect("a curve");
    assert_eq!(curve.every, 1);
    assert_eq!(curve.points.len(), 6);
    let schedule = Schedule::resolve(&cell.train.schedule, 6);
    for (i, p) in curve.points.iter().enumerate() {
        assert_eq!(p.step, i + 1);
        let mult = schedule.multiplier(i);
        assert_eq!(p.lr["encoder"], 1e-3 * mult);
        assert_eq!(p.lr["head"], 5e-3 * mult);
        assert_eq!(p.lr["loss"], 1e-3 * mult);
        assert!(p.grad_norm.is_finite() && p.grad_norm > 0.0, "{p:?}");
        assert_eq!(
            p.terms.keys().collect::<Vec<_>>(),
            ["ce", "soft-triple"],
            "{p:?}"
        );
        // The total is the weighted sum of the terms the loop computed.
        let weighted = 0.5 * p.terms["ce"] + 0.5 * p.terms["soft-triple"];
        assert!((p.loss - weighted).abs() < 1e-5, "{p:?}");
    }
    assert_eq!(curve.points[0].lr["encoder"], 0.0, "warmup starts at 0");
    let last = curve.points.last().unwrap();
    assert_eq!(last.loss, result.final_loss);
    assert_eq!(last.terms, result.final_loss_terms);
    // The record keeps the curve, and a record without one still loads.
    let json = serde_json::to_value(&result).unwrap();
    let back: dmlft_train::CellResult = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.curve, result.curve);
    let mut old = json;
    old.as_object_mut().unwrap().remove("curve");
    let back: dmlft_train::CellResult = serde_json::from_value(old).unwrap();
    assert_eq!(back.curve, None);
}

#[test]
fn dev_examples_are_scored_in_every_mode_and_recorded() {
    let root = tempfile::tempdir().unwrap();
    let save = root.path().join("saved");
    let modes = vec![InferenceMode::Head, InferenceMode::Proxy];
    let mut cell = cell(root.path(), softtriple(), modes.clone());
    cell.split.shots = 2;
    cell.split.protocol = ProtocolSpec::PerClass { dev_shots: 2 };
    let result = run(&cell, &save);
    // 2 dev examples per class, 3 classes, disjoint from the 6 training examples
    let task = load_task(&cell.dataset, &cell.data_root).unwrap();
    let split = sample_split(&task, &cell.split).unwrap();
    assert_eq!((result.dev_size, split.dev.len()), (6, 6));
    assert!(split
        .dev_indices
        .iter()
        .all(|i| !split.train_indices.contains(i)));
    assert_eq!(
        result.dev_metrics.keys().collect::<Vec<_>>(),
        result.metrics.keys().collect::<Vec<_>>()
    );
    // each recorded dev metric is the fine-tuned model's accuracy on exactly those examples
    let saved = SavedModel::open(&save, None, None).unwrap();
    let truth: Vec<usize> = split.dev.iter().map(|e| e.label).collect();
    for mode in &modes {
        let p = predict_saved::<Flex>(&saved, &split.dev, mode, 4, &Default::default()).unwrap();
        let correct = p.labels.iter().zip(&truth).filter(|(a, b)| a == b).count();
        let recorded = &result.dev_metrics[mode];
        assert_eq!(recorded.n, 6);
        assert!((correct as f64 / 6.0 - recorded.accuracy).abs() < 1e-12);
    }
    // without dev shots nothing is recorded, and the record's JSON has no dev fields
    cell.split.protocol = ProtocolSpec::PerClass { dev_shots: 0 };
    let plain = run(&cell, &root.path().join("plain"));
    assert!(plain.dev_metrics.is_empty() && plain.dev_size == 0);
    let json = serde_json::to_value(&plain).unwrap();
    assert!(json.get("dev_metrics").is_none() && json.get("dev_size").is_none());
}

/// A truncation length past the model's position table, in `loss.json` or (without it)
/// `cell.json`: refused when the folder is opened, naming the file, instead of a panic inside
/// the backend at the first long text.
#[test]
fn a_max_length_past_the_position_table_is_refused_when_opened() {
    let root = tempfile::tempdir().unwrap();
    let save = saved_ce(root.path());
    let edit = |file: &str, pointer: &str| {
        let path = save.join(file);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        *v.pointer_mut(pointer).unwrap() = 100_000.into();
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    };
    edit("loss.json", "/inference/max_length");
    let err = SavedModel::open(&save, None, None).unwrap_err().to_string();
    assert!(
        err.contains("max_length 100000 is longer than") && err.contains("loss.json"),
        "{err}"
    );
    std::fs::remove_file(save.join("loss.json")).unwrap();
    edit("cell.json", "/model/max_length");
    let err = SavedModel::open(&save, None, None).unwrap_err().to_string();
    assert!(
        err.contains("max_length 100000 is longer than") && err.contains("cell.json"),
        "{err}"
    );
}
