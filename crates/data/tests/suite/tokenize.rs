//! Tokenizer parity with transformers (fixtures from scripts/make_tokenizer_fixtures.py), padding,
//! truncation, and the real all-MiniLM-L6-v2 tokenizer when present.

use dmlft_data::stats::task_stats;
use dmlft_data::{
    load_task, BatchPlan, DataError, DatasetSpec, Example, TaskName, TextTokenizer, TokenizerFamily,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Case {
    text: String,
    text_pair: Option<String>,
    max_length: usize,
    input_ids: Vec<u32>,
    token_type_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Expected {
    roberta: Vec<Case>,
    bert: Vec<Case>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokenizers")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn example(case: &Case) -> Example {
    Example {
        text: case.text.clone(),
        text_pair: case.text_pair.clone(),
        label: 0,
    }
}

fn check_parity(tokenizer: &TextTokenizer, cases: &[Case]) {
    assert!(cases.len() >= 20);
    for case in cases {
        let batch = tokenizer.encode(&[example(case)], case.max_length).unwrap();
        assert_eq!(batch.batch_size, 1);
        assert_eq!(
            batch.unpadded_ids(0),
            case.input_ids,
            "{:?} / {:?} at max_length {}",
            case.text,
            case.text_pair,
            case.max_length
        );
        assert_eq!(batch.token_type_ids, case.token_type_ids, "{:?}", case.text);
        assert!(batch.seq_len <= case.max_length);
    }
}

#[test]
fn roberta_bpe_from_vocab_and_merges_matches_transformers() {
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("roberta-bpe")).unwrap();
    assert_eq!(tokenizer.family(), TokenizerFamily::Roberta);
    assert_eq!(tokenizer.pad_id(), 1);
    assert_eq!(
        tokenizer.num_special_tokens(true),
        4,
        "<s> A </s></s> B </s>"
    );
    check_parity(&tokenizer, &expected().roberta);
}

#[test]
fn tokenizer_json_has_its_baked_in_padding_and_truncation_switched_off() {
    // This tokenizer.json pads to 32 and truncates at 6; parity requires both to be off.
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("roberta-json")).unwrap();
    assert_eq!(tokenizer.family(), TokenizerFamily::Roberta);
    check_parity(&tokenizer, &expected().roberta);
}

#[test]
fn bert_wordpiece_from_vocab_txt_matches_transformers() {
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("bert-wordpiece")).unwrap();
    assert_eq!(tokenizer.family(), TokenizerFamily::Bert);
    assert_eq!(tokenizer.pad_id(), 0);
    check_parity(&tokenizer, &expected().bert);
}

#[test]
fn batches_pad_right_to_the_longest_row() {
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("bert-wordpiece")).unwrap();
    let cases: Vec<Case> = expected()
        .bert
        .into_iter()
        .filter(|c| c.max_length == 64)
        .collect();
    let examples: Vec<Example> = cases.iter().map(example).collect();
    let batch = tokenizer.encode(&examples, 64).unwrap();
    let longest = cases.iter().map(|c| c.input_ids.len()).max().unwrap();
    assert_eq!((batch.batch_size, batch.seq_len), (cases.len(), longest));
    assert_eq!(batch.input_ids.len(), cases.len() * longest);
    for (row, case) in cases.iter().enumerate() {
        let n = case.input_ids.len();
        let ids = batch.row_ids(row);
        assert_eq!(&ids[..n], case.input_ids.as_slice());
        assert!(ids[n..].iter().all(|&id| id == tokenizer.pad_id()));
        let mask = &batch.attention_mask[row * longest..(row + 1) * longest];
        assert!(mask[..n].iter().all(|&m| m == 1) && mask[n..].iter().all(|&m| m == 0));
        let types = &batch.token_type_ids[row * longest..(row + 1) * longest];
        assert_eq!(&types[..n], case.token_type_ids.as_slice());
        assert!(types[n..].iter().all(|&t| t == 0));
    }
    let empty = tokenizer.encode(&[], 64).unwrap();
    assert_eq!((empty.batch_size, empty.seq_len), (0, 0));
}

#[test]
fn length_sorted_batches_give_back_the_original_order() {
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("roberta-bpe")).unwrap();
    let examples: Vec<Example> = expected().roberta.iter().map(example).collect();
    let lengths = tokenizer.token_lengths(&examples).unwrap();
    let plan = BatchPlan::length_sorted(&lengths, 4);
    let mut per_example = Vec::new();
    for batch in &plan.batches {
        let rows: Vec<Example> = batch.iter().map(|&i| examples[i].clone()).collect();
        let encoded = tokenizer.encode(&rows, 512).unwrap();
        per_example.extend((0..rows.len()).map(|r| encoded.unpadded_ids(r)));
    }
    let restored = plan.restore(per_example);
    for (example, ids) in examples.iter().zip(restored) {
        assert_eq!(
            ids,
            tokenizer
                .encode(std::slice::from_ref(example), 512)
                .unwrap()
                .unpadded_ids(0)
        );
    }
}

