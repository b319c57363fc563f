//! MR, CR, SUBJ, MPQA as the authors read them: `open(path, "r").readlines()` of the label-0 file,
//! then of the label-1 file. Every text keeps its line end (`" \n"` in SentEval's files), and a
//! blank line is the example `"\n"`.

use super::python_lines;
use crate::error::DataError;
use crate::example::Example;
use crate::senteval::text_file::{Encoding, TextFile};
use crate::spec::TaskName;
use crate::task::{Task, TRAIN};
use std::collections::BTreeMap;
use std::path::Path;

/// (label names by id, file of label 0, file of label 1).
fn layout(task: TaskName) -> ([&'static str; 2], &'static str, &'static str) {
    match task {
        TaskName::Mr => (
            ["negative", "positive"],
            "rt-polarity.neg",
            "rt-polarity.pos",
        ),
        TaskName::Cr => (["negative", "positive"], "custrev.neg", "custrev.pos"),
        TaskName::Subj => (
            ["objective", "subjective"],
            "subj.objective",
            "subj.subjective",
        ),
        TaskName::Mpqa => (["negative", "positive"], "mpqa.neg", "mpqa.pos"),
        _ => unreachable!("line_files::layout is only called for MR, CR, SUBJ and MPQA"),
    }
}

pub(super) fn load(task: TaskName, dir: &Path) -> Result<Task, DataError> {
    let (label_names, file_0, file_1) = layout(task);
    let mut examples = Vec::new();
    for (file, label) in [(file_0, 0), (file_1, 1)] {
        let path = dir.join(file);
        // Python 3's default text encoding here is UTF-8; SentEval's files are ASCII.
        let file = TextFile::read(&path, Encoding::Utf8)?;
        examples.extend(
            python_lines(&file.text)
                .into_iter()
                .map(|line| Example::new(line, label)),
        );
    }
    Ok(Task {
        name: task.to_string(),
        label_names: label_names.iter().map(|s| s.to_string()).collect(),
        splits: BTreeMap::from([(TRAIN.to_string(), examples)]),
    })
}
