//! The one reader of SentEval's tasks with a file per split (SST, TREC, MRPC, SICK): each line of
//! a split's file is one example after SentEval's `line.strip()`; a header line, where the task
//! has one, is checked (so that a wrong file is caught) and skipped, as SentEval skips it.

use super::text_file::{Encoding, TextFile};
use crate::error::DataError;
use crate::example::Example;
use crate::task::Task;
use std::collections::BTreeMap;
use std::path::Path;

/// How a task's split files are laid out.
pub(super) struct SplitFiles {
    /// Name of the task in results (`"mrpc"`, `"sick-e"`, ...).
    pub(super) task: String,
    /// Class names by id.
    pub(super) labels: &'static [&'static str],
    /// `(split, file name)` in reading order.
    pub(super) files: &'static [(&'static str, &'static str)],
    pub(super) encoding: Encoding,
    /// What the first line starts with (after a UTF-8 BOM, which SentEval skips with the
    /// header), for files with a header.
    pub(super) header: Option<&'static str>,
}

impl SplitFiles {
    /// Reads every split from `dir`; `parse` turns one stripped line (with its 1-based number,
    /// for errors) into an example.
    pub(super) fn load(
        self,
        dir: &Path,
        parse: impl Fn(&TextFile<'_>, usize, &str) -> Result<Example, DataError>,
    ) -> Result<Task, DataError> {
        let mut splits = BTreeMap::new();
        for &(split, file_name) in self.files {
            let path = dir.join(file_name);
            let file = TextFile::read(&path, self.encoding)?;
            let mut examples = Vec::new();
            for (number, line) in file.lines() {
                let line = line.trim();
                if let (1, Some(header)) = (number, self.header) {
                    if !line.trim_start_matches('\u{feff}').starts_with(header) {
                        let expected = format!("the header line starting with {header}");
                        return Err(file.malformed(number, &expected, line));
                    }
                    continue;
                }
                examples.push(parse(&file, number, line)?);
            }
            splits.insert(split.to_string(), examples);
        }
        Ok(Task {
            name: self.task,
            label_names: self.labels.iter().map(|s| s.to_string()).collect(),
            splits,
        })
    }
}

/// The TAB-separated fields of `line`, at least `n` of them (SentEval's `split('\t')` then
/// indexing); `expected` names them in the error.
pub(super) fn tab_fields<'l>(
    file: &TextFile<'_>,
    number: usize,
    line: &'l str,
    n: usize,
    expected: &str,
) -> Result<Vec<&'l str>, DataError> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() < n {
        return Err(file.malformed(number, expected, line));
    }
    Ok(fields)
}
