//! Which files a dataset reads, and a fingerprint of their content. A result records the
//! fingerprint of the data it was computed on, so that results on other data (the shipped demo
//! copy of MR, an edited CSV) are not taken for results on this data.

use crate::custom::custom_files;
use crate::error::DataError;
use crate::senteval::task_files;
use crate::spec::DatasetSpec;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One file a dataset reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Its role, independent of where the data lives: `MR/rt-polarity.pos` for SentEval, the
    /// split (`train`, `test`) for a custom dataset, `<split>/<file in the dataset>` for a
    /// Hugging Face dataset (`train/data/train-00000-of-00001.parquet`).
    pub role: String,
    pub path: PathBuf,
}

/// The files `load_task(spec, data_root)` reads, in reading order. A Hugging Face dataset's
/// files are found first (from the Hub into the cache when needed: `crate::hf`).
pub fn data_files(spec: &DatasetSpec, data_root: &Path) -> Result<Vec<DataFile>, DataError> {
    Ok(match spec {
        DatasetSpec::SentEval(name) => task_files(*name)
            .into_iter()
            .map(|rel| DataFile {
                role: rel.to_string_lossy().replace('\\', "/"),
                path: data_root.join(rel),
            })
            .collect(),
        // The authors' own files are pinned by checksum (`authors::check_files`): only the
        // SentEval files they read can differ between machines.
        DatasetSpec::Authors(authors) => {
            data_files(&DatasetSpec::SentEval(authors.authors_pool), data_root)?
        }
        DatasetSpec::Custom(custom) => custom_files(custom, data_root)
            .into_iter()
            .map(|(role, path)| DataFile {
                role: role.to_string(),
                path,
            })
            .collect(),
        DatasetSpec::Hf(hf) => crate::hf::data_files(hf, data_root)?
            .into_iter()
            .map(|(role, path)| DataFile { role, path })
            .collect(),
    })
}

/// 16 hex digits of the SHA-256 of the dataset's files (role, size and bytes of each, in
/// reading order). The same content in another folder gives the same fingerprint; any change of
/// a byte gives another.
pub fn fingerprint(spec: &DatasetSpec, data_root: &Path) -> Result<String, DataError> {
    let mut hasher = Sha256::new();
    for file in data_files(spec, data_root)? {
        let mut f = std::fs::File::open(&file.path).map_err(|e| DataError::io(&file.path, e))?;
        let size = f
            .metadata()
            .map_err(|e| DataError::io(&file.path, e))?
            .len();
        hasher.update(file.role.as_bytes());
        hasher.update([0]);
        hasher.update(size.to_le_bytes());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf).map_err(|e| DataError::io(&file.path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
    }
    let digest = hasher.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CustomDatasetSpec, FileFormat, TaskName};

    fn mr(root: &Path, pos: &str) {
        std::fs::create_dir_all(root.join("MR")).unwrap();
        std::fs::write(root.join("MR/rt-polarity.pos"), pos).unwrap();
        std::fs::write(root.join("MR/rt-polarity.neg"), "bad \n").unwrap();
    }

    #[test]
    fn same_content_elsewhere_same_fingerprint_any_change_another() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        mr(a.path(), "good \n");
        mr(b.path(), "good \n");
        let spec = DatasetSpec::SentEval(TaskName::Mr);
        let fa = fingerprint(&spec, a.path()).unwrap();
        assert_eq!(fa.len(), 16);
        assert_eq!(fa, fingerprint(&spec, b.path()).unwrap());
        mr(b.path(), "good!\n");
        assert_ne!(fa, fingerprint(&spec, b.path()).unwrap());
        let files = data_files(&spec, a.path()).unwrap();
        let roles: Vec<&str> = files.iter().map(|f| f.role.as_str()).collect();
        assert_eq!(roles, ["MR/rt-polarity.pos", "MR/rt-polarity.neg"]);
        std::fs::remove_file(a.path().join("MR/rt-polarity.neg")).unwrap();
        assert!(matches!(
            fingerprint(&spec, a.path()),
            Err(DataError::MissingFile { .. })
        ));
    }

    #[test]
    fn custom_datasets_hash_their_train_and_test_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "text,label\na,x\n").unwrap();
        std::fs::write(dir.path().join("u.csv"), "text,label\nb,y\n").unwrap();
        let mut custom = CustomDatasetSpec {
            name: "c".into(),
            train: "t.csv".into(),
            test: None,
            format: FileFormat::Csv,
            text_column: "text".into(),
            text_pair_column: None,
            label_column: "label".into(),
            labels: None,
        };
        let only_train = fingerprint(&DatasetSpec::Custom(custom.clone()), dir.path()).unwrap();
        custom.test = Some(dir.path().join("u.csv"));
        let spec = DatasetSpec::Custom(custom);
        assert_ne!(only_train, fingerprint(&spec, dir.path()).unwrap());
        let roles: Vec<String> = data_files(&spec, dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.role)
            .collect();
        assert_eq!(roles, ["train", "test"]);
    }
}
