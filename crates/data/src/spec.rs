//! What a grid file says about data: which dataset and which few-shot protocol. These serde types
//! are the contract between the grid file (runner) and the loaders / samplers of this crate.

use crate::error::DataError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The nine SentEval classification tasks, named as in grid files (`"mr"`, `"sick-e"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskName {
    Mr,
    Cr,
    Subj,
    Mpqa,
    Sst2,
    Sst5,
    Trec,
    Mrpc,
    SickE,
}

impl TaskName {
    /// Every task, in the order SentEval lists them.
    pub const ALL: [TaskName; 9] = [
        TaskName::Mr,
        TaskName::Cr,
        TaskName::Subj,
        TaskName::Mpqa,
        TaskName::Sst2,
        TaskName::Sst5,
        TaskName::Trec,
        TaskName::Mrpc,
        TaskName::SickE,
    ];

    /// The grid-file name (same as the serde name): `"mr"`, ..., `"sick-e"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::Mr => "mr",
            TaskName::Cr => "cr",
            TaskName::Subj => "subj",
            TaskName::Mpqa => "mpqa",
            TaskName::Sst2 => "sst2",
            TaskName::Sst5 => "sst5",
            TaskName::Trec => "trec",
            TaskName::Mrpc => "mrpc",
            TaskName::SickE => "sick-e",
        }
    }

    /// Every grid-file name, comma-separated, for messages.
    pub fn valid_names() -> String {
        TaskName::ALL.map(TaskName::as_str).join(", ")
    }

    /// The task whose grid-file name is exactly `name` (no case folding).
    pub fn from_exact(name: &str) -> Option<TaskName> {
        TaskName::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskName {
    type Err = DataError;

    /// Parses the grid-file name, case-insensitively; the error lists the valid names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        TaskName::ALL
            .into_iter()
            .find(|name| name.as_str() == wanted)
            .ok_or_else(|| DataError::UnknownTask {
                value: s.to_string(),
                valid: TaskName::ALL
                    .iter()
                    .map(|n| n.as_str().to_string())
                    .collect(),
            })
    }
}

/// File format of a user-supplied dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Tsv,
    Jsonl,
    /// Apache Parquet (what Hugging Face `datasets` writes), read with the arrow-rs `parquet`
    /// crate; uncompressed or snappy-compressed pages.
    Parquet,
}

impl FileFormat {
    /// The format a file name's extension says (`.jsonl`, `.csv`, `.tsv`, `.parquet`), as a Hugging Face dataset folder names its files.
    pub fn of_extension(file: &str) -> Option<FileFormat> {
        let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" => Some(FileFormat::Parquet),
            "jsonl" => Some(FileFormat::Jsonl),
            "csv" => Some(FileFormat::Csv),
            "tsv" => Some(FileFormat::Tsv),
            _ => None,
        }
    }
}

/// A dataset the user brings: a train file and optionally a test file, with named columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDatasetSpec {
    /// Name used in results and reports.
    pub name: String,
    pub train: PathBuf,
    #[serde(default)]
    pub test: Option<PathBuf>,
    pub format: FileFormat,
    pub text_column: String,
    #[serde(default)]
    pub text_pair_column: Option<String>,
    pub label_column: String,
    /// The label values in id order (label `i` is `labels[i]`); default: the values found in
    /// the files, sorted (numerically when all are integers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

impl CustomDatasetSpec {
    /// Field paths are relative (`name`, `labels`).
    pub fn validate(&self) -> Result<(), DataError> {
        validate_dataset_name(&self.name)?;
        self.labels.as_deref().map_or(Ok(()), validate_labels)
    }
}

/// A custom dataset's name: non-empty, no control character, not a SentEval task's name (it
/// would be read as that task in grids and mixed with it in reports).
pub fn validate_dataset_name(name: &str) -> Result<(), DataError> {
    if name.trim().is_empty()
        || name.chars().any(char::is_control)
        || TaskName::from_exact(name).is_some()
    {
        return Err(DataError::InvalidSetting {
            field: "name".into(),
            value: format!("{name:?}"),
            valid: "a non-empty name without control characters that is not a SentEval task name"
                .into(),
        });
    }
    Ok(())
}

