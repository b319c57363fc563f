//! Power of the two-sided paired t-test (noncentral t, as statsmodels' `TTestPower`) and the
//! smallest standardised difference a design can detect: what a reader needs to know before
//! reading "not significant" as "no difference".

use super::{normal_sf, student_t_quantile};
use statrs::function::gamma::ln_gamma;

/// Power of the two-sided paired t-test with `n` pairs at level `alpha` when the true
/// standardised mean difference is `d_z`: `P(|T'| > t_{1-alpha/2, n-1})` with T' noncentral t
/// (noncentrality `d_z sqrt(n)`). `NaN` for n < 2 or alpha outside (0, 1).
pub fn paired_t_power(d_z: f64, n: usize, alpha: f64) -> f64 {
    if n < 2 || !(alpha > 0.0 && alpha < 1.0) || !d_z.is_finite() {
        return f64::NAN;
    }
    let df = (n - 1) as f64;
    let critical = student_t_quantile(1.0 - alpha / 2.0, df);
    let delta = d_z * (n as f64).sqrt();
    // T' = (Z + delta) / S with S = sqrt(V / df), V chi-squared: integrate the normal tails
    // over the density of S.
    let s_max = 1.0 + 12.0 / df.sqrt();
    simpson(0.0, s_max, 4000, |s| {
        chi_scale_density(s, df)
            * (normal_sf(critical * s - delta) + normal_sf(critical * s + delta))
    })
    .clamp(0.0, 1.0)
}

/// The smallest |d_z| (mean paired difference over its std) that the two-sided paired t-test
/// with `n` pairs at `alpha` detects with probability `power`. `None` for n < 2 or arguments
/// out of range. Multiply by the std of the differences for the smallest detectable difference.
pub fn detectable_d_z(n: usize, alpha: f64, power: f64) -> Option<f64> {
    if n < 2 || !(alpha > 0.0 && alpha < 1.0) || !(power > alpha && power < 1.0) {
        return None;
    }
    let mut high = 1.0;
    while paired_t_power(high, n, alpha) < power {
        high *= 2.0;
        if high > 1e6 {
            return None;
        }
    }
    let mut low = 0.0;
    // Power rises with d_z: bisect to the float resolution of d_z.
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            break;
        }
        if paired_t_power(mid, n, alpha) < power {
            low = mid;
        } else {
            high = mid;
        }
    }
    Some(0.5 * (low + high))
}

/// Density of `S = sqrt(V / df)` with V chi-squared with `df` degrees of freedom.
fn chi_scale_density(s: f64, df: f64) -> f64 {
    if s <= 0.0 {
        // finite only for df = 1 (S = |Z|); zero for df > 1
        return if df == 1.0 {
            (2.0 / std::f64::consts::PI).sqrt()
        } else {
            0.0
        };
    }
    let ln = (2.0 * df).ln() + (df / 2.0 - 1.0) * df.ln() + (df - 1.0) * s.ln()
        - df * s * s / 2.0
        - (df / 2.0) * std::f64::consts::LN_2
        - ln_gamma(df / 2.0);
    ln.exp()
}

/// Composite Simpson rule with `intervals` (even) intervals on [a, b].
pub(super) fn simpson(a: f64, b: f64, intervals: usize, f: impl Fn(f64) -> f64) -> f64 {
    let h = (b - a) / intervals as f64;
    let inner: f64 = (1..intervals)
        .map(|i| {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            weight * f(a + i as f64 * h)
        })
        .sum();
    (f(a) + inner + f(b)) * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_is_alpha_at_zero_effect_and_rises() {
        for n in [2, 5, 30] {
            let p0 = paired_t_power(0.0, n, 0.05);
            assert!((p0 - 0.05).abs() < 1e-9, "n {n}: {p0}");
            assert!(paired_t_power(0.5, n, 0.05) < paired_t_power(1.0, n, 0.05));
            assert_eq!(paired_t_power(0.7, n, 0.05), paired_t_power(-0.7, n, 0.05));
        }
        assert!(paired_t_power(1.0, 1, 0.05).is_nan());
        assert_eq!(detectable_d_z(1, 0.05, 0.8), None);
        assert_eq!(detectable_d_z(5, 0.05, 0.01), None);
    }

    #[test]
    fn simpson_is_exact_for_cubics() {
        let got = simpson(0.0, 2.0, 2, |x| x * x * x - x);
        assert!((got - (4.0 - 2.0)).abs() < 1e-14);
    }
}
