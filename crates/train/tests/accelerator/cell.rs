//! One real cell end to end on the accelerator and on Flex: SST2 sentences, the few-shot sample, the
//! all-MiniLM-L6-v2 tokenizer, CE + SoftTriple on all token states, a few optimizer steps,
//! evaluation in head and proxy modes. The encoder is a small random BERT with MiniLM's
//! vocabulary (MiniLM itself takes minutes per step on lavapipe). The same seed gives the same
//! sample, initial head and centers, data order and dropout masks on both backends, so the two
//! runs differ only by float rounding: the loss must agree closely and the accuracies within a
//! prediction or two that sits on the decision boundary.

use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
use dmlft_losses::losses::SoftTripleConfig;
use dmlft_losses::spec::{DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_model::{
    save_classifier, EncoderConfig, ModelFamily, ModelSpec, Precision, SequenceClassifier,
};
use dmlft_pooling::Pooling;
use dmlft_testing::{model_dir, senteval_dir};
use dmlft_train::saved_model::copy_tokenizer_files;
use dmlft_train::spec::{OptimizerSpec, ScheduleKind, ScheduleSpec};
use dmlft_train::{
    run_cell, CellOptions, CellResult, CellSpec, DeviceChoice, InferenceMode, TrainSpec,
};

use crate::{device_or_skip, DEVICE};

pub const STEPS: usize = 3;

/// Few: every new batch shape compiles new kernels, seconds each on lavapipe.
pub const EVAL_LIMIT: usize = 48;

/// A random 2-layer BERT (hidden 64) with MiniLM's vocabulary and tokenizer, in `dir`.
pub fn tiny_model(dir: &std::path::Path) -> Option<()> {
    let minilm = model_dir()?;
    let config = EncoderConfig::synthetic(ModelFamily::Bert, 64, 2, 4, 128, 30522, 512).unwrap();
    let model = SequenceClassifier::<Flex>::random(&config, 2, 3, &Default::default());
    save_classifier(&model, dir, None).unwrap();
    copy_tokenizer_files(&minilm, dir).unwrap();
    Some(())
}

pub fn cell(model: &std::path::Path, precision: Precision) -> Option<CellSpec> {
    Some(CellSpec {
        dataset_name: "sst2".into(),
        dataset: DatasetSpec::SentEval(TaskName::Sst2),
        data_root: senteval_dir()?,
        split: SplitRequest {
            protocol: ProtocolSpec::PerClass { dev_shots: 0 },
            shots: 8,
            seed: 5,
            fold: None,
        },
        model: ModelSpec {
            source: model.display().to_string(),
            max_length: 32,
            dropout: Some(0.1),
            precision,
            head_pooling: Pooling::Mean,
        },
        loss_name: "ce-softtriple".into(),
        objective: ObjectiveSpec::ce_plus(
            DmlLossSpec::SoftTriple(SoftTripleConfig {
                centers_per_class: 3,
                la: 8.0,
                gamma: 0.1,
                margin: 0.1,
                tau: 0.0,
            }),
            0.4,
        )
        .with_embeddings(EmbeddingSelection::AllTokens),
        train: TrainSpec {
            optimizer: OptimizerSpec {
                lr: 1e-3,
                head_lr: Some(5e-3),
                loss_lr: Some(5e-3),
                ..Default::default()
            },
            schedule: ScheduleSpec {
                kind: ScheduleKind::Cosine,
                warmup_steps: 1,
                total_steps: None,
            },
            epochs: 1,
            steps: Some(STEPS),
            batch_size: 8,
            grad_accum: 1,
            max_grad_norm: Some(1.0),
            eval_batch_size: 48,
            sampler: Default::default(),
            eval_every: None,
            early_stopping: None,
        },
        inference: vec![InferenceMode::Head, InferenceMode::Proxy],
        eval_limit: Some(EVAL_LIMIT),
        setfit: None,
        probe: None,
    })
}

pub fn run(cell: &CellSpec, device: DeviceChoice) -> CellResult {
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device,
        cancel: &cancel,
        save_dir: None,
        progress: None,
    };
    run_cell(cell, &options).unwrap_or_else(|e| panic!("cell on {device} failed: {e}"))
}

#[test]
fn a_real_cell_gives_the_same_metrics_as_on_flex() {
    if device_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(()) = tiny_model(dir.path()) else {
        return;
    };
    let Some(cell) = cell(dir.path(), Precision::F32) else {
        return;
    };
    let gpu = run(&cell, DEVICE);
    let cpu = run(&cell, DeviceChoice::Cpu);
    assert_eq!(gpu.versions["backend"], DEVICE.backend_name());
    assert_eq!((gpu.steps, gpu.eval_size), (STEPS, EVAL_LIMIT));
    let loss_diff = (gpu.final_loss - cpu.final_loss).abs() / cpu.final_loss.abs();
    println!(
        "cell: final loss {DEVICE} {:.6} flex {:.6} (relative {loss_diff:.1e}); train {:.1}s / {:.1}s",
        gpu.final_loss, cpu.final_loss, gpu.timings.train_s, cpu.timings.train_s
    );
    assert!(loss_diff < 1e-3, "final losses differ by {loss_diff:e}");
    for mode in [
        dmlft_train::InferenceMode::Head,
        dmlft_train::InferenceMode::Proxy,
    ] {
        let (g, c) = (gpu.metrics[&mode].accuracy, cpu.metrics[&mode].accuracy);
        println!("cell: {mode} accuracy {DEVICE} {g:.4} flex {c:.4}");
        // At most two of the evaluated sentences may fall on the other side of the boundary.
        assert!(
            (g - c).abs() <= 2.0 / EVAL_LIMIT as f64 + 1e-9,
            "{mode} accuracy differs: {DEVICE} {g} vs flex {c}"
        );
    }
}
