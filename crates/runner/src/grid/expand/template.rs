//! The table a combination's values are written into, cloned once per combination: with every
//! swept list replaced by its first value, so that a clone costs the settings, not the length of
//! the lists (cloning the lists made `plan` quadratic in a swept list's length).

use crate::grid::sweep::{self, Axis};
use toml::Table;

/// `table` with each of `axes`' lists replaced by its first value.
pub(super) fn template(table: &Table, axes: &[Axis]) -> Table {
    let mut out = table.clone();
    for axis in axes {
        if let Some(first) = axis.values.first() {
            sweep::set_at(&mut out, &axis.path, first.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::grid::{parse_grid, LoadOptions};
    use std::path::Path;

    fn grid(lrs: usize, losses: usize) -> String {
        let values: Vec<String> = (0..lrs).map(|i| format!("{}e-7", i + 1)).collect();
        let mut text = format!(
            "name = \"big\"\ndatasets = [\"mr\"]\nshots = [4]\nseeds = [1]\n[model]\nsource = \"m\"\n\
             [protocol]\nkind = \"per-class\"\n[train.optimizer]\nlr = [{}]\n",
            values.join(", ")
        );
        for l in 0..losses {
            text.push_str(&format!("[losses.l{l}]\nce_weight = 0.{}\n", l + 1));
        }
        text
    }

    #[test]
    fn a_long_swept_list_expands_once_per_value() {
        let g = parse_grid(&grid(4000, 1), Path::new("g.toml"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.cells.len(), 4000);
        // Each cell got its own value (the template's first value is overwritten).
        let lrs: std::collections::BTreeSet<_> = g
            .cells
            .iter()
            .map(|c| c.axes["train.optimizer.lr"].clone())
            .collect();
        assert_eq!(lrs.len(), 4000);
    }

    #[test]
    fn too_many_cells_are_refused_with_their_count_before_expanding() {
        // 60,000 values x 2 losses: refused with the whole count, not after 100,001 cells.
        let err = parse_grid(
            &grid(60_000, 2),
            Path::new("g.toml"),
            &LoadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("expands to 120000 cells"), "{err}");
    }
}
