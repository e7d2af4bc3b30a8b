//! Weight initialisation schemes of the architectures' sources, drawn from the device's seeded
//! RNG.

use burn::module::{Initializer, Param};
use burn::tensor::{Device, Distribution, Tensor};

crate::setting::setting_enum! {
/// A weight initialisation chosen by name instead of the architecture's source
/// (`gkd-train --init`, model.json `spec.init`).
pub enum InitScheme {
    /// Keras as the Koo lab's layers use it ([`WeightInit::Keras`]).
    Keras,
    /// PyTorch's defaults ([`WeightInit::Torch`]).
    Torch,
}
}

impl From<InitScheme> for WeightInit {
    fn from(scheme: InitScheme) -> Self {
        match scheme {
            InitScheme::Keras => WeightInit::Keras,
            InitScheme::Torch => WeightInit::Torch,
        }
    }
}

/// How an architecture's weights start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightInit {
    /// PyTorch's and Torch7's defaults: weights and biases ~ U(−1/√fan_in, 1/√fan_in) (burn's
    /// defaults are the same).
    Torch,
    /// Keras as the Koo lab's tfomics layers use it: hidden convolution and dense kernels
    /// `he_normal` (normal with sd √(2/fan_in), truncated at 2 sd and rescaled so the sd holds),
    /// the output layer `glorot_uniform`, every bias zero.
    Keras,
    /// Every parameter ~ U(−a, a) (AttentiveChrome's training script uses a = 0.1).
    Uniform(f64),
}

impl WeightInit {
    /// A kernel of `shape` (units reading `fan_in` inputs, `fan_out` outputs; `output` marks the
    /// logits layer) drawn as this scheme says, or `None` to keep the layer's own PyTorch-style
    /// initialisation. Keras: `glorot_uniform` for the output layer, `he_normal` otherwise.
    pub fn kernel<const D: usize>(
        self,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
        output: bool,
        device: &Device,
    ) -> Option<Param<Tensor<D>>> {
        match self {
            WeightInit::Torch => None,
            WeightInit::Keras if output => Some(glorot_uniform(shape, fan_in, fan_out, device)),
            WeightInit::Keras => Some(he_normal(shape, fan_in, device)),
            WeightInit::Uniform(a) => Some(uniform(shape, a, device)),
        }
    }

    /// A bias of `shape` as this scheme says (Keras: zeros), or `None` to keep the layer's own.
    pub fn bias(self, shape: [usize; 1], device: &Device) -> Option<Param<Tensor<1>>> {
        match self {
            WeightInit::Torch => None,
            WeightInit::Keras => Some(zeros(shape, device)),
            WeightInit::Uniform(a) => Some(uniform(shape, a, device)),
        }
    }

    /// The bound a of an LSTM's U(−a, a) weights: PyTorch's 1/√hidden unless every parameter is
    /// uniform.
    pub fn lstm_bound(self, hidden: usize) -> f64 {
        match self {
            WeightInit::Uniform(a) => a,
            WeightInit::Torch | WeightInit::Keras => 1.0 / (hidden as f64).sqrt(),
        }
    }

    /// One line for `gkd-train --describe`.
    pub fn description(self) -> String {
        match self {
            WeightInit::Torch => "PyTorch/Torch7 defaults, U(-1/sqrt(fan_in), 1/sqrt(fan_in))".to_owned(),
            WeightInit::Keras => {
                "Keras (tfomics): he_normal (truncated) kernels, glorot_uniform output layer, zero biases".to_owned()
            }
            WeightInit::Uniform(a) => format!("every parameter U(-{a}, {a})"),
        }
    }
}

/// Keras's correction of a normal truncated at ±2 sd: the sd of the truncated unit normal.
const TRUNCATED_SD: f64 = 0.879_625_661_034_239_8;

/// A normal sample truncated at ±2·`sd`: out-of-range draws are redrawn (each round leaves
/// 4.6% of them), so the result is an exact truncated normal after a few rounds.
pub fn truncated_normal<const D: usize>(shape: [usize; D], sd: f64, device: &Device) -> Tensor<D> {
    let draw = || Tensor::<D>::random(shape, Distribution::Normal(0.0, sd), device);
    let mut x = draw();
    for _ in 0..64 {
        let outside = x.clone().abs().greater_elem(2.0 * sd);
        if !outside.clone().any().into_scalar::<bool>() {
            break;
        }
        x = x.mask_where(outside, draw());
    }
    x.clamp(-2.0 * sd, 2.0 * sd)
}

/// Keras `he_normal` for a kernel of `shape` whose units each read `fan_in` inputs.
pub fn he_normal<const D: usize>(shape: [usize; D], fan_in: usize, device: &Device) -> Param<Tensor<D>> {
    let sd = (2.0 / fan_in as f64).sqrt() / TRUNCATED_SD;
    Param::from_tensor(truncated_normal(shape, sd, device))
}

/// Keras `glorot_uniform`: U(±√(6 / (fan_in + fan_out))).
pub fn glorot_uniform<const D: usize>(
    shape: [usize; D],
    fan_in: usize,
    fan_out: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    Initializer::XavierUniform { gain: 1.0 }.init_with(shape, Some(fan_in), Some(fan_out), device)
}

/// Zeros.
pub fn zeros<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Initializer::Zeros.init(shape, device)
}

/// U(−a, a).
pub fn uniform<const D: usize>(shape: [usize; D], a: f64, device: &Device) -> Param<Tensor<D>> {
    Initializer::Uniform { min: -a, max: a }.init(shape, device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_normal_stays_within_two_sd_with_the_keras_variance() {
        let device = Device::flex();
        device.seed(3);
        let fan_in = 4 * 19;
        let p = he_normal([32, 4, 19], fan_in, &device).val();
        let v: Vec<f32> = p.into_data().try_to_vec::<f32>().unwrap();
        let target = (2.0 / fan_in as f64).sqrt();
        let bound = 2.0 * target / TRUNCATED_SD;
        assert!(v.iter().all(|&x| (x as f64).abs() <= bound + 1e-7));
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let sd = (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        // 2,432 draws: the sample sd is within a few percent of √(2/fan_in).
        assert!((sd / target - 1.0).abs() < 0.05, "sd {sd} vs {target}");
        assert!(mean.abs() < 0.1 * target);
    }
}
