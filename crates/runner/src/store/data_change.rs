//! Records computed on other data. A cell's id leaves out where the data lives (so that machines
//! with the data in different folders share results), so the same id can stand for a result on
//! other data (the shipped demo copy of MR instead of SentEval's). Each record keeps the
//! fingerprint of the data files it read; `run` and `plan` compare it with the data they read now,
//! `report` compares the records of one dataset with each other, and all three refuse to mix
//! (unless `--allow-data-change`).

use super::CellRecord;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Records of one dataset whose data fingerprint differs from another's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DataChanged {
    pub dataset: String,
    /// A record computed on the first data, and how many records share its fingerprint.
    pub record: PathBuf,
    pub recorded: String,
    pub count: usize,
    /// The other data: the data read now (`run`, `plan`) or another record (`report`).
    pub other: OtherData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OtherData {
    /// The data the grid reads now, from this data root.
    Current {
        fingerprint: String,
        data_root: PathBuf,
    },
    /// Another record of the same dataset.
    Record { fingerprint: String, path: PathBuf },
}

impl DataChanged {
    fn describe(&self) -> String {
        let others = match self.count {
            0 | 1 => String::new(),
            n => format!(" and {} other record(s)", n - 1),
        };
        let first = format!(
            "{}{others} of dataset `{}` were computed on data with fingerprint {}",
            self.record.display(),
            self.dataset,
            self.recorded
        );
        let second = match &self.other {
            OtherData::Current {
                fingerprint,
                data_root,
            } => format!(
                "the data read now (data root {}) has fingerprint {fingerprint}",
                data_root.display()
            ),
            OtherData::Record { fingerprint, path } => format!(
                "{} was computed on data with fingerprint {fingerprint}",
                path.display()
            ),
        };
        format!(
            "{first}, but {second}: results on different data are not mixed; use another \
             results folder (`output`), or pass --allow-data-change to keep and mix them"
        )
    }
}

/// The first dataset whose records (path, record) disagree with the fingerprint of the data
/// read now; `current` maps dataset names to fingerprints. Datasets not in `current` are not
/// compared.
pub fn check_against_current<'a>(
    records: impl Iterator<Item = (&'a Path, &'a CellRecord)>,
    current: &BTreeMap<String, String>,
    data_root: &Path,
) -> Result<(), Box<DataChanged>> {
    let mut differing: BTreeMap<&str, (&Path, &str, usize)> = BTreeMap::new();
    for (path, record) in records {
        let dataset = record.cell.dataset_name.as_str();
        let Some(now) = current.get(dataset) else {
            continue;
        };
        if record.data_fingerprint != *now {
            differing
                .entry(dataset)
                .or_insert((path, record.data_fingerprint.as_str(), 0))
                .2 += 1;
        }
    }
    match differing.into_iter().next() {
        None => Ok(()),
        Some((dataset, (path, recorded, count))) => Err(Box::new(DataChanged {
            dataset: dataset.to_string(),
            record: path.to_path_buf(),
            recorded: recorded.to_string(),
            count,
            other: OtherData::Current {
                fingerprint: current[dataset].clone(),
                data_root: data_root.to_path_buf(),
            },
        })),
    }
}

/// The first dataset whose records were computed on more than one version of its data.
pub fn check_consistent<'a>(
    records: impl Iterator<Item = (&'a Path, &'a CellRecord)>,
) -> Result<(), Box<DataChanged>> {
    // dataset -> fingerprint -> (first record, count)
    let mut seen: BTreeMap<&str, BTreeMap<&str, (&Path, usize)>> = BTreeMap::new();
    for (path, record) in records {
        seen.entry(record.cell.dataset_name.as_str())
            .or_default()
            .entry(record.data_fingerprint.as_str())
            .or_insert((path, 0))
            .1 += 1;
    }
    for (dataset, versions) in seen {
        let mut versions = versions.into_iter();
        if let (Some((fp_a, (path_a, count))), Some((fp_b, (path_b, _)))) =
            (versions.next(), versions.next())
        {
            return Err(Box::new(DataChanged {
                dataset: dataset.to_string(),
                record: path_a.to_path_buf(),
                recorded: fp_a.to_string(),
                count,
                other: OtherData::Record {
                    fingerprint: fp_b.to_string(),
                    path: path_b.to_path_buf(),
                },
            }));
        }
    }
    Ok(())
}
