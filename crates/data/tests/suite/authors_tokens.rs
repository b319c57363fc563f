//! The authors' raw texts keep their line ends through tokenization: dmlft's RoBERTa tokenizer
//! gives transformers' ids (fixture from scripts/make_authors_sample_fixtures.py) for texts that
//! end in readlines()' " \n", SST-2's trailing space and MRPC's merged pairs.

use dmlft_data::{Example, TextTokenizer};
use serde_json::Value;
use std::path::Path;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

#[test]
fn raw_line_ends_are_tokens_as_in_transformers() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("authors/newline_tokens.json")).unwrap(),
    )
    .unwrap();
    let newline = expected["newline_id"].as_u64().unwrap() as u32;
    for dir in ["roberta-bpe", "roberta-json"] {
        let tokenizer = TextTokenizer::from_dir(&fixtures().join("tokenizers").join(dir)).unwrap();
        for case in expected["cases"].as_array().unwrap() {
            let text = case["text"].as_str().unwrap();
            let example = Example {
                text: text.to_string(),
                text_pair: case["text_pair"].as_str().map(str::to_string),
                label: 0,
            };
            let max_length = case["max_length"].as_u64().unwrap() as usize;
            let ids = tokenizer
                .encode(std::slice::from_ref(&example), max_length)
                .unwrap()
                .unpadded_ids(0);
            let want: Vec<u32> = case["input_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(ids, want, "{dir}: {text:?}");
            if text.ends_with('\n') && text.trim() != "" {
                let trimmed = Example {
                    text: text.trim().to_string(),
                    ..example
                };
                let short = tokenizer
                    .encode(&[trimmed], max_length)
                    .unwrap()
                    .unpadded_ids(0);
                assert!(
                    ids.len() > short.len() && !short.contains(&newline),
                    "{text:?}"
                );
            }
        }
    }
}
