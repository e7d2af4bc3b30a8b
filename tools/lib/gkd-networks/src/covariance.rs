//! From samples to the matrix the elementary estimators start from: the sample covariance
//! (standardised features: the correlation), thresholded until it is safely positive definite,
//! and inverted — the "backward mapping" `[T_v(Σ̂)]⁻¹` of the elementary-estimator papers
//! (docs/science.md §9).

use nalgebra::{Cholesky, DMatrix};

/// Sample covariance of `x` (samples × features) with the 1/n denominator (the maximum
/// likelihood estimate, as scikit-learn's `empirical_covariance`), after centring each feature;
/// with `standardise`, each feature is also divided by its standard deviation first, so the
/// result is the correlation matrix. Columns must not be constant when standardising.
pub fn sample_covariance(x: &DMatrix<f64>, standardise: bool) -> DMatrix<f64> {
    let n = x.nrows() as f64;
    let mut centred = x.clone();
    for mut column in centred.column_iter_mut() {
        let mean = column.sum() / n;
        column.add_scalar_mut(-mean);
        if standardise {
            let sd = (column.norm_squared() / n).sqrt();
            column /= sd;
        }
    }
    // `transpose() *` goes through matrixmultiply's blocked gemm (`tr_mul` does not).
    let mut s = (centred.transpose() * &centred) / n;
    if standardise {
        s.fill_diagonal(1.0);
    }
    s
}

/// `T_v(Σ)`: the off-diagonal entries soft-thresholded by `v` (towards zero by `v`, zero within
/// `v`), the diagonal kept.
pub fn threshold_off_diagonal(s: &DMatrix<f64>, v: f64) -> DMatrix<f64> {
    let mut t = s.map(|e| soft(e, v));
    t.set_diagonal(&s.diagonal());
    t
}

/// Soft thresholding: sign(x)·max(|x| − t, 0).
pub fn soft(x: f64, t: f64) -> f64 {
    if x > t {
        x - t
    } else if x < -t {
        x + t
    } else {
        0.0
    }
}

/// How `v` of the backward mapping is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// The smallest `v` on the grid k/1000 · max|Σ_ij| (i ≠ j, k = 0 … 1000) for which `T_v(Σ)`
    /// has every eigenvalue at least `min_eigenvalue` × its mean diagonal; found by bisection
    /// over k (thresholding more never makes the matrix less diagonal).
    Auto {
        /// The eigenvalue floor, relative to the mean diagonal.
        min_eigenvalue: f64,
    },
    /// A given `v` (refused if `T_v(Σ)` is not positive definite).
    Fixed(f64),
}

/// The backward mapping of one condition.
#[derive(Debug, Clone)]
pub struct BackwardMap {
    /// `[T_v(Σ̂)]⁻¹`, symmetric.
    pub inverse: DMatrix<f64>,
    /// The `v` used.
    pub v: f64,
}

/// `[T_v(Σ)]⁻¹` with `v` chosen by `rule`. Errors when a fixed `v` leaves `T_v(Σ)` not positive
/// definite (or when Σ has a non-positive diagonal).
pub fn backward_map(s: &DMatrix<f64>, rule: ThresholdRule) -> Result<BackwardMap, String> {
    let p = s.nrows();
    if let Some(i) = (0..p).find(|&i| s[(i, i)].is_nan() || s[(i, i)] <= 0.0) {
        return Err(format!("feature {i} has variance {} (a constant feature)", s[(i, i)]));
    }
    let v = match rule {
        ThresholdRule::Fixed(v) => v,
        ThresholdRule::Auto { min_eigenvalue } => {
            let floor = min_eigenvalue * s.diagonal().mean();
            let max_off = (0..p)
                .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
                .map(|(i, j)| s[(i, j)].abs())
                .fold(0.0_f64, f64::max);
            let grid = |k: usize| k as f64 / 1000.0 * max_off;
            let passes = |k: usize| is_positive_definite(&threshold_off_diagonal(s, grid(k)), floor);
            if passes(0) {
                0.0
            } else {
                // Invariant: grid(lo) fails, grid(hi) passes (k = 1000 is the diagonal).
                let (mut lo, mut hi) = (0, 1000);
                if !passes(hi) {
                    return Err(format!(
                        "even the diagonal of the covariance has an eigenvalue below {floor} (the floor relative to its mean diagonal)"
                    ));
                }
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if passes(mid) { hi = mid } else { lo = mid }
                }
                grid(hi)
            }
        }
    };
    let t = threshold_off_diagonal(s, v);
    let chol = Cholesky::new(t).ok_or_else(|| format!("T_v(covariance) with v = {v} is not positive definite"))?;
    let mut inverse = chol.inverse();
    symmetrise(&mut inverse);
    Ok(BackwardMap { inverse, v })
}

