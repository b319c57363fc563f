//! SICK-E: `SICK_train.txt` (train), `SICK_trial.txt` (dev), `SICK_test_annotated.txt` (test; CRLF
//! line endings, the `\r` is trimmed as Python's `strip()` does). SentEval: header skipped,
//! texts `[1]` and `[2]`, label `[4]` with CONTRADICTION=0, NEUTRAL=1, ENTAILMENT=2.

use super::text_file::{label_id, Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, DEV, TEST, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

const LABELS: [&str; 3] = ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 3] = [
    (TRAIN, "SICK_train.txt"),
    (DEV, "SICK_trial.txt"),
    (TEST, "SICK_test_annotated.txt"),
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
                if !line.trim_start_matches('\u{feff}').starts_with("pair_ID") {
                    return Err(file.malformed(
                        number,
                        "the header line starting with pair_ID",
                        line,
                    ));
                }
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 5 {
                return Err(file.malformed(
                    number,
                    "5 TAB-separated fields: pair_ID, sentence_A, sentence_B, relatedness_score, \
                     entailment_judgment",
                    line,
                ));
            }
            let label = label_id(&file, number, fields[4].trim(), &LABELS)?;
            examples.push(Example::pair(fields[1].trim(), fields[2].trim(), label));
        }
        splits.insert(split.to_string(), examples);
    }
    Ok(Task {
        name: "sick-e".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits,
    })
}
