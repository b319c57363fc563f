//! Class scores to predictions: argmax (first maximum wins, as numpy / torch) and a max-shifted
//! softmax in f64. One implementation for every crate that turns scores into labels.

/// Index of the first maximum of `row` (0 for an empty row).
pub fn argmax<T: Copy + PartialOrd>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Softmax in f64, shifted by the maximum so that large scores do not overflow.
pub fn softmax<T: Copy + Into<f64>>(row: &[T]) -> Vec<f64> {
    let max = row
        .iter()
        .map(|&v| v.into())
        .fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = row.iter().map(|&v| (v.into() - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_maximum_wins() {
        assert_eq!(argmax(&[1.0f32, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[-1.0f64]), 0);
        assert_eq!(argmax::<f64>(&[]), 0);
    }

    #[test]
    fn softmax_is_normalised_ordered_and_overflow_free() {
        let p = softmax(&[1.0f64, 3.0, 2.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[1] > p[2] && p[2] > p[0]);
        // e^1 / (e^0 + e^1) for the shifted pair.
        let q = softmax(&[1000.0f32, 1001.0]);
        assert!(
            (q[1] - 1.0f64.exp() / (1.0 + 1.0f64.exp())).abs() < 1e-12,
            "{q:?}"
        );
    }
}
