//! Effect size of a paired comparison.

use super::mean;

/// Cohen's d_z: mean of the paired differences over their sample std (ddof 1). `None` with
/// fewer than 2 differences or when they do not vary (the ratio would be infinite or 0/0).
pub fn cohens_d_z(diffs: &[f64]) -> Option<f64> {
    let n = diffs.len();
    if n < 2 {
        return None;
    }
    let m = mean(diffs);
    let sd = (diffs.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / (n - 1) as f64).sqrt();
    (sd > 0.0).then(|| m / sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_and_degenerate() {
        // 1, 2, 3: mean 2, sd 1
        assert_eq!(cohens_d_z(&[1.0, 2.0, 3.0]), Some(2.0));
        assert_eq!(cohens_d_z(&[0.4]), None);
        assert_eq!(cohens_d_z(&[0.4, 0.4]), None);
    }
}
