//! Gradient attributions (docs/science.md §4): saliency ∂(target logit)/∂x (signed, every channel at
//! every position, so the maps are "hypothetical"), grad × input, integrated gradients, and
//! the gradient correction of Majdandzic et al. (2023).

use burn::tensor::{Device, Tensor, TensorData};
use gkd_engine::Runner;
use ndarray::{Array2, Array3, Axis, s};

/// Which logit each row is explained for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The same class for every row.
    Class(usize),
    /// One class per row.
    PerRow(Vec<usize>),
}

impl Target {
    /// The class explained for `row`.
    pub fn class_of(&self, row: usize) -> usize {
        match self {
            Target::Class(k) => *k,
            Target::PerRow(v) => v[row],
        }
    }
}

/// An (n, k) tensor with a 1 at each row's class: multiplying logits by it and summing selects
/// one logit per row.
pub fn target_mask(n: usize, k: usize, class_of: impl Fn(usize) -> usize, device: &Device) -> Tensor<2> {
    let mut mask = vec![0f32; n * k];
    for row in 0..n {
        mask[row * k + class_of(row)] = 1.0;
    }
    Tensor::from_data(TensorData::new(mask, [n, k]), device)
}

/// Logits of many inputs in batches.
pub fn forward_logits(runner: &Runner<'_>, x: &Array3<f32>, batch: usize) -> Array2<f32> {
    runner.logits(x.view(), batch)
}

/// Saliency maps ∂logit_target/∂x for every row of `x`, in batches.
pub fn saliency(runner: &Runner<'_>, x: &Array3<f32>, target: &Target, batch: usize) -> Array3<f32> {
    let mut out = Array3::zeros(x.dim());
    let n = x.shape()[0];
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let (_, g) = runner.logits_and_gradients(x.slice(s![start..end, .., ..]), &|row| target.class_of(start + row));
        out.slice_mut(s![start..end, .., ..]).assign(&g);
    }
    out
}

/// Subtract, at every position, the mean of the map over channels (Majdandzic et al. 2023):
/// removes the off-simplex component of gradients for one-hot inputs.
pub fn gradient_correction(attr: &mut Array3<f32>) {
    for mut row in attr.axis_iter_mut(Axis(0)) {
        let mean = row.mean_axis(Axis(0)).expect("channels > 0");
        for mut channel in row.axis_iter_mut(Axis(0)) {
            channel -= &mean;
        }
    }
}

