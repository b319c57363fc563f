//! MRPC paraphrase pairs: `msr_paraphrase_{train,test}.txt`, UTF-8 with a BOM on the header line.
//! SentEval: `line.strip().split('\t')`, header skipped, label `[0]`, texts `[3]` and `[4]`.

use super::split_files::{tab_fields, SplitFiles};
use super::text_file::{label_id, Encoding};
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, TEST, TRAIN};
use std::path::Path;

const LABELS: [&str; 2] = ["not paraphrase", "paraphrase"];
const IDS: [&str; 2] = ["0", "1"];

/// The file of each split, in reading order.
pub(super) const FILES: [(&str, &str); 2] = [
    (TRAIN, "msr_paraphrase_train.txt"),
    (TEST, "msr_paraphrase_test.txt"),
];

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let files = SplitFiles {
        task: "mrpc".into(),
        labels: &LABELS,
        files: &FILES,
        encoding: Encoding::Utf8,
        header: Some("Quality"),
    };
    files.load(dir, |file, number, line| {
        let fields = tab_fields(
            file,
            number,
            line,
            5,
            "5 TAB-separated fields: label, #1 ID, #2 ID, #1 String, #2 String",
        )?;
        let label = label_id(file, number, fields[0], &IDS)?;
        Ok(Example::pair(fields[3].trim(), fields[4].trim(), label))
    })
}
