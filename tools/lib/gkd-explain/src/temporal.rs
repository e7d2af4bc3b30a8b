//! DeepMotif's temporal output scores (Lanchantin et al. 2017): the logits of a recurrent model
//! on every prefix x[..i+1] (forward) and every suffix x[i..] (reverse) of a sequence, showing
//! where along the sequence the evidence for a class accumulates.

use burn::tensor::{Device, Tensor, TensorData};
use gkd_nn::model::Network;
use ndarray::{Array3, s};

/// Prefix and suffix logits, each (N, L, K): `forward[[row, i, k]]` is logit k of x[..i+1] and
/// `reverse[[row, i, k]]` that of x[i..]. `None` for non-recurrent networks, for which a prefix
/// is not a meaningful input.
pub fn temporal_logits(network: &Network, x: &Array3<f32>, device: &Device) -> Option<(Array3<f32>, Array3<f32>)> {
    let Network::Recurrent(_) = network else { return None };
    let (n, c, l) = x.dim();
    let mut forward = Array3::zeros((0, 0, 0));
    let mut reverse = Array3::zeros((0, 0, 0));
    for i in 0..l {
        // All rows at once: prefix of length i + 1, and the suffix starting at i.
        for (part, out) in [(x.slice(s![.., .., ..=i]), &mut forward), (x.slice(s![.., .., i..]), &mut reverse)] {
            let width = part.shape()[2];
            let data: Vec<f32> = part.iter().copied().collect();
            let z = network.forward(Tensor::<3>::from_data(TensorData::new(data, [n, c, width]), device));
            let k = z.dims()[1];
            if out.is_empty() {
                *out = Array3::zeros((n, l, k));
            }
            let values: Vec<f32> = z.into_data().try_to_vec::<f32>().expect("float32");
            for row in 0..n {
                for class in 0..k {
                    out[[row, i, class]] = values[row * k + class];
                }
            }
        }
    }
    Some((forward, reverse))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradients::forward_logits;
    use crate::testing::network;
    use gkd_engine::Runner;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;

    #[test]
    fn last_prefix_and_first_suffix_are_the_whole_sequence() {
        let device = Device::flex();
        for arch in [Arch::DemoRnn, Arch::DemoCnnRnn] {
            let network = network(2, arch, 30, 2, Activation::Relu, &device);
            let x = Array3::from_shape_fn((3, 4, 30), |(n, c, p)| ((n + p * 3) % 4 == c) as u8 as f32);
            let (fwd, rev) = temporal_logits(&network, &x, &device).unwrap();
            let full = forward_logits(&Runner::burn(&network, &device), &x, 8);
            for row in 0..3 {
                for k in 0..2 {
                    assert!((fwd[[row, 29, k]] - full[[row, k]]).abs() < 1e-5);
                    assert!((rev[[row, 0, k]] - full[[row, k]]).abs() < 1e-5);
                }
                // A one-base prefix is the model on that base alone.
                let one = x.slice(s![row..row + 1, .., ..1]).to_owned();
                assert!(
                    (fwd[[row, 0, 1]] - forward_logits(&Runner::burn(&network, &device), &one, 1)[[0, 1]]).abs() < 1e-5
                );
            }
        }
        let cnn = network(2, Arch::KooCnnLocal, 200, 1, Activation::Relu, &device);
        assert!(temporal_logits(&cnn, &Array3::zeros((1, 4, 200)), &device).is_none());
    }
}
