//! Seeded, backend-independent initialisation of loss parameters, with PML's distributions.
//! Values are drawn on the host from a PCG stream so that a seed gives the same parameters on
//! every backend and device.

use burn::tensor::{backend::Backend, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// How a parameter tensor is initialised (PML's defaults per loss).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `U(-bound, bound)`.
    Uniform { bound: f64 },
    /// `N(0, std^2)`.
    Normal { std: f64 },
}

impl Init {
    /// torch `kaiming_uniform_(a=sqrt(5))` on a 2-D tensor whose second dimension is `fan_in`:
    /// gain sqrt(2 / (1 + 5)), bound = sqrt(3) * gain / sqrt(fan_in) = 1 / sqrt(fan_in).
    pub fn kaiming_uniform_sqrt5(fan_in: usize) -> Self {
        Init::Uniform {
            bound: 1.0 / (fan_in as f64).sqrt(),
        }
    }

    /// torch `kaiming_normal_(mode="fan_out")` (leaky_relu gain sqrt 2) on a 2-D tensor whose
    /// first dimension is `fan_out`: std = sqrt(2 / fan_out).
    pub fn kaiming_normal_fan_out(fan_out: usize) -> Self {
        Init::Normal {
            std: (2.0 / fan_out as f64).sqrt(),
        }
    }

    /// torch `normal_()`: N(0, 1).
    pub fn standard_normal() -> Self {
        Init::Normal { std: 1.0 }
    }

    /// `count` values drawn from this distribution with the PCG stream of `seed`.
    pub fn sample(&self, count: usize, seed: u64) -> Vec<f32> {
        let mut rng = Pcg64::seed_from_u64(seed);
        match *self {
            Init::Uniform { bound } => (0..count)
                .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32)
                .collect(),
            Init::Normal { std } => (0..count)
                .map(|_| (standard_normal(&mut rng) * std) as f32)
                .collect(),
        }
    }

    /// A `[rows, cols]` tensor drawn with `seed`.
    pub fn tensor<B: Backend>(
        &self,
        rows: usize,
        cols: usize,
        seed: u64,
        device: &B::Device,
    ) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(self.sample(rows * cols, seed), [rows, cols]),
            device,
        )
    }
}

/// Box-Muller transform (one value per call; no cached second value, so that the stream is
/// simple to reason about).
fn standard_normal(rng: &mut Pcg64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: log is finite
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Derives independent seeds for the parameters of several terms from one cell seed.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    // splitmix64 of (seed, stream): nearby inputs give unrelated outputs.
    let mut z = seed
        ^ stream
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn same_seed_same_values_other_seed_other_values() {
        let a = Init::standard_normal().sample(100, 7);
        assert_eq!(a, Init::standard_normal().sample(100, 7));
        assert_ne!(a, Init::standard_normal().sample(100, 8));
    }

    #[test]
    fn distributions_match_torch_initialisers() {
        // kaiming_uniform(a=sqrt5) with fan_in 30: U(-1/sqrt30, 1/sqrt30), std = bound / sqrt3.
        let bound = 1.0 / 30f64.sqrt();
        let u = Init::kaiming_uniform_sqrt5(30).sample(200_000, 1);
        assert!(u.iter().all(|&x| (x as f64).abs() <= bound));
        let (m, s) = mean_std(&u);
        assert!(m.abs() < 0.002, "mean {m}");
        assert!(
            (s - bound / 3f64.sqrt()).abs() / (bound / 3f64.sqrt()) < 0.01,
            "std {s}"
        );
        // kaiming_normal fan_out 6: std sqrt(2/6).
        let n = Init::kaiming_normal_fan_out(6).sample(200_000, 2);
        let (m, s) = mean_std(&n);
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((s - (2.0f64 / 6.0).sqrt()).abs() < 0.01, "std {s}");
        let (_, s) = mean_std(&Init::standard_normal().sample(200_000, 3));
        assert!((s - 1.0).abs() < 0.01, "std {s}");
    }

    #[test]
    fn derived_seeds_differ() {
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }
}
