//! Format edge cases of the SentEval loaders and the custom loader, on small committed fixtures.

use dmlft_data::{
    load_task, CustomDatasetSpec, DataError, DatasetSpec, Example, FileFormat, TaskName, DEV, TEST,
    TRAIN,
};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(name: TaskName, root: &str) -> Result<dmlft_data::Task, DataError> {
    load_task(&DatasetSpec::SentEval(name), &fixtures().join(root))
}

fn texts(examples: &[Example]) -> Vec<&str> {
    examples.iter().map(|e| e.text.as_str()).collect()
}

#[test]
fn blank_lines_are_examples_and_only_the_final_piece_is_dropped() {
    let cr = load(TaskName::Cr, "edge").unwrap();
    let train = cr.split(TRAIN).unwrap();
    // pos first (label 1), as SentEval: "great camera", "", "works well", "" then neg.
    assert_eq!(
        texts(train),
        vec!["great camera", "", "works well", "", "battery died", ""]
    );
    let labels: Vec<usize> = train.iter().map(|e| e.label).collect();
    assert_eq!(labels, vec![1, 1, 1, 1, 0, 0]);
    assert_eq!(cr.label_names, vec!["negative", "positive"]);
    assert_eq!(cr.splits.len(), 1, "no official split: train only");

    let mpqa = load(TaskName::Mpqa, "edge").unwrap();
    assert_eq!(
        texts(mpqa.split(TRAIN).unwrap()),
        vec!["good", "bad", "", "worse"]
    );
}

#[test]
fn trec_reads_latin1_and_drops_the_fine_label() {
    let trec = load(TaskName::Trec, "edge").unwrap();
    let train = trec.split(TRAIN).unwrap();
    assert_eq!(train[0].text, "What is the sister\u{f0}city of Denver ?");
    assert_eq!(train[0].label, 4, "LOC = 4");
    assert_eq!(
        train[1].text, "Who wrote  the book ?",
        "inner double space kept"
    );
    assert_eq!(train[1].label, 3, "HUM = 3");
    assert_eq!(trec.split(TEST).unwrap()[0].label, 5, "NUM = 5");
}

#[test]
fn mrpc_skips_the_bom_header_and_reads_utf8_pairs() {
    let mrpc = load(TaskName::Mrpc, "edge").unwrap();
    let train = mrpc.split(TRAIN).unwrap();
    assert_eq!(train.len(), 2);
    assert_eq!(
        train[0],
        Example::pair("A man sings .", "A man is singing .", 1)
    );
    assert_eq!(train[1].text, "Café open .");
    assert_eq!(mrpc.split(TEST).unwrap().len(), 1);
}

#[test]
fn sick_trims_crlf_and_maps_labels() {
    let sick = load(TaskName::SickE, "edge").unwrap();
    let test = sick.split(TEST).unwrap();
    assert_eq!(test[0], Example::pair("Two men talk", "Two people talk", 2));
    assert_eq!(
        test[1],
        Example::pair("A man is n't eating", "A man eats", 0)
    );
    assert_eq!(sick.split(DEV).unwrap()[0].label, 1, "NEUTRAL = 1");
    assert_eq!(
        sick.label_names,
        vec!["CONTRADICTION", "NEUTRAL", "ENTAILMENT"]
    );
}

#[test]
fn sst_formats_trim_the_space_before_the_tab_and_split_the_fine_label() {
    let sst2 = load(TaskName::Sst2, "edge").unwrap();
    assert_eq!(
        sst2.split(TRAIN).unwrap()[0],
        Example::new("a fine film", 1)
    );
    assert_eq!(sst2.split(DEV).unwrap().len(), 1);
    let sst5 = load(TaskName::Sst5, "edge").unwrap();
    assert_eq!(
        sst5.split(TRAIN).unwrap()[1],
        Example::new("a disaster with  two spaces", 0)
    );
    assert_eq!(sst5.label_names[4], "very positive");
}

