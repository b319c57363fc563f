//! Loaders for the nine SentEval classification tasks, reading SentEval's own layout
//! (`<root>/MR/rt-polarity.pos`, ...) and reproducing SentEval's parsing exactly: same encodings,
//! same line splitting, same label ids, same example counts.
//!
//! Text policy (all tasks): a text is SentEval's sample string with surrounding whitespace
//! trimmed (Rust `str::trim`, the counterpart of Python's `strip()`); whitespace inside a text is
//! kept as it is in the file (e.g. TREC's double spaces). SentEval itself splits every sample on
//! whitespace, so trimming changes nothing it sees. For MR/CR/SUBJ/MPQA, every line of the files
//! ends with `" \n"`; that trailing space is dropped, because a byte-level BPE tokenizer would turn
//! it into an extra `Ġ` token at the end of every sentence (and the TSV tasks are trimmed by
//! SentEval's `strip()` anyway). Blank lines stay as empty texts where SentEval counts them
//! (CR and MPQA). The authors of the papers (dml_bert) kept a trailing `"\n"` instead: their
//! way of reading the files is [`crate::authors`].

mod binary;
mod mrpc;
mod sick;
mod split_files;
mod sst;
pub(crate) mod text_file;
mod trec;

use crate::error::DataError;
use crate::spec::TaskName;
use crate::task::Task;
use std::path::{Path, PathBuf};

pub(crate) use text_file::split_lines;

/// The environment variable that names the SentEval data root.
pub const DATA_DIR_ENV: &str = "DMLFT_DATA_DIR";
/// The SentEval data root when nothing names one (relative to the working directory).
pub const DEFAULT_DATA_ROOT: &str = "datasets/senteval";

/// The SentEval data root: `given` (a flag or a grid key), else `$DMLFT_DATA_DIR`, else
/// [`DEFAULT_DATA_ROOT`].
pub fn resolve_data_root(given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(DATA_DIR_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_ROOT))
}

/// Loads one SentEval task from `root` (the folder that holds `MR/`, `CR/`, ...).
pub fn load_senteval(name: TaskName, root: &Path) -> Result<Task, DataError> {
    let dir = task_dir(name, root)?;
    match name {
        TaskName::Mr | TaskName::Cr | TaskName::Subj | TaskName::Mpqa => binary::load(name, &dir),
        TaskName::Sst2 | TaskName::Sst5 => sst::load(name, &dir),
        TaskName::Trec => trec::load(&dir),
        TaskName::Mrpc => mrpc::load(&dir),
        TaskName::SickE => sick::load(&dir),
    }
}

/// The files a task reads, relative to the data root (`MR/rt-polarity.pos`, ...), in the order
/// the loader reads them.
pub fn task_files(name: TaskName) -> Vec<PathBuf> {
    let names: Vec<&str> = match name {
        TaskName::Mr | TaskName::Cr | TaskName::Subj | TaskName::Mpqa => binary::files(name),
        TaskName::Sst2 | TaskName::Sst5 => sst::FILES.iter().map(|f| f.1).collect(),
        TaskName::Trec => trec::FILES.iter().map(|f| f.1).collect(),
        TaskName::Mrpc => mrpc::FILES.iter().map(|f| f.1).collect(),
        TaskName::SickE => sick::FILES.iter().map(|f| f.1).collect(),
    };
    names
        .into_iter()
        .map(|file| Path::new(folder_name(name)).join(file))
        .collect()
}

/// SentEval's folder name for a task.
pub fn folder_name(name: TaskName) -> &'static str {
    match name {
        TaskName::Mr => "MR",
        TaskName::Cr => "CR",
        TaskName::Subj => "SUBJ",
        TaskName::Mpqa => "MPQA",
        TaskName::Sst2 => "SST/binary",
        TaskName::Sst5 => "SST/fine",
        TaskName::Trec => "TREC",
        TaskName::Mrpc => "MRPC",
        TaskName::SickE => "SICK",
    }
}

pub(crate) fn task_dir(name: TaskName, root: &Path) -> Result<PathBuf, DataError> {
    if !root.is_dir() {
        return Err(DataError::MissingDir {
            path: root.to_path_buf(),
            hint: "the SentEval data root; see datasets/README.md (--data-dir, DMLFT_DATA_DIR, \
                   scripts/fetch-senteval.sh)"
                .into(),
        });
    }
    let dir = root.join(folder_name(name));
    if !dir.is_dir() {
        return Err(DataError::MissingDir {
            path: dir,
            hint: format!(
                "task {name} expects SentEval's layout <data root>/{}/; see datasets/README.md",
                folder_name(name)
            ),
        });
    }
    Ok(dir)
}
