//! The linear probe as a method of a cell ([`crate::cell::Method::LinearProbe`]): the pretrained
//! encoder, frozen (it takes no training step), embeds the cell's training examples (mean or
//! first-token pooling, optionally L2-normalised), and SetFit's logistic-regression head
//! ([`crate::setfit::head`]) is fitted on them. Same samples and seeds as every other method of
//! the grid: "does fine-tuning help at all". Its record has 0 steps and an empty curve.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use dmlft_pooling::Pooling;
use serde::{Deserialize, Serialize};

use crate::cell::{CellOptions, Fit};
use crate::error::TrainError;
use crate::setfit::cell::{fit_head, BodyEmbedding, FittedBodyHead};
use crate::setfit::spec::HeadSpec;
use crate::setup::CellSetup;
use crate::spec::CellSpec;
use crate::train_loop::TrainStats;

/// A linear-probe variant's settings (`[losses.<name>.probe]`); every field is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeSpec {
    /// The sentence embedding: `mean` of the non-padding tokens (sentence-transformers' pooling,
    /// what SetFit's head reads) or the `first` token.
    pub pooling: Pooling,
    /// L2-normalise the embeddings, as SetFit does for all-MiniLM-L6-v2.
    pub normalize: bool,
    /// The classifier: SetFit's logistic regression (scikit-learn's defaults, C = 1).
    pub head: HeadSpec,
}

impl Default for ProbeSpec {
    fn default() -> Self {
        Self {
            pooling: Pooling::Mean,
            normalize: true,
            head: HeadSpec::default(),
        }
    }
}

