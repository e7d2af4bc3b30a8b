//! Path-SGD against a hand computation: on a small DeepChrome (conv → sum-pooled → three dense
//! layers), every path-norm scale κ is computed again from the unit path norms γ_in and γ_out
//! written out layer by layer, and one Path-SGD step is checked against w − lr·g/κ.

use burn::module::Module;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::model::{ModelSpec, Network};
use gkd_nn::path_sgd::{path_scales, precondition};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32").into_iter().map(f64::from).collect()
}

/// 2 marks × 14 bins: conv 50 k10 valid → 5 positions → pool 5 → 1, so flatten gives 50 units.
const CHANNELS: usize = 2;
const LENGTH: usize = 14;
const KERNEL: usize = 10;
const POOL: usize = 5;

struct Hand {
    conv_w: Vec<f64>,
    conv_b: Vec<f64>,
    /// Dense matrices (inputs × outputs) and biases, hidden then output.
    dense: Vec<(Vec<f64>, Vec<f64>, usize, usize)>,
}

/// Per dense layer, κ of its matrix entries and of its biases.
type DenseScales = Vec<(Vec<f64>, Vec<f64>)>;

/// κ of every kernel entry, conv bias, dense entry and dense bias, from γ_in/γ_out by hand.
fn hand_scales(net: &Hand) -> (Vec<f64>, Vec<f64>, DenseScales) {
    let filters = net.conv_b.len();
    let conv_out = LENGTH - KERNEL + 1;
    // γ_in of a conv unit: Σ_{c,k} w² (every input unit has γ_in 1); of its pool unit: × POOL.
    let s: Vec<f64> = (0..filters)
        .map(|f| net.conv_w[f * CHANNELS * KERNEL..(f + 1) * CHANNELS * KERNEL].iter().map(|w| w * w).sum())
        .collect();
    let mut gamma_in: Vec<Vec<f64>> = vec![s.iter().map(|v| v * POOL as f64).collect()];
    for (w, _, inputs, outputs) in &net.dense {
        let prev = gamma_in.last().unwrap();
        let next = (0..*outputs).map(|o| (0..*inputs).map(|i| w[i * outputs + o].powi(2) * prev[i]).sum()).collect();
        gamma_in.push(next);
    }
    // γ_out, from the output units (1) back to the pool units.
    let layers = net.dense.len();
    let mut gamma_out: Vec<Vec<f64>> = vec![Vec::new(); layers + 1];
    gamma_out[layers] = vec![1.0; net.dense[layers - 1].3];
    for l in (0..layers).rev() {
        let (w, _, inputs, outputs) = &net.dense[l];
        let after = &gamma_out[l + 1];
        gamma_out[l] =
            (0..*inputs).map(|i| (0..*outputs).map(|o| w[i * outputs + o].powi(2) * after[o]).sum()).collect();
    }
    let dense = (0..layers)
        .map(|l| {
            let (_, _, inputs, outputs) = &net.dense[l];
            let kw = (0..inputs * outputs).map(|e| gamma_in[l][e / outputs] * gamma_out[l + 1][e % outputs]).collect();
            (kw, gamma_out[l + 1].clone())
        })
        .collect();
    // A kernel entry is shared by the conv_out positions, all in one pool window here, each
    // with γ_in(input) = 1 and γ_out = γ_out(pool unit).
    let kernel =
        (0..filters * CHANNELS * KERNEL).map(|e| conv_out as f64 * gamma_out[0][e / (CHANNELS * KERNEL)]).collect();
    let bias = (0..filters).map(|f| conv_out as f64 * gamma_out[0][f]).collect();
    (kernel, bias, dense)
}