/// A fixed label list: at least 2 distinct, non-empty values (field path `labels`).
pub fn validate_labels(labels: &[String]) -> Result<(), DataError> {
    let invalid = |value: String| DataError::InvalidSetting {
        field: "labels".into(),
        value,
        valid: "at least 2 distinct, non-empty label values".into(),
    };
    if labels.len() < 2 {
        return Err(invalid(format!("{labels:?}")));
    }
    if let Some(empty) = labels.iter().find(|l| l.trim().is_empty()) {
        return Err(invalid(format!("{empty:?}")));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = labels.iter().find(|l| !seen.insert(l.as_str())) {
        return Err(invalid(format!("{twice:?} (twice)")));
    }
    Ok(())
}

/// Which dataset a cell uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DatasetSpec {
    SentEval(TaskName),
    Custom(CustomDatasetSpec),
    /// A SentEval task as the papers' authors' code read it (see [`crate::authors`]).
    Authors(AuthorsPoolSpec),
    /// A dataset in the Hugging Face layout: a Hub repository or a local folder (see
    /// [`crate::hf`]); read by the same code as a custom dataset.
    Hf(HfDatasetSpec),
}

/// A dataset in the Hugging Face layout, from the Hub (`hub = "SetFit/emotion"`) or from a local
/// folder holding the same files (`dir = "..."`): which split files to read and which columns
/// hold the texts and labels. [`crate::hf::preset`] fills every field for the common sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HfDatasetSpec {
    /// Name used in results and reports.
    pub name: String,
    /// The Hub dataset id (`org/name`); exactly one of `hub` and `dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    /// A local folder with the dataset's files (relative to the data root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// The configuration (subset): its files are those under the folder of that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Hub only: a branch, tag or commit (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// dmlft's split (`train`, `dev`, `test`) -> the dataset's split name (default
    /// `{ train = "train", test = "test" }`). `train` is required.
    #[serde(default = "default_hf_splits")]
    pub splits: std::collections::BTreeMap<String, String>,
    pub text_column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_pair_column: Option<String>,
    pub label_column: String,
    /// A column naming each label value (SetFit's `label_text`): the class names then come from
    /// the data (one name per value, else an error), ids stay the values' order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_name_column: Option<String>,
    /// The label values in id order; default: the names of the label column's `ClassLabel`
    /// feature when the Parquet files carry one, else the values found, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

