//! `dmlft predict` on a model folder saved by a real (tiny) cell: every input route (TEXT
//! arguments, CSV, JSONL, stdin), every output format, every mode, in input order; and bad
//! input (missing column, empty file, bad JSONL line, unknown mode, proxy mode on a head-only
//! folder, missing folder) gets one clear error naming the file and line, exit code 1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicBool;

use dmlft_data::spec::{CustomDatasetSpec, DatasetSpec, FileFormat, ProtocolSpec, SplitRequest};
use dmlft_losses::losses::ProxyAnchorConfig;
use dmlft_losses::spec::{DmlLossSpec, DmlTermSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_model::ModelSpec;
use dmlft_pooling::Pooling;
use dmlft_train::spec::OptimizerSpec;
use dmlft_train::{run_cell, CellOptions, CellSpec, DeviceChoice, InferenceMode, TrainSpec};

const WORDS: &str = "the a film movie is was good bad great boring fun dull and not very plot";

/// Trains a 3-step SoftTriple cell on the tiny BERT fixture and saves it under `root/saved`.
pub(crate) fn saved_model(root: &Path) -> PathBuf {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let model = dmlft_testing::tiny_bert(root, &[], &words);
    let mut train = String::from("text,label\n");
    for i in 0..6 {
        train += &format!("{} {},{}\n", words[i], words[i + 5], ["neg", "pos"][i % 2]);
    }
    std::fs::write(root.join("train.csv"), train).unwrap();
    let cell = CellSpec {
        dataset_name: "tiny".into(),
        dataset: DatasetSpec::Custom(CustomDatasetSpec {
            name: "tiny".into(),
            train: "train.csv".into(),
            test: Some("train.csv".into()),
            format: FileFormat::Csv,
            text_column: "text".into(),
            text_pair_column: None,
            label_column: "label".into(),
            labels: None,
        }),
        data_root: root.to_path_buf(),
        split: SplitRequest {
            protocol: ProtocolSpec::PerClass { dev_shots: 0 },
            shots: 2,
            seed: 1,
            fold: None,
        },
        model: ModelSpec {
            source: model.display().to_string(),
            max_length: 16,
            dropout: None,
            precision: Default::default(),
            head_pooling: Pooling::First,
        },
        loss_name: "ce+proxy-anchor".into(),
        objective: ObjectiveSpec {
            ce_weight: 1.0,
            label_smoothing: 0.0,
            dml: vec![DmlTermSpec {
                weight: 1.0,
                embeddings: EmbeddingSelection::Pooled(Pooling::First),
                loss: DmlLossSpec::ProxyAnchor(ProxyAnchorConfig {
                    alpha: 32.0,
                    margin: 0.1,
                }),
            }],
        },
        train: TrainSpec {
            optimizer: OptimizerSpec {
                lr: 1e-3,
                ..Default::default()
            },
            steps: Some(3),
            batch_size: 4,
            ..Default::default()
        },
        inference: vec![InferenceMode::Head, InferenceMode::Mix { beta: 0.25 }],
        eval_limit: None,
        setfit: None,
        probe: None,
    };
    let saved = root.join("saved");
    let cancel = AtomicBool::new(false);
    run_cell(
        &cell,
        &CellOptions {
            device: DeviceChoice::Cpu,
            cancel: &cancel,
            save_dir: Some(saved.clone()),
            progress: None,
        },
    )
    .unwrap_or_else(|e| panic!("cell failed: {e}"));
    saved
}

pub(crate) fn dmlft(root: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmlft"))
        .current_dir(root)
        .env("RUST_LOG", "warn")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn predict_reads_every_input_and_writes_every_format_in_input_order() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let saved = saved_model(r);
    let model = saved.to_str().unwrap();
    let texts = ["good film", "the plot was dull and boring", "fun"];

    let args_out = stdout(&dmlft(
        r,
        &[
            "predict", "--model", model, "--format", "jsonl", texts[0], texts[1], texts[2],
        ],
        None,
    ));
    let rows = jsonl(&args_out);
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["index"], i);
        assert_eq!(row["text"], texts[i]);
        assert_eq!(row["mode"], "head");
        let label = row["label"].as_str().unwrap();
        assert!(["neg", "pos"].contains(&label), "{row}");
        let p = row["scores"][label].as_f64().unwrap();
        assert_eq!(row["score"].as_f64().unwrap(), p);
        let sum: f64 = row["scores"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-4, "{row}");
    }

    // The same texts from a CSV (another column order, an extra column), JSONL and stdin.
    let csv = format!(
        "id,sentence\n1,{}\n2,{}\n3,{}\n",
        texts[0], texts[1], texts[2]
    );
    std::fs::write(r.join("in.csv"), csv).unwrap();
    let from_csv = stdout(&dmlft(
        r,
        &[
            "predict",
            "--model",
            model,
            "--format",
            "jsonl",
            "--input",
            "in.csv",
            "--text-column",
            "sentence",
        ],
        None,
    ));
    assert_eq!(from_csv, args_out);
    let lines: String = texts
        .iter()
        .map(|t| format!("{{\"text\": \"{t}\"}}\n"))
        .collect();
    std::fs::write(r.join("in.jsonl"), &lines).unwrap();
    let from_jsonl = stdout(&dmlft(
        r,
        &[
            "predict", "--model", model, "--input", "in.jsonl", "--format", "jsonl",
        ],
        None,
    ));
    assert_eq!(from_jsonl, args_out);
    let from_stdin = stdout(&dmlft(
        r,
        &["predict", "--model", model],
        Some(&texts.join("\n")),
    ));
    assert_eq!(from_stdin, args_out, "not a terminal: jsonl by default");

    // Batching (length-sorted) does not change anything.
    let batch1 = stdout(&dmlft(
        r,
        &[
            "predict",
            "--model",
            model,
            "--batch-size",
            "1",
            "--format",
            "jsonl",
            texts[0],
            texts[1],
            texts[2],
        ],
        None,
    ));
    let round = |s: &str| {
        jsonl(s)
            .iter()
            .map(|v| {
                (
                    v["label"].clone(),
                    (v["score"].as_f64().unwrap() * 1e4).round(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(round(&batch1), round(&args_out));

    // Other formats and modes.
    let csv_out = stdout(&dmlft(
        r,
        &["predict", "--model", model, "--format", "csv", texts[0]],
        None,
    ));
    assert!(
        csv_out.starts_with(
            "index,text,mode,label,label_id,score,score_neg,score_pos\n0,good film,head,"
        ),
        "{csv_out}"
    );
    let table = stdout(&dmlft(
        r,
        &[
            "predict", "--model", model, "--format", "table", "--mode", "proxy", texts[0],
        ],
        None,
    ));
    assert!(
        table.contains("(proxy inference)") && table.contains("good film"),
        "{table}"
    );
    let mix = jsonl(&stdout(&dmlft(
        r,
        &[
            "predict", "--model", model, "--mode", "mix", "--format", "jsonl", texts[0],
        ],
        None,
    )));
    assert_eq!(mix[0]["mode"], "mix-0.25", "the beta the cell evaluated");
    let mix1 = jsonl(&stdout(&dmlft(
        r,
        &[
            "predict", "--model", model, "--mode", "mix:1", "--format", "jsonl", texts[0],
        ],
        None,
    )));
    let head = &rows[0];
    assert_eq!(mix1[0]["label"], head["label"], "mix:1 is the head");
    assert!((mix1[0]["score"].as_f64().unwrap() - head["score"].as_f64().unwrap()).abs() < 1e-5);
}

#[test]
fn bad_input_gets_one_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let saved = saved_model(r);
    let model = saved.to_str().unwrap();
    std::fs::write(r.join("nocol.csv"), "sentence\nhello\n").unwrap();
    std::fs::write(r.join("empty.csv"), "text\n").unwrap();
    std::fs::write(r.join("empty.txt"), "\n\n").unwrap();
    std::fs::write(
        r.join("bad.jsonl"),
        "{\"text\": \"ok\"}\n{\"text\": oops}\n",
    )
    .unwrap();
    std::fs::write(r.join("num.jsonl"), "{\"text\": 3}\n").unwrap();
    let headless = r.join("headless");
    std::fs::create_dir_all(&headless).unwrap();
    for f in std::fs::read_dir(&saved).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("loss.") {
            std::fs::copy(&f, headless.join(name)).unwrap();
        }
    }
    let headless = headless.to_str().unwrap();
    // tokenizer files of another model: a vocabulary past the model's 300-row table
    let other = r.join("bigvocab");
    std::fs::create_dir_all(&other).unwrap();
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .map(String::from)
        .to_vec();
    vocab.extend((0..300).map(|i| format!("w{i}")));
    vocab.push("film".into());
    std::fs::write(other.join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "missing column",
            vec!["--model", model, "--input", "nocol.csv"],
            vec!["nocol.csv:1", "\"text\"", "sentence"],
        ),
        (
            "empty csv",
            vec!["--model", model, "--input", "empty.csv"],
            vec!["empty.csv", "no text to classify"],
        ),
        (
            "empty text file",
            vec!["--model", model, "--input", "empty.txt"],
            vec!["empty.txt", "no text to classify"],
        ),
        (
            "bad jsonl line",
            vec!["--model", model, "--input", "bad.jsonl"],
            vec!["bad.jsonl:2", "a JSON object"],
        ),
        (
            "jsonl text not a string",
            vec!["--model", model, "--input", "num.jsonl"],
            vec!["num.jsonl:1", "a string for key \"text\""],
        ),
        (
            "unknown mode",
            vec!["--model", model, "--mode", "nn", "x"],
            vec!["--mode nn", "valid: head, proxy, mix:BETA", "or mix:"],
        ),
        (
            "knn on a saved model",
            vec!["--model", model, "--mode", "knn:3", "x"],
            vec!["`knn-3`", "training examples", "does not keep"],
        ),
        (
            "bad beta",
            vec!["--model", model, "--mode", "mix:2", "x"],
            vec!["--mode mix:2", "[0, 1]"],
        ),
        (
            "proxy on a head-only folder",
            vec!["--model", headless, "--mode", "proxy", "x"],
            vec!["loss.json", "only `--mode head`"],
        ),
        (
            "another model's tokenizer",
            vec!["--model", model, "--tokenizer", "bigvocab", "a film"],
            vec![
                "bigvocab",
                "token `film` (id 305)",
                "vocabulary of 300 tokens",
            ],
        ),
        (
            "missing folder",
            vec!["--model", "nowhere", "x"],
            vec!["--model nowhere", "no such folder"],
        ),
        (
            "missing input file",
            vec!["--model", model, "--input", "nope.csv"],
            vec!["nope.csv"],
        ),
    ];
    for (what, args, fragments) in cases {
        let mut full = vec!["predict"];
        full.extend(args);
        let out = dmlft(r, &full, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        for f in fragments {
            assert!(err.contains(f), "{what}: {f:?} not in {err}");
        }
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{what}: {err}"
        );
    }
    // The head still works on the head-only folder.
    stdout(&dmlft(r, &["predict", "--model", headless, "x"], None));
}
