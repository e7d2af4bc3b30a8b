//! Factorising a trained dense matrix: truncated SVD (the best rank-r approximation in the
//! Frobenius norm, Eckart–Young) and the tensor-train SVD that gives a matrix product operator
//! (Oseledets 2011; as an MPO of a weight matrix, Gao et al. 2019). Both in float64 with
//! nalgebra.

use gkd_io::error::{Error, Result};
use nalgebra::DMatrix;

/// Sweeps nalgebra's SVD may take per row or column of the matrix before it is declared not to
/// converge. On finite matrices it needs a few per singular value; its own default is no limit,
/// and a non-finite entry then makes it loop forever.
const SVD_SWEEPS_PER_DIMENSION: usize = 100;

/// The SVD of `m` (U and Vᵀ computed), refused for a matrix that is not finite and capped in
/// iterations; `what` names the matrix in errors.
fn svd(m: DMatrix<f64>, what: &str) -> Result<nalgebra::SVD<f64, nalgebra::Dyn, nalgebra::Dyn>> {
    if let Some(i) = m.iter().position(|v| !v.is_finite()) {
        let (row, col) = (i % m.nrows(), i / m.nrows());
        return Err(Error::runtime(format!("cannot factorise {what}: entry [{row}, {col}] is {}", m[i])));
    }
    let cap = SVD_SWEEPS_PER_DIMENSION * m.nrows().max(m.ncols()).max(1);
    let (rows, cols) = m.shape();
    m.try_svd(true, true, f64::EPSILON, cap).ok_or_else(|| {
        Error::runtime(format!(
            "cannot factorise {what}: the SVD of the {rows} x {cols} matrix did not converge in {cap} iterations"
        ))
    })
}

/// W (rows × cols, row-major) ≈ A·B with A rows × r = U_r·√S_r and B r × cols = √S_r·V_rᵀ.
/// `what` names the matrix in errors (a non-finite entry, no convergence).
pub fn low_rank(w: &[f32], rows: usize, cols: usize, rank: usize, what: &str) -> Result<(Vec<f32>, Vec<f32>)> {
    let m = DMatrix::from_row_slice(rows, cols, &w.iter().map(|&v| v as f64).collect::<Vec<_>>());
    let svd = svd(m, what)?;
    let (u, v_t) = (svd.u.expect("U requested"), svd.v_t.expect("Vt requested"));
    // nalgebra does not promise sorted singular values: take the r largest.
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let r = rank.min(order.len());
    let mut a = vec![0.0f32; rows * rank];
    let mut b = vec![0.0f32; rank * cols];
    for (k, &s) in order.iter().take(r).enumerate() {
        let root = svd.singular_values[s].sqrt();
        for i in 0..rows {
            a[i * rank + k] = (u[(i, s)] * root) as f32;
        }
        for j in 0..cols {
            b[k * cols + j] = (v_t[(s, j)] * root) as f32;
        }
    }
    Ok((a, b))
}

/// The largest rank whose two factors hold at most `budget` entries (0 if none fits).
pub fn rank_for_budget(rows: usize, cols: usize, budget: usize) -> usize {
    (budget / (rows + cols)).min(rows.min(cols))
}

