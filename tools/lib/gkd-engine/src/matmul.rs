//! The one matrix product the engine needs, over row-major matrices given by a slice, a row
//! stride and a shape. Rows of the left matrix may overlap (row stride < row length): that is
//! how a convolution reads its input in place, every output position's receptive field being
//! `kernel × channels` consecutive floats of a position-major buffer.

/// A read-only row-major matrix: `rows × cols` floats, row `r` starting at `r · row_stride`.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    /// The values (at least `(rows − 1) · row_stride + cols` of them).
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between the starts of consecutive rows.
    pub row_stride: usize,
    /// Whether the matrix is read transposed (then `data` holds `cols × rows` with stride
    /// `row_stride`, and this is its transpose).
    pub transposed: bool,
}

impl<'a> MatRef<'a> {
    /// A dense `rows × cols` matrix.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, row_stride: cols, transposed: false }
    }

    /// `rows × cols` matrix whose rows start `row_stride` apart (overlapping when smaller than
    /// `cols`).
    pub fn strided(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        Self { data, rows, cols, row_stride, transposed: false }
    }

    /// The transpose of a dense `cols × rows` matrix, as a `rows × cols` matrix.
    pub fn transpose_of(data: &'a [f32], rows_of_data: usize, cols_of_data: usize) -> Self {
        Self { data, rows: cols_of_data, cols: rows_of_data, row_stride: cols_of_data, transposed: true }
    }

    /// (row stride, column stride) in elements.
    fn strides(&self) -> (isize, isize) {
        if self.transposed { (1, self.row_stride as isize) } else { (self.row_stride as isize, 1) }
    }

    /// The last element index read, plus one.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        let (rs, cs) = self.strides();
        (self.rows - 1) * rs as usize + (self.cols - 1) * cs as usize + 1
    }
}

/// `out = a · b`, with `out` dense `a.rows × b.cols` (single-threaded: the engine runs one
/// product per task and spreads tasks over threads).
pub fn matmul(out: &mut [f32], a: MatRef<'_>, b: MatRef<'_>) {
    assert_eq!(a.cols, b.rows, "inner dimensions");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(out.len() >= m * n, "output holds {} of {} values", out.len(), m * n);
    assert!(a.extent() <= a.data.len() && b.extent() <= b.data.len(), "a matrix reads past its slice");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        out[..m * n].fill(0.0);
        return;
    }
    let (a_rs, a_cs) = a.strides();
    let (b_rs, b_cs) = b.strides();
    // SAFETY: the asserts above keep every read inside `a.data` and `b.data` and every write
    // inside `out[..m·n]`; the output does not alias the inputs (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
        let at = |m: MatRef<'_>, r: usize, c: usize| {
            let (rs, cs) = m.strides();
            m.data[r * rs as usize + c * cs as usize]
        };
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols).map(|t| at(a, i, t) as f64 * at(b, t, j) as f64).sum::<f64>() as f32;
            }
        }
        out
    }

    #[test]
    fn overlapping_and_transposed_operands_match_the_definition() {
        let data: Vec<f32> = (0..200).map(|i| ((i * 37) % 17) as f32 * 0.25 - 2.0).collect();
        let weights: Vec<f32> = (0..60).map(|i| ((i * 11) % 7) as f32 * 0.5 - 1.5).collect();
        // 20 overlapping rows of 12 (stride 4: a kernel of 3 over 4 channels), times 12 × 5.
        let a = MatRef::strided(&data, 20, 12, 4);
        let b = MatRef::dense(&weights, 12, 5);
        let mut out = vec![0.0; 100];
        matmul(&mut out, a, b);
        assert_eq!(out, naive(a, b));
        // The transpose of a 5 × 12 matrix as 12 × 5.
        let bt = MatRef::transpose_of(&weights, 5, 12);
        matmul(&mut out, a, bt);
        assert_eq!(out, naive(a, bt));
    }
}
