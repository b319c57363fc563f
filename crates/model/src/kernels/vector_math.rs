//! Branch-free scalar maths that the compiler vectorises, the run-time choice of SIMD width,
//! and the host-buffer plumbing the kernels share.
//!
//! `exp` and the normal CDF are written with selects and integer bit tricks only (no calls, no
//! data-dependent branches) so that a loop over a slice becomes vector code. [`simd_fn!`] compiles
//! a kernel for AVX-512 and AVX2+FMA besides the baseline and picks one at run time, so the same
//! binary runs everywhere.

use std::borrow::Cow;

use burn::tensor::{Shape, TensorData};

use super::route::FlexTensor;

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a part exact in f32 and the rest (Cody-Waite reduction).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 * 2^23: adding and subtracting it rounds an f32 below 2^22 to an integer, and the sum's
/// low mantissa bits hold that integer.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `e^x` for `x <= 0`, within 2 ulp of the correctly rounded value, and exactly 0 below -87
/// (where e^x nears the subnormal range). The flush matters: attention gives masked keys scores
/// near -1e4, and tiny non-zero probabilities there would turn into subnormal gradients, which
/// slow every later matrix product down by two orders of magnitude.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    let underflow = x < -87.0;
    let x = x.max(-87.0);
    let shifted = x * LOG2_E + ROUND_MAGIC;
    let k = shifted - ROUND_MAGIC;
    // The integer k sits in the low bits of `shifted` (offset 0x4B40_0000). Wrapping ops: the
    // dev profile's overflow checks would add a panic branch, which stops the loop from
    // vectorising (k is within [-126, 0], nothing wraps).
    let k_bits = (shifted.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let r = x - k * LN2_HI - k * LN2_LO;
    // e^r on |r| <= ln2/2 by its Taylor series to r^7 (truncation error < 3e-9 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let value = p * f32::from_bits((k_bits.wrapping_add(127) << 23) as u32);
    if underflow {
        0.0
    } else {
        value
    }
}

/// The standard normal CDF `Phi(x)` and density `phi(x)`, with absolute errors below 2.5e-7 and
/// 1e-7 (Abramowitz & Stegun 7.1.26 for erfc(|x|/sqrt 2), in f32). GELU is `x * Phi(x)`; its derivative
/// is `Phi(x) + x * phi(x)`, so one call serves both directions.
#[inline(always)]
pub fn normal_cdf_and_pdf(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A1: f32 = 0.254_829_6;
    const A2: f32 = -0.284_496_74;
    const A3: f32 = 1.421_413_8;
    const A4: f32 = -1.453_152;
    const A5: f32 = 1.061_405_4;
    const INV_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    let z = x.abs() * INV_SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let gauss = exp_nonpositive(-0.5 * x * x);
    let poly = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5))));
    // erfc(z) = poly * e^{-z^2}; Phi(x) = erfc(-x / sqrt 2) / 2.
    let half_erfc = 0.5 * poly * gauss;
    let cdf = if x >= 0.0 { 1.0 - half_erfc } else { half_erfc };
    (cdf, INV_SQRT_2PI * gauss)
}

/// Independent partial results per reduction. Strict IEEE order makes `iter().sum()` a serial chain
/// that the compiler may not vectorise; sixteen accumulators (one AVX-512 register) can be.
const LANES: usize = 16;

/// `sum(xs)`, in lane order (not left to right).
#[inline(always)]
pub(crate) fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a += x;
        }
    }
    let mut total = chunks.remainder().iter().fold(0.0f32, |t, &x| t + x);
    for a in acc {
        total += a;
    }
    total
}

/// `sum(a * b)`, in lane order.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = a.chunks_exact(LANES).zip(b.chunks_exact(LANES));
    for (ca, cb) in &mut chunks {
        for ((acc, &x), &y) in acc.iter_mut().zip(ca).zip(cb) {
            *acc += x * y;
        }
    }
    let tail = a.len() - a.len() % LANES;
    let mut total = a[tail..]
        .iter()
        .zip(&b[tail..])
        .fold(0.0f32, |t, (&x, &y)| t + x * y);
    for v in acc {
        total += v;
    }
    total
}

/// `max(xs)` (`-inf` for an empty slice).
#[inline(always)]
pub(crate) fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = if x > *a { x } else { *a };
        }
    }
    let mut best = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    for a in acc {
        best = best.max(a);
    }
    best
}

/// The instruction set the kernels run with on this CPU: the widest [`simd_fn!`] is compiled for
/// that the CPU has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// AVX-512 F + VL + DQ (with AVX2 and FMA).
    Avx512,
    /// AVX2 + FMA.
    Avx2Fma,
    /// What the target compiles for by default (SSE2 on x86-64; other architectures).
    Baseline,
}

