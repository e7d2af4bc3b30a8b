//! Class optimization (DeepMotif, DeepChrome; Simonyan et al. 2014): from x ~ U(0, 1), minimise
//! −log P(target | x) + λ‖x‖² with RMSprop, then clamp to [0, 1], divide by the global maximum,
//! add 0.01 and renormalise every position, giving a PWM-like map of what the model wants to see.

use burn::tensor::activation::{log_sigmoid, log_softmax};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_genomics::rng::SeededRng;
use gkd_nn::loss::Head;
use gkd_nn::model::Network;

use crate::gradients::target_mask;
use ndarray::{Array2, Array3, Axis};

/// Settings of class optimization (docs/science.md §4 defaults: λ 0.009, lr 0.05 for sequences and 0.1
/// for histone marks, 1000 steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassOptimization {
    /// L2 penalty weight λ.
    pub lambda: f64,
    /// RMSprop learning rate.
    pub lr: f64,
    /// Optimisation steps.
    pub steps: usize,
    /// Seed of the U(0, 1) start.
    pub seed: u64,
}

/// The optimised raw inputs (one per target class, before post-processing).
pub fn optimise(
    network: &Network,
    head: Head,
    targets: &[usize],
    shape: (usize, usize),
    settings: &ClassOptimization,
    device: &Device,
) -> Array3<f32> {
    let (c, l) = shape;
    let n = targets.len();
    let mut rng = SeededRng::new(settings.seed, 0xC1A55);
    let mut x = Array3::from_shape_fn((n, c, l), |_| rng.uniform() as f32);
    let mut square_avg = Array3::<f32>::zeros((n, c, l));
    let (alpha, eps) = (0.99f32, 1e-8f32); // PyTorch RMSprop defaults
    let autodiff = device.clone().autodiff();
    for _ in 0..settings.steps {
        let input =
            Tensor::<3>::from_data(TensorData::new(x.iter().copied().collect::<Vec<_>>(), [n, c, l]), &autodiff)
                .require_grad();
        let logits = network.forward(input.clone());
        let k = logits.dims()[1];
        let log_p = match head {
            Head::Sigmoid => log_sigmoid(logits),
            Head::Softmax => log_softmax(logits, 1),
        };
        let mask = target_mask(n, k, |row| targets[row], &autodiff);
        let loss = (log_p * mask).sum().neg() + input.clone().powi_scalar(2).sum().mul_scalar(settings.lambda);
        let grads = loss.backward();
        let g: Vec<f32> = input.grad(&grads).expect("input gradient").into_data().try_to_vec::<f32>().expect("float32");
        for ((xi, si), gi) in x.iter_mut().zip(square_avg.iter_mut()).zip(g) {
            *si = alpha * *si + (1.0 - alpha) * gi * gi;
            *xi -= settings.lr as f32 * gi / (si.sqrt() + eps);
        }
    }
    x
}

/// Clamp to [0, 1], divide by the map's maximum, add 0.01 and make every position sum to 1.
pub fn to_logo(raw: &Array3<f32>) -> Array3<f32> {
    let mut out = raw.mapv(|v| v.clamp(0.0, 1.0));
    for mut map in out.axis_iter_mut(Axis(0)) {
        let max = map.iter().copied().fold(0f32, f32::max);
        if max > 0.0 {
            map /= max;
        }
        map += 0.01;
        let sums: Array2<f32> = map.sum_axis(Axis(0)).insert_axis(Axis(0));
        map /= &sums;
    }
    out
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
    fn optimised_inputs_raise_the_target_and_logos_are_distributions() {
        let device = Device::flex();

        let network = network(4, Arch::KooCnnLocal, 100, 2, Activation::Relu, &device);
        // No penalty here: on an untrained model the logit's gradient is smaller than λ's.
        let settings = ClassOptimization { lambda: 0.0, lr: 0.05, steps: 60, seed: 1 };
        let raw =
            optimise(&network, Head::Sigmoid, &[0, 1], (4, 100), &ClassOptimization { steps: 0, ..settings }, &device);
        let start = forward_logits(&Runner::burn(&network, &device), &raw, 8);
        let optimised = optimise(&network, Head::Sigmoid, &[0, 1], (4, 100), &settings, &device);
        let end = forward_logits(&Runner::burn(&network, &device), &optimised, 8);
        assert!(end[[0, 0]] > start[[0, 0]] + 0.5 && end[[1, 1]] > start[[1, 1]] + 0.5, "{start:?} -> {end:?}");
        // The penalty alone shrinks the input.
        let shrunk = optimise(
            &network,
            Head::Sigmoid,
            &[0, 1],
            (4, 100),
            &ClassOptimization { lambda: 10.0, ..settings },
            &device,
        );
        assert!(shrunk.mapv(|v| v * v).sum() < 0.5 * raw.mapv(|v| v * v).sum());
        let logo = to_logo(&optimised);
        for map in logo.axis_iter(Axis(0)) {
            for column in map.axis_iter(Axis(1)) {
                assert!((column.sum() - 1.0).abs() < 1e-5);
                assert!(column.iter().all(|&p| p > 0.0));
            }
        }
    }
}