/// Embeds the training examples with the frozen encoder and fits the head.
pub(crate) fn fit<'a, B: AutodiffBackend>(
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    probe: &'a ProbeSpec,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
) -> Result<Fit<'a>, TrainError> {
    let loading = Instant::now();
    // Without autodiff: the encoder is never trained, and dropout is off.
    let encoder = setup.encoder::<B::InnerBackend>(cell, device)?;
    let load_s = loading.elapsed().as_secs_f64();
    let started = Instant::now();
    let embedding = BodyEmbedding {
        pooling: probe.pooling,
        normalize: probe.normalize,
        max_length: cell.model.max_length,
    };
    let train_examples = &setup.split.train;
    let x_train = embedding.embed(&encoder, train_examples, setup, cell, device)?;
    let labels: Vec<usize> = train_examples.iter().map(|e| e.label).collect();
    let head = fit_head(&probe.head, &x_train, &labels)?;
    let train_s = started.elapsed().as_secs_f64();
    let fitted = FittedBodyHead::new(
        encoder, head, embedding, &x_train, setup, cell, options, device,
    )?;
    Ok(Fit {
        fitted: Box::new(fitted),
        load_s,
        // no step of the training loop: 0 steps, no loss, an empty curve
        stats: TrainStats::default(),
        train_s,
        setfit: None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::AtomicBool;

    use burn::backend::Flex;
    use dmlft_data::spec::{
        CustomDatasetSpec, DatasetSpec, FileFormat, ProtocolSpec, SplitRequest,
    };
    use dmlft_eval::scores::argmax;
    use dmlft_model::ModelSpec;

    use super::*;
    use crate::modes::TrainingSet;
    use crate::setfit::embed::embed_all_pooled;
    use crate::setfit::head::LogisticHead;
    use crate::{run_cell, DeviceChoice, InferenceMode, TrainSpec};

    const WORDS: &[&str] = &[
        "good", "great", "fun", "bad", "dull", "boring", "plot", "film", "the", "very", "not",
    ];

    /// 2 classes x 6 training texts, 8 test texts each, on the tiny random BERT.
    fn probe_cell(root: &Path, probe: ProbeSpec, inference: Vec<InferenceMode>) -> CellSpec {
        let text = |i: usize, c: usize| {
            let own = &WORDS[c * 3..c * 3 + 3];
            format!("the {} {} film", own[i % 3], WORDS[6 + i % 5])
        };
        let rows = |n: usize, offset: usize| {
            let mut csv = String::from("text,label\n");
            for (c, label) in ["pos", "neg"].iter().enumerate() {
                for i in 0..n {
                    csv += &format!("{},{label}\n", text(i + offset, c));
                }
            }
            csv
        };
        std::fs::write(root.join("train.csv"), rows(6, 0)).unwrap();
        std::fs::write(root.join("test.csv"), rows(8, 1)).unwrap();
        let model = dmlft_testing::tiny_bert(root, &[], WORDS);
        CellSpec {
            dataset_name: "tiny".into(),
            dataset: DatasetSpec::Custom(CustomDatasetSpec {
                name: "tiny".into(),
                train: "train.csv".into(),
                test: Some("test.csv".into()),
                format: FileFormat::Csv,
                text_column: "text".into(),
                text_pair_column: None,
                label_column: "label".into(),
                labels: None,
            }),
            data_root: root.to_path_buf(),
            split: SplitRequest {
                protocol: ProtocolSpec::PerClass { dev_shots: 0 },
                shots: 6,
                seed: 2,
                fold: None,
            },
            model: ModelSpec {
                source: model.display().to_string(),
                max_length: 16,
                dropout: None,
                precision: Default::default(),
                head_pooling: Pooling::First,
            },
            loss_name: "probe".into(),
            objective: Default::default(),
            train: TrainSpec {
                eval_batch_size: 5,
                ..TrainSpec::default()
            },
            inference,
            eval_limit: None,
            setfit: None,
            probe: Some(probe),
        }
    }

    fn accuracy(predicted: &[usize], labels: &[usize]) -> f64 {
        let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
        right as f64 / labels.len() as f64
    }

    #[test]
    fn a_probe_trains_nothing_and_classifies_the_frozen_encoders_embeddings() {
        let dir = tempfile::tempdir().unwrap();
        let modes = vec![
            InferenceMode::Head,
            InferenceMode::Knn { k: 3 },
            InferenceMode::Centroid,
        ];
        let probe = ProbeSpec {
            pooling: Pooling::First,
            ..ProbeSpec::default()
        };
        let cell = probe_cell(dir.path(), probe, modes.clone());
        cell.validate().unwrap();
        let cancel = AtomicBool::new(false);
        let r = run_cell(&cell, &CellOptions::new(DeviceChoice::Cpu, &cancel)).unwrap();
        assert_eq!(r.steps, 0);
        assert!(r.curve.as_ref().is_none_or(|c| c.points.is_empty()));
        assert_eq!(r.metrics.keys().copied().collect::<Vec<_>>(), {
            let mut sorted = modes.clone();
            sorted.sort();
            sorted
        });
        assert_eq!((r.train_size, r.eval_size), (12, 16));

        // The same metrics from the pretrained encoder's first-token embeddings, fitted here.
        let setup = CellSetup::new(&cell).unwrap();
        let device = Default::default();
        let encoder = setup.encoder::<Flex>(&cell, &device).unwrap();
        let embed = |examples| {
            embed_all_pooled(
                &encoder,
                examples,
                &setup.tokenizer,
                16,
                Pooling::First,
                true,
                5,
                &device,
            )
            .unwrap()
        };
        let (x_train, x_eval) = (embed(&setup.split.train), embed(&setup.eval));
        let y_train: Vec<usize> = setup.split.train.iter().map(|e| e.label).collect();
        let y_eval: Vec<usize> = setup.eval.iter().map(|e| e.label).collect();
        let head = LogisticHead::fit(&x_train, &y_train, 1.0, 100).unwrap();
        let by_head: Vec<usize> = head
            .task_scores(&x_eval, 2)
            .unwrap()
            .iter()
            .map(|r| argmax(r))
            .collect();
        let train = TrainingSet::new(&x_train, &y_train).unwrap();
        let by_knn: Vec<usize> = x_eval.iter().map(|x| train.knn(x, 3)).collect();
        let by_centroid: Vec<usize> = x_eval.iter().map(|x| train.centroid(x)).collect();
        for (mode, predicted) in [
            (InferenceMode::Head, by_head),
            (InferenceMode::Knn { k: 3 }, by_knn),
            (InferenceMode::Centroid, by_centroid),
        ] {
            assert_eq!(
                r.metrics[&mode].accuracy,
                accuracy(&predicted, &y_eval),
                "{mode}"
            );
        }
    }

    #[test]
    fn a_probe_refuses_proxy_modes_and_bad_heads() {
        let dir = tempfile::tempdir().unwrap();
        let cell = probe_cell(dir.path(), ProbeSpec::default(), vec![InferenceMode::Proxy]);
        let err = cell.validate().unwrap_err().to_string();
        assert!(
            err.contains("inference.0") && err.contains("linear-probe"),
            "{err}"
        );
        let bad = ProbeSpec {
            head: HeadSpec::Logistic {
                c: 0.0,
                max_iter: 100,
            },
            ..ProbeSpec::default()
        };
        let cell = probe_cell(dir.path(), bad, vec![InferenceMode::Head]);
        let err = cell.validate().unwrap_err().to_string();
        assert!(err.contains("losses.probe.probe.head.c"), "{err}");
        let unknown = serde_json::from_str::<ProbeSpec>(r#"{"pool": "mean"}"#).unwrap_err();
        assert!(unknown.to_string().contains("pooling"), "{unknown}");
    }
}
