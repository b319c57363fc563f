//! TREC question types: `train_5500.label` (train) and `TREC_10.label` (test), latin-1 (the train
//! file holds one 0xF0 byte, `ð`). Lines are `<COARSE>:<fine> <question>`; SentEval does
//! `target, sample = line.strip().split(':', 1)` and drops the fine label (`sample.split(' ', 1)[1]`).

use super::text_file::{label_id, Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, TEST, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

/// SentEval's `tgt2idx` order.
const LABELS: [&str; 6] = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 2] = [(TRAIN, "train_5500.label"), (TEST, "TREC_10.label")];

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let mut splits = BTreeMap::new();
    for (split, file_name) in FILES {
        let path = dir.join(file_name);
        let file = TextFile::read(&path, Encoding::Latin1)?;
        let mut examples = Vec::new();
        for (number, line) in file.lines() {
            let line = line.trim();
            let expected = "<COARSE>:<fine> <question>";
            let (coarse, rest) = line
                .split_once(':')
                .ok_or_else(|| file.malformed(number, expected, line))?;
            let (_fine, question) = rest
                .split_once(' ')
                .ok_or_else(|| file.malformed(number, expected, line))?;
            let label = label_id(&file, number, coarse, &LABELS)?;
            examples.push(Example::new(question.trim(), label));
        }
        splits.insert(split.to_string(), examples);
    }
    Ok(Task {
        name: "trec".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits,
    })
}
