//! SICK-E: `SICK_train.txt` (train), `SICK_trial.txt` (dev), `SICK_test_annotated.txt` (test; CRLF
//! line endings, the `\r` is trimmed as Python's `strip()` does). SentEval: header skipped,
//! texts `[1]` and `[2]`, label `[4]` with CONTRADICTION=0, NEUTRAL=1, ENTAILMENT=2.

use super::split_files::{tab_fields, SplitFiles};
use super::text_file::{label_id, Encoding};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, DEV, TEST, TRAIN};
use std::path::Path;

const LABELS: [&str; 3] = ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 3] = [
    (TRAIN, "SICK_train.txt"),
    (DEV, "SICK_trial.txt"),
    (TEST, "SICK_test_annotated.txt"),
];

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let files = SplitFiles {
        task: "sick-e".into(),
        labels: &LABELS,
        files: &FILES,
        encoding: Encoding::Utf8,
        header: Some("pair_ID"),
    };
    files.load(dir, |file, number, line| {
        let fields = tab_fields(
            file,
            number,
            line,
            5,
            "5 TAB-separated fields: pair_ID, sentence_A, sentence_B, relatedness_score, \
             entailment_judgment",
        )?;
        let label = label_id(file, number, fields[4].trim(), &LABELS)?;
        Ok(Example::pair(fields[1].trim(), fields[2].trim(), label))
    })
}
