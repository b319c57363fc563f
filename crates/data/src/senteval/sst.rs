//! SST2 (`SST/binary`) and SST5 (`SST/fine`): `sentiment-{train,dev,test}`, UTF-8.
//! SST2 lines are `<text> \t<label>` (SentEval: `line.strip().split('\t')`); SST5 lines are
//! `<label> <text>` (SentEval: `line.strip().split(' ', 1)`).

use super::split_files::SplitFiles;
use super::text_file::{label_id, Encoding};
use crate::error::DataError;
use crate::example::Example;
use crate::spec::TaskName;
use crate::task::{Task, DEV, TEST, TRAIN};
use std::path::Path;

const SST2_LABELS: [&str; 2] = ["negative", "positive"];
const SST2_IDS: [&str; 2] = ["0", "1"];
const SST5_LABELS: [&str; 5] = [
    "very negative",
    "negative",
    "neutral",
    "positive",
    "very positive",
];
const SST5_IDS: [&str; 5] = ["0", "1", "2", "3", "4"];

/// The file of each split, in reading order (the same names for SST2 and SST5).
pub(super) const FILES: [(&str, &str); 3] = [
    (TRAIN, "sentiment-train"),
    (DEV, "sentiment-dev"),
    (TEST, "sentiment-test"),
];

pub(super) fn load(name: TaskName, dir: &Path) -> Result<Task, DataError> {
    let binary = name == TaskName::Sst2;
    let files = SplitFiles {
        task: name.to_string(),
        labels: if binary { &SST2_LABELS } else { &SST5_LABELS },
        files: &FILES,
        encoding: Encoding::Utf8,
        header: None,
    };
    files.load(dir, |file, number, line| {
        let (text, label) = if binary {
            let mut fields = line.split('\t');
            let text = fields.next().unwrap_or_default();
            let label = fields
                .next()
                .ok_or_else(|| file.malformed(number, "<text>\\t<label 0|1>", line))?;
            (text, label_id(file, number, label.trim(), &SST2_IDS)?)
        } else {
            let (label, text) = line
                .split_once(' ')
                .ok_or_else(|| file.malformed(number, "<label 0-4> <text>", line))?;
            (text, label_id(file, number, label, &SST5_IDS)?)
        };
        Ok(Example::new(text.trim(), label))
    })
}
