//! SST-2 as the authors read it: `pd.read_csv('data/SST-2/train.tsv', sep='\t')` on GLUE's train
//! file, which is a `sentence<TAB>label` header over SentEval's `SST/binary/sentiment-train`. The
//! train split only (67,349 phrases); texts keep the space before the tab.

use super::pandas_tsv;
use crate::error::DataError;
use crate::example::Example;
use crate::task::{Task, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

const LABELS: [&str; 2] = ["negative", "positive"];
const GLUE_HEADER: &[u8] = b"sentence\tlabel\n";

pub(super) fn load(dir: &Path) -> Result<Task, DataError> {
    let path = dir.join("sentiment-train");
    let body = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
    let glue = [GLUE_HEADER, &body].concat();
    // Line numbers of the GLUE file are one more than those of SentEval's.
    let table = pandas_tsv::parse(&glue).map_err(|message| DataError::Malformed {
        path: path.clone(),
        line: 0,
        expected: "a file pandas can read as GLUE's SST-2 train.tsv".into(),
        found: message,
    })?;
    let mut examples = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let line = row.line - 1;
        let label = match row.fields[1].trim() {
            "0" => 0,
            "1" => 1,
            other => {
                return Err(DataError::UnknownLabel {
                    path: path.clone(),
                    line,
                    value: other.to_string(),
                    valid: vec!["0".into(), "1".into()],
                })
            }
        };
        examples.push(Example::new(pandas_tsv::as_str(&row.fields[0]), label));
    }
    Ok(Task {
        name: "sst2".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits: BTreeMap::from([(TRAIN.to_string(), examples)]),
    })
}
