//! The papers' authors' pools: the seven tasks exactly as their `utils/load_dataset.py`
//! (wsosnowski/dml_bert, sewerynkarolina/TripleEntropy) returns them before its shuffle, rebuilt
//! from SentEval's files plus two small files of theirs. With the `numpy-compat` k-fold sampler
//! they give the authors' very training examples.
//!
//! | task | read from | differences from dmlft's SentEval loader |
//! | --- | --- | --- |
//! | MR, CR, MPQA | SentEval's `.neg` then `.pos` file, `readlines()` | label 0 = neg file first; texts keep `" \n"` |
//! | SUBJ | `subj.objective` (0) then `subj.subjective` (1) | objective is 0 (SentEval: 1); texts keep `" \n"` |
//! | SST-2 | GLUE's `train.tsv` = `sentence\tlabel` + SentEval's `sentiment-train`, read by pandas | train split only; texts keep their trailing space |
//! | TREC | `authors/TREC/trec.tsv`: the HF `trec` train split | original punctuation (SentEval deleted backquotes and apostrophes); ids DESC 0, ENTY 1, ABBR 2, HUM 3, NUM 4, LOC 5 |
//! | MRPC | GLUE's `train.tsv` = SentEval's train file minus the pairs of `authors/MRPC/dev_ids.tsv`, read by pandas | 3,549 pairs as pandas parsed them (quoted fields merge lines, 6-field lines dropped, NaN read as `"nan"`) |
//!
//! Blank lines of CR and MPQA stay examples (the text `"\n"`), as in both loaders.
//!
//! The two files of the authors are found in `$DMLFT_AUTHORS_DIR`, else `<data root>/authors`,
//! else `authors` beside the data root; their sha256 is checked, since any other content would
//! give other samples.

mod line_files;
mod mrpc;
pub mod pandas_tsv;
mod sst2;
mod trec;

use crate::error::DataError;
use crate::spec::{AuthorsPoolSpec, TaskName};
use crate::task::Task;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The tasks the authors' loader knows.
pub const TASKS: [TaskName; 7] = [
    TaskName::Mr,
    TaskName::Cr,
    TaskName::Subj,
    TaskName::Mpqa,
    TaskName::Sst2,
    TaskName::Trec,
    TaskName::Mrpc,
];

/// Environment variable naming the folder of the authors' files.
pub const AUTHORS_DIR_ENV: &str = "DMLFT_AUTHORS_DIR";

/// The authors' files: path below the authors' folder and sha256.
const TREC_FILE: (&str, &str) = (
    "TREC/trec.tsv",
    "19ec27d2cbf5ebf86ba5a14a568cc7854329ac19fced10b085da3e2b156feba3",
);
const MRPC_DEV_IDS_FILE: (&str, &str) = (
    "MRPC/dev_ids.tsv",
    "971d7767d81b997fd9060ade0ec23c4fc31cbb226a55d1bd4a1bac474eb81dc7",
);

/// Whether the authors' loader has `task`.
pub fn supports(task: TaskName) -> bool {
    TASKS.contains(&task)
}

/// Loads the authors' pool of a task: one `train` split in the authors' load order.
pub fn load_authors_pool(spec: &AuthorsPoolSpec, data_root: &Path) -> Result<Task, DataError> {
    let task = spec.authors_pool;
    let senteval_dir = || crate::senteval::task_dir(task, data_root);
    let mut loaded = match task {
        TaskName::Mr | TaskName::Cr | TaskName::Subj | TaskName::Mpqa => {
            line_files::load(task, &senteval_dir()?)?
        }
        TaskName::Sst2 => sst2::load(&senteval_dir()?)?,
        TaskName::Trec => trec::load(&authors_file(data_root, TREC_FILE)?)?,
        TaskName::Mrpc => mrpc::load(
            &senteval_dir()?,
            &authors_file(data_root, MRPC_DEV_IDS_FILE)?,
        )?,
        other => {
            return Err(DataError::InvalidRequest(format!(
                "the authors' loader has no task {other}; it has {}",
                task_list()
            )))
        }
    };
    if !spec.raw_text {
        for examples in loaded.splits.values_mut() {
            for example in examples {
                example.text = example.text.trim().to_string();
                if let Some(pair) = &mut example.text_pair {
                    *pair = pair.trim().to_string();
                }
            }
        }
    }
    Ok(loaded)
}

