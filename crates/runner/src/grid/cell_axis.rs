//! The axes every cell has (dataset, loss, shots, seed, fold): their names in cell axes,
//! records and filters, and the grid-file keys they come from.

use dmlft_train::spec::CellSpec;
use std::collections::BTreeMap;
use std::fmt;

/// A built-in axis of a cell. Swept settings are further axes, named by their dotted path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellAxis {
    Dataset,
    Loss,
    Shots,
    Seed,
    Fold,
}

impl CellAxis {
    pub const ALL: [CellAxis; 5] = [
        CellAxis::Dataset,
        CellAxis::Loss,
        CellAxis::Shots,
        CellAxis::Seed,
        CellAxis::Fold,
    ];

    /// The name in a cell's axes, in records and in `exclude` / `include` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            CellAxis::Dataset => "dataset",
            CellAxis::Loss => "loss",
            CellAxis::Shots => "shots",
            CellAxis::Seed => "seed",
            CellAxis::Fold => "fold",
        }
    }

    /// The top-level grid key that lists this axis's values (one value per cell), if any: the
    /// loss variants are tables under `losses`, and folds come from the protocol.
    pub fn list_key(self) -> Option<&'static str> {
        match self {
            CellAxis::Dataset => Some("datasets"),
            CellAxis::Shots => Some("shots"),
            CellAxis::Seed => Some("seeds"),
            CellAxis::Loss | CellAxis::Fold => None,
        }
    }

    /// The top-level list keys: `datasets`, `shots`, `seeds`.
    pub fn list_keys() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().filter_map(Self::list_key)
    }

    /// The axis a filter key names: its name or its list key (`seed` or `seeds`).
    pub fn from_filter_key(key: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == key || a.list_key() == Some(key))
    }

    /// This axis's value in the cell `spec` (`None`: fold, for a protocol without folds).
    pub fn value_in(self, spec: &CellSpec) -> Option<String> {
        match self {
            CellAxis::Dataset => Some(spec.dataset().to_string()),
            CellAxis::Loss => Some(spec.loss().to_string()),
            CellAxis::Shots => Some(spec.shots().to_string()),
            CellAxis::Seed => Some(spec.seed().to_string()),
            CellAxis::Fold => spec.fold().map(|f| f.to_string()),
        }
    }

    /// The built-in axes of the cell `spec`, by name.
    pub fn of_cell(spec: &CellSpec) -> BTreeMap<String, String> {
        Self::ALL
            .into_iter()
            .filter_map(|a| Some((a.as_str().to_string(), a.value_in(spec)?)))
            .collect()
    }

    /// Whether `key` (of a cell's axes) is a built-in axis rather than a swept setting.
    pub fn is_builtin(key: &str) -> bool {
        Self::ALL.iter().any(|a| a.as_str() == key)
    }
}

/// Typed reads of a cell's built-in axes, for a [`crate::grid::Cell`] of a grid or a study and
/// for a stored [`crate::store::CellRecord`]: `cell.loss()`, `cell.shots()` instead of the
/// strings of `cell.axes["loss"]`. Read from the resolved cell, as its axes are.
pub trait CellValues {
    /// The resolved cell.
    fn spec(&self) -> &CellSpec;

    fn dataset(&self) -> &str {
        &self.spec().dataset_name
    }

    /// The loss variant's name (with its swept values, as in reports).
    fn loss(&self) -> &str {
        &self.spec().loss_name
    }

    fn shots(&self) -> usize {
        self.spec().split.shots
    }

    fn seed(&self) -> u64 {
        self.spec().split.seed
    }

    /// The held-out fold (k-fold protocols only).
    fn fold(&self) -> Option<usize> {
        self.spec().split.fold
    }
}

impl CellValues for CellSpec {
    fn spec(&self) -> &CellSpec {
        self
    }
}

impl CellValues for crate::grid::Cell {
    fn spec(&self) -> &CellSpec {
        &self.spec
    }
}

impl CellValues for crate::store::CellRecord {
    fn spec(&self) -> &CellSpec {
        &self.cell
    }
}

impl fmt::Display for CellAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keys_take_the_name_or_the_list_key() {
        assert_eq!(CellAxis::from_filter_key("seeds"), Some(CellAxis::Seed));
        assert_eq!(
            CellAxis::from_filter_key("dataset"),
            Some(CellAxis::Dataset)
        );
        assert_eq!(CellAxis::from_filter_key("fold"), Some(CellAxis::Fold));
        assert_eq!(CellAxis::from_filter_key("losses"), None);
        assert_eq!(CellAxis::from_filter_key("train.lr"), None);
        assert_eq!(
            CellAxis::list_keys().collect::<Vec<_>>(),
            ["datasets", "shots", "seeds"]
        );
        assert!(CellAxis::is_builtin("shots") && !CellAxis::is_builtin("lr"));
    }
}
