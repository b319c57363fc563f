//! NumPy's legacy `numpy.random.RandomState` (the generator behind `np.random.seed`,
//! `np.random.choice`, `sklearn.utils.check_random_state`), for the few methods that decide the
//! papers' samples. Its streams are frozen by NumPy's compatibility policy (NEP 19), so these
//! algorithms give the same values as every NumPy version since 1.17 (and, for these methods,
//! the older ones):
//!
//! - seeding: `RandomState(seed)` with `0 <= seed < 2^32` is MT19937's `init_genrand(seed)`;
//! - `random_interval(max)` (`shuffle`'s index draws): 32-bit draws (64-bit when `max >= 2^32`)
//!   masked to the bit length of `max`, redrawn while greater than `max`;
//! - `randint(0, high)` (`int64`): the same masked rejection on `high - 1`, 32-bit draws while the
//!   range fits in 32 bits;
//! - `shuffle(x)`: for `i` from `n - 1` down to 1, swap `x[i]` and `x[random_interval(i)]`;
//! - `permutation(n)`: `shuffle(arange(n))`;
//! - `choice(a, k, replace=False)` without `p`: `a[permutation(len(a))[:k]]`.

use super::mt19937::Mt19937;

/// NumPy's legacy `RandomState`, seeded with an integer.
#[derive(Debug, Clone)]
pub struct RandomState {
    mt: Mt19937,
}

/// The smallest `2^k - 1` that is `>= max` (NumPy's `gen_mask`).
fn mask_for(max: u64) -> u64 {
    let mut mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    mask
}

impl RandomState {
    /// `RandomState(seed)`. NumPy accepts integer seeds in `0..2^32`, as this type does.
    pub fn new(seed: u32) -> Self {
        RandomState {
            mt: Mt19937::new(seed),
        }
    }

    /// `RandomState(seed)` for a seed that must lie in `0..2^32`; `None` when it does not (NumPy
    /// raises "Seed must be between 0 and 2**32 - 1").
    pub fn from_seed(seed: u64) -> Option<Self> {
        u32::try_from(seed).ok().map(Self::new)
    }

    /// The generator's state words (`get_state()[1]`).
    pub fn key(&self) -> &[u32; 624] {
        self.mt.key()
    }

    /// One raw 32-bit output (`randint(0, 2**32, dtype=uint64)` draws exactly these).
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// A uniform integer in `0..=max` by masked rejection (NumPy's `random_interval`).
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = mask_for(max);
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.mt.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        }
        loop {
            let value = self.mt.next_u64() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `randint(0, high)` with NumPy's default `int64` dtype: a uniform integer in `0..high`.
    /// `high` must be positive; `randint(0, 1)` draws nothing and returns 0, as NumPy's.
    pub fn randint(&mut self, high: u64) -> u64 {
        assert!(high > 0, "randint(0, 0) has no value (NumPy raises)");
        // NumPy special-cases ranges of exactly 32 or 64 bits with a raw draw, which is what the
        // masked rejection gives there too (the mask is all ones).
        self.random_interval(high - 1)
    }

    /// `shuffle(x)` for a one-dimensional array, in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            items.swap(i, j);
        }
    }

    /// `permutation(n)`: `0..n` shuffled.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut items: Vec<usize> = (0..n).collect();
        self.shuffle(&mut items);
        items
    }

    /// `choice(population, k, replace=False)` (uniform, no `p`): `k` distinct items in draw order.
    /// `k` must not exceed `population.len()` (NumPy raises).
    pub fn choice_without_replacement<T: Clone>(&mut self, population: &[T], k: usize) -> Vec<T> {
        assert!(
            k <= population.len(),
            "cannot take {k} of {} without replacement",
            population.len()
        );
        self.permutation(population.len())[..k]
            .iter()
            .map(|&i| population[i].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_is_the_smallest_all_ones_at_least_max() {
        assert_eq!(mask_for(1), 1);
        assert_eq!(mask_for(2), 3);
        assert_eq!(mask_for(7), 7);
        assert_eq!(mask_for(8), 15);
        assert_eq!(mask_for(1 << 40), (1 << 41) - 1);
    }

    #[test]
    fn seeds_outside_32_bits_are_refused() {
        assert!(RandomState::from_seed(u64::from(u32::MAX)).is_some());
        assert!(RandomState::from_seed(1 << 32).is_none());
    }

    #[test]
    fn shuffle_is_a_permutation_and_choice_takes_its_prefix() {
        let perm = RandomState::new(3).permutation(100);
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let population: Vec<usize> = (0..100).map(|i| i * 10).collect();
        let picked = RandomState::new(3).choice_without_replacement(&population, 5);
        let expected: Vec<usize> = perm[..5].iter().map(|i| i * 10).collect();
        assert_eq!(picked, expected);
    }
}