/// The authors' files a task needs beyond SentEval's, checked: present and with the expected
/// sha256. Used before a grid runs, so a missing file stops it at once.
pub fn check_files(task: TaskName, data_root: &Path) -> Result<Vec<PathBuf>, DataError> {
    let files: &[(&str, &str)] = match task {
        TaskName::Trec => &[TREC_FILE],
        TaskName::Mrpc => &[MRPC_DEV_IDS_FILE],
        _ => &[],
    };
    files
        .iter()
        .map(|&file| authors_file(data_root, file))
        .collect()
}

fn task_list() -> String {
    TASKS.map(TaskName::as_str).join(", ")
}

/// The folder of the authors' files: `$DMLFT_AUTHORS_DIR`, else `<data root>/authors`, else
/// `<data root>/../authors`.
pub fn authors_dir(data_root: &Path) -> Result<PathBuf, DataError> {
    resolve_authors_dir(std::env::var_os(AUTHORS_DIR_ENV).as_deref(), data_root)
}

fn resolve_authors_dir(env: Option<&OsStr>, data_root: &Path) -> Result<PathBuf, DataError> {
    if let Some(dir) = env.filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if dir.is_dir() {
            return Ok(dir);
        }
        return Err(DataError::MissingDir {
            path: dir,
            hint: format!(
                "{AUTHORS_DIR_ENV} names the folder of the authors' TREC/ and MRPC/ files"
            ),
        });
    }
    let inside = data_root.join("authors");
    let beside = data_root.join("..").join("authors");
    for dir in [&inside, &beside] {
        if dir.is_dir() {
            return Ok(dir.clone());
        }
    }
    Err(DataError::MissingDir {
        path: beside.clone(),
        hint: format!(
            "the folder of the authors' TREC/trec.tsv and MRPC/dev_ids.tsv; looked in \
             ${AUTHORS_DIR_ENV} (unset), {} and {}; see docs/AUTHORS-SAMPLES.md for where to get them",
            inside.display(),
            beside.display()
        ),
    })
}

/// One of the authors' files, present and with its sha256.
fn authors_file(data_root: &Path, (relative, sha256): (&str, &str)) -> Result<PathBuf, DataError> {
    let path = authors_dir(data_root)?.join(relative);
    if !path.is_file() {
        return Err(DataError::MissingFile { path });
    }
    let actual = crate::verify::sha256_file(&path)?;
    if actual != sha256 {
        return Err(DataError::ChecksumMismatch {
            path,
            expected: sha256.to_string(),
            actual,
            what: "not the authors' file; other content gives other samples".into(),
        });
    }
    Ok(path)
}

/// Python's `str.strip()`: Unicode whitespace plus the separators U+001C..U+001F.
pub(crate) fn python_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Python's text-mode reading: universal newlines (`\r\n` and `\r` become `\n`), then lines that
/// keep their `\n` (`readlines()`; the last one has none when the file does not end in `\n`).
pub(crate) fn python_lines(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split_inclusive('\n').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_lines_keep_newlines_and_translate_carriage_returns() {
        assert_eq!(python_lines("a \nb\r\n\nc"), ["a \n", "b\n", "\n", "c"]);
        assert_eq!(python_lines("x\ry\n"), ["x\n", "y\n"]);
        assert!(python_lines("").is_empty());
    }

    #[test]
    fn authors_dir_is_the_env_folder_then_inside_then_beside_the_data_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("senteval");
        std::fs::create_dir_all(&root).unwrap();
        let err = resolve_authors_dir(None, &root).unwrap_err().to_string();
        assert!(
            err.contains("senteval/authors") && err.contains("senteval/../authors"),
            "{err}"
        );
        let beside = tmp.path().join("authors");
        std::fs::create_dir_all(&beside).unwrap();
        assert_eq!(
            resolve_authors_dir(None, &root).unwrap(),
            root.join("..").join("authors")
        );
        std::fs::create_dir_all(root.join("authors")).unwrap();
        assert_eq!(
            resolve_authors_dir(None, &root).unwrap(),
            root.join("authors")
        );
        let env = tmp.path().join("mine");
        let err = resolve_authors_dir(Some(env.as_os_str()), &root)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mine") && err.contains(AUTHORS_DIR_ENV),
            "{err}"
        );
        std::fs::create_dir_all(&env).unwrap();
        assert_eq!(
            resolve_authors_dir(Some(env.as_os_str()), &root).unwrap(),
            env
        );
    }

    #[test]
    fn python_strip_matches_str_strip() {
        assert_eq!(python_strip("\u{1f} a b\t\n\u{a0}"), "a b");
        assert_eq!(python_strip("x"), "x");
    }
}
