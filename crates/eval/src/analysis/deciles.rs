//! The papers' decile analyses (2211.15202; the authors' `model_performance_vs_distance.ipynb`): sort the
//! examples by a quantity, cut them into equal-size groups, and report each model's accuracy per
//! group. Quantities: the L2 distance of an example's embedding to the mean embedding (in a
//! reference model's space, as the notebook did with the CE model, or in each model's own space)
//! and the sentence length in whitespace tokens.
//!
//! Groups are in ascending order of the quantity (group 1 = closest to the mean / shortest; the
//! notebook sorted descending); ties keep the examples' order; sizes follow `numpy.array_split`
//! (the first `n mod groups` groups get one more example).

use serde::{Deserialize, Serialize};

use super::error::AnalysisError;

/// One group of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1-based.
    pub decile: usize,
    pub count: usize,
    pub mean_value: f64,
    pub min_value: f64,
    pub max_value: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDeciles {
    pub model: String,
    pub rows: Vec<DecileRow>,
}

/// Accuracy by decile of one quantity for several models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileTable {
    /// What was sorted on, in words (e.g. "L2 distance to the centroid of the first embeddings in ce's space").
    pub quantity: String,
    /// Whether every model was binned on the same values (shared reference space, length).
    pub shared_bins: bool,
    pub models: Vec<ModelDeciles>,
}

/// Indices of `values` sorted ascending (stable), cut into `groups` groups of near-equal size.
pub(crate) fn equal_groups(
    values: &[f64],
    groups: usize,
) -> Result<Vec<Vec<usize>>, AnalysisError> {
    if groups == 0 || groups > values.len() {
        return Err(AnalysisError::setting(
            "deciles",
            groups,
            format!("between 1 and the number of examples ({})", values.len()),
        ));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(AnalysisError::setting(
            "decile values",
            "a non-finite value",
            "finite numbers",
        ));
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let (base, extra) = (values.len() / groups, values.len() % groups);
    let mut out = Vec::with_capacity(groups);
    let mut start = 0;
    for g in 0..groups {
        let size = base + usize::from(g < extra);
        out.push(order[start..start + size].to_vec());
        start += size;
    }
    Ok(out)
}

/// Per-group count, value summary and accuracy.
pub fn decile_rows(
    values: &[f64],
    correct: &[bool],
    groups: usize,
) -> Result<Vec<DecileRow>, AnalysisError> {
    if values.len() != correct.len() {
        return Err(AnalysisError::setting(
            "decile inputs",
            format!("{} values, {} predictions", values.len(), correct.len()),
            "one value per prediction",
        ));
    }
    Ok(equal_groups(values, groups)?
        .into_iter()
        .enumerate()
        .map(|(g, members)| {
            let vals: Vec<f64> = members.iter().map(|&i| values[i]).collect();
            let hits = members.iter().filter(|&&i| correct[i]).count();
            DecileRow {
                decile: g + 1,
                count: members.len(),
                mean_value: vals.iter().sum::<f64>() / vals.len() as f64,
                min_value: vals.iter().copied().fold(f64::INFINITY, f64::min),
                max_value: vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                accuracy: hits as f64 / members.len() as f64,
            }
        })
        .collect())
}

/// L2 distance of each row of a row-major `n x dim` matrix to the mean row (in f64).
pub fn distances_to_mean(data: &[f32], dim: usize) -> Vec<f64> {
    let n = data.len() / dim.max(1);
    if n == 0 {
        return Vec::new();
    }
    let mut mean = vec![0.0f64; dim];
    for row in data.chunks(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v) / n as f64;
        }
    }
    data.chunks(dim)
        .map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(&v, m)| (f64::from(v) - m).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect()
}

/// Number of whitespace-separated tokens of each text (the notebook's `len(text.split())`).
pub fn whitespace_lengths<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<f64> {
    texts
        .into_iter()
        .map(|t| t.split_whitespace().count() as f64)
        .collect()
}

impl DecileTable {
    /// Markdown: one row per decile; the value columns once when the bins are shared, per model
    /// otherwise.
    pub fn to_markdown(&self) -> String {
        let mut header = vec!["decile".to_string()];
        let mut rule = vec!["---:".to_string()];
        if self.shared_bins {
            header.extend(["n".into(), "mean".into(), "range".into()]);
            rule.extend(["---:".into(), "---:".into(), "---".into()]);
        }
        for m in &self.models {
            if !self.shared_bins {
                header.push(format!("{} mean", m.model));
                rule.push("---:".into());
            }
            header.push(format!("{} acc", m.model));
            rule.push("---:".into());
        }
        let mut out = format!("Accuracy by decile of {}\n\n", self.quantity);
        out.push_str(&format!(
            "| {} |\n| {} |\n",
            header.join(" | "),
            rule.join(" | ")
        ));
        let groups = self.models.iter().map(|m| m.rows.len()).max().unwrap_or(0);
        for g in 0..groups {
            let mut cells = vec![(g + 1).to_string()];
            if self.shared_bins {
                if let Some(r) = self.models.first().and_then(|m| m.rows.get(g)) {
                    cells.push(r.count.to_string());
                    cells.push(format!("{:.3}", r.mean_value));
                    cells.push(format!("{:.3} - {:.3}", r.min_value, r.max_value));
                }
            }
            for m in &self.models {
                let row = m.rows.get(g);
                if !self.shared_bins {
                    cells.push(row.map_or("".into(), |r| format!("{:.3}", r.mean_value)));
                }
                cells.push(row.map_or("".into(), |r| format!("{:.3}", r.accuracy)));
            }
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_array_split_sizes_in_ascending_order() {
        let values = [5.0, 1.0, 4.0, 2.0, 3.0, 0.0, 6.0];
        let groups = equal_groups(&values, 3).unwrap();
        assert_eq!(groups, vec![vec![5, 1, 3], vec![4, 2], vec![0, 6]]);
        assert!(equal_groups(&values, 8).is_err());
        assert!(equal_groups(&values, 0).is_err());
    }

    #[test]
    fn rows_count_accuracy_per_group() {
        let values = [1.0, 2.0, 3.0, 4.0];
        let correct = [true, false, true, true];
        let rows = decile_rows(&values, &correct, 2).unwrap();
        assert_eq!(
            (rows[0].count, rows[0].accuracy, rows[0].mean_value),
            (2, 0.5, 1.5)
        );
        assert_eq!(
            (rows[1].accuracy, rows[1].min_value, rows[1].max_value),
            (1.0, 3.0, 4.0)
        );
        assert!(decile_rows(&values, &correct[..3], 2).is_err());
    }

    #[test]
    fn distances_and_lengths() {
        // Rows (0,0) and (2,0): mean (1,0), both at distance 1.
        assert_eq!(distances_to_mean(&[0.0, 0.0, 2.0, 0.0], 2), vec![1.0, 1.0]);
        assert_eq!(whitespace_lengths(["a b  c", " one "]), vec![3.0, 1.0]);
    }
}