/// Split `n` into `parts` factors as even as possible (prime factors dealt largest first to the
/// currently smallest part), in decreasing order.
pub fn modes(n: usize, parts: usize) -> Vec<usize> {
    let mut primes = Vec::new();
    let (mut m, mut p) = (n, 2);
    while m > 1 {
        while m % p == 0 {
            primes.push(p);
            m /= p;
        }
        p += 1;
        if p * p > m && m > 1 {
            primes.push(m);
            break;
        }
    }
    primes.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = vec![1usize; parts];
    for prime in primes {
        let smallest = (0..parts).min_by_key(|&i| out[i]).expect("parts >= 1");
        out[smallest] *= prime;
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

/// A matrix product operator's cores, each (bond before, row mode, column mode, bond after),
/// row-major, with the bonds actually used.
#[derive(Debug, Clone)]
pub struct TensorTrain {
    /// Row modes.
    pub inputs: Vec<usize>,
    /// Column modes.
    pub outputs: Vec<usize>,
    /// Inner bonds.
    pub bonds: Vec<usize>,
    /// Core values.
    pub cores: Vec<Vec<f32>>,
}

impl TensorTrain {
    /// Entries stored.
    pub fn parameters(&self) -> usize {
        self.cores.iter().map(Vec::len).sum()
    }

    /// The matrix the cores contract to (rows × cols, row-major), in float64.
    #[cfg(test)]
    pub fn matrix(&self) -> Vec<f64> {
        let n = self.inputs.len();
        let edge = |k: usize| if k == 0 || k == n { 1 } else { self.bonds[k - 1] };
        // acc[(row, col), bond], row-major over (row, col).
        let (mut rows, mut cols) = (1usize, 1usize);
        let mut acc = vec![1.0f64];
        for k in 0..n {
            let (r0, i, o, r1) = (edge(k), self.inputs[k], self.outputs[k], edge(k + 1));
            let core = &self.cores[k];
            let mut next = vec![0.0; rows * i * cols * o * r1];
            for row in 0..rows {
                for col in 0..cols {
                    for a in 0..r0 {
                        let x = acc[(row * cols + col) * r0 + a];
                        if x == 0.0 {
                            continue;
                        }
                        for ii in 0..i {
                            for oo in 0..o {
                                for b in 0..r1 {
                                    let g = core[((a * i + ii) * o + oo) * r1 + b] as f64;
                                    let (nr, nc) = (row * i + ii, col * o + oo);
                                    next[(nr * cols * o + nc) * r1 + b] += x * g;
                                }
                            }
                        }
                    }
                }
            }
            acc = next;
            rows *= i;
            cols *= o;
        }
        acc
    }
}

/// Tensor-train SVD of W (rows × cols, row-major) over the given modes, every inner bond at
/// most `max_bond` (the exact decomposition when `max_bond` is large enough); `what` names the
/// matrix in errors.
pub fn tensor_train(
    w: &[f32],
    inputs: &[usize],
    outputs: &[usize],
    max_bond: usize,
    what: &str,
) -> Result<TensorTrain> {
    let n = inputs.len();
    let cols: usize = outputs.iter().product();
    // Reorder W[(i_1..i_n), (o_1..o_n)] into T[i_1, o_1, i_2, o_2, ..., i_n, o_n].
    let total = w.len();
    let mut t = vec![0.0f64; total];
    let mut digits_i = vec![0usize; n];
    let mut digits_o = vec![0usize; n];
    for (idx, &v) in w.iter().enumerate() {
        let (mut row, mut col) = (idx / cols, idx % cols);
        for k in (0..n).rev() {
            digits_i[k] = row % inputs[k];
            row /= inputs[k];
            digits_o[k] = col % outputs[k];
            col /= outputs[k];
        }
        let mut target = 0usize;
        for k in 0..n {
            target = (target * inputs[k] + digits_i[k]) * outputs[k] + digits_o[k];
        }
        t[target] = v as f64;
    }
    let mut cores = Vec::with_capacity(n);
    let mut bonds = Vec::with_capacity(n.saturating_sub(1));
    let mut bond = 1usize;
    let mut rest = t;
    for k in 0..n - 1 {
        let rows = bond * inputs[k] * outputs[k];
        let width = rest.len() / rows;
        let m = DMatrix::from_row_slice(rows, width, &rest);
        let svd = svd(m, what)?;
        let (u, v_t) = (svd.u.expect("U requested"), svd.v_t.expect("Vt requested"));
        let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        let r = max_bond.min(order.len()).max(1);
        let mut core = vec![0.0f32; rows * r];
        for row in 0..rows {
            for (j, &s) in order.iter().take(r).enumerate() {
                core[row * r + j] = u[(row, s)] as f32;
            }
        }
        let mut next = vec![0.0f64; r * width];
        for (j, &s) in order.iter().take(r).enumerate() {
            let sigma = svd.singular_values[s];
            for c in 0..width {
                next[j * width + c] = sigma * v_t[(s, c)];
            }
        }
        cores.push(core);
        bonds.push(r);
        bond = r;
        rest = next;
    }
    cores.push(rest.iter().map(|&v| v as f32).collect());
    Ok(TensorTrain { inputs: inputs.to_vec(), outputs: outputs.to_vec(), bonds, cores })
}

/// Entries of an MPO with these modes and every inner bond `bond` (capped at the exact ranks).
pub fn mpo_parameters(inputs: &[usize], outputs: &[usize], bond: usize) -> usize {
    let n = inputs.len();
    let sizes: Vec<usize> = inputs.iter().zip(outputs).map(|(i, o)| i * o).collect();
    let bonds: Vec<usize> = (1..n)
        .map(|k| {
            let left: usize = sizes[..k].iter().product();
            let right: usize = sizes[k..].iter().product();
            bond.min(left).min(right)
        })
        .collect();
    let edge = |k: usize| if k == 0 || k == n { 1 } else { bonds[k - 1] };
    (0..n).map(|k| edge(k) * sizes[k] * edge(k + 1)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols).map(|i| (((i * 7919) % 101) as f32 - 50.0) / 25.0).collect()
    }

    #[test]
    fn full_rank_factors_reproduce_the_matrix_and_rank_one_is_the_outer_product() {
        let (rows, cols) = (6, 4);
        let w = matrix(rows, cols);
        let (a, b) = low_rank(&w, rows, cols, 4, "w").unwrap();
        for i in 0..rows {
            for j in 0..cols {
                let p: f32 = (0..4).map(|k| a[i * 4 + k] * b[k * cols + j]).sum();
                assert!((p - w[i * cols + j]).abs() < 1e-4, "({i},{j}): {p} vs {}", w[i * cols + j]);
            }
        }
        // A rank-1 matrix u vᵀ is recovered exactly at rank 1.
        let (u, v) = ([1.0f32, -2.0, 0.5], [3.0f32, 1.0]);
        let outer: Vec<f32> = u.iter().flat_map(|x| v.iter().map(move |y| x * y)).collect();
        let (a, b) = low_rank(&outer, 3, 2, 1, "outer").unwrap();
        for i in 0..3 {
            for j in 0..2 {
                assert!((a[i] * b[j] - outer[i * 2 + j]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn truncated_rank_error_equals_the_dropped_singular_values() {
        // Eckart–Young: ‖W − W_r‖_F² = Σ_{k > r} σ_k².
        let (rows, cols, r) = (8, 5, 2);
        let w = matrix(rows, cols);
        let (a, b) = low_rank(&w, rows, cols, r, "w").unwrap();
        let err: f64 = (0..rows * cols)
            .map(|e| {
                let (i, j) = (e / cols, e % cols);
                let p: f64 = (0..r).map(|k| a[i * r + k] as f64 * b[k * cols + j] as f64).sum();
                (p - w[e] as f64).powi(2)
            })
            .sum();
        let m = DMatrix::from_row_slice(rows, cols, &w.iter().map(|&v| v as f64).collect::<Vec<_>>());
        let mut s: Vec<f64> = m.singular_values().iter().copied().collect();
        s.sort_by(|a, b| b.total_cmp(a));
        let dropped: f64 = s[r..].iter().map(|x| x * x).sum();
        assert!((err - dropped).abs() < 1e-3 * dropped.max(1.0), "{err} vs {dropped}");
    }

    #[test]
    fn exact_bonds_reproduce_the_matrix_and_small_bonds_store_less() {
        let (inputs, outputs) = ([4usize, 3, 2], [2usize, 2, 3]);
        let (rows, cols) = (24, 12);
        let w = matrix(rows, cols);
        let tt = tensor_train(&w, &inputs, &outputs, 1000, "w").unwrap();
        let back = tt.matrix();
        for (e, v) in back.iter().enumerate() {
            assert!((v - w[e] as f64).abs() < 1e-4, "entry {e}: {v} vs {}", w[e]);
        }
        assert_eq!(tt.parameters(), mpo_parameters(&inputs, &outputs, 1000));
        let small = tensor_train(&w, &inputs, &outputs, 2, "w").unwrap();
        assert_eq!(small.bonds, vec![2, 2]);
        assert_eq!(small.parameters(), 8 * 2 + 2 * 6 * 2 + 2 * 6);
        assert_eq!(small.parameters(), mpo_parameters(&inputs, &outputs, 2));
    }

    #[test]
    fn modes_split_evenly_and_multiply_back() {
        assert_eq!(modes(512, 3), vec![8, 8, 8]);
        assert_eq!(modes(248, 3), vec![31, 4, 2]);
        for n in [96, 384, 625, 1000, 37] {
            assert_eq!(modes(n, 3).iter().product::<usize>(), n);
        }
    }

    #[test]
    fn a_non_finite_matrix_is_refused_instead_of_looping() {
        let mut w = matrix(5, 3);
        w[7] = f32::NAN; // row 2, column 1
        let message = low_rank(&w, 5, 3, 2, "dense.0.linear.weight").unwrap_err().to_string();
        assert!(message.contains("cannot factorise dense.0.linear.weight: entry [2, 1] is NaN"), "{message}");
        w[7] = f32::INFINITY;
        assert!(tensor_train(&w, &[5, 1], &[3, 1], 2, "m").is_err());
    }
}
