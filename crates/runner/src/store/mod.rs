//! The results folder of a grid: `<output>/grid.toml` (a copy of the grid file, for provenance)
//! and `<output>/cells/<id>.json` (one record per finished or failed cell), plus lock files.

pub mod atomic;
pub mod data_change;
pub mod lock;
pub mod record;

pub use atomic::write_atomic;
pub use data_change::DataChanged;
pub use lock::{release_all_held, try_lock, CellLock, LockAttempt, LockInfo};
pub use record::{CellRecord, CellStatus, SCHEMA_VERSION};

use record::SchemaOnly;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a cell record: {message}")]
    BadRecord { path: PathBuf, message: String },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// A results folder.
#[derive(Debug, Clone)]
pub struct ResultsStore {
    root: PathBuf,
}

impl ResultsStore {
    /// Opens (creating if needed) a results folder, and removes temporary files that dead
    /// processes of this host left behind.
    pub fn create(root: &Path) -> Result<Self, StoreError> {
        let store = Self {
            root: root.to_path_buf(),
        };
        std::fs::create_dir_all(store.cells_dir()).map_err(io("create", &store.cells_dir()))?;
        atomic::clean_stale_tmp(&store.cells_dir());
        atomic::clean_stale_tmp(&store.root);
        Ok(store)
    }

    /// Opens an existing folder for reading (plan, report); it need not exist.
    pub fn open(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn cells_dir(&self) -> PathBuf {
        self.root.join("cells")
    }

    pub fn record_path(&self, id: &str) -> PathBuf {
        self.cells_dir().join(format!("{id}.json"))
    }

    /// Copies the grid file text to `grid.toml`.
    pub fn write_grid_copy(&self, text: &str) -> Result<(), StoreError> {
        let path = self.root.join("grid.toml");
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
            return Ok(());
        }
        write_atomic(&path, text.as_bytes()).map_err(io("write", &path))
    }

    /// What the folder holds for one cell.
    pub fn read(&self, id: &str) -> Stored {
        let path = self.record_path(id);
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::Missing,
            Err(e) => Stored::Unreadable(Unreadable {
                path,
                reason: format!("cannot read it: {e}"),
            }),
            Ok(bytes) => match parse_record(&bytes, Some(id)) {
                Ok(record) => Stored::Record(Box::new(record)),
                Err(reason) => Stored::Unreadable(Unreadable { path, reason }),
            },
        }
    }

    pub fn write(&self, record: &CellRecord) -> Result<(), StoreError> {
        let path = self.record_path(&record.cell_id);
        let json = serde_json::to_string_pretty(record).expect("a record always serializes");
        write_atomic(&path, json.as_bytes()).map_err(io("write", &path))
    }

    /// The ids of the records in `cells/` (file stems of `*.json`), sorted, without reading them.
    /// A folder that does not exist yet holds none.
    pub fn record_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.cells_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("list", &dir)(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let path = entry.map_err(io("list", &dir))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                if let Some(stem) = path.file_stem() {
                    ids.push(stem.to_string_lossy().to_string());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Every record in the folder, by cell id, and every record file that cannot be read (named,
    /// with the reason, so that no caller silently drops or counts them). Only a folder that
    /// exists but cannot be listed is an error.
    pub fn scan(&self) -> Result<Scan, StoreError> {
        let mut scan = Scan::default();
        for id in self.record_ids()? {
            match self.read(&id) {
                Stored::Record(record) => {
                    scan.records.insert(id, *record);
                }
                Stored::Unreadable(u) => scan.unreadable.push(u),
                // removed between the listing and the read (another runner re-ran it)
                Stored::Missing => {}
            }
        }
        Ok(scan)
    }
}

/// What the results folder holds for one cell.
#[derive(Debug)]
pub enum Stored {
    Missing,
    Record(Box<CellRecord>),
    Unreadable(Unreadable),
}

/// A record file that is not a usable record: truncated, edited, of another schema version, or
/// holding another cell. `run` runs its cell again (and replaces the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Everything in a results folder.
#[derive(Debug, Default)]
pub struct Scan {
    pub records: BTreeMap<String, CellRecord>,
    pub unreadable: Vec<Unreadable>,
}

/// A record from file bytes; `expected_id` is the id its file name says.
fn parse_record(bytes: &[u8], expected_id: Option<&str>) -> Result<CellRecord, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    if text.trim().is_empty() {
        return Err("empty file (a write cut short?)".into());
    }
    let schema: SchemaOnly =
        serde_json::from_str(text).map_err(|e| format!("not a cell record: {e}"))?;
    if schema.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "stale (schema {}, now {SCHEMA_VERSION})",
            schema.schema_version
        ));
    }
    let record: CellRecord =
        serde_json::from_str(text).map_err(|e| format!("not a cell record: {e}"))?;
    if let Some(id) = expected_id {
        if record.cell_id != id {
            return Err(format!(
                "holds cell `{}`, not the `{id}` its name says",
                record.cell_id
            ));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_files_are_named_with_the_reason_and_the_rest_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsStore::create(dir.path()).unwrap();
        let cells = store.cells_dir();
        std::fs::write(cells.join("a.json"), "{\"schema_version\": 2, \"cell_").unwrap();
        std::fs::write(cells.join("b.json"), "").unwrap();
        std::fs::write(cells.join("c.json"), "{\"schema_version\": 1}").unwrap();
        std::fs::write(cells.join("d.lock"), "").unwrap();
        let scan = store.scan().unwrap();
        assert!(scan.records.is_empty());
        let reasons: Vec<(String, &str)> = scan
            .unreadable
            .iter()
            .map(|u| {
                let name = u.path.file_name().unwrap().to_string_lossy().to_string();
                (name, u.reason.as_str())
            })
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].1.contains("not a cell record"), "{reasons:?}");
        assert!(reasons[1].1.contains("empty"), "{reasons:?}");
        assert!(reasons[2].1.contains("stale") && reasons[2].1.contains("schema 1"));
        assert!(matches!(store.read("b"), Stored::Unreadable(_)));
        assert!(matches!(store.read("zz"), Stored::Missing));
    }

    #[test]
    fn record_ids_are_the_json_stems_sorted_and_none_for_a_missing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsStore::open(&dir.path().join("not-yet"));
        assert!(store.record_ids().unwrap().is_empty());
        let store = ResultsStore::create(dir.path()).unwrap();
        let cells = store.cells_dir();
        for name in ["b.json", "a.json", "a.lock", "c.json.tmp1"] {
            std::fs::write(cells.join(name), "").unwrap();
        }
        assert_eq!(store.record_ids().unwrap(), ["a", "b"]);
    }
}
