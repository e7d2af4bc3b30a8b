//! In-silico mutagenesis (docs/science.md §4): attr[b, i] = F(x with base b at position i) − F(x) for
//! every position and base (0 at the reference base), by batched forward passes of all mutants.

use gkd_engine::Runner;
use ndarray::{Array3, ArrayView2, Axis, s};

use crate::gradients::{Target, forward_logits};

/// The single-base mutants `(position, base)` of a (C, L) one-hot input: every base that differs
/// from the reference column (all of them at N / non-one-hot positions), in position-major order.
pub fn mutants_of(reference: ArrayView2<'_, f32>) -> Vec<(usize, usize)> {
    let (c, l) = reference.dim();
    (0..l)
        .flat_map(|i| (0..c).map(move |b| (i, b)))
        .filter(|&(i, b)| {
            let column = reference.column(i);
            !(column[b] == 1.0 && column.sum() == 1.0)
        })
        .collect()
}

/// Naive ISM: every single-base mutant of every row through the whole network, `batch` inputs
/// per forward pass (the reference first, then its mutants); reference bases score 0.
pub fn ism_naive(runner: &Runner<'_>, x: &Array3<f32>, target: &Target, batch: usize) -> Array3<f32> {
    let (n, c, l) = x.dim();
    let mut attr = Array3::zeros((n, c, l));
    for row in 0..n {
        let reference = x.index_axis(Axis(0), row);
        let mutants = mutants_of(reference);
        let mut inputs = Array3::zeros((mutants.len() + 1, c, l));
        for (j, mut input) in inputs.axis_iter_mut(Axis(0)).enumerate() {
            input.assign(&reference);
            if let Some(&(i, b)) = j.checked_sub(1).map(|m| &mutants[m]) {
                input.slice_mut(s![.., i]).fill(0.0);
                input[[b, i]] = 1.0;
            }
        }
        let logits = forward_logits(runner, &inputs, batch);
        let k = target.class_of(row);
        for (j, &(i, b)) in mutants.iter().enumerate() {
            attr[[row, b, i]] = logits[[j + 1, k]] - logits[[0, k]];
        }
    }
    attr
}

/// ISM by the fastest route this model allows: fast ISM on gkd's engine, else fast ISM on burn
/// (feed-forward convolutional networks), else naive ISM. All three give the same maps to float32
/// rounding.
pub fn ism_best(runner: &Runner<'_>, x: &Array3<f32>, target: &Target, batch: usize) -> Array3<f32> {
    if crate::fast_ism::supports(runner.network(), x.shape()[2]) {
        if let Some(attr) = runner.ism_fast(x.view(), &|row| target.class_of(row)) {
            return attr;
        }
        return crate::fast_ism::ism_fast(runner.network(), x, target, batch, runner.device())
            .expect("supported architecture");
    }
    ism_naive(runner, x, target, batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::network;
    use burn::tensor::Device;
    use gkd_engine::Runner;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;

    #[test]
    fn naive_ism_equals_one_forward_pass_per_mutant() {
        let device = Device::flex();

        let network = network(5, Arch::KooCnnLocal, 100, 1, Activation::Relu, &device);
        let mut x = Array3::from_shape_fn((2, 4, 100), |(n, c, p)| ((n + p * 5) % 4 == c) as u8 as f32);
        x.slice_mut(ndarray::s![1, .., 40]).fill(0.0); // an N position: every base is a mutation
        let attr = ism_naive(&Runner::burn(&network, &device), &x, &Target::Class(0), 97);
        for row in 0..2 {
            let one = x.slice(ndarray::s![row..row + 1, .., ..]).to_owned();
            let base = forward_logits(&Runner::burn(&network, &device), &one, 1)[[0, 0]];
            for &(i, b) in &[(0usize, 0usize), (0, 1), (17, 2), (40, 3), (40, 0), (99, 1)] {
                let mut mutant = one.clone();
                for c in 0..4 {
                    mutant[[0, c, i]] = (c == b) as u8 as f32;
                }
                let expected = if one[[0, b, i]] == 1.0 {
                    0.0
                } else {
                    forward_logits(&Runner::burn(&network, &device), &mutant, 1)[[0, 0]] - base
                };
                assert!((attr[[row, b, i]] - expected).abs() < 1e-5, "row {row} pos {i} base {b}");
            }
        }
        // Reference bases score exactly zero.
        assert_eq!(attr[[0, 0, 0]], 0.0);
    }
}
