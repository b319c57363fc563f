//! The results folder of a grid: `<output>/grid.toml` (a copy of the grid file, for provenance)
//! and `<output>/cells/<id>.json` (one record per finished or failed cell), plus lock files.

pub mod atomic;
pub mod lock;
pub mod record;

pub use atomic::write_atomic;
pub use lock::{try_lock, CellLock, LockAttempt, LockInfo};
pub use record::{CellRecord, CellStatus, SCHEMA_VERSION};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {what} {path}: {source}")]
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

    /// The record of one cell, if there is a readable one of the current schema (a stale one is
    /// reported once and treated as absent, so that it is re-run).
    pub fn read(&self, id: &str) -> Result<Option<CellRecord>, StoreError> {
        let path = self.record_path(id);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<CellRecord>(&text)
                .map(|r| current(r, &path))
                .map_err(|e| StoreError::BadRecord {
                    path: path.clone(),
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// Status of one cell (`None`: never finished).
    pub fn status(&self, id: &str) -> Option<CellStatus> {
        self.read(id).ok().flatten().map(|r| r.status)
    }

    pub fn write(&self, record: &CellRecord) -> Result<(), StoreError> {
        let path = self.record_path(&record.cell_id);
        let json = serde_json::to_string_pretty(record).expect("a record always serializes");
        write_atomic(&path, json.as_bytes()).map_err(io("write", &path))
    }

    /// Every current record in the folder, by cell id (stale ones are reported and left out).
    /// Unreadable files are returned as errors so that a report does not silently drop cells.
    pub fn all(&self) -> Result<BTreeMap<String, CellRecord>, StoreError> {
        let dir = self.cells_dir();
        let mut out = BTreeMap::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io("list", &dir)(e)),
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
            let record: CellRecord =
                serde_json::from_str(&text).map_err(|e| StoreError::BadRecord {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            if let Some(record) = current(record, &path) {
                out.insert(record.cell_id.clone(), record);
            }
        }
        Ok(out)
    }
}

/// `record` if it has the current schema; otherwise says, once per file, that it is stale.
fn current(record: CellRecord, path: &Path) -> Option<CellRecord> {
    if record.schema_version == SCHEMA_VERSION {
        return Some(record);
    }
    static WARNED: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    if WARNED
        .lock()
        .is_ok_and(|mut w| w.insert(path.to_path_buf()))
    {
        tracing::warn!(
            "{}: stale (schema {}, now {SCHEMA_VERSION}): will be re-run",
            path.display(),
            record.schema_version
        );
    }
    None
}
