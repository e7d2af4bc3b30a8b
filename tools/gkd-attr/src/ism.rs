//! In-silico mutagenesis (DESIGN §4.4): attr[b, i] = F(x with base b at position i) − F(x) for
//! every position and base (0 at the reference base), by batched forward passes of all mutants.

use burn::tensor::Device;
use gkd_nn::model::Network;
use ndarray::{Array3, Axis};

use crate::gradients::{Target, forward_logits};

/// Naive ISM: every single-base mutant of every row, `batch` mutants per forward pass.
pub fn ism_naive(network: &Network, x: &Array3<f32>, target: &Target, batch: usize, device: &Device) -> Array3<f32> {
    let (n, c, l) = x.dim();
    let mut attr = Array3::zeros((n, c, l));
    for row in 0..n {
        let reference = x.index_axis(Axis(0), row);
        // Mutant m = i·C + b: position i set to the one-hot of channel b.
        let mutants = Array3::from_shape_fn((l * c + 1, c, l), |(m, ch, p)| {
            if m == l * c {
                return reference[[ch, p]]; // the unmutated sequence, last
            }
            let (i, b) = (m / c, m % c);
            if p == i { (ch == b) as u8 as f32 } else { reference[[ch, p]] }
        });
        let logits = forward_logits(network, &mutants, batch, device);
        let k = target.class_of(row);
        let base = logits[[l * c, k]];
        for i in 0..l {
            for b in 0..c {
                let is_reference = reference[[b, i]] == 1.0 && reference.column(i).sum() == 1.0;
                attr[[row, b, i]] = if is_reference { 0.0 } else { logits[[i * c + b, k]] - base };
            }
        }
    }
    attr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::network;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;

    #[test]
    fn naive_ism_equals_one_forward_pass_per_mutant() {
        let device = Device::flex();
        device.seed(5);
        let network = network(Arch::KooCnnLocal, 100, 1, Activation::Relu, &device);
        let mut x = Array3::from_shape_fn((2, 4, 100), |(n, c, p)| ((n + p * 5) % 4 == c) as u8 as f32);
        x.slice_mut(ndarray::s![1, .., 40]).fill(0.0); // an N position: every base is a mutation
        let attr = ism_naive(&network, &x, &Target::Class(0), 97, &device);
        for row in 0..2 {
            let one = x.slice(ndarray::s![row..row + 1, .., ..]).to_owned();
            let base = forward_logits(&network, &one, 1, &device)[[0, 0]];
            for &(i, b) in &[(0usize, 0usize), (0, 1), (17, 2), (40, 3), (40, 0), (99, 1)] {
                let mut mutant = one.clone();
                for c in 0..4 {
                    mutant[[0, c, i]] = (c == b) as u8 as f32;
                }
                let expected = if one[[0, b, i]] == 1.0 {
                    0.0
                } else {
                    forward_logits(&network, &mutant, 1, &device)[[0, 0]] - base
                };
                assert!((attr[[row, b, i]] - expected).abs() < 1e-5, "row {row} pos {i} base {b}");
            }
        }
        // Reference bases score exactly zero.
        assert_eq!(attr[[0, 0, 0]], 0.0);
    }
}
