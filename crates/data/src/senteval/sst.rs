//! SST2 (`SST/binary`) and SST5 (`SST/fine`): `sentiment-{train,dev,test}`, UTF-8.
//! SST2 lines are `<text> \t<label>` (SentEval: `line.strip().split('\t')`); SST5 lines are
//! `<label> <text>` (SentEval: `line.strip().split(' ', 1)`).

use super::text_file::{label_id, Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::spec::TaskName;
use crate::task::{Task, DEV, TEST, TRAIN};
use std::collections::BTreeMap;
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
    let mut splits = BTreeMap::new();
    for (split, file_name) in FILES {
        let path = dir.join(file_name);
        let file = TextFile::read(&path, Encoding::Utf8)?;
        let mut examples = Vec::new();
        for (number, line) in file.lines() {
            let line = line.trim();
            let (text, label) = if binary {
                let mut fields = line.split('\t');
                let text = fields.next().unwrap_or_default();
                let label = fields
                    .next()
                    .ok_or_else(|| file.malformed(number, "<text>\\t<label 0|1>", line))?;
                (text, label_id(&file, number, label.trim(), &SST2_IDS)?)
            } else {
                let (label, text) = line
                    .split_once(' ')
                    .ok_or_else(|| file.malformed(number, "<label 0-4> <text>", line))?;
                (text, label_id(&file, number, label, &SST5_IDS)?)
            };
            examples.push(Example::new(text.trim(), label));
        }
        splits.insert(split.to_string(), examples);
    }
    let names: &[&str] = if binary { &SST2_LABELS } else { &SST5_LABELS };
    Ok(Task {
        name: name.to_string(),
        label_names: names.iter().map(|s| s.to_string()).collect(),
        splits,
    })
}