fn default_hf_splits() -> std::collections::BTreeMap<String, String> {
    [("train", "train"), ("test", "test")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

impl HfDatasetSpec {
    /// Field paths are relative (`name`, `hub`, `splits`, `labels`).
    pub fn validate(&self) -> Result<(), DataError> {
        validate_dataset_name(&self.name)?;
        let invalid = |field: &str, value: String, valid: &str| DataError::InvalidSetting {
            field: field.into(),
            value,
            valid: valid.into(),
        };
        match (&self.hub, &self.dir) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    "hub",
                    format!("hub = {:?}, dir = {:?}", self.hub, self.dir),
                    "exactly one of `hub` (a Hub dataset id) and `dir` (a local folder)",
                ))
            }
            (Some(id), None) if !is_repo_id(id) => {
                return Err(invalid(
                    "hub",
                    format!("{id:?}"),
                    "a Hub dataset id: `name` or `org/name` of letters, digits, '-', '_' and '.'",
                ))
            }
            (None, Some(_)) if self.revision.is_some() => {
                return Err(invalid(
                    "revision",
                    format!("{:?}", self.revision),
                    "unset for a local folder (`dir`); a revision names a Hub commit",
                ))
            }
            _ => {}
        }
        let plain =
            |v: &str| !v.is_empty() && !v.contains(['/', '\\', '\0']) && v != "." && v != "..";
        if let Some(config) = self.config.as_ref().filter(|c| !plain(c)) {
            return Err(invalid(
                "config",
                format!("{config:?}"),
                "a configuration name (a plain folder name)",
            ));
        }
        if let Some(rev) = self.revision.as_ref().filter(|r| {
            r.is_empty() || r.contains("..") || !r.bytes().all(|b| b.is_ascii_graphic())
        }) {
            return Err(invalid(
                "revision",
                format!("{rev:?}"),
                "a branch, tag or commit id",
            ));
        }
        if !self.splits.contains_key(crate::task::TRAIN) {
            return Err(invalid(
                "splits",
                format!("{:?}", self.splits),
                "a table with `train` (and optionally `dev`, `test`) naming the dataset's splits",
            ));
        }
        for (ours, theirs) in &self.splits {
            if ![crate::task::TRAIN, crate::task::DEV, crate::task::TEST].contains(&ours.as_str()) {
                return Err(invalid(
                    "splits",
                    format!("{ours:?}"),
                    "train, dev or test (each naming one of the dataset's splits)",
                ));
            }
            if !plain(theirs) {
                return Err(invalid(
                    &format!("splits.{ours}"),
                    format!("{theirs:?}"),
                    "a split name such as \"train\" or \"validation\"",
                ));
            }
        }
        self.labels.as_deref().map_or(Ok(()), validate_labels)
    }
}

/// `name` or `org/name` of letters, digits, `-`, `_` and `.` (as the Hub client checks).
fn is_repo_id(id: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() <= 2 && parts.iter().all(|p| part_ok(p))
}

impl DatasetSpec {
    /// The SentEval task behind this dataset, if it is one (read either way).
    pub fn senteval_task(&self) -> Option<TaskName> {
        match self {
            DatasetSpec::SentEval(task) => Some(*task),
            DatasetSpec::Authors(spec) => Some(spec.authors_pool),
            DatasetSpec::Custom(_) | DatasetSpec::Hf(_) => None,
        }
    }
}

/// A SentEval task read the way `utils/load_dataset.py` of the papers' code reads it (file order,
/// label ids, the TREC and MRPC files, pandas parsing; [`crate::authors`] lists every quirk), so
/// that the `numpy-compat` k-fold sampler draws the authors' very examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorsPoolSpec {
    /// The task: one of [`crate::authors::TASKS`].
    pub authors_pool: TaskName,
    /// Texts exactly as the authors' loader returned them (default): MR/CR/SUBJ/MPQA keep the
    /// `" \n"` that `readlines()` leaves at the end of each line (RoBERTa's BPE makes it a token of
    /// its own), SST-2 texts their trailing space. `false` trims surrounding whitespace, as
    /// dmlft's SentEval loader does; the examples and their order are the same either way.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub raw_text: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// Which examples form the pool that the k-fold protocol splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PoolChoice {
    /// The train split (the whole dataset for tasks without an official split).
    #[default]
    Train,
    /// Every split concatenated.
    All,
}