fn hand_of(network: &Network) -> Hand {
    let Network::Conv(net) = network else { panic!("deepchrome is convolutional") };
    let block = &net.blocks[0];
    let mut dense: Vec<_> = net
        .dense
        .iter()
        .map(|d| d.linear.as_ref().expect("full matrix"))
        .chain(std::iter::once(&net.output))
        .map(|l| {
            let [i, o] = l.weight.val().dims();
            (values(l.weight.val()), values(l.bias.as_ref().expect("bias").val()), i, o)
        })
        .collect();
    dense.shrink_to_fit();
    Hand {
        conv_w: values(block.conv.weight.val()),
        conv_b: values(block.conv.bias.as_ref().expect("bias").val()),
        dense,
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-4 * w.abs().max(1e-3), "{what}[{i}]: {g} vs hand {w}");
    }
}

fn network(device: &Device) -> (ModelSpec, Network) {
    device.seed(7);
    let spec = ModelSpec::new(Arch::Deepchrome, CHANNELS, LENGTH, 1, Activation::Relu);
    let network = spec.build_with(device, false).expect("fits");
    (spec, network)
}

#[test]
fn path_scales_equal_the_hand_computed_unit_path_norms() {
    let device = Device::flex().autodiff();
    let (spec, network) = network(&device);
    let hand = hand_of(&network);
    let (kernel, bias, dense) = hand_scales(&hand);
    let scales = path_scales(&spec, &network).expect("feed-forward");
    assert_eq!(scales.kernels.len(), 1);
    assert_eq!(scales.matrices.len(), 3);
    assert_eq!(scales.biases.len(), 4);
    assert_close("conv kernel", &values(scales.kernels[0].1.clone()), &kernel);
    assert_close("conv bias", &values(scales.biases[0].1.clone()), &bias);
    for (l, (kw, kb)) in dense.iter().enumerate() {
        assert_close(&format!("dense {l} weight"), &values(scales.matrices[l].1.clone()), kw);
        assert_close(&format!("dense {l} bias"), &values(scales.biases[l + 1].1.clone()), kb);
    }
    // Not a trivial κ: the scales differ by orders of magnitude across layers.
    let spread = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max) / v.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(spread(&dense[1].0) > 10.0);
}

#[test]
fn one_path_sgd_step_is_w_minus_lr_gradient_over_kappa() {
    let device = Device::flex().autodiff();
    let (spec, network) = network(&device);
    let before = hand_of(&network);
    let (kernel, _, dense) = hand_scales(&before);
    let x: Vec<f32> = (0..4 * CHANNELS * LENGTH).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [4, CHANNELS, LENGTH]), &device);
    let loss = network.forward(x).powi_scalar(2).mean();
    let grads = loss.backward();
    let Network::Conv(net) = &network else { unreachable!() };
    let g_conv = values(net.blocks[0].conv.weight.grad(&grads).expect("grad"));
    let g_dense = values(net.dense[1].linear.as_ref().unwrap().weight.grad(&grads).expect("grad"));
    let params = GradientsParams::from_grads(grads, &network);
    let scales = path_scales(&spec, &network).expect("feed-forward");
    let lr = 0.05;
    let mut optim = SgdConfig::new().init();
    let stepped = optim.step(lr, network, precondition(&scales, params));
    let after = hand_of(&stepped);
    let want_conv: Vec<f64> =
        before.conv_w.iter().zip(&g_conv).zip(&kernel).map(|((w, g), k)| w - lr * g / k.max(1e-6)).collect();
    assert_close("stepped conv kernel", &after.conv_w, &want_conv);
    let want_dense: Vec<f64> =
        before.dense[1].0.iter().zip(&g_dense).zip(&dense[1].0).map(|((w, g), k)| w - lr * g / k.max(1e-6)).collect();
    assert_close("stepped dense 1", &after.dense[1].0, &want_dense);
    // The step is not plain SGD's.
    let plain: f64 = before.dense[1]
        .0
        .iter()
        .zip(&g_dense)
        .map(|(w, g)| w - lr * g)
        .zip(&after.dense[1].0)
        .map(|(p, a)| (p - a).abs())
        .sum();
    assert!(plain > 1e-3, "Path-SGD step equals plain SGD's");
    let _ = stepped.valid();
}