#[test]
fn tokenizer_errors_are_clear() {
    let err = TextTokenizer::from_dir(Path::new("/no/such/model")).unwrap_err();
    assert!(matches!(err, DataError::MissingDir { .. }), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = TextTokenizer::from_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("no tokenizer.json"), "{err}");
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("roberta-bpe")).unwrap();
    let err = tokenizer
        .encode(&[Example::pair("a", "b", 0)], 4)
        .unwrap_err();
    assert!(err.to_string().contains("max_length 4"), "{err}");
}

#[test]
fn real_minilm_tokenizer() {
    let Some(dir) = dmlft_testing::model_dir() else {
        return;
    };
    let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
    assert_eq!(tokenizer.family(), TokenizerFamily::Bert);
    assert_eq!(tokenizer.pad_id(), 0);
    let batch = tokenizer
        .encode(
            &[
                Example::new("a gripping, funny film.", 1),
                Example::new("ok", 0),
            ],
            128,
        )
        .unwrap();
    assert_eq!(
        batch.seq_len, 8,
        "dynamic padding, not the 128 baked into tokenizer.json"
    );
    assert_eq!(
        batch.row_ids(0),
        &[101, 1037, 13940, 1010, 6057, 2143, 1012, 102]
    );
    assert_eq!(batch.row_ids(1)[3..], [0, 0, 0, 0, 0]);
    let pair = tokenizer
        .encode(&[Example::pair("a b", "c", 0)], 128)
        .unwrap();
    assert_eq!(pair.token_type_ids, vec![0, 0, 0, 0, 1, 1]);
}

#[test]
fn stats_with_a_tokenizer_report_token_lengths() {
    let root = dmlft_testing::workspace_root().join("datasets/demo");
    let task = load_task(&DatasetSpec::SentEval(TaskName::Mr), &root).unwrap();
    let tokenizer = TextTokenizer::from_dir(&fixtures().join("bert-wordpiece")).unwrap();
    let stats = task_stats(&task, Some(&tokenizer)).unwrap();
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["task"], "mr");
    assert_eq!(json["splits"]["train"]["n"], 600);
    assert_eq!(json["splits"]["train"]["labels"]["positive"], 300);
    let lengths = &json["splits"]["train"]["token_length"];
    let (p50, max) = (
        lengths["p50"].as_u64().unwrap(),
        lengths["max"].as_u64().unwrap(),
    );
    assert!(p50 >= 3 && p50 <= max, "{lengths}");
    let direct = tokenizer
        .token_lengths(task.split("train").unwrap())
        .unwrap();
    assert_eq!(max as usize, *direct.iter().max().unwrap());
}

/// A tokenizer paired with a model whose embedding table is smaller than its vocabulary refuses
/// the ids past the table, naming the token and the text, instead of handing them to the backend
/// (which would index past the table and panic); ids inside the table pass.
#[test]
fn ids_past_the_models_vocabulary_are_refused() {
    let dir = fixtures().join("bert-wordpiece");
    let case = &expected().bert[0];
    let ids = &case.input_ids;
    let largest = *ids.iter().max().unwrap() as usize;
    let text = example(case);
    let fits = TextTokenizer::from_dir(&dir)
        .unwrap()
        .for_model(largest + 1, 2);
    assert_eq!(
        fits.encode(std::slice::from_ref(&text), case.max_length)
            .unwrap()
            .unpadded_ids(0),
        *ids
    );
    let small = TextTokenizer::from_dir(&dir).unwrap().for_model(largest, 2);
    let err = small
        .encode(std::slice::from_ref(&text), case.max_length)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("(id {largest})"))
            && err.contains(&format!("vocabulary of {largest} tokens"))
            && err.contains("bert-wordpiece"),
        "{err}"
    );
    // BERT's pairs number their second text's tokens as type 1: a model with one token type
    // (RoBERTa's) cannot take them
    let pair = expected()
        .bert
        .into_iter()
        .find(|c| c.text_pair.is_some())
        .expect("a pair case");
    let one_type = TextTokenizer::from_dir(&dir)
        .unwrap()
        .for_model(usize::MAX, 1);
    let err = one_type
        .encode(&[example(&pair)], pair.max_length)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("token type id 1") && err.contains("1 token type(s)"),
        "{err}"
    );
}