/// Whether `m − floor·I` is positive definite (a Cholesky factorisation exists).
pub fn is_positive_definite(m: &DMatrix<f64>, floor: f64) -> bool {
    let mut shifted = m.clone();
    for i in 0..m.nrows() {
        shifted[(i, i)] -= floor;
    }
    Cholesky::new(shifted).is_some()
}

/// Replace `m` by (m + mᵀ)/2, removing rounding asymmetry.
pub fn symmetrise(m: &mut DMatrix<f64>) {
    let p = m.nrows();
    for i in 0..p {
        for j in (i + 1)..p {
            let mean = 0.5 * (m[(i, j)] + m[(j, i)]);
            m[(i, j)] = mean;
            m[(j, i)] = mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_of_two_features_by_hand() {
        // x = (1, 2, 3, 4), y = (2, 4, 6, 9): r = cov / (sd sd).
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0, 4.0, 9.0]);
        let (mx, my) = (2.5, 5.25);
        let xs = [1.0, 2.0, 3.0, 4.0];
        let ys = [2.0, 4.0, 6.0, 9.0];
        let cov: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / 4.0;
        let vx: f64 = xs.iter().map(|a| (a - mx) * (a - mx)).sum::<f64>() / 4.0;
        let vy: f64 = ys.iter().map(|b| (b - my) * (b - my)).sum::<f64>() / 4.0;
        let s = sample_covariance(&x, false);
        assert!((s[(0, 1)] - cov).abs() < 1e-12 && (s[(0, 0)] - vx).abs() < 1e-12);
        let r = sample_covariance(&x, true);
        assert!((r[(0, 1)] - cov / (vx * vy).sqrt()).abs() < 1e-12);
        assert_eq!(r[(1, 1)], 1.0);
    }

    #[test]
    fn threshold_keeps_the_diagonal_and_shrinks_the_rest() {
        let s = DMatrix::from_row_slice(2, 2, &[2.0, -0.5, -0.5, 3.0]);
        let t = threshold_off_diagonal(&s, 0.2);
        assert_eq!((t[(0, 0)], t[(1, 1)], t[(0, 1)]), (2.0, 3.0, -0.3));
        assert_eq!(threshold_off_diagonal(&s, 0.6)[(1, 0)], 0.0);
    }

    #[test]
    fn auto_threshold_is_zero_for_a_well_conditioned_matrix_and_inverts_it() {
        let s = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 1.0]);
        let b = backward_map(&s, ThresholdRule::Auto { min_eigenvalue: 0.01 }).unwrap();
        assert_eq!(b.v, 0.0);
        let id = &s * &b.inverse;
        assert!((id - DMatrix::identity(2, 2)).abs().max() < 1e-12);
    }

    #[test]
    fn auto_threshold_finds_the_smallest_passing_grid_point() {
        // Rank-one correlation (all ones): eigenvalues 0 and p; T_v has off-diagonal 1 − v and
        // eigenvalues v (twice) and 1 + 2(1 − v), so the floor 0.0955 needs v > 0.0955: the grid
        // point k = 96.
        let s = DMatrix::from_element(3, 3, 1.0);
        let b = backward_map(&s, ThresholdRule::Auto { min_eigenvalue: 0.0955 }).unwrap();
        assert!((b.v - 0.096).abs() < 1e-12, "{}", b.v);
        assert!(backward_map(&s, ThresholdRule::Fixed(0.0)).is_err());
    }
}
