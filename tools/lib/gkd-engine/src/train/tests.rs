//! The engine's training step against burn's autodiff on the same weights, batch and dropout
//! masks: loss, every parameter's gradient and the BatchNorm running statistics, for every
//! architecture the engine trains.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use gkd_genomics::rng::SeededRng;
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::loss::{Distillation, training_loss};
use gkd_nn::train::{Keep, Monitor, Optimizer};
use ndarray::{Array2, Array3, Axis};

use super::*;

fn config(kernel_l2: f64) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 24,
        lr: 0.0,
        optimizer: Optimizer::Sgd,
        adam_epsilon: 1e-7,
        momentum: 0.0,
        weight_decay: 0.0,
        kernel_l2,
        dropout: true,
        keep: Keep::Best,
        monitor: Monitor::Aupr,
        patience: 0,
        plateau_patience: 0,
        plateau_factor: 0.5,
        min_lr: 0.0,
        seed: 1,
    }
}

/// Replaces every parameter that has a gradient by its gradient (running statistics stay).
struct Gradients<'a>(&'a GradientsParams);

impl ModuleMapper for Gradients<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.0.get::<D>(param.id) {
            Some(grad) => Param::initialized(param.id, grad),
            None => param,
        }
    }
}

fn named(bytes: &[u8]) -> BTreeMap<String, Vec<f32>> {
    let tensors = weights::parse(bytes, Path::new("t")).unwrap();
    tensors.tensors().into_iter().map(|(name, view)| (name, weights::f32_values(&view))).collect()
}

/// Random inputs: one-hot DNA with a few N columns (0.25 each), or histone-like counts.
fn inputs(rng: &mut SeededRng, rows: usize, channels: usize, length: usize, one_hot: bool) -> Array3<f32> {
    let mut x = Array3::zeros((rows, channels, length));
    for r in 0..rows {
        for l in 0..length {
            if one_hot {
                if rng.below(50) == 0 {
                    (0..4).for_each(|c| x[[r, c, l]] = 0.25);
                } else {
                    x[[r, rng.below(4), l]] = 1.0;
                }
            } else {
                (0..channels).for_each(|c| x[[r, c, l]] = rng.below(40) as f32 * 0.1);
            }
        }
    }
    x
}

fn assert_close(what: &str, engine: &[f32], burn: &[f32], tolerance: f32) {
    assert_eq!(engine.len(), burn.len(), "{what}: sizes");
    let scale = burn.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let worst = engine.iter().zip(burn).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= tolerance * scale, "{what}: largest difference {worst:e} against a largest value {scale:e}");
}

fn compare(arch: Arch, first: Activation, head: Head, classes: usize, distill: bool) {
    compare_rows(arch, first, head, classes, distill, 24)
}

fn compare_rows(arch: Arch, first: Activation, head: Head, classes: usize, distill: bool, rows: usize) {
    let one_hot = arch.input_kind() == gkd_nn::arch::InputKind::Sequence;
    let (channels, length) = if one_hot { (4, 200) } else { (5, 100) };
    let device = Device::flex().autodiff();
    device.seed(3);
    let spec = ModelSpec::new(arch, channels, length, classes, first);
    let network = spec.build(&device).unwrap();
    let config = config(arch.kernel_l2().max(1e-4));
    let mut learner = EngineLearner::new(&spec, &config, head, &network).unwrap();

    let mut rng = SeededRng::new(7, 0);
    let x = inputs(&mut rng, rows, channels, length, one_hot);
    let mut y = Array2::zeros((rows, classes));
    for r in 0..rows {
        match head {
            Head::Softmax => y[[r, rng.below(classes)]] = 1.0,
            Head::Sigmoid => (0..classes).for_each(|k| y[[r, k]] = rng.below(2) as f32),
        }
    }
    let teacher = Array2::from_shape_fn((rows, classes), |_| rng.below(100) as f32 * 0.06 - 3.0);
    let kd = Distillation { temperature: 4.0, alpha: 0.3 };
    let order: Vec<usize> = (0..rows).rev().collect();

    // burn.
    network.dropout_stream().unwrap().reseed(11);
    let gathered = |a: &Array2<f32>| {
        let values: Vec<f32> = order.iter().flat_map(|&r| a.row(r).to_vec()).collect();
        Tensor::<2>::from_data(TensorData::new(values, [rows, classes]), &device)
    };
    let xs: Vec<f32> =
        order.iter().flat_map(|&r| x.index_axis(Axis(0), r).iter().copied().collect::<Vec<_>>()).collect();
    let logits = network.forward(Tensor::<3>::from_data(TensorData::new(xs, [rows, channels, length]), &device));
    let parts = training_loss(head, logits, gathered(&y), distill.then(|| (gathered(&teacher), kd)));
    let objective = parts.total + network.kernel_sum_of_squares().unwrap().mul_scalar(config.kernel_l2);
    let burn_loss = objective.clone().into_scalar::<f32>() as f64;
    let grads = GradientsParams::from_grads(objective.backward(), &network);
    let burn_grads = named(&store::weights_to_safetensors(&network.valid().map(&mut Gradients(&grads))).unwrap());

    // The engine.
    learner.stream.reseed(11);
    let batch = Batch { x: &x, y: &y, teacher: distill.then_some((&teacher, kd)), rows: &order };
    let losses = learner.step(&batch, 0.0).unwrap();
    let name = arch.name();
    assert!(
        (losses.total - burn_loss).abs() < 1e-5 * burn_loss.abs().max(1.0),
        "{name}: loss {} vs {burn_loss}",
        losses.total
    );
    let after = named(&learner.safetensors().unwrap());
    for (tensor, burn) in &burn_grads {
        if tensor.contains("running_") {
            // burn's running statistics after the same forward pass.
            assert_close(&format!("{name} {tensor}"), &after[tensor], burn, 1e-5);
        } else {
            assert_close(&format!("{name} d/d {tensor}"), &learner.gradient_of(tensor), burn, 2e-4);
        }
    }
}

#[test]
fn koo_cnn_deep_step_equals_burn() {
    compare(Arch::KooCnnDeep, Activation::Relu, Head::Sigmoid, 3, false);
}

#[test]
fn koo_cnn_shallow_exponential_distilled_step_equals_burn() {
    compare(Arch::KooCnnShallow, Activation::Exponential, Head::Sigmoid, 3, true);
}

#[test]
fn koo_cnn_local_softmax_distilled_step_equals_burn() {
    compare(Arch::KooCnnLocal, Activation::Relu, Head::Softmax, 4, true);
}

#[test]
fn koo_cnn_dist_step_equals_burn() {
    compare(Arch::KooCnnDist, Activation::Relu, Head::Sigmoid, 2, false);
}

#[test]
fn demo_cnn_exponential_softmax_step_equals_burn() {
    compare(Arch::DemoCnn, Activation::Exponential, Head::Softmax, 3, false);
}

#[test]
fn deepchrome_step_equals_burn() {
    compare(Arch::Deepchrome, Activation::Relu, Head::Sigmoid, 1, false);
}

#[test]
fn koo_cnn_deep_exponential_small_batch_step_equals_burn() {
    compare_rows(Arch::KooCnnDeep, Activation::Exponential, Head::Sigmoid, 12, false, 10);
}
