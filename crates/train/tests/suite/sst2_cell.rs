//! A real cell for the tests that run whole cells: all-MiniLM-L6-v2 on SST2 with the per-class
//! protocol, CE, default training, the head inference mode; `None` (a skip) without the data or
//! the model unless DMLFT_REQUIRE_DATA / DMLFT_REQUIRE_MODEL say they are required. Tests change
//! the fields they are about.

use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::ModelSpec;
use dmlft_pooling::Pooling;
use dmlft_testing::{model_dir, senteval_dir};
use dmlft_train::{CellSpec, InferenceMode, TrainSpec};

/// `shots` training and `dev_shots` dev examples per class drawn with `seed`, truncated to
/// `max_length` tokens.
pub fn sst2_cell(shots: usize, dev_shots: usize, seed: u64, max_length: usize) -> Option<CellSpec> {
    let data_root = senteval_dir()?;
    let model = model_dir()?;
    Some(CellSpec {
        dataset_name: "sst2".into(),
        dataset: DatasetSpec::SentEval(TaskName::Sst2),
        data_root,
        split: SplitRequest {
            protocol: ProtocolSpec::PerClass { dev_shots },
            shots,
            seed,
            fold: None,
        },
        model: ModelSpec {
            source: model.display().to_string(),
            max_length,
            dropout: None,
            precision: Default::default(),
            head_pooling: Pooling::Mean,
        },
        loss_name: "test".into(),
        objective: ObjectiveSpec::default(),
        train: TrainSpec::default(),
        inference: vec![InferenceMode::Head],
        eval_limit: None,
        setfit: None,
        probe: None,
    })
}
