//! A C-support vector classifier on a precomputed kernel, solved by SMO with libsvm's
//! second-order working-set selection (Fan, Chen & Lin 2005) and its update and bias rules, so
//! that the solution is libsvm's (and scikit-learn's `SVC(kernel="precomputed")`) to the solver's
//! tolerance. Hand-written because the Rust SVM crates (linfa-svm, smartcore) take feature
//! vectors and their own kernels, not a precomputed string-kernel matrix. No shrinking and no
//! kernel cache: the whole kernel is in memory.

/// libsvm's floor of a non-positive curvature.
const TAU: f64 = 1e-12;

/// A trained classifier: decision(x) = Σ_i coef_i K(x_i, x) − rho over the support vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct SvmSolution {
    /// Indices (into the training rows) of the support vectors (α > 0), ascending.
    pub support: Vec<usize>,
    /// α_i y_i of each support vector.
    pub coef: Vec<f64>,
    /// The bias term (decision = Σ coef K − rho).
    pub rho: f64,
    /// SMO iterations taken.
    pub iterations: usize,
}

/// Train on the N × N kernel `kernel` (row-major) with labels `y` (+1 / −1), cost `c` and stopping
/// tolerance `eps` (libsvm's −e, 0.001 by default).
pub fn train(kernel: &[f64], y: &[f64], c: f64, eps: f64) -> Result<SvmSolution, String> {
    let n = y.len();
    assert_eq!(kernel.len(), n * n, "an N x N kernel");
    if !(c > 0.0 && c.is_finite()) {
        return Err(format!("C = {c} must be positive"));
    }
    if !y.iter().any(|&v| v > 0.0) || !y.iter().any(|&v| v < 0.0) {
        return Err("the training rows hold only one class".into());
    }
    let k = |i: usize, j: usize| kernel[i * n + j];
    let qd: Vec<f64> = (0..n).map(|i| k(i, i)).collect();
    let mut alpha = vec![0f64; n];
    // G = Qα + p with p = −1.
    let mut g = vec![-1f64; n];
    let upper = |a: f64| a >= c;
    let lower = |a: f64| a <= 0.0;
    let max_iterations = 10_000_000usize.max(100 * n);
    let mut iterations = 0;
    while iterations < max_iterations {
        // Working set: i maximises −y G over I_up; j by the second-order gain over I_low.
        let (mut gmax, mut gmax_idx) = (f64::NEG_INFINITY, None);
        for t in 0..n {
            if y[t] > 0.0 {
                if !upper(alpha[t]) && -g[t] >= gmax {
                    (gmax, gmax_idx) = (-g[t], Some(t));
                }
            } else if !lower(alpha[t]) && g[t] >= gmax {
                (gmax, gmax_idx) = (g[t], Some(t));
            }
        }
        let Some(i) = gmax_idx else { break };
        // libsvm's curvature term y_i Q_ij is y_j K_ij (Q_ij = y_i y_j K_ij, y_i² = 1).
        let (mut gmax2, mut gmin_idx, mut obj_min) = (f64::NEG_INFINITY, None, f64::INFINITY);
        for j in 0..n {
            let (grad_diff, quad) = if y[j] > 0.0 {
                if lower(alpha[j]) {
                    continue;
                }
                gmax2 = gmax2.max(g[j]);
                (gmax + g[j], qd[i] + qd[j] - 2.0 * y[j] * k(i, j))
            } else {
                if upper(alpha[j]) {
                    continue;
                }
                gmax2 = gmax2.max(-g[j]);
                (gmax - g[j], qd[i] + qd[j] + 2.0 * y[j] * k(i, j))
            };
            if grad_diff > 0.0 {
                let obj = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if obj <= obj_min {
                    (gmin_idx, obj_min) = (Some(j), obj);
                }
            }
        }
        let Some(j) = gmin_idx else { break };
        if gmax + gmax2 < eps {
            break;
        }
        iterations += 1;
        let q_ij = y[i] * y[j] * k(i, j);
        let (old_i, old_j) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = (qd[i] + qd[j] + 2.0 * q_ij).max(0.0);
            let delta = (-g[i] - g[j]) / if quad > 0.0 { quad } else { TAU };
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    (alpha[j], alpha[i]) = (0.0, diff);
                }
            } else if alpha[i] < 0.0 {
                (alpha[i], alpha[j]) = (0.0, -diff);
            }
            if diff > 0.0 {
                if alpha[i] > c {
                    (alpha[i], alpha[j]) = (c, c - diff);
                }
            } else if alpha[j] > c {
                (alpha[j], alpha[i]) = (c, c + diff);
            }
        } else {
            let quad = (qd[i] + qd[j] - 2.0 * q_ij).max(0.0);
            let delta = (g[i] - g[j]) / if quad > 0.0 { quad } else { TAU };
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c {
                if alpha[i] > c {
                    (alpha[i], alpha[j]) = (c, sum - c);
                }
            } else if alpha[j] < 0.0 {
                (alpha[j], alpha[i]) = (0.0, sum);
            }
            if sum > c {
                if alpha[j] > c {
                    (alpha[j], alpha[i]) = (c, sum - c);
                }
            } else if alpha[i] < 0.0 {
                (alpha[i], alpha[j]) = (0.0, sum);
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        for t in 0..n {
            g[t] += y[t] * (y[i] * k(t, i) * di + y[j] * k(t, j) * dj);
        }
    }
    // rho: the mean y G over free vectors, else the middle of the bounds.
    let (mut ub, mut lb, mut sum_free, mut free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
    for t in 0..n {
        let yg = y[t] * g[t];
        if upper(alpha[t]) {
            if y[t] < 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
        } else if lower(alpha[t]) {
            if y[t] > 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
        } else {
            free += 1;
            sum_free += yg;
        }
    }
    let rho = if free > 0 { sum_free / free as f64 } else { (ub + lb) / 2.0 };
    let support: Vec<usize> = (0..n).filter(|&t| alpha[t] > 0.0).collect();
    let coef = support.iter().map(|&t| alpha[t] * y[t]).collect();
    Ok(SvmSolution { support, coef, rho, iterations })
}

impl SvmSolution {
    /// Decision values of rows whose kernel against the support vectors is `cross` (rows ×
    /// support vectors, row-major).
    pub fn decision(&self, cross: &[f64]) -> Vec<f64> {
        let s = self.support.len();
        cross
            .chunks(s.max(1))
            .map(|row| row.iter().zip(&self.coef).map(|(k, c)| k * c).sum::<f64>() - self.rho)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two points a distance apart on a line (linear kernel x·x'): the hard-margin solution by
    /// hand is α = 2 / |x₁ − x₂|², b at the midpoint.
    #[test]
    fn two_points_by_hand() {
        let x = [1.0f64, 3.0];
        let kernel: Vec<f64> = x.iter().flat_map(|a| x.iter().map(move |b| a * b)).collect();
        let s = train(&kernel, &[-1.0, 1.0], 1e6, 1e-9).unwrap();
        // w = 2 / (3 − 1) = 1, decision = x − 2: α = w / |x₂ − x₁| = 0.5, rho = 2.
        assert_eq!(s.support, vec![0, 1]);
        assert!((s.coef[0] + 0.5).abs() < 1e-9 && (s.coef[1] - 0.5).abs() < 1e-9, "{:?}", s.coef);
        assert!((s.rho - 2.0).abs() < 1e-9, "{}", s.rho);
        let d = s.decision(&[2.0 * 1.0, 2.0 * 3.0]);
        assert!(d[0].abs() < 1e-9, "the midpoint is on the boundary: {d:?}");
    }
}
