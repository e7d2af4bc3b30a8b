//! The integer matrix product of int8 inference: `acc[p, f] = Σ_j a[p·stride + j] · w[j, f]`
//! over `j < width`, with 16-bit levels and 32-bit sums, for every output position `p` of a
//! convolution whose receptive fields are overlapping rows of a position-major buffer.
//!
//! The AVX2 kernel is the pairwise multiply-add (`vpmaddwd`): one instruction multiplies 16
//! level pairs and adds each pair into 8 lanes of 32 bits, twice the multiply-adds of a float32
//! FMA of the same width. The weights are packed for it once per layer: blocks of 16 output
//! channels, and within a block, for each pair of inputs (2t, 2t + 1), the 16 channels' two
//! levels side by side. A tile of 6 positions × 16 channels keeps its 12 accumulators in
//! registers. Integer sums do not depend on their order, so the kernel and the portable loop give
//! the same values exactly (tested below).

/// Positions of one register tile.
pub(crate) const TILE_ROWS: usize = 6;
/// Output channels of one register tile (two 8-lane registers).
const TILE_COLS: usize = 16;

/// One layer's weight levels, packed for [`product`].
#[derive(Debug, Clone)]
pub(crate) struct PackedLevels {
    /// `blocks × pairs × 16 × 2` levels (zero past `width` and past `outputs`).
    data: Vec<i16>,
    /// The levels as given: `outputs` rows of `width` (the portable loop's layout).
    rows: Vec<i16>,
    width: usize,
    outputs: usize,
    pairs: usize,
}

impl PackedLevels {
    /// Pack `outputs` rows of `width` levels (row f: output channel f's weights over j).
    pub(crate) fn new(rows: Vec<i16>, width: usize, outputs: usize) -> Self {
        assert_eq!(rows.len(), width * outputs, "levels: outputs × width");
        let pairs = width.div_ceil(2);
        let blocks = outputs.div_ceil(TILE_COLS);
        let mut data = vec![0i16; blocks * pairs * TILE_COLS * 2];
        for f in 0..outputs {
            let (block, lane) = (f / TILE_COLS, f % TILE_COLS);
            for j in 0..width {
                let (pair, half) = (j / 2, j % 2);
                data[((block * pairs + pair) * TILE_COLS + lane) * 2 + half] = rows[f * width + j];
            }
        }
        Self { data, rows, width, outputs, pairs }
    }

    /// The levels of output channel `f` over the inputs.
    pub(crate) fn row(&self, f: usize) -> &[i16] {
        &self.rows[f * self.width..(f + 1) * self.width]
    }

    /// Levels the kernel may read at and past the last row's start: the buffer handed to
    /// [`product`] must hold `(positions rounded up to a tile − 1) · stride + slack()` values.
    pub(crate) fn slack(&self) -> usize {
        2 * self.pairs
    }
}

/// Values `input` must hold for `positions` rows `stride` apart read by [`product`].
pub(crate) fn input_len(positions: usize, stride: usize, w: &PackedLevels) -> usize {
    (positions.div_ceil(TILE_ROWS) * TILE_ROWS - 1) * stride + w.slack()
}

/// `acc[p · outputs + f] = Σ_{j < width} input[p · stride + j] · w[f][j]` for `p < positions`.
/// `input` holds at least [`input_len`] values (what lies past the real rows is read but only
/// multiplied by zero weights or written to discarded rows).
pub(crate) fn product(acc: &mut [i32], input: &[i16], positions: usize, stride: usize, w: &PackedLevels) {
    assert!(acc.len() >= positions * w.outputs, "accumulators for every output");
    assert!(positions == 0 || input.len() >= input_len(positions, stride, w), "input with the kernel's slack");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); the asserts bound every read and write.
        unsafe { product_avx2(acc, input, positions, stride, w) };
        return;
    }
    product_portable(acc, input, positions, stride, w);
}

