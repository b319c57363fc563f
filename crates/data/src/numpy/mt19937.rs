//! The 32-bit Mersenne Twister MT19937 (Matsumoto and Nishimura 1998) with the reference
//! `init_genrand` seeding, which is what NumPy's legacy `RandomState(seed)` uses for an integer
//! seed (`mt19937_seed` in numpy/random/src/mt19937).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// An MT19937 generator.
#[derive(Clone)]
pub struct Mt19937 {
    key: [u32; N],
    pos: usize,
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mt19937").field("pos", &self.pos).finish()
    }
}

impl Mt19937 {
    /// `init_genrand(seed)`: `key[0] = seed`, `key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >> 30)) + i`.
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; N];
        key[0] = seed;
        for i in 1..N {
            let prev = key[i - 1];
            key[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { key, pos: N }
    }

    /// The 624 state words (NumPy's `get_state()[1]`).
    pub fn key(&self) -> &[u32; N] {
        &self.key
    }

    /// The next tempered 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Two draws as one 64-bit value, the first in the high half (NumPy's `mt19937_next64`).
    pub fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// Regenerates the 624 words (the reference `genrand_int32` refill).
    fn generate(&mut self) {
        let mag = |y: u32| if y & 1 == 0 { 0 } else { MATRIX_A };
        for i in 0..N {
            let y = (self.key[i] & UPPER_MASK) | (self.key[(i + 1) % N] & LOWER_MASK);
            self.key[i] = self.key[(i + M) % N] ^ (y >> 1) ^ mag(y);
        }
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs_of_the_default_seed() {
        // mt19937ar.c's reference: init_genrand(5489) -> 3499211612, 581869302, 3890346734, ...
        let mut mt = Mt19937::new(5489);
        let first: Vec<u32> = (0..3).map(|_| mt.next_u32()).collect();
        assert_eq!(first, [3_499_211_612, 581_869_302, 3_890_346_734]);
        // The 10000th output of the default seed (C++ std::mt19937's specified check value).
        let mut mt = Mt19937::new(5489);
        let nth = (0..10_000).map(|_| mt.next_u32()).last().unwrap();
        assert_eq!(nth, 4_123_659_995);
    }

    #[test]
    fn next_u64_puts_the_first_draw_high() {
        let mut a = Mt19937::new(42);
        let mut b = Mt19937::new(42);
        let x = a.next_u64();
        let (hi, lo) = (b.next_u32(), b.next_u32());
        assert_eq!(x, (u64::from(hi) << 32) | u64::from(lo));
    }
}
