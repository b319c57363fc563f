//! `model.max_length` beyond the checkpoint's position table: `run_cell` refuses it with a typed
//! error before tokenizing (it used to panic inside the backend's embedding gather: "index 32 out
//! of bounds"), and a length exactly at the limit trains normally on a text far longer than it.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use dmlft_data::spec::{CustomDatasetSpec, DatasetSpec, FileFormat, ProtocolSpec, SplitRequest};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::spec::ModelSpec;
use dmlft_model::ModelError;
use dmlft_train::spec::{CellSpec, InferenceMode, TrainSpec};
use dmlft_train::{run_cell, CellOptions, DeviceChoice, TrainError};

const WORDS: &[&str] = &["the", "a", "film", "movie", "good", "bad", "plot", "story"];

/// The repro: a custom CSV whose first text has 600 words.
pub(crate) fn cell(root: &Path, max_length: usize) -> CellSpec {
    let long: Vec<&str> = (0..600).map(|i| WORDS[i % WORDS.len()]).collect();
    let mut csv = format!("text,label\n{},pos\n", long.join(" "));
    for i in 0..5 {
        csv.push_str(&format!("a good film {i},pos\na bad plot {i},neg\n"));
    }
    std::fs::write(root.join("long.csv"), csv).unwrap();
    let model = dmlft_testing::tiny_bert(root, &[], WORDS);
    let mut train = TrainSpec {
        steps: Some(2),
        batch_size: 4,
        eval_batch_size: 8,
        ..TrainSpec::default()
    };
    train.schedule.warmup_steps = 0;
    train.schedule.total_steps = Some(2);
    CellSpec {
        dataset_name: "long".into(),
        dataset: DatasetSpec::Custom(CustomDatasetSpec {
            name: "long".into(),
            train: "long.csv".into(),
            test: None,
            format: FileFormat::Csv,
            text_column: "text".into(),
            text_pair_column: None,
            label_column: "label".into(),
            labels: None,
        }),
        data_root: root.to_path_buf(),
        split: SplitRequest {
            protocol: ProtocolSpec::kfold(2, false, Default::default()),
            shots: 4,
            seed: 1,
            fold: Some(0),
        },
        model: ModelSpec {
            source: model.display().to_string(),
            max_length,
            dropout: None,
            precision: Default::default(),
            head_pooling: Default::default(),
        },
        loss_name: "ce".into(),
        objective: serde_json::from_str::<ObjectiveSpec>("{}").unwrap(),
        train,
        inference: vec![InferenceMode::Head],
        eval_limit: None,
        setfit: None,
        probe: None,
    }
}

fn run(spec: &CellSpec) -> Result<dmlft_train::CellResult, TrainError> {
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device: DeviceChoice::Cpu,
        cancel: &cancel,
        save_dir: None,
        progress: None,
    };
    run_cell(spec, &options)
}

#[test]
fn max_length_beyond_the_position_table_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    for max_length in [33, 1024] {
        match run(&cell(dir.path(), max_length)) {
            Err(TrainError::Model(ModelError::MaxLength {
                requested, usable, ..
            })) => assert_eq!((requested, usable), (max_length, 32)),
            other => panic!("max_length {max_length}: expected MaxLength, got {other:?}"),
        }
    }
    let msg = run(&cell(dir.path(), 1024)).unwrap_err().to_string();
    assert!(
        msg.contains("config.json") && msg.contains("1024") && msg.contains("32"),
        "{msg}"
    );
}

#[test]
fn max_length_at_the_limit_truncates_and_trains() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(&cell(dir.path(), 32)).expect("32 positions hold 32 tokens");
    assert_eq!(result.steps, 2);
    assert!(result.final_loss.is_finite());
}