/// The reference loop: one integer dot product per output.
fn product_portable(acc: &mut [i32], input: &[i16], positions: usize, stride: usize, w: &PackedLevels) {
    for p in 0..positions {
        let window = &input[p * stride..p * stride + w.width];
        for f in 0..w.outputs {
            acc[p * w.outputs + f] = window.iter().zip(w.row(f)).map(|(&x, &q)| x as i32 * q as i32).sum();
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn product_avx2(acc: &mut [i32], input: &[i16], positions: usize, stride: usize, w: &PackedLevels) {
    use std::arch::x86_64::*;
    let blocks = w.outputs.div_ceil(TILE_COLS);
    let mut tile = [[0i32; TILE_COLS]; TILE_ROWS];
    for p0 in (0..positions).step_by(TILE_ROWS) {
        for block in 0..blocks {
            let mut sums = [[_mm256_setzero_si256(); 2]; TILE_ROWS];
            let packed = w.data[block * w.pairs * TILE_COLS * 2..].as_ptr();
            for t in 0..w.pairs {
                // SAFETY: `packed` holds `pairs × 32` levels from this block's start; each row's
                // pair lies inside `input` by `input_len` (checked by `product`).
                unsafe {
                    let lo = _mm256_loadu_si256(packed.add(t * 32) as *const __m256i);
                    let hi = _mm256_loadu_si256(packed.add(t * 32 + 16) as *const __m256i);
                    for (r, sum) in sums.iter_mut().enumerate() {
                        let at = input.as_ptr().add((p0 + r) * stride + 2 * t) as *const i32;
                        let pair = _mm256_set1_epi32(at.read_unaligned());
                        sum[0] = _mm256_add_epi32(sum[0], _mm256_madd_epi16(pair, lo));
                        sum[1] = _mm256_add_epi32(sum[1], _mm256_madd_epi16(pair, hi));
                    }
                }
            }
            for (row, sum) in tile.iter_mut().zip(&sums) {
                // SAFETY: each row of `tile` holds 16 lanes, two registers' worth.
                unsafe {
                    _mm256_storeu_si256(row.as_mut_ptr() as *mut __m256i, sum[0]);
                    _mm256_storeu_si256(row.as_mut_ptr().add(8) as *mut __m256i, sum[1]);
                }
            }
            let channels = (w.outputs - block * TILE_COLS).min(TILE_COLS);
            for (r, row) in tile.iter().enumerate().take(positions - p0) {
                let at = (p0 + r) * w.outputs + block * TILE_COLS;
                acc[at..at + channels].copy_from_slice(&row[..channels]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels in [lo, hi] from a fixed xorshift stream.
    fn levels(state: &mut u64, n: usize, lo: i32, hi: i32) -> Vec<i16> {
        (0..n)
            .map(|_| {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                (lo + (*state % (hi - lo + 1) as u64) as i32) as i16
            })
            .collect()
    }

    /// The kernel equals the plain dot products exactly, for odd widths, channel counts that do
    /// not fill a tile and position counts that do not fill one either, at the levels' extremes.
    #[test]
    fn the_kernel_equals_the_dot_products_exactly() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for &(positions, stride, width, outputs) in
            &[(1, 4, 28, 32), (7, 32, 224, 48), (13, 3, 7, 5), (6, 64, 384, 17), (200, 4, 76, 30)]
        {
            let rows = levels(&mut state, width * outputs, -127, 127);
            let w = PackedLevels::new(rows, width, outputs);
            let mut input = levels(&mut state, input_len(positions, stride, &w), 0, 255);
            input[0] = 255;
            let (mut fast, mut plain) = (vec![0; positions * outputs], vec![0; positions * outputs]);
            product(&mut fast, &input, positions, stride, &w);
            product_portable(&mut plain, &input, positions, stride, &w);
            assert_eq!(fast, plain, "positions {positions}, width {width}, outputs {outputs}");
            // And the first output by hand.
            let by_hand: i32 = (0..width).map(|j| input[j] as i32 * w.row(0)[j] as i32).sum();
            assert_eq!(fast[0], by_hand);
        }
    }
}
