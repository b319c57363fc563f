//! Arguments that several grid commands share (`run`, `plan`, `slurm`, `report`).

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

use crate::grid::{load_grid, Grid, LoadOptions};

#[derive(Args, Debug, Clone)]
pub struct GridArgs {
    /// The grid file (TOML).
    pub grid: PathBuf,
    /// SentEval data folder; overrides the grid's `data_root` and DMLFT_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl GridArgs {
    /// Reads, expands and checks the grid (data and model files included).
    pub fn load(&self) -> Result<Grid> {
        let opts = LoadOptions {
            data_dir: self.data_dir.clone(),
            check_data: true,
        };
        Ok(load_grid(&self.grid, &opts)?)
    }
}

#[derive(Args, Debug, Clone)]
pub struct DataChangeArg {
    /// Keep and use results computed on other data (records whose data fingerprint differs
    /// from the data read now) instead of refusing to mix them.
    #[arg(long)]
    pub allow_data_change: bool,
}
