//! TREC question types: `train_5500.label` (train) and `TREC_10.label` (test), latin-1 (the train
//! file holds one 0xF0 byte, `ð`). Lines are `<COARSE>:<fine> <question>`; SentEval does
//! `target, sample = line.strip().split(':', 1)` and drops the fine label (`sample.split(' ', 1)[1]`).

use super::split_files::SplitFiles;
use super::text_file::{label_id, Encoding};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, TEST, TRAIN};
use std::path::Path;

/// SentEval's `tgt2idx` order.
const LABELS: [&str; 6] = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 2] = [(TRAIN, "train_5500.label"), (TEST, "TREC_10.label")];

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let files = SplitFiles {
        task: "trec".into(),
        labels: &LABELS,
        files: &FILES,
        encoding: Encoding::Latin1,
        header: None,
    };
    files.load(dir, |file, number, line| {
        let expected = "<COARSE>:<fine> <question>";
        let (coarse, rest) = line
            .split_once(':')
            .ok_or_else(|| file.malformed(number, expected, line))?;
        let (_fine, question) = rest
            .split_once(' ')
            .ok_or_else(|| file.malformed(number, expected, line))?;
        let label = label_id(file, number, coarse, &LABELS)?;
        Ok(Example::new(question.trim(), label))
    })
}
