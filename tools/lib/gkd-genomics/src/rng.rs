//! A seeded random stream with the few draws the tools need, on ChaCha8 so that the same seed
//! gives the same numbers on every platform and every version of this crate.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// The bytes of a word slice (u32 has no padding and any byte pattern is a valid u32).
fn bytemuck_words(words: &mut [u32]) -> &mut [u8] {
    // SAFETY: the byte slice covers exactly the words' memory, u8 has alignment 1, and every
    // byte pattern written through it is a valid u32.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(words)) }
}

/// A reproducible random stream: `(seed, stream)` pairs are independent, so rows can be drawn
/// in parallel and still give output that does not depend on the thread count.
#[derive(Debug, Clone)]
pub struct SeededRng(ChaCha8Rng);

impl SeededRng {
    /// The stream `stream` of generator `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        SeededRng(r)
    }

    /// How far the stream has been read (in 32-bit words), to save with a checkpoint.
    pub fn position(&self) -> u128 {
        self.0.get_word_pos()
    }

    /// Continue the stream from a saved [`position`](Self::position).
    pub fn set_position(&mut self, words: u128) {
        self.0.set_word_pos(words);
    }

    /// 32 uniformly random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// The next `out.len()` 32-bit words, as that many [`next_u32`](Self::next_u32) calls would
    /// give them (one bulk read of the stream).
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        let bytes: &mut [u8] = bytemuck_words(out);
        self.0.fill_bytes(bytes);
        for w in out.iter_mut() {
            *w = u32::from_le(*w);
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n), without modulo bias. `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.0.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Index drawn with the given (not necessarily normalised) weights.
    pub fn categorical(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        // Rounding can leave u just above the last weight: take the last non-zero one.
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    /// A Poisson count of mean `lambda` (≥ 0): by multiplying uniforms (Knuth) below 30, by a
    /// rounded normal of the same mean and variance above (a read-count resampler, not a
    /// statistical library: the tail shape above 30 is approximate).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let (mut k, mut product) = (0u64, self.uniform());
            while product > limit {
                k += 1;
                product *= self.uniform();
            }
            return k;
        }
        // Box–Muller.
        let (u, v) = (1.0 - self.uniform(), self.uniform());
        let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        (lambda + lambda.sqrt() * z).round().max(0.0) as u64
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_words_are_the_stream_of_single_words() {
        let mut one = SeededRng::new(5, 3);
        one.set_position(7);
        let mut bulk = one.clone();
        let expected: Vec<u32> = (0..1000).map(|_| one.next_u32()).collect();
        let mut words = vec![0u32; 1000];
        bulk.fill_u32(&mut words);
        assert_eq!(words, expected);
        assert_eq!(bulk.position(), one.position());
    }

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<f64> = (0..5)
            .map({
                let mut r = SeededRng::new(7, 3);
                move |_| r.uniform()
            })
            .collect();
        let mut r = SeededRng::new(7, 3);
        let b: Vec<f64> = (0..5).map(|_| r.uniform()).collect();
        assert_eq!(a, b);
        let mut other = SeededRng::new(7, 4);
        assert_ne!(a[0], other.uniform());
    }

    #[test]
    fn categorical_frequencies() {
        let mut r = SeededRng::new(1, 0);
        let w = [0.5, 0.25, 0.25];
        let mut c = [0usize; 3];
        let n = 100_000;
        for _ in 0..n {
            c[r.categorical(&w)] += 1;
        }
        for k in 0..3 {
            let p = w[k];
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!((c[k] as f64 / n as f64 - p).abs() < 5.0 * sd, "{c:?}");
        }
    }
}
