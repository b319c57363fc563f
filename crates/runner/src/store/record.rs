//! The JSON file of one cell: `results/<grid>/cells/<id>.json`.

use dmlft_train::result::CellResult;
use dmlft_train::spec::CellSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the record layout and of what a cell computes; bumped on any incompatible change.
/// Records of another version are stale: not reported, and re-run by `dmlft run`.
/// 2: the head and loss parameters are drawn from their own random streams (they shared the
/// partition and sample streams before), so results differ from version 1's.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    pub schema_version: u32,
    pub cell_id: String,
    /// Name of the grid that produced the cell.
    pub grid: String,
    pub status: CellStatus,
    /// Failed cells: the error, and the training step it happened at if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<usize>,
    pub cell: CellSpec,
    /// The cell's values on the grid's axes (dataset, loss, shots, seed, fold, swept settings).
    pub axes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CellResult>,
    pub host: String,
    pub device: String,
    pub started_at: String,
    pub finished_at: String,
    pub dmlft_version: String,
}