/// Integrated gradients of each row of `x` against its baseline row, with `steps` intervals of
/// the straight path integrated by the trapezoidal rule (steps + 1 gradient evaluations):
/// attr = (x − x′) · ∫₀¹ ∂F(x′ + α(x − x′))/∂x dα. Returns the attributions and, per row, the
/// completeness gap Σ attr − (F(x) − F(x′)).
pub fn integrated_gradients(
    runner: &Runner<'_>,
    x: &Array3<f32>,
    baselines: &Array3<f32>,
    target: &Target,
    steps: usize,
    batch: usize,
) -> (Array3<f32>, Vec<f32>) {
    let (n, c, l) = x.dim();
    let steps = steps.max(1);
    let mut attr = Array3::zeros((n, c, l));
    let mut gaps = Vec::with_capacity(n);
    // Each row's path is evaluated as one batch of steps + 1 inputs (chunked when larger).
    for row in 0..n {
        let xr = x.index_axis(Axis(0), row);
        let br = baselines.index_axis(Axis(0), row);
        let delta = &xr - &br;
        let path = Array3::from_shape_fn((steps + 1, c, l), |(j, ch, p)| {
            br[[ch, p]] + (j as f32 / steps as f32) * delta[[ch, p]]
        });
        let k = target.class_of(row);
        let mut total = ndarray::Array2::<f32>::zeros((c, l));
        let mut ends = (0f32, 0f32);
        for start in (0..=steps).step_by(batch.max(1)) {
            let end = (start + batch.max(1)).min(steps + 1);
            let (logits, g) = runner.logits_and_gradients(path.slice(s![start..end, .., ..]), &|_| k);
            for j in start..end {
                let weight = if j == 0 || j == steps { 0.5 } else { 1.0 } / steps as f32;
                total.scaled_add(weight, &g.index_axis(Axis(0), j - start));
                if j == 0 {
                    ends.0 = logits[[0, k]];
                }
                if j == steps {
                    ends.1 = logits[[j - start, k]];
                }
            }
        }
        let row_attr = &delta * &total;
        gaps.push(row_attr.sum() - (ends.1 - ends.0));
        attr.index_axis_mut(Axis(0), row).assign(&row_attr);
    }
    (attr, gaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::network;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;
    use gkd_nn::model::Network;

    /// A random one-hot batch and a freshly initialised smooth network (BiLSTM, sigmoid/tanh).
    pub(crate) fn smooth_model(rows: usize, length: usize) -> (Network, Array3<f32>, Device) {
        let device = Device::flex();

        let network = network(3, Arch::DemoRnn, length, 2, Activation::Relu, &device);
        let x = Array3::from_shape_fn((rows, 4, length), |(n, c, p)| ((n * 7 + p * 3) % 4 == c) as u8 as f32);
        (network, x, device)
    }

    #[test]
    fn saliency_equals_finite_differences() {
        let (network, x, device) = smooth_model(2, 12);
        let runner = Runner::burn(&network, &device);
        let g = saliency(&runner, &x, &Target::Class(1), 8);
        let eps = 1e-2f32;
        for &(n, c, p) in &[(0usize, 0usize, 0usize), (0, 2, 5), (1, 3, 11), (1, 1, 6)] {
            let mut plus = x.clone();
            plus[[n, c, p]] += eps;
            let mut minus = x.clone();
            minus[[n, c, p]] -= eps;
            let fd =
                (forward_logits(&runner, &plus, 8)[[n, 1]] - forward_logits(&runner, &minus, 8)[[n, 1]]) / (2.0 * eps);
            assert!((fd - g[[n, c, p]]).abs() <= 1e-3 + 0.02 * fd.abs(), "{n},{c},{p}: {fd} vs {}", g[[n, c, p]]);
        }
    }

    #[test]
    fn per_row_targets_pick_each_rows_class() {
        let (network, x, device) = smooth_model(2, 10);
        let runner = Runner::burn(&network, &device);
        let both = saliency(&runner, &x, &Target::PerRow(vec![0, 1]), 8);
        let zero = saliency(&runner, &x, &Target::Class(0), 8);
        let one = saliency(&runner, &x, &Target::Class(1), 8);
        assert_eq!(both.index_axis(Axis(0), 0), zero.index_axis(Axis(0), 0));
        assert_eq!(both.index_axis(Axis(0), 1), one.index_axis(Axis(0), 1));
        assert_ne!(zero, one);
    }

    #[test]
    fn integrated_gradients_are_complete() {
        let (network, x, device) = smooth_model(2, 10);
        let baselines = Array3::from_elem(x.dim(), 0.25f32);
        let runner = Runner::burn(&network, &device);
        let (attr, gaps) = integrated_gradients(&runner, &x, &baselines, &Target::Class(0), 50, 64);
        let fx = forward_logits(&runner, &x, 8);
        let fb = forward_logits(&runner, &baselines, 8);
        for row in 0..2 {
            let total: f32 = attr.index_axis(Axis(0), row).sum();
            let delta = fx[[row, 0]] - fb[[row, 0]];
            assert!((gaps[row] - (total - delta)).abs() < 1e-5);
            assert!(gaps[row].abs() <= 0.01 * delta.abs() + 1e-5, "gap {} for F(x) - F(x') = {delta}", gaps[row]);
        }
    }

    #[test]
    fn gradient_correction_centres_each_position() {
        let mut a = Array3::from_shape_fn((1, 4, 3), |(_, c, p)| (c * 3 + p) as f32 * 0.5 - 1.0);
        let before = a.clone();
        gradient_correction(&mut a);
        for p in 0..3 {
            let column: Vec<f32> = (0..4).map(|c| a[[0, c, p]]).collect();
            assert!(column.iter().sum::<f32>().abs() < 1e-6);
            // Differences between channels are kept.
            assert!((column[3] - column[0] - (before[[0, 3, p]] - before[[0, 0, p]])).abs() < 1e-6);
        }
    }
}