fn assert_malformed(err: DataError, file: &str, line: usize) {
    match &err {
        DataError::Malformed { path, line: l, .. }
        | DataError::UnknownLabel { path, line: l, .. } => {
            assert!(path.ends_with(file), "{err}");
            assert_eq!(*l, line, "{err}");
        }
        other => panic!("expected a malformed-line error for {file}:{line}, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains(&format!(":{line}:")), "{message}");
}

#[test]
fn malformed_lines_name_file_and_line() {
    assert_malformed(
        load(TaskName::Trec, "bad").unwrap_err(),
        "TREC/train_5500.label",
        2,
    );
    assert_malformed(
        load(TaskName::Sst2, "bad").unwrap_err(),
        "SST/binary/sentiment-train",
        2,
    );
    assert_malformed(
        load(TaskName::Mrpc, "bad").unwrap_err(),
        "MRPC/msr_paraphrase_train.txt",
        2,
    );
}

#[test]
fn unknown_labels_list_the_valid_ones() {
    let err = load(TaskName::SickE, "bad").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, DataError::UnknownLabel { line: 2, .. }),
        "{message}"
    );
    assert!(
        message.contains("\"MAYBE\"") && message.contains("CONTRADICTION, NEUTRAL, ENTAILMENT"),
        "{message}"
    );
    let err = load(TaskName::Sst5, "bad").unwrap_err();
    assert!(
        err.to_string()
            .contains("\"7\"; valid labels: 0, 1, 2, 3, 4"),
        "{err}"
    );
}

#[test]
fn missing_folders_and_files_are_named() {
    let err = load(TaskName::Mr, "edge").unwrap_err();
    assert!(
        matches!(&err, DataError::MissingDir { path, .. } if path.ends_with("MR")),
        "{err}"
    );
    let err = load_task(
        &DatasetSpec::SentEval(TaskName::Mr),
        Path::new("/no/such/root"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/no/such/root"), "{err}");
    // SUBJ folder exists nowhere in edge/, CR exists but a file may be missing: make one.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("CR")).unwrap();
    std::fs::write(dir.path().join("CR/custrev.pos"), "x \n").unwrap();
    let err = load_task(&DatasetSpec::SentEval(TaskName::Cr), dir.path()).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { path } if path.ends_with("CR/custrev.neg")),
        "{err}"
    );
}

#[test]
fn empty_dataset_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("MR")).unwrap();
    std::fs::write(dir.path().join("MR/rt-polarity.pos"), "").unwrap();
    std::fs::write(dir.path().join("MR/rt-polarity.neg"), "").unwrap();
    let err = load_task(&DatasetSpec::SentEval(TaskName::Mr), dir.path()).unwrap_err();
    assert!(
        matches!(&err, DataError::EmptyFile { path } if path.ends_with("MR/rt-polarity.pos")),
        "{err}"
    );
}

#[test]
fn one_empty_file_is_named_as_such() {
    // Before: an empty (or blank) rt-polarity.pos loaded as a task without positive examples
    // and surfaced later as a `shots` error about class "positive".
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("MR")).unwrap();
    std::fs::write(dir.path().join("MR/rt-polarity.neg"), "bad film \nawful \n").unwrap();
    for empty in ["", "\n", "  \n\n"] {
        std::fs::write(dir.path().join("MR/rt-polarity.pos"), empty).unwrap();
        let err = load_task(&DatasetSpec::SentEval(TaskName::Mr), dir.path()).unwrap_err();
        assert!(
            matches!(&err, DataError::EmptyFile { path } if path.ends_with("MR/rt-polarity.pos")),
            "{empty:?}: {err}"
        );
        assert!(err.to_string().contains("is empty"), "{err}");
    }
}

#[test]
fn task_names_parse_and_list_the_valid_ones() {
    assert_eq!("sick-e".parse::<TaskName>().unwrap(), TaskName::SickE);
    assert_eq!("SST2".parse::<TaskName>().unwrap(), TaskName::Sst2);
    assert_eq!(TaskName::Mpqa.to_string(), "mpqa");
    let err = "imdb".parse::<TaskName>().unwrap_err().to_string();
    assert!(
        err.contains("imdb") && err.contains("mr, cr, subj, mpqa, sst2, sst5, trec, mrpc, sick-e"),
        "{err}"
    );
    for name in TaskName::ALL {
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, format!("\"{name}\""), "Display and serde agree");
    }
}

fn custom(
    train: &str,
    format: FileFormat,
    text: &str,
    pair: Option<&str>,
    label: &str,
) -> CustomDatasetSpec {
    CustomDatasetSpec {
        name: "mine".into(),
        train: PathBuf::from(train),
        test: None,
        format,
        text_column: text.into(),
        text_pair_column: pair.map(str::to_string),
        label_column: label.into(),
        labels: None,
    }
}

fn load_custom(spec: &CustomDatasetSpec) -> Result<dmlft_data::Task, DataError> {
    load_task(
        &DatasetSpec::Custom(spec.clone()),
        &fixtures().join("custom"),
    )
}

