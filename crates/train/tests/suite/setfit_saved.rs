//! A SetFit cell saved with its model (on the tiny BERT and the small custom data set of
//! `saved_predict`): the folder holds the body as a `BertModel` checkpoint, sentence-transformers'
//! module files, the head (`setfit_head.json`), the cell and a model card; predicting from it
//! reproduces the accuracy the cell recorded, with scikit-learn's probabilities; other inference
//! modes and the commands that need a classification head refuse it with one clear error.

use burn::backend::Flex;
use dmlft_data::{load_task, sample_split};
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_train::predict_saved::predict_saved;
use dmlft_train::saved_model::setfit_head::SETFIT_HEAD_FILE;
use dmlft_train::saved_model::SavedModel;
use dmlft_train::setfit::SetFitSpec;
use dmlft_train::InferenceMode;

use crate::saved_predict::{cell, run};

#[test]
fn a_saved_setfit_model_reproduces_the_recorded_accuracy() {
    let root = tempfile::tempdir().unwrap();
    let save = root.path().join("saved");
    let mut c = cell(
        root.path(),
        ObjectiveSpec::default(),
        vec![InferenceMode::Head],
    );
    c.loss_name = "setfit".into();
    c.setfit = Some(SetFitSpec {
        num_iterations: Some(2),
        ..SetFitSpec::default()
    });
    let result = run(&c, &save);
    for file in [
        "config.json",
        "model.safetensors",
        SETFIT_HEAD_FILE,
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "cell.json",
        "README.md",
        "vocab.txt",
    ] {
        assert!(save.join(file).is_file(), "{file} missing");
    }
    let card = std::fs::read_to_string(save.join("README.md")).unwrap();
    assert!(
        card.contains("library_name: sentence-transformers"),
        "{card}"
    );
    assert!(
        !card.contains("AutoModelForSequenceClassification"),
        "{card}"
    );

    let saved = SavedModel::open(&save, None, None).unwrap();
    let head = saved.setfit.clone().expect("setfit_head.json read");
    assert_eq!(saved.label_names, ["bad", "good", "meh"]);
    assert_eq!(head.classes, [0, 1, 2]);
    assert_eq!((head.coef.len(), head.coef[0].len()), (3, 64));
    assert_eq!(saved.max_length, 24);

    let task = load_task(&c.dataset, &c.data_root).unwrap();
    let eval = sample_split(&task, &c.split).unwrap().eval;
    let truth: Vec<usize> = eval.iter().map(|e| e.label).collect();
    let device = Default::default();
    let p = predict_saved::<Flex>(&saved, &eval, &InferenceMode::Head, 5, &device).unwrap();
    let correct = p.labels.iter().zip(&truth).filter(|(a, b)| a == b).count();
    let recorded = &result.metrics[&dmlft_train::InferenceMode::Head];
    assert_eq!(recorded.n, eval.len());
    assert!(
        (correct as f64 / eval.len() as f64 - recorded.accuracy).abs() < 1e-12,
        "{correct}/{} from the folder, {} recorded",
        eval.len(),
        recorded.accuracy
    );
    for (row, &label) in p.scores.iter().zip(&p.labels) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        let best = row.iter().copied().fold(f32::MIN, f32::max);
        assert_eq!(row[label], best, "{row:?}");
    }
    // The head's parameters are what predicts: a changed intercept changes the scores.
    let mut changed = head.clone();
    changed.intercept[0] += 5.0;
    std::fs::write(
        save.join(SETFIT_HEAD_FILE),
        serde_json::to_string(&changed).unwrap(),
    )
    .unwrap();
    let moved = SavedModel::open(&save, None, None).unwrap();
    let q = predict_saved::<Flex>(&moved, &eval, &InferenceMode::Head, 5, &device).unwrap();
    assert!(q.scores.iter().zip(&p.scores).all(|(a, b)| a[0] > b[0]));

    // Only the head mode; no classification head for explain / analyze.
    let err = predict_saved::<Flex>(&saved, &eval, &InferenceMode::Proxy, 5, &device).unwrap_err();
    assert!(
        err.to_string().contains("`--mode head`, not `proxy`"),
        "{err}"
    );
    let err = saved.load::<Flex>(&device).unwrap_err().to_string();
    assert!(err.contains("a SetFit model"), "{err}");

    // A length past the position table: refused when the folder is opened (the backend would
    // index past the table and panic).
    let mut long = head.clone();
    long.max_length = 100_000;
    std::fs::write(
        save.join(SETFIT_HEAD_FILE),
        serde_json::to_string(&long).unwrap(),
    )
    .unwrap();
    let err = SavedModel::open(&save, None, None).unwrap_err().to_string();
    assert!(
        err.contains("max_length 100000 is longer than") && err.contains(SETFIT_HEAD_FILE),
        "{err}"
    );

    // A broken head file: one error naming it.
    std::fs::write(save.join(SETFIT_HEAD_FILE), "{\"classes\": [0, 1]}").unwrap();
    let err = SavedModel::open(&save, None, None).unwrap_err().to_string();
    assert!(
        err.contains(SETFIT_HEAD_FILE) && err.contains("not a SetFit head"),
        "{err}"
    );
}