impl SimdLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            SimdLevel::Avx512 => "avx512",
            SimdLevel::Avx2Fma => "avx2+fma",
            SimdLevel::Baseline => "baseline",
        }
    }
}

/// The level every kernel takes on this CPU (feature detection is cached by std).
pub fn simd_level() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return SimdLevel::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return SimdLevel::Avx2Fma;
        }
    }
    SimdLevel::Baseline
}

/// Defines `fn name(args) -> ret { body }` compiled three times (AVX-512, AVX2 + FMA, baseline)
/// with the widest the CPU offers chosen at run time. The body and everything it calls must be
/// `#[inline(always)]` (or generic and small) to be compiled into the wide versions; a closure
/// would not do, as LLVM may leave it out of line and so without the wide instructions.
macro_rules! simd_fn {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
            #[allow(unsafe_code)] // expanded outside `kernels` too (dropout.rs)
            unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(unsafe_code)]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            match $crate::kernels::vector_math::simd_level() {
                // SAFETY: simd_level found every feature `avx512` is compiled for.
                $crate::kernels::SimdLevel::Avx512 => return unsafe { avx512($($arg),*) },
                // SAFETY: as above, for `avx2`.
                $crate::kernels::SimdLevel::Avx2Fma => return unsafe { avx2($($arg),*) },
                $crate::kernels::SimdLevel::Baseline => {}
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_fn;

simd_fn! {
    /// `values *= factors`, elementwise.
    pub(crate) fn mul_in_place(values: &mut [f32], factors: &[f32]) {
        for (v, &f) in values.iter_mut().zip(factors) {
            *v *= f;
        }
    }
}

/// Rows handed to one rayon task: enough work (about 32K values) to pay for the task.
pub(crate) fn rows_per_task(row_len: usize) -> usize {
    (32 * 1024 / row_len.max(1)).max(1)
}

/// The f32 values of a Flex tensor in row-major order, borrowed when it is contiguous.
pub(crate) fn values(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(
            tensor
                .to_contiguous()
                .into_data()
                .into_vec::<f32>()
                .expect("kernels: an f32 tensor"),
        ),
    }
}

/// The values of a contiguous, unshared Flex f32 tensor that covers its whole buffer, for
/// writing in place; `None` otherwise.
pub(crate) fn owned_values(tensor: &mut FlexTensor) -> Option<&mut [f32]> {
    let layout = tensor.layout();
    let whole = layout.is_contiguous()
        && layout.start_offset() == 0
        && tensor.bytes().len() == layout.num_elements() * std::mem::size_of::<f32>();
    if whole {
        tensor.try_storage_mut::<f32>()
    } else {
        None
    }
}

/// A contiguous Flex tensor owning `values`.
pub(crate) fn flex(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_its_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let exact = (x as f64).exp();
            let rel = ((exp_nonpositive(x) as f64 - exact) / exact).abs();
            worst = worst.max(rel);
            x += 0.000_37;
        }
        assert!(worst < 3.0e-7, "worst relative error {worst:e}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        // No subnormal results: exactly 0 from -87 down (masked attention scores are ~-1e4).
        for x in [-87.01f32, -88.0, -103.0, -1.0e4, f32::MIN] {
            assert_eq!(exp_nonpositive(x), 0.0, "e^{x}");
        }
        assert!(exp_nonpositive(-86.99).is_normal());
    }

    #[test]
    fn normal_cdf_and_pdf_match_f64() {
        fn erf(x: f64) -> f64 {
            // erf by its Taylor series (converges fast for |x| <= 6 in f64 with enough terms).
            let mut term = x;
            let mut sum = x;
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            2.0 / std::f64::consts::PI.sqrt() * sum
        }
        let (mut worst_cdf, mut worst_pdf) = (0.0f64, 0.0f64);
        let mut x = -6.0f32;
        while x <= 6.0 {
            let (cdf, pdf) = normal_cdf_and_pdf(x);
            let xd = x as f64;
            let exact_cdf = 0.5 * (1.0 + erf(xd / std::f64::consts::SQRT_2));
            let exact_pdf = (-0.5 * xd * xd).exp() / (2.0 * std::f64::consts::PI).sqrt();
            worst_cdf = worst_cdf.max((cdf as f64 - exact_cdf).abs());
            worst_pdf = worst_pdf.max((pdf as f64 - exact_pdf).abs());
            x += 0.001_23;
        }
        println!("worst |cdf error| {worst_cdf:e}, |pdf error| {worst_pdf:e}");
        assert!(worst_cdf < 2.5e-7, "cdf error {worst_cdf:e}");
        assert!(worst_pdf < 1e-7, "pdf error {worst_pdf:e}");
    }
}
