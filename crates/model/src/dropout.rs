//! Dropout with a counter-based random stream: the mask of each dropout call is a hash of
//! `(seed, call index, element index)`, generated on the host in one pass and applied with one
//! multiplication by `0` or `1 / (1 - p)`.
//!
//! Why not `burn::nn::Dropout::forward`: it draws every element through the backend's ChaCha
//! RNG under a global lock and then multiplies twice; in a MiniLM training step that was about
//! a sixth of the time. The model keeps `burn::nn::Dropout` as the field type (it only holds
//! `prob`), so the module tree and checkpoints are unchanged; the layers call [`dropout`].
//!
//! Determinism: the stream is per thread. [`set_dropout_seed`] sets the seed and restarts the
//! call counter, so the same seed followed by the same sequence of forward passes gives the same
//! masks, whatever other threads do. Without a call the seed is 0.

use std::cell::Cell;

use burn::nn::Dropout;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::kernels::vector_math::simd_fn;

thread_local! {
    /// (seed, index of the next dropout call) of this thread.
    static STREAM: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Seeds this thread's dropout masks and restarts its call counter. The trainer calls it once
/// per run (or per step with a step-derived seed) before the forward passes it wants reproducible.
pub fn set_dropout_seed(seed: u64) {
    STREAM.with(|s| s.set((seed, 0)));
}

/// This thread's dropout stream position, `(seed, next call)`: with
/// [`restore_dropout_stream`], a second forward pass of the same batch draws the first one's
/// masks (the trainer's per-term gradient diagnostics), leaving training's stream untouched.
pub fn dropout_stream() -> (u64, u64) {
    STREAM.with(Cell::get)
}

/// Puts this thread's dropout stream back at `position` (from [`dropout_stream`]).
pub fn restore_dropout_stream(position: (u64, u64)) {
    STREAM.with(|s| s.set(position));
}

/// Takes the key of the next dropout call of this thread.
fn next_call_key() -> u64 {
    STREAM.with(|s| {
        let (seed, call) = s.get();
        s.set((seed, call + 1));
        splitmix64(seed ^ splitmix64(call.wrapping_add(0x6a09_e667_f3bc_c909)))
    })
}

/// SplitMix64's output function: a bijective, well-mixed hash of a 64-bit counter.
#[inline(always)]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The mask of one dropout call, evaluated at any element index: element `e` is 0 with
/// probability `prob` (to 2^-32) and `1 / (1 - prob)` otherwise. Pair `e / 2` shares one 64-bit
/// hash, its low half for the even element and its high half for the odd one. The fused kernels
/// (`crate::kernels`) evaluate rows of it in parallel and again in the backward pass instead of
/// storing it; the tests' `dropout_mask` gives the same values for a whole tensor.
#[derive(Clone, Copy, Debug)]
pub struct MaskStream {
    key: u64,
    threshold: u32,
    scale: f32,
}

impl MaskStream {
    pub fn new(key: u64, prob: f64) -> Self {
        Self {
            key,
            // An element is dropped when its 32-bit draw is below the threshold.
            threshold: (prob * 4_294_967_296.0).round().min(u32::MAX as f64) as u32,
            scale: (1.0 / (1.0 - prob)) as f32,
        }
    }

    /// The stream of this thread's next dropout call (advances the call counter), or `None`
    /// when dropout is off (`prob` 0).
    pub fn next(prob: f64) -> Option<Self> {
        (prob > 0.0).then(|| Self::new(next_call_key(), prob))
    }

    /// Writes the mask of elements `start .. start + out.len()` into `out`.
    pub fn fill(&self, start: usize, out: &mut [f32]) {
        fill_elements(out, start as u64, self.key, self.threshold, self.scale);
    }
}

simd_fn! {
    /// One element per iteration (each pair's hash is computed twice), which vectorises; a
    /// pair-at-a-time loop does not.
    fn fill_elements(out: &mut [f32], start: u64, key: u64, threshold: u32, scale: f32) {
        for (j, o) in out.iter_mut().enumerate() {
            let e = start.wrapping_add(j as u64);
            let hash = splitmix64(key ^ (e >> 1).wrapping_mul(0xd1b5_4a32_d192_ed03));
            let draw = (hash >> ((e & 1) * 32)) as u32;
            *o = if draw < threshold { 0.0 } else { scale };
        }
    }
}

/// The multiplicative mask of `len` elements for drop probability `prob` (see [`MaskStream`]):
/// the reference the tests compare the streamed masks with.
#[cfg(test)]
fn dropout_mask(key: u64, len: usize, prob: f64) -> Vec<f32> {
    let mut mask = vec![0.0f32; len];
    MaskStream::new(key, prob).fill(0, &mut mask);
    mask
}

/// `dropout.forward(input)` with this module's counter-based masks: identity when the backend
/// has no autodiff (evaluation, `.valid()`) or `prob` is 0, else `input * mask`.
pub fn dropout<B: Backend, const D: usize>(dropout: &Dropout, input: Tensor<B, D>) -> Tensor<B, D> {
    let device = input.device();
    if !B::ad_enabled(&device) || dropout.prob == 0.0 {
        return input;
    }
    if dropout.prob >= 1.0 {
        return input.zeros_like();
    }
    let Some(stream) = MaskStream::next(dropout.prob) else {
        return input;
    };
    let shape = input.shape();
    let mut mask = vec![0.0f32; shape.num_elements()];
    stream.fill(0, &mut mask);
    input * Tensor::<B, D>::from_data(TensorData::new(mask, shape), &device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_rate_and_scale_match_the_probability() {
        for &p in &[0.1, 0.25, 0.5] {
            let n = 1_000_001; // odd: exercises the unpaired last element too
            let mask = dropout_mask(12345, n, p);
            let scale = (1.0 / (1.0 - p)) as f32;
            assert!(mask.iter().all(|&m| m == 0.0 || m == scale));
            let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64;
            // Binomial standard deviation; 5 sigma keeps the test from flaking.
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (dropped - n as f64 * p).abs() < 5.0 * sd,
                "p {p}: dropped {dropped} of {n}"
            );
            // Neighbouring elements (the two halves of one hash) are not correlated.
            let both = mask
                .chunks_exact(2)
                .filter(|c| c[0] == 0.0 && c[1] == 0.0)
                .count() as f64;
            let pairs = (n / 2) as f64;
            let sd_pair = (pairs * p * p * (1.0 - p * p)).sqrt();
            assert!(
                (both - pairs * p * p).abs() < 5.0 * sd_pair,
                "p {p}: {both} pairs"
            );
        }
    }

    #[test]
    fn masks_depend_on_seed_and_call_and_repeat_for_a_seed() {
        set_dropout_seed(7);
        let a = (next_call_key(), next_call_key());
        set_dropout_seed(7);
        let b = (next_call_key(), next_call_key());
        set_dropout_seed(8);
        let c = next_call_key();
        assert_eq!(a, b);
        assert_ne!(a.0, a.1);
        assert_ne!(a.0, c);
        assert_ne!(dropout_mask(a.0, 64, 0.5), dropout_mask(a.1, 64, 0.5));
        assert_eq!(dropout_mask(a.0, 64, 0.5), dropout_mask(b.0, 64, 0.5));
    }

    #[test]
    fn any_range_of_a_stream_matches_the_whole_mask() {
        let whole = dropout_mask(99, 101, 0.3);
        let stream = MaskStream::new(99, 0.3);
        for (start, len) in [
            (0, 101),
            (1, 100),
            (7, 10),
            (8, 1),
            (9, 1),
            (50, 51),
            (100, 1),
        ] {
            let mut part = vec![-1.0; len];
            stream.fill(start, &mut part);
            assert_eq!(part, whole[start..start + len], "start {start} len {len}");
        }
    }

    #[test]
    fn extreme_probabilities() {
        assert!(dropout_mask(1, 1000, 0.0).iter().all(|&m| m == 1.0));
        let almost_all = dropout_mask(1, 1000, 0.999_999);
        assert!(almost_all.iter().filter(|&&m| m != 0.0).count() < 5);
    }

    /// Timing, not a check: `cargo test -p dmlft-model --lib dropout_timing -- --ignored
    /// --nocapture`. One attention-probability dropout of a MiniLM step (16x12x64x64, p 0.1) on
    /// Autodiff<Flex>, burn's Dropout against this module's.
    #[test]
    #[ignore]
    fn dropout_timing() {
        use burn::backend::{Autodiff, Flex};
        type B = Autodiff<Flex>;
        let x = Tensor::<B, 4>::ones([16, 12, 64, 64], &Default::default());
        let layer = burn::nn::DropoutConfig::new(0.1).init();
        let time = |f: &dyn Fn() -> Tensor<B, 4>| {
            let start = std::time::Instant::now();
            for _ in 0..10 {
                let _ = f().into_data();
            }
            start.elapsed().as_secs_f64() * 100.0
        };
        let burn_ms = time(&|| layer.forward(x.clone()));
        let ours_ms = time(&|| dropout(&layer, x.clone()));
        println!(
            "dropout 16x12x64x64: burn {burn_ms:.1} ms, counter-based {ours_ms:.1} ms per call"
        );
    }
}
