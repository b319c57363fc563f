//! Holm's step-down correction for a family of p-values (as statsmodels'
//! `multipletests(method="holm")`): sort ascending, multiply the i-th smallest (0-based) by
//! m - i, take the running maximum, clip at 1, and put back in the input order.

/// Holm-adjusted p-values, in the order of `p_values`. NaN inputs are not expected (the
/// callers only pass defined p-values).
pub fn holm_adjust(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(p_values[i] * (m - rank) as f64);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_family() {
        // sorted 0.0625, 0.125, 0.25 -> x3, x2, x1 = 0.1875, 0.25, 0.25 (running max)
        assert_eq!(
            holm_adjust(&[0.25, 0.0625, 0.125]),
            vec![0.25, 0.1875, 0.25]
        );
        assert_eq!(holm_adjust(&[0.6, 0.7]), vec![1.0, 1.0]);
        assert!(holm_adjust(&[]).is_empty());
    }
}
