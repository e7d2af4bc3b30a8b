//! Batch normalisation with the settings of the framework an architecture was written in.
//!
//! burn's `BatchNorm` always folds the biased batch variance into its running variance, while
//! PyTorch folds the unbiased one (n / (n − 1) times larger) and Keras the biased one; Keras
//! also defaults to momentum 0.99 (0.01 in PyTorch's convention) and ε = 1e-3 where PyTorch has
//! 0.1 and 1e-5. This layer takes all three as settings ([`NormSpec`]), stored in model.json,
//! so that a model trains and predicts as its source does.
//!
//! The parameters keep burn's and PyTorch's names (`gamma`/`beta` become `weight`/`bias` in
//! model.safetensors, `running_mean`, `running_var`), so model files load into
//! `torch.nn.BatchNorm1d` unchanged.

use burn::module::{Flag, Initializer, Module, Param, RunningState};
use burn::tensor::Tensor;
use burn::tensor::{Device, module::batch_norm, module::batch_norm_train};
use serde::{Deserialize, Serialize};

crate::setting::setting_enum! {
/// Which batch variance is folded into the running variance.
pub enum RunningVariance {
    /// Σ(x − mean)² / n, as Keras and burn do.
    Biased,
    /// Σ(x − mean)² / (n − 1), as PyTorch does.
    Unbiased,
}
}

/// BatchNorm settings of a model (model.json `spec.batch_norm`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NormSpec {
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Weight of the current batch in the running statistics (PyTorch's convention: Keras's
    /// momentum m is 1 − m here).
    pub momentum: f64,
    /// Biased or unbiased batch variance in the running variance.
    pub running_variance: RunningVariance,
}

impl NormSpec {
    /// Keras's `BatchNormalization()` defaults (momentum 0.99 → 0.01 here, ε = 1e-3, biased
    /// moving variance): the Koo-lab models are written in Keras.
    pub const KERAS: NormSpec = NormSpec { epsilon: 1e-3, momentum: 0.01, running_variance: RunningVariance::Biased };

    /// PyTorch's `BatchNorm1d` defaults (momentum 0.1, ε = 1e-5, unbiased running variance).
    pub const PYTORCH: NormSpec =
        NormSpec { epsilon: 1e-5, momentum: 0.1, running_variance: RunningVariance::Unbiased };

    /// What models written before these settings existed were trained with (burn's defaults);
    /// model.json files without `batch_norm` are read with these.
    pub const LEGACY: NormSpec = NormSpec { epsilon: 1e-5, momentum: 0.1, running_variance: RunningVariance::Biased };

    /// A check of the values, naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(format!("BatchNorm epsilon must be a positive number, not {}", self.epsilon));
        }
        if !(self.momentum.is_finite() && (0.0..=1.0).contains(&self.momentum)) {
            return Err(format!("BatchNorm momentum must be in [0, 1], not {}", self.momentum));
        }
        Ok(())
    }
}

/// Batch normalisation over the channel axis (axis 1) of (B, C) or (B, C, L) inputs.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale γ (PyTorch: `weight`).
    pub gamma: Param<Tensor<1>>,
    /// Shift β (PyTorch: `bias`).
    pub beta: Param<Tensor<1>>,
    /// Training flag, switched off by `valid()`.
    pub training: Param<Flag>,
    /// Running mean.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running variance.
    pub running_var: RunningState<Tensor<1>>,
    /// Weight of the current batch in the running statistics.
    pub momentum: f64,
    /// Added to the variance.
    pub epsilon: f64,
    /// Whether the running variance takes the unbiased batch variance.
    pub unbiased: bool,
}

impl BatchNorm {
    /// γ = 1, β = 0, running mean 0, running variance 1.
    pub fn new(channels: usize, spec: &NormSpec, device: &Device) -> Self {
        Self {
            gamma: Initializer::Ones.init([channels], device),
            beta: Initializer::Zeros.init([channels], device),
            training: Param::from_bool(true),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            momentum: spec.momentum,
            epsilon: spec.epsilon,
            unbiased: spec.running_variance == RunningVariance::Unbiased,
        }
    }

    /// Batch statistics (and a running-statistics update) while training on an autodiff
    /// device; the running statistics otherwise.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let device = input.device();
        if !(device.is_autodiff() && self.training.is_enabled()) {
            return batch_norm(
                input,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.epsilon,
            );
        }
        let dims = input.dims();
        let per_channel = dims.iter().enumerate().filter(|&(axis, _)| axis != 1).map(|(_, &n)| n).product::<usize>();
        let result = batch_norm_train(input, self.gamma.val(), self.beta.val(), self.epsilon);
        let variance = result.variance.detach();
        let variance = if self.unbiased && per_channel > 1 {
            variance.mul_scalar(per_channel as f64 / (per_channel - 1) as f64)
        } else {
            variance
        };
        let m = self.momentum;
        let mean =
            self.running_mean.value_sync().to_device(&device).mul_scalar(1.0 - m) + result.mean.detach().mul_scalar(m);
        let var = self.running_var.value_sync().to_device(&device).mul_scalar(1.0 - m) + variance.mul_scalar(m);
        self.running_mean.update(mean.detach());
        self.running_var.update(var.detach());
        result.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Running statistics after one training batch, against a hand computation with both
    /// variance conventions.
    #[test]
    fn running_statistics_follow_the_chosen_variance_and_momentum() {
        let device = Device::flex().autodiff();
        // (B = 2, C = 1, L = 2): the channel holds 1, 2, 3, 6; mean 3, Σ(x − mean)² = 14.
        let x = || Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 6.0], [2, 1, 2]), &device);
        for (variance, batch_var) in [(RunningVariance::Biased, 14.0 / 4.0), (RunningVariance::Unbiased, 14.0 / 3.0)] {
            let spec = NormSpec { epsilon: 1e-3, momentum: 0.25, running_variance: variance };
            let norm = BatchNorm::new(1, &spec, &device);
            let y = values(norm.forward(x()));
            // The output is normalised with the biased variance whatever the running convention.
            let expected: Vec<f32> =
                [1.0f64, 2.0, 3.0, 6.0].iter().map(|v| ((v - 3.0) / (3.5f64 + 1e-3).sqrt()) as f32).collect();
            for (a, b) in y.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-5, "{y:?} vs {expected:?}");
            }
            let norm = norm.valid();
            let mean = values(norm.running_mean.value())[0] as f64;
            let var = values(norm.running_var.value())[0] as f64;
            assert!((mean - 0.25 * 3.0).abs() < 1e-6, "{mean}");
            assert!((var - (0.75 + 0.25 * batch_var)).abs() < 1e-6, "{variance:?}: {var}");
        }
    }

    /// `valid()` gives a copy whose running statistics no longer follow the original's.
    #[test]
    fn a_valid_copy_keeps_its_own_running_statistics() {
        let device = Device::flex().autodiff();
        let norm = BatchNorm::new(1, &NormSpec::KERAS, &device);
        let x = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 6.0], [2, 1, 2]), &device);
        let _ = norm.forward(x.clone());
        let kept = norm.valid();
        let before = values(kept.running_mean.value());
        let _ = norm.forward(x.clone().mul_scalar(10.0));
        let _ = norm.forward(x.mul_scalar(10.0));
        let _ = norm.valid(); // syncs the original's pending update
        assert_eq!(values(kept.running_mean.value()), before);
        assert_ne!(values(norm.running_mean.value_sync()), before);
    }
}
