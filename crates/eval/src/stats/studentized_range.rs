//! The studentized range distribution with infinitely many degrees of freedom (the range of k
//! independent standard normals), which the Nemenyi test needs: `scipy.stats.studentized_range`
//! with `df = inf`.

use super::normal_sf;
use super::power::simpson;

/// `P(range of k standard normals <= q)`: `k ∫ φ(z) [Φ(z) - Φ(z - q)]^(k-1) dz`.
pub fn studentized_range_cdf(q: f64, k: usize) -> f64 {
    if k < 2 || q.is_nan() {
        return f64::NAN;
    }
    if q <= 0.0 {
        return 0.0;
    }
    let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // φ is below 1e-17 outside ±9.
    let integral = simpson(-9.0, 9.0, 6000, |z| {
        density(z) * (normal_sf(z - q) - normal_sf(z)).powi(k as i32 - 1)
    });
    (k as f64 * integral).clamp(0.0, 1.0)
}

/// Upper tail `P(range > q)`.
pub fn studentized_range_sf(q: f64, k: usize) -> f64 {
    1.0 - studentized_range_cdf(q, k)
}

/// Quantile: the q with `P(range <= q) = p`, for 0 < p < 1.
pub fn studentized_range_quantile(p: f64, k: usize) -> f64 {
    if k < 2 || !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    let (mut low, mut high) = (0.0, 1.0);
    while studentized_range_cdf(high, k) < p {
        high *= 2.0;
    }
    while high - low > 1e-13 * high {
        let mid = 0.5 * (low + high);
        if studentized_range_cdf(mid, k) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_normals_range_is_a_scaled_half_normal() {
        // k = 2: the range is |Z1 - Z2| = sqrt(2) |Z|, so P(range > q) = 2 Q(q / sqrt 2).
        for q in [0.3, 1.0, 2.77, 5.0] {
            let want = 2.0 * normal_sf(q / std::f64::consts::SQRT_2);
            assert!((studentized_range_sf(q, 2) - want).abs() < 1e-10, "q {q}");
        }
        let q = studentized_range_quantile(0.95, 2);
        assert!((studentized_range_cdf(q, 2) - 0.95).abs() < 1e-12);
        assert!(studentized_range_cdf(1.0, 1).is_nan());
    }
}
