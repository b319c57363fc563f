//! MRPC as the authors read it. Their `data/MRPC/train.tsv` is GLUE's, which GLUE's
//! `download_glue_data.py` (`format_mrpc`) writes from SentEval's `msr_paraphrase_train.txt`: the
//! header line as read (BOM included), then every row whose `(#1 ID, #2 ID)` is not one of the
//! 408 dev pairs of `dev_ids.tsv`, re-joined from `row.strip().split('\t')`. The authors read it
//! with `pd.read_csv(sep='\t', error_bad_lines=False)` and `.astype(str)` on both texts, which
//! gives 3,549 pairs (1,155 / 2,394) of the file's 3,668: quoted fields merge rows, the rows that
//! end up with 6 fields are dropped, and a missing second text becomes `"nan"`.

use super::{pandas_tsv, python_lines, python_strip};
use crate::error::DataError;
use crate::example::Example;
use crate::senteval::text_file::{Encoding, TextFile};
use crate::task::{Task, TRAIN};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

const LABELS: [&str; 2] = ["not paraphrase", "paraphrase"];
const COLUMNS: [&str; 5] = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"];

/// GLUE's MRPC `train.tsv`, byte for byte.
pub(super) fn glue_train_file(
    train: &TextFile<'_>,
    dev_ids: &TextFile<'_>,
) -> Result<String, DataError> {
    let dev_lines = python_lines(&dev_ids.text);
    let dev: HashSet<Vec<&str>> = dev_lines
        .iter()
        .map(|row| python_strip(row).split('\t').collect())
        .collect();
    let lines = python_lines(&train.text);
    let mut out = String::with_capacity(train.text.len());
    let Some((header, rows)) = lines.split_first() else {
        return Err(train.malformed(1, "the header line", ""));
    };
    out.push_str(header);
    for (i, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = python_strip(row).split('\t').collect();
        if fields.len() != 5 {
            return Err(train.malformed(
                i + 2,
                "5 TAB-separated fields (GLUE's format_mrpc unpacks exactly 5)",
                row,
            ));
        }
        if !dev.contains(&vec![fields[1], fields[2]]) {
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
    }
    Ok(out)
}

pub(super) fn load(senteval_dir: &Path, dev_ids_path: &Path) -> Result<Task, DataError> {
    let train_path = senteval_dir.join("msr_paraphrase_train.txt");
    let train = TextFile::read(&train_path, Encoding::Utf8)?;
    let dev_ids = TextFile::read(dev_ids_path, Encoding::Utf8)?;
    let glue = glue_train_file(&train, &dev_ids)?;
    let what = "GLUE's MRPC train.tsv made from it";
    let table = pandas_tsv::parse(glue.as_bytes()).map_err(|message| DataError::Malformed {
        path: train_path.clone(),
        line: 0,
        expected: format!("a file pandas can read as {what}"),
        found: message,
    })?;
    if table.columns != COLUMNS {
        return Err(train.malformed(
            1,
            &format!("the header {}", COLUMNS.join("\\t")),
            &table.columns.join("\t"),
        ));
    }
    let mut examples = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let label = match row.fields[0].trim() {
            "0" => 0,
            "1" => 1,
            other => {
                return Err(DataError::UnknownLabel {
                    path: train_path.clone(),
                    line: row.line,
                    value: format!("{other} (line {} of {what})", row.line),
                    valid: vec!["0".into(), "1".into()],
                })
            }
        };
        examples.push(Example::pair(
            pandas_tsv::as_str(&row.fields[3]),
            pandas_tsv::as_str(&row.fields[4]),
            label,
        ));
    }
    Ok(Task {
        name: "mrpc".into(),
        label_names: LABELS.iter().map(|s| s.to_string()).collect(),
        splits: BTreeMap::from([(TRAIN.to_string(), examples)]),
    })
}
