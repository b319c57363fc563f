//! MRPC paraphrase pairs: `msr_paraphrase_{train,test}.txt`, UTF-8 with a BOM on the header line.
//! SentEval: `line.strip().split('\t')`, header skipped, label `[0]`, texts `[3]` and `[4]`.

use super::text_file::{label_id, Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, TEST, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

const LABELS: [&str; 2] = ["not paraphrase", "paraphrase"];
const IDS: [&str; 2] = ["0", "1"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 2] = [
    (TRAIN, "msr_paraphrase_train.txt"),
    (TEST, "msr_paraphrase_test.txt"),
];

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let mut splits = BTreeMap::new();
    for (split, file_name) in FILES {
        let path = dir.join(file_name);
        let file = TextFile::read(&path, Encoding::Utf8)?;
        let mut examples = Vec::new();
        for (number, line) in file.lines() {
            let line = line.trim();
            if number == 1 {
                // The header; SentEval skips it, BOM and all. Checked so a wrong file is caught.
                if !line.trim_start_matches('\u{feff}').starts_with("Quality") {
                    return Err(file.malformed(
                        number,
                        "the header line starting with Quality",
                        line,
                    ));
                }
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 5 {
                return Err(file.malformed(
                    number,
                    "5 TAB-separated fields: label, #1 ID, #2 ID, #1 String, #2 String",
                    line,
                ));
            }
            let label = label_id(&file, number, fields[0], &IDS)?;
            examples.push(Example::pair(fields[3].trim(), fields[4].trim(), label));
        }
        splits.insert(split.to_string(), examples);
    }
    Ok(Task {
        name: "mrpc".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits,
    })
}
