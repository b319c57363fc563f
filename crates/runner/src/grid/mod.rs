//! Grid files: schema, sweeps, expansion into cells, validation and cell ids.
pub mod cell_axis;
pub mod cell_id;
pub mod data_check;
pub mod error;
pub mod expand;
pub mod locate;
pub mod schema;
pub mod sweep;
pub mod validate;

pub use cell_axis::{CellAxis, CellValues};
pub use cell_id::cell_id;
pub use error::GridError;
pub use expand::{load_grid, parse_grid, Cell, Grid, LoadOptions};
pub use schema::Device;
