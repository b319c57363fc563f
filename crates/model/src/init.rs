//! Seeded, backend-independent initialisation of new parameters (transformers' `_init_weights`:
//! weights ~ normal(0, initializer_range), biases zero, LayerNorm (1, 0)). Values are drawn on
//! the host from a PCG stream, so the same seed gives the same weights on every backend.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

pub struct NormalInit {
    rng: Pcg64,
    std: f64,
}

impl NormalInit {
    pub fn new(seed: u64, std: f64) -> Self {
        Self {
            rng: Pcg64::seed_from_u64(seed),
            std,
        }
    }

    /// `len` draws from normal(0, std) by the Box-Muller transform.
    pub fn sample(&mut self, len: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(len + 1);
        while out.len() < len {
            // u1 in (0, 1] so that ln(u1) is finite.
            let u1: f64 = 1.0 - self.rng.random::<f64>();
            let u2: f64 = self.rng.random::<f64>();
            let radius = (-2.0 * u1.ln()).sqrt() * self.std;
            let angle = std::f64::consts::TAU * u2;
            out.push((radius * angle.cos()) as f32);
            out.push((radius * angle.sin()) as f32);
        }
        out.truncate(len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values_and_right_moments() {
        let a = NormalInit::new(7, 0.02).sample(20_001);
        assert_eq!(a, NormalInit::new(7, 0.02).sample(20_001));
        assert_ne!(a, NormalInit::new(8, 0.02).sample(20_001));
        let n = a.len() as f64;
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / n;
        let std = (a.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 1e-3, "mean {mean}");
        assert!((std - 0.02).abs() < 1e-3, "std {std}");
    }
}
