//! End to end on the tiny random BERT fixture with a small WordPiece vocabulary: saved-model
//! discovery (labels, pooling from cell.json, tokenizer), embeddings and predictions, the whole
//! `analyze` pipeline (maps, deciles, metrics: files written, numbers finite and consistent),
//! and the explain report (IG per model, HTML page). Runs in seconds.

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, Flex};
use dmlft_data::Example;
use dmlft_eval::analysis::attribution::IgConfig;
use dmlft_eval::analysis::explain_html::{
    render_html, ExplainReport, ExplainedSentence, ModelExplanation,
};
use dmlft_eval::analysis::maps::Projection;
use dmlft_eval::analysis::pipeline::{analyze, AnalyzeOptions, DistanceSpace};
use dmlft_eval::plots::{PlotOptions, TextPolicy};
use dmlft_pooling::Pooling;
use dmlft_testing::model_dir;
use dmlft_train::analysis::embeddings::outputs_of_saved;
use dmlft_train::analysis::integrated_gradients::explain_examples;
use dmlft_train::saved_model::SavedModel;

const WORDS: &str =
    "the a film movie is was good bad great boring fun dull and not very plot acting story \
                     it this of to with but too long short funny sad";

/// A copy of the tiny BERT classifier with a vocab.txt (ids below its 300-token vocabulary)
/// and, when `pooling` is given, a cell.json declaring the head pooling.
fn tiny_model(root: &Path, name: &str, pooling: Option<&str>) -> PathBuf {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model/tests/fixtures/tiny-bert");
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    let mut vocab = vec!["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "."];
    vocab.extend(WORDS.split_whitespace());
    std::fs::write(dir.join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    if let Some(p) = pooling {
        std::fs::write(
            dir.join("cell.json"),
            format!("{{\"model\": {{\"head_pooling\": \"{p}\"}}}}"),
        )
        .unwrap();
    }
    dir
}

fn examples() -> Vec<Example> {
    [
        ("a very good film", 2),
        ("the plot was boring and too long", 0),
        ("fun", 2),
        ("not a great movie , the acting is dull", 0),
        ("it is a film", 1),
        ("this story was sad but good", 2),
        ("the movie was bad", 0),
        ("a funny , short film with great acting", 2),
        ("long", 1),
        ("the film is not bad", 1),
        ("very very boring", 0),
        ("this is a movie of the story", 1),
    ]
    .into_iter()
    .map(|(t, l)| Example::new(t, l))
    .collect()
}

#[test]
fn saved_model_reads_labels_pooling_and_tokenizer() {
    let root = tempfile::tempdir().unwrap();
    let plain = SavedModel::open(&tiny_model(root.path(), "plain", None), None, None).unwrap();
    assert_eq!(plain.label_names, vec!["negative", "neutral", "positive"]);
    assert_eq!(plain.head_pooling, Pooling::First);
    let mean =
        SavedModel::open(&tiny_model(root.path(), "mean", Some("mean")), None, None).unwrap();
    assert_eq!(mean.head_pooling, Pooling::Mean);
    let given = SavedModel::open(&mean.dir, Some(Pooling::First), None).unwrap();
    assert_eq!(given.head_pooling, Pooling::First);

    let bad = tiny_model(root.path(), "bad", Some("max"));
    let err = SavedModel::open(&bad, None, None).unwrap_err().to_string();
    assert!(
        err.contains("cell.json") && err.contains("\"mean\""),
        "{err}"
    );
    std::fs::remove_file(plain.dir.join("vocab.txt")).unwrap();
    let err = SavedModel::open(&plain.dir, None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--tokenizer"), "{err}");
    assert!(SavedModel::open(&plain.dir, None, Some(&mean.dir)).is_ok());
    let err = SavedModel::open(&root.path().join("missing"), None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json"), "{err}");
}

#[test]
fn a_pretrained_encoder_without_head_is_refused() {
    let Some(dir) = model_dir() else { return };
    // Its config.json declares no classes at all.
    let err = SavedModel::open(&dir, None, None).unwrap_err().to_string();
    assert!(err.contains("fine-tuned classifier"), "{err}");
    // With classes declared, the weights still hold no classification head.
    let root = tempfile::tempdir().unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    config["id2label"] = serde_json::json!({"0": "neg", "1": "pos"});
    std::fs::write(root.path().join("config.json"), config.to_string()).unwrap();
    std::os::unix::fs::symlink(
        dir.join("model.safetensors"),
        root.path().join("model.safetensors"),
    )
    .unwrap();
    let saved = SavedModel::open(root.path(), None, Some(&dir)).unwrap();
    let err = saved
        .load::<Flex>(&Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no trained classification head"), "{err}");
}

#[test]
fn analysis_pipeline_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let examples = examples();
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let device = Default::default();
    let a = SavedModel::open(&tiny_model(root.path(), "a", None), None, None).unwrap();
    let b = SavedModel::open(&tiny_model(root.path(), "b", Some("mean")), None, None).unwrap();
    let outputs = vec![
        outputs_of_saved::<Flex>("ce", &a, &examples, 32, 5, &device).unwrap(),
        outputs_of_saved::<Flex>("ce mean", &b, &examples, 32, 5, &device).unwrap(),
    ];
    // Same encoder: identical embeddings; different head input: different predictions' scores.
    assert_eq!(outputs[0].outputs.first, outputs[1].outputs.first);
    assert_eq!(outputs[0].outputs.mean, outputs[1].outputs.mean);
    assert_ne!(
        outputs[0].outputs.probabilities,
        outputs[1].outputs.probabilities
    );
    // Batched, length-sorted embedding equals embedding one sentence at a time.
    let one = outputs_of_saved::<Flex>("one", &a, &examples[3..4], 32, 1, &device).unwrap();
    let dim = one.outputs.dim;
    for (x, y) in one
        .outputs
        .mean
        .iter()
        .zip(&outputs[0].outputs.mean[3 * dim..4 * dim])
    {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }

    let out = root.path().join("analysis");
    let options = AnalyzeOptions {
        groups: 4,
        distance_space: DistanceSpace::Reference("ce".into()),
        distance_embedding: Some(Pooling::First),
        knn_k: 3,
        projections: vec![Projection::Pca, Projection::Tsne],
        seed: 1,
        plot: PlotOptions {
            width: 320,
            height: 240,
            text: TextPolicy::Auto,
        },
    };
    let report = analyze(&outputs, &texts, &labels, &a.label_names, &out, &options).unwrap();
    for file in &report.files {
        let size = std::fs::metadata(file)
            .unwrap_or_else(|_| panic!("{} missing", file.display()))
            .len();
        assert!(size > 0, "{} is empty", file.display());
    }
    assert_eq!(
        report.maps.len(),
        2 * 2 * 2,
        "2 models x first/mean x PCA/t-SNE"
    );
    for name in [
        "deciles-distance.md",
        "deciles-length.png",
        "metrics.md",
        "metrics.json",
        "summary.md",
        "analysis.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    assert!(out.join("maps/ce_mean-mean-tsne.svg").is_file());

    assert_eq!(report.metrics.len(), 4);
    for m in &report.metrics {
        let e = &m.metrics;
        assert!(
            e.silhouette.is_some_and(|s| (-1.0..=1.0).contains(&s)),
            "{e:?}"
        );
        assert!((0.0..=1.0).contains(&e.knn_accuracy));
        assert!(e
            .intra_inter_ratio
            .is_some_and(|r| r.is_finite() && r > 0.0));
        assert!(e.proxy_alignment.is_none());
        assert_eq!((e.n, e.knn_k), (12, 3));
    }
    for (acc, m) in report.accuracies.iter().zip(&outputs) {
        let correct = m.outputs.correct(&labels).iter().filter(|&&c| c).count();
        assert_eq!(acc.accuracy, correct as f64 / 12.0);
    }
    for table in [&report.distance_deciles, &report.length_deciles] {
        assert!(table.shared_bins);
        for (model, acc) in table.models.iter().zip(&report.accuracies) {
            assert_eq!(model.rows.iter().map(|r| r.count).sum::<usize>(), 12);
            assert_eq!(model.rows.len(), 4);
            // Equal-size groups: overall accuracy is the mean of the group accuracies.
            let mean: f64 = model.rows.iter().map(|r| r.accuracy).sum::<f64>() / 4.0;
            assert!((mean - acc.accuracy).abs() < 1e-12);
            assert!(
                model
                    .rows
                    .windows(2)
                    .all(|w| w[0].max_value <= w[1].min_value),
                "ascending groups"
            );
        }
    }
    // Lengths 1 ("fun", "long") fall in the first group.
    assert_eq!(report.length_deciles.models[0].rows[0].min_value, 1.0);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("| ce mean | mean |") && md.contains("ce's space"),
        "{md}"
    );

    // Each model's own space, too.
    let own = AnalyzeOptions {
        distance_space: DistanceSpace::Own,
        projections: vec![],
        ..options.clone()
    };
    let report = analyze(
        &outputs,
        &texts,
        &labels,
        &a.label_names,
        &root.path().join("own"),
        &own,
    )
    .unwrap();
    assert!(!report.distance_deciles.shared_bins);
    let bad = AnalyzeOptions {
        distance_space: DistanceSpace::Reference("nope".into()),
        ..own
    };
    let err = analyze(
        &outputs,
        &texts,
        &labels,
        &a.label_names,
        &root.path().join("bad"),
        &bad,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ce, ce mean"), "{err}");
}

#[test]
fn explain_report_for_two_models() {
    let root = tempfile::tempdir().unwrap();
    let examples = examples()[..3].to_vec();
    let device = Default::default();
    let config = IgConfig {
        steps: 16,
        ..IgConfig::default()
    };
    let mut sentences: Vec<ExplainedSentence> = examples
        .iter()
        .map(|e| ExplainedSentence {
            text: e.text.clone(),
            label: Some(e.label.to_string()),
            models: vec![],
        })
        .collect();
    let mut names = Vec::new();
    for (name, pooling) in [("first", None), ("mean", Some("mean"))] {
        let saved = SavedModel::open(&tiny_model(root.path(), name, pooling), None, None).unwrap();
        let model = saved.load::<Autodiff<Flex>>(&device).unwrap();
        let tokenizer = saved.tokenizer().unwrap();
        let all = explain_examples(
            &model,
            saved.head_pooling,
            &tokenizer,
            &examples,
            32,
            &config,
            &device,
        )
        .unwrap();
        for (sentence, ig) in sentences.iter_mut().zip(all) {
            let delta = (ig.logit - ig.baseline_logit).abs();
            assert!(ig.completeness_error.abs() < 0.01 * delta + 1e-4, "{ig:?}");
            let tokens = |id: u32| tokenizer.inner().id_to_token(id);
            sentence
                .models
                .push(ModelExplanation::new(name, ig, &saved.label_names, tokens));
        }
        names.push(name.to_string());
    }
    let first = &sentences[0].models[0];
    assert_eq!(
        first.tokens,
        vec!["[CLS]", "a", "very", "good", "film", "[SEP]"]
    );
    let report = ExplainReport {
        config,
        models: names,
        sentences,
    };
    let html = render_html(&report);
    assert_eq!(
        html.matches("<tr>").count(),
        3 * 2,
        "a row per sentence and model"
    );
    assert!(html.contains(">very</span>") && html.contains("the plot was boring and too long"));
    let json = serde_json::to_string(&report).unwrap();
    let back: ExplainReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.sentences.len(), 3);
    for (b, r) in back
        .sentences
        .iter()
        .flat_map(|s| &s.models)
        .zip(report.sentences.iter().flat_map(|s| &s.models))
    {
        assert_eq!((&b.tokens, b.ig.target), (&r.tokens, r.ig.target));
        assert!(b
            .ig
            .attributions
            .iter()
            .zip(&r.ig.attributions)
            .all(|(x, y)| (x - y).abs() < 1e-12));
    }
}