/// The few-shot protocol. `shots` (the sample size) and the seed are per cell, not here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ProtocolSpec {
    /// The papers' protocol: shuffle the pool, split into `folds`; for fold f draw `shots` training
    /// examples in total from the other folds and evaluate on the whole held-out fold f.
    Kfold {
        /// Number of folds (default 4, as the papers' code); at least 2.
        #[serde(default = "default_folds")]
        folds: usize,
        /// Draw the training sample proportionally per class (largest-remainder rounding)
        /// instead of uniformly from the training folds (default false, as the papers).
        #[serde(default)]
        stratified: bool,
        /// Which examples are cut into folds (default: the train split).
        #[serde(default)]
        pool: PoolChoice,
        /// Which generator draws the folds and samples (default: dmlft's own).
        #[serde(default, skip_serializing_if = "KfoldRng::is_default")]
        rng: KfoldRng,
        /// `numpy-compat` only: the seed of `sklearn.utils.shuffle(pool, random_state=...)`,
        /// which orders the pool before the folds are cut. 42 (default) as the authors' released
        /// loader; their analysis notebooks show a pool order that is exactly 2048's.
        #[serde(
            default = "default_shuffle_seed",
            skip_serializing_if = "is_default_shuffle_seed"
        )]
        shuffle_seed: u64,
        /// Dev examples per class carved from the training folds, disjoint from the training
        /// sample (drawn after it, with its own `DEV` stream, so the training sample is the one
        /// drawn without them); for `[train] eval_every` / `early_stopping`. 0 (default) = none,
        /// left out of the cell's identity.
        #[serde(default, skip_serializing_if = "is_zero")]
        dev_per_class: usize,
    },
    /// LM-BFF / SetFit: `shots` examples per class from the train split, evaluated on the official
    /// test split (or a fixed, seeded, stratified held-out part for tasks without one).
    PerClass {
        /// Validation examples per class, drawn from train, disjoint from the training sample.
        #[serde(default)]
        dev_shots: usize,
    },
}

fn default_folds() -> usize {
    4
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Largest sample size (`shots`, `dev_shots`): far above any few-shot setting, low enough that
/// sizes derived from it cannot overflow.
pub const MAX_SHOTS: usize = 10_000_000;
/// Most folds of the k-fold protocol (each is a cell per seed).
pub const MAX_FOLDS: usize = 1_000;

fn count_in(field: &str, value: usize, min: usize, max: usize) -> Result<(), DataError> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(DataError::InvalidSetting {
        field: field.into(),
        value: value.to_string(),
        valid: if value < min {
            format!("at least {min}")
        } else {
            format!("at most {max} (a bound against overflow and runaway memory)")
        },
    })
}

impl ProtocolSpec {
    /// The held-out fold of each cell of one setting: every fold for k-fold, none otherwise.
    pub fn cell_folds(&self) -> Vec<Option<usize>> {
        match *self {
            ProtocolSpec::Kfold { folds, .. } => (0..folds).map(Some).collect(),
            ProtocolSpec::PerClass { .. } => vec![None],
        }
    }

    /// The protocol key that gives a cell dev examples (`dev_shots` / `dev_per_class`), and
    /// whether it is set (non-zero).
    pub fn dev_key(&self) -> (&'static str, bool) {
        match *self {
            ProtocolSpec::Kfold { dev_per_class, .. } => ("dev_per_class", dev_per_class > 0),
            ProtocolSpec::PerClass { dev_shots } => ("dev_shots", dev_shots > 0),
        }
    }

    /// Field paths are relative (`folds`, `dev_shots`).
    pub fn validate(&self) -> Result<(), DataError> {
        match *self {
            ProtocolSpec::Kfold { folds, .. } if folds < 2 => Err(DataError::InvalidSetting {
                field: "folds".into(),
                value: folds.to_string(),
                valid: "at least 2 folds (k-fold)".into(),
            }),
            ProtocolSpec::Kfold {
                folds,
                dev_per_class,
                ..
            } => {
                count_in("folds", folds, 2, MAX_FOLDS)?;
                count_in("dev_per_class", dev_per_class, 0, MAX_SHOTS)
            }
            ProtocolSpec::PerClass { dev_shots } => count_in("dev_shots", dev_shots, 0, MAX_SHOTS),
        }
    }
}

/// The default of `shuffle_seed`: the `seed=42` of the authors' `prepare_dataset`.
pub const DEFAULT_SHUFFLE_SEED: u64 = 42;

fn default_shuffle_seed() -> u64 {
    DEFAULT_SHUFFLE_SEED
}

fn is_default_shuffle_seed(seed: &u64) -> bool {
    *seed == DEFAULT_SHUFFLE_SEED
}

