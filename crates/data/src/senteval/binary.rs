//! MR, CR, SUBJ, MPQA: one file per class, one sample per line (SentEval's `BinaryClassifierEval`).
//! Read as latin-1 with `read().splitlines()`; the positive-class file comes first, as in SentEval
//! (`samples = pos + neg`). No official split: everything is in `train`.

use super::text_file::{Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::spec::TaskName;
use crate::task::{Task, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

/// (label names by id, file of label 1, file of label 0).
fn layout(name: TaskName) -> ([&'static str; 2], &'static str, &'static str) {
    match name {
        TaskName::Mr => (
            ["negative", "positive"],
            "rt-polarity.pos",
            "rt-polarity.neg",
        ),
        TaskName::Cr => (["negative", "positive"], "custrev.pos", "custrev.neg"),
        // SentEval's SUBJEval passes the objective file as the positive (label 1) list.
        TaskName::Subj => (
            ["subjective", "objective"],
            "subj.objective",
            "subj.subjective",
        ),
        TaskName::Mpqa => (["negative", "positive"], "mpqa.pos", "mpqa.neg"),
        _ => unreachable!("binary::layout is only called for MR, CR, SUBJ and MPQA"),
    }
}

/// The files the loader reads, in reading order.
pub(super) fn files(name: TaskName) -> Vec<&'static str> {
    let (_, file_1, file_0) = layout(name);
    vec![file_1, file_0]
}

pub(super) fn load(name: TaskName, dir: &Path) -> Result<Task, DataError> {
    let (label_names, file_1, file_0) = layout(name);
    let mut examples = Vec::new();
    for (file, label) in [(file_1, 1), (file_0, 0)] {
        let path = dir.join(file);
        let file = TextFile::read(&path, Encoding::Latin1)?;
        examples.extend(
            file.lines()
                .map(|(_, line)| Example::new(line.trim(), label)),
        );
    }
    Ok(Task {
        name: name.to_string(),
        label_names: label_names.iter().map(|s| s.to_string()).collect(),
        splits: BTreeMap::from([(TRAIN.to_string(), examples)]),
    })
}
