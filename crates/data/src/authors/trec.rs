//! TREC as the authors read it: the Hugging Face `trec` train split (`text`, `label-coarse`), here
//! from their `data/TREC/trec.tsv` (`text<TAB>coarse id` per line, the same rows in the same
//! order). Coarse ids follow the HF dataset: DESC 0, ENTY 1, ABBR 2, HUM 3, NUM 4, LOC 5.

use crate::error::DataError;
use crate::example::Example;
use crate::senteval::text_file::{label_id, Encoding, TextFile};
use crate::task::{Task, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

const LABELS: [&str; 6] = ["DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC"];
const IDS: [&str; 6] = ["0", "1", "2", "3", "4", "5"];

pub(super) fn load(path: &Path) -> Result<Task, DataError> {
    let file = TextFile::read(path, Encoding::Utf8)?;
    let mut examples = Vec::new();
    for (number, line) in file.lines() {
        let (text, id) = line
            .rsplit_once('\t')
            .ok_or_else(|| file.malformed(number, "<question>\\t<coarse id 0-5>", line))?;
        examples.push(Example::new(text, label_id(&file, number, id, &IDS)?));
    }
    Ok(Task {
        name: "trec".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits: BTreeMap::from([(TRAIN.to_string(), examples)]),
    })
}