/// The generator behind the k-fold partition and the training samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KfoldRng {
    /// dmlft's platform-independent stream ([`crate::rng::SplitRng`]); same protocol as the
    /// papers, different examples.
    #[default]
    Dmlft,
    /// The papers' code to the index: NumPy's legacy `RandomState` through
    /// `sklearn.utils.shuffle`, `KFold(shuffle=True)` and `np.random.choice`
    /// ([`crate::protocol::numpy_kfold`]). Unstratified only.
    NumpyCompat,
}

impl KfoldRng {
    pub fn is_default(&self) -> bool {
        *self == KfoldRng::Dmlft
    }
}

impl ProtocolSpec {
    /// The k-fold protocol with dmlft's own sampler.
    pub fn kfold(folds: usize, stratified: bool, pool: PoolChoice) -> Self {
        ProtocolSpec::Kfold {
            folds,
            stratified,
            pool,
            rng: KfoldRng::Dmlft,
            shuffle_seed: DEFAULT_SHUFFLE_SEED,
            dev_per_class: 0,
        }
    }

    /// Settings that cannot go together, as `(key, message)`; `None` when the protocol is usable.
    pub fn conflict(&self) -> Option<(&'static str, String)> {
        let ProtocolSpec::Kfold {
            stratified,
            rng,
            shuffle_seed,
            ..
        } = self
        else {
            return None;
        };
        match rng {
            KfoldRng::NumpyCompat if *stratified => Some((
                "stratified",
                "rng = \"numpy-compat\" reproduces the authors' unstratified draw; \
                 use stratified = false (or rng = \"dmlft\")"
                    .into(),
            )),
            KfoldRng::NumpyCompat if u32::try_from(*shuffle_seed).is_err() => Some((
                "shuffle_seed",
                format!("must be below 2^32 for NumPy's RandomState, got {shuffle_seed}"),
            )),
            KfoldRng::Dmlft if *shuffle_seed != DEFAULT_SHUFFLE_SEED => Some((
                "shuffle_seed",
                "applies only to rng = \"numpy-compat\" (dmlft's sampler shuffles the pool \
                 with the cell seed)"
                    .into(),
            )),
            _ => None,
        }
    }

    /// Whether `seed` can seed this protocol: NumPy's `RandomState` takes seeds below 2^32.
    pub fn check_seed(&self, seed: u64) -> Result<(), String> {
        match self {
            ProtocolSpec::Kfold {
                rng: KfoldRng::NumpyCompat,
                ..
            } if u32::try_from(seed).is_err() => Err(format!(
                "seed {seed} is too large for rng = \"numpy-compat\" (NumPy's RandomState takes \
                 0 ..= 4294967295)"
            )),
            _ => Ok(()),
        }
    }
}

impl SplitRequest {
    /// Field paths are the grid's keys (`shots`, `protocol.folds`, `fold`).
    pub fn validate(&self) -> Result<(), DataError> {
        self.protocol.validate().map_err(|e| match e {
            DataError::InvalidSetting {
                field,
                value,
                valid,
            } => DataError::InvalidSetting {
                field: format!("protocol.{field}"),
                value,
                valid,
            },
            other => other,
        })?;
        count_in("shots", self.shots, 1, MAX_SHOTS)?;
        if let (ProtocolSpec::Kfold { folds, .. }, Some(fold)) = (&self.protocol, self.fold) {
            if fold >= *folds {
                return Err(DataError::InvalidSetting {
                    field: "fold".into(),
                    value: fold.to_string(),
                    valid: format!("in 0..={} (folds = {folds})", folds - 1),
                });
            }
        }
        Ok(())
    }
}

/// One cell's data request: protocol + sample size + seed (+ fold for k-fold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub protocol: ProtocolSpec,
    /// k-fold: training examples in total; per-class: examples per class.
    pub shots: usize,
    pub seed: u64,
    /// k-fold only: which fold is held out (0-based).
    #[serde(default)]
    pub fold: Option<usize>,
}