#[test]
fn custom_csv_with_quotes_pairs_and_a_test_file() {
    let mut spec = custom(
        "train.csv",
        FileFormat::Csv,
        "sentence",
        Some("other"),
        "label",
    );
    spec.test = Some("test.csv".into());
    let task = load_custom(&spec).unwrap();
    assert_eq!(task.label_names, vec!["neg", "pos"], "sorted");
    let train = task.split(TRAIN).unwrap();
    assert_eq!(train[0], Example::pair("hello, world", "x", 1));
    assert_eq!(train[2].text, "multi\nline");
    assert_eq!(task.split(TEST).unwrap()[0], Example::pair("again", "w", 0));
}

#[test]
fn custom_tsv_has_no_quoting_and_sorts_integer_labels_numerically() {
    let task = load_custom(&custom("train.tsv", FileFormat::Tsv, "text", None, "label")).unwrap();
    assert_eq!(task.label_names, vec!["2", "9", "10"]);
    assert_eq!(
        task.split(TRAIN).unwrap()[0],
        Example::new("says \"hi\"", 2)
    );
}

#[test]
fn custom_jsonl_skips_blank_lines_and_accepts_integer_labels() {
    let task = load_custom(&custom(
        "train.jsonl",
        FileFormat::Jsonl,
        "text",
        Some("pair"),
        "y",
    ))
    .unwrap();
    assert_eq!(task.label_names, vec!["0", "1"]);
    let train = task.split(TRAIN).unwrap();
    assert_eq!(train.len(), 3);
    assert_eq!(train[1], Example::pair("second", "b", 0));
}

#[test]
fn custom_errors_name_file_line_and_key() {
    let err = load_custom(&custom(
        "ragged.csv",
        FileFormat::Csv,
        "sentence",
        None,
        "label",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, DataError::Malformed { line: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("ragged.csv:3"), "{err}");

    let err = load_custom(&custom(
        "train.csv",
        FileFormat::Csv,
        "sentence",
        None,
        "labels",
    ))
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("\"labels\"") && message.contains("sentence, other, label"),
        "{message}"
    );

    let err = load_custom(&custom(
        "wrongtype.jsonl",
        FileFormat::Jsonl,
        "text",
        None,
        "y",
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("wrongtype.jsonl:2") && err.to_string().contains("\"text\""),
        "{err}"
    );

    let err = load_custom(&custom(
        "missingkey.jsonl",
        FileFormat::Jsonl,
        "text",
        None,
        "y",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, DataError::MissingColumn { line: 2, key, .. } if key == "text"),
        "{err}"
    );
    assert!(err.to_string().contains("available: txt, y"), "{err}");

    let err = load_custom(&custom(
        "notjson.jsonl",
        FileFormat::Jsonl,
        "text",
        None,
        "y",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("notjson.jsonl:2"), "{err}");

    let err = load_custom(&custom(
        "empty.csv",
        FileFormat::Csv,
        "sentence",
        None,
        "label",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, DataError::EmptyFile { path } if path.ends_with("empty.csv")),
        "{err}"
    );

    let err = load_custom(&custom(
        "absent.csv",
        FileFormat::Csv,
        "sentence",
        None,
        "label",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { path } if path.ends_with("absent.csv")),
        "{err}"
    );
}

#[test]
fn demo_dataset_loads_as_mr() {
    let root = testing_root().join("datasets/demo");
    let task = load_task(&DatasetSpec::SentEval(TaskName::Mr), &root).unwrap();
    let counts = task.label_counts(task.split(TRAIN).unwrap());
    assert_eq!(counts, vec![300, 300]);
    assert!(task
        .split(TRAIN)
        .unwrap()
        .iter()
        .all(|e| !e.text.is_empty() && e.text == e.text.to_lowercase() && !e.text.ends_with(' ')));
}

fn testing_root() -> PathBuf {
    dmlft_testing::workspace_root()
}

#[test]
fn a_labels_list_fixes_the_ids_and_names_a_stray_value_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "text,label\na,neg\nb,pos\nc,neg\n",
    )
    .unwrap();
    let mut spec = custom("t.csv", FileFormat::Csv, "text", None, "label");
    spec.labels = Some(vec!["pos".into(), "neg".into()]);
    let task = load_task(&DatasetSpec::Custom(spec.clone()), dir.path()).unwrap();
    assert_eq!(task.label_names, ["pos", "neg"]);
    let labels: Vec<usize> = task.splits["train"].iter().map(|e| e.label).collect();
    assert_eq!(labels, [1, 0, 1]);

    std::fs::write(dir.path().join("t.csv"), "text,label\na,neg\nb,meh\n").unwrap();
    let err = load_task(&DatasetSpec::Custom(spec), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.csv:3") && err.contains("\"meh\"") && err.contains("pos, neg"),
        "{err}"
    );
}
