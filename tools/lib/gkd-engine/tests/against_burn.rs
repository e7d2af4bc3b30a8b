//! The engine against burn on the same weights: logits and input gradients of every
//! convolutional architecture × first-layer activation, on one-hot rows (the gather-add path),
//! rows with N (0.25s) and interpolated rows (the numeric path), with BatchNorm statistics and
//! affine parameters far from their initial values so that folding them is exercised. Logits are
//! also checked against a float64 evaluation written directly from the layer definitions.

use burn::module::{Module, Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_engine::CnnEngine;
use gkd_nn::arch::{Arch, InputKind};
use gkd_nn::layers::Activation;
use gkd_nn::model::{ModelSpec, Network};
use gkd_nn::norm::BatchNorm;
use ndarray::{Array2, Array3};

/// A deterministic stream of numbers in [−1, 1).
struct Numbers(u64);
impl Numbers {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f32, offset: f32) -> Vec<f32> {
        (0..n).map(|_| offset + scale * self.next()).collect()
    }
}

fn tensor(values: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// γ, β, running mean and running variance set to values a trained model might have.
fn perturb(norm: &mut BatchNorm, numbers: &mut Numbers, device: &Device) {
    let n = norm.gamma.val().dims()[0];
    norm.gamma = Param::from_tensor(tensor(numbers.vec(n, 0.5, 1.0), device));
    norm.beta = Param::from_tensor(tensor(numbers.vec(n, 0.3, 0.0), device));
    norm.running_mean = RunningState::new(tensor(numbers.vec(n, 0.4, 0.0), device));
    norm.running_var = RunningState::new(tensor(numbers.vec(n, 0.5, 1.0), device));
}

fn model(arch: Arch, first: Activation, length: usize, classes: usize, seed: u64) -> (ModelSpec, Network) {
    // Weights come from the device's random stream: one test at a time draws from it.
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex();
    device.seed(seed);
    let channels = if arch.input_kind() == InputKind::Sequence { 4 } else { 5 };
    let spec = ModelSpec::new(arch, channels, length, classes, first);
    let mut network = spec.build(&device).expect("fits");
    let mut numbers = Numbers(seed);
    if let Network::Conv(net) = &mut network {
        for block in &mut net.blocks {
            if let Some(norm) = &mut block.norm {
                perturb(norm, &mut numbers, &device);
            }
        }
        for block in &mut net.dense {
            if let Some(norm) = &mut block.norm {
                perturb(norm, &mut numbers, &device);
            }
        }
    }
    (spec, network.valid())
}

/// burn's logits and gradients of logit[row, class_of(row)] for every row.
fn burn_reference(network: &Network, x: &Array3<f32>, class_of: &dyn Fn(usize) -> usize) -> (Array2<f32>, Array3<f32>) {
    let (n, c, l) = x.dim();
    let device = Device::flex().autodiff();
    let input = Tensor::<3>::from_data(TensorData::new(x.iter().copied().collect::<Vec<_>>(), [n, c, l]), &device)
        .require_grad();
    let logits = network.forward(input.clone());
    let k = logits.dims()[1];
    let mut mask = vec![0f32; n * k];
    (0..n).for_each(|r| mask[r * k + class_of(r)] = 1.0);
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, k]), &device);
    let grads = (logits.clone() * mask).sum().backward();
    let g = input.grad(&grads).expect("input gradient").into_data().try_to_vec::<f32>().expect("f32");
    let z = logits.into_data().try_to_vec::<f32>().expect("f32");
    (Array2::from_shape_vec((n, k), z).unwrap(), Array3::from_shape_vec((n, c, l), g).unwrap())
}

fn f64s<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().try_to_vec::<f32>().expect("f32").into_iter().map(f64::from).collect()
}

/// (scale, shift) per channel of a BatchNorm in evaluation mode, in float64.
fn norm64(norm: &Option<BatchNorm>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let Some(norm) = norm else { return (vec![1.0; n], vec![0.0; n]) };
    let (g, b, m, v) = (
        f64s(norm.gamma.val()),
        f64s(norm.beta.val()),
        f64s(norm.running_mean.value()),
        f64s(norm.running_var.value()),
    );
    let scale: Vec<f64> = (0..n).map(|i| g[i] / (v[i] + norm.epsilon).sqrt()).collect();
    let shift = (0..n).map(|i| b[i] - m[i] * scale[i]).collect();
    (scale, shift)
}

/// The network's logits written out directly from its definition, in float64: an independent
/// reference for both burn and the engine.
fn reference_f64(spec: &ModelSpec, network: &Network, x: &Array3<f32>) -> Array2<f64> {
    let (Network::Conv(net), gkd_nn::arch::Plan::Conv(plan)) = (network, spec.plan()) else { unreachable!() };
    let (n, _, _) = x.dim();
    let mut out = Array2::zeros((n, spec.classes));
    for r in 0..n {
        // (channels, positions)
        let mut h: Vec<Vec<f64>> =
            x.index_axis(ndarray::Axis(0), r).outer_iter().map(|c| c.iter().map(|&v| v as f64).collect()).collect();
        for (block, bspec) in net.blocks.iter().zip(&plan.convs) {
            let w = f64s(block.conv.weight.val());
            let [f_n, c_n, k] = block.conv.weight.val().dims();
            let bias = block.conv.bias.as_ref().map(|b| f64s(b.val())).unwrap_or(vec![0.0; f_n]);
            let (scale, shift) = norm64(&block.norm, f_n);
            let l_in = h[0].len() as isize;
            let (pl, l_out) = match bspec.padding {
                gkd_nn::layers::Padding::Same => (((k - 1) / 2) as isize, l_in),
                gkd_nn::layers::Padding::Valid => (0, l_in - k as isize + 1),
            };
            let mut y = vec![vec![0f64; l_out as usize]; f_n];
            for f in 0..f_n {
                for l in 0..l_out {
                    let mut z = bias[f];
                    for c in 0..c_n {
                        for t in 0..k {
                            let p = l + t as isize - pl;
                            if (0..l_in).contains(&p) {
                                z += w[(f * c_n + c) * k + t] * h[c][p as usize];
                            }
                        }
                    }
                    let z = z * scale[f] + shift[f];
                    y[f][l as usize] = match bspec.activation {
                        Activation::Relu => z.max(0.0),
                        Activation::Exponential => z.exp(),
                        Activation::Identity => z,
                    };
                }
            }
            let pool = bspec.pool.max(1);
            h = y
                .iter()
                .map(|row| {
                    (0..row.len() / pool)
                        .map(|q| row[q * pool..(q + 1) * pool].iter().cloned().fold(f64::MIN, f64::max))
                        .collect()
                })
                .collect();
        }
        let mut v: Vec<f64> = if net.global_max {
            h.iter().map(|row| row.iter().cloned().fold(f64::MIN, f64::max)).collect()
        } else {
            h.concat()
        };
        let output = (net.output.weight.val(), net.output.bias.as_ref().map(|b| b.val()));
        let layers =
            net.dense.iter().map(|d| ((d.weight_matrix(), d.bias()), &d.norm, true)).chain([(output, &None, false)]);
        for ((weight, bias), norm, relu) in layers {
            let w = f64s(weight.clone());
            let [inputs, outputs] = weight.dims();
            let bias = bias.map(f64s).unwrap_or(vec![0.0; outputs]);
            let (scale, shift) = norm64(norm, outputs);
            v = (0..outputs)
                .map(|o| {
                    let z = (0..inputs).map(|i| v[i] * w[i * outputs + o]).sum::<f64>() + bias[o];
                    let z = z * scale[o] + shift[o];
                    if relu { z.max(0.0) } else { z }
                })
                .collect();
        }
        out.row_mut(r).assign(&ndarray::Array1::from(v));
    }
    out
}

/// Rows 0–3 one-hot, row 4 with a run of N as 0.25s, row 5 halfway between a row and 0.25s.
fn inputs(rows: usize, channels: usize, length: usize, seed: u64) -> Array3<f32> {
    let mut numbers = Numbers(seed ^ 0x5eed);
    let mut x = Array3::zeros((rows, channels, length));
    for r in 0..rows {
        for p in 0..length {
            let base = ((numbers.next() + 1.0) * 2.0) as usize % channels;
            for c in 0..channels {
                x[[r, c, p]] = match r {
                    4 if (10..20).contains(&p) => 0.25,
                    5 => 0.5 * (c == base) as u8 as f32 + 0.125,
                    _ => (c == base) as u8 as f32,
                };
            }
        }
    }
    x
}

/// Largest |a − b| / max(1, |b|).
fn worst(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max)
}

/// Largest |a − b| / max(1, |b|) against a float64 reference.
fn worst64(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (*a as f64 - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max)
}

fn check(arch: Arch, first: Activation, length: usize) {
    let (classes, rows) = (3, 6);
    let (spec, network) = model(arch, first, length, classes, 7 + length as u64);
    let engine = CnnEngine::new(&spec, &network).expect("a convolutional model");
    let x = inputs(rows, spec.channels, length, 11);
    let class_of = |r: usize| r % classes;
    let (z_ref, g_ref) = burn_reference(&network, &x, &class_of);
    let (z, g) = engine.logits_and_gradients(x.view(), &class_of);
    let (zw, gw) = (
        worst(z.as_slice().unwrap(), z_ref.as_slice().unwrap()),
        worst(g.as_slice().unwrap(), g_ref.as_slice().unwrap()),
    );
    let scale = g_ref.iter().fold(0f32, |m, v| m.max(v.abs()));
    let zmax = z_ref.iter().fold(0f32, |m, v| m.max(v.abs()));
    let exact = reference_f64(&spec, &network, &x);
    let (engine_error, burn_error) = (
        worst64(z.as_slice().unwrap(), exact.as_slice().unwrap()),
        worst64(z_ref.as_slice().unwrap(), exact.as_slice().unwrap()),
    );
    println!(
        "{} {} L={length}: engine-burn logits {zw:.1e} (max |z| {zmax:.2e}), gradients {gw:.1e} (max |g| {scale:.2e}); vs float64: engine {engine_error:.1e}, burn {burn_error:.1e}",
        arch.name(),
        first.name()
    );
    // Both are float32 evaluations of the same function, summing in different orders (and the
    // engine with BatchNorm folded into the weights): each is within 1e-5 of the float64 value,
    // so they are within 2e-5 of each other (measured: each ≤ 8e-6, apart ≤ 1.2e-5, the
    // largest with exponential first layers, whose large activations carry the rounding on).
    assert!(engine_error <= 1e-5, "{} {}: engine logits {engine_error} from float64", arch.name(), first.name());
    assert!(burn_error <= 1e-5, "{} {}: burn logits {burn_error} from float64", arch.name(), first.name());
    assert!(zw <= 2e-5, "{} {}: logits differ by {zw}", arch.name(), first.name());
    assert!(gw <= 1e-5, "{} {}: gradients differ by {gw}", arch.name(), first.name());
    assert!(scale > 1e-3, "the gradients are not trivially zero");
    assert_eq!(engine.logits(x.view()), z, "logits alone equal logits with gradients");
}

#[test]
fn every_sequence_cnn_and_activation_matches_burn() {
    for arch in [Arch::KooCnnDeep, Arch::KooCnnShallow, Arch::KooCnnLocal, Arch::KooCnnDist, Arch::DemoCnn] {
        for first in [Activation::Relu, Activation::Exponential] {
            check(arch, first, 200);
        }
    }
}

#[test]
fn other_lengths_and_deepchrome_match_burn() {
    // Lengths that leave pool remainders, and DeepChrome's valid convolution on 5 marks.
    check(Arch::KooCnnDeep, Activation::Relu, 237);
    check(Arch::KooCnnShallow, Activation::Exponential, 1001);
    check(Arch::Deepchrome, Activation::Relu, 100);
}

#[test]
fn recurrent_and_attention_models_are_left_to_burn() {
    for arch in [Arch::DemoRnn, Arch::DemoCnnRnn, Arch::Attentivechrome] {
        let (spec, network) = model(arch, Activation::Relu, 40, 2, 1);
        assert!(CnnEngine::new(&spec, &network).is_none(), "{}", arch.name());
    }
}

/// Naive ISM on the engine's full forward pass: every mutant through the whole network.
fn naive_ism(engine: &CnnEngine, x: &Array3<f32>, class_of: &dyn Fn(usize) -> usize) -> Array3<f32> {
    let (n, c, l) = x.dim();
    let mut attr = Array3::zeros((n, c, l));
    for row in 0..n {
        let reference = x.index_axis(ndarray::Axis(0), row);
        let one_hot =
            |p: usize| (0..c).filter(|&b| reference[[b, p]] == 1.0).count() == 1 && reference.column(p).sum() == 1.0;
        let mutants: Vec<(usize, usize)> = (0..l)
            .flat_map(|p| (0..c).map(move |b| (p, b)))
            .filter(|&(p, b)| !(one_hot(p) && reference[[b, p]] == 1.0))
            .collect();
        let mut inputs = Array3::zeros((mutants.len() + 1, c, l));
        for (j, mut input) in inputs.outer_iter_mut().enumerate() {
            input.assign(&reference);
            if j > 0 {
                let (p, b) = mutants[j - 1];
                input.column_mut(p).fill(0.0);
                input[[b, p]] = 1.0;
            }
        }
        let logits = engine.logits(inputs.view());
        let k = class_of(row);
        for (j, &(p, b)) in mutants.iter().enumerate() {
            attr[[row, b, p]] = logits[[j + 1, k]] - logits[[0, k]];
        }
    }
    attr
}

#[test]
fn fast_ism_equals_naive_ism_on_every_sequence_cnn() {
    for arch in [Arch::KooCnnDeep, Arch::KooCnnShallow, Arch::KooCnnLocal, Arch::KooCnnDist, Arch::DemoCnn] {
        for first in [Activation::Relu, Activation::Exponential] {
            for length in [200, 123] {
                let (spec, network) = model(arch, first, length, 3, 3 + length as u64);
                let engine = CnnEngine::new(&spec, &network).expect("a convolutional model");
                // Rows 0–3 one-hot, row 4 with N positions (every base there is a mutation).
                let x = inputs(5, 4, length, 5);
                let class_of = |r: usize| (r + 1) % 3;
                let fast = engine.ism(x.view(), &class_of);
                let naive = naive_ism(&engine, &x, &class_of);
                let diff = fast.iter().zip(&naive).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                let scale = naive.iter().fold(0f32, |m, v| m.max(v.abs()));
                println!(
                    "{} {} L={length}: fast vs naive ISM {diff:.1e} (max |attr| {scale:.2e})",
                    arch.name(),
                    first.name()
                );
                assert!(diff <= 1e-4 * scale.max(1.0), "{} {} L={length}: {diff}", arch.name(), first.name());
                assert!(scale > 1e-4, "the maps are not trivially zero");
                // Reference bases score exactly 0.
                assert_eq!(fast[[0, (0..4).find(|&b| x[[0, b, 7]] == 1.0).unwrap(), 7]], 0.0);
            }
        }
    }
}

#[test]
fn substitutions_equal_forward_passes_of_the_mutated_rows() {
    for arch in [Arch::KooCnnDeep, Arch::KooCnnShallow, Arch::KooCnnDist] {
        let length = 200;
        let (spec, network) = model(arch, Activation::Relu, length, 4, 11);
        let engine = CnnEngine::new(&spec, &network).expect("a convolutional model");
        let x = inputs(4, 4, length, 9);
        // Row 0: one substitution at the centre; row 1: none; row 2: both ends and two bases at
        // one position; row 3 (with N positions): three.
        let mutants =
            vec![vec![(100, 2)], vec![], vec![(0, 1), (199, 3), (57, 0), (57, 3)], vec![(5, 0), (100, 1), (150, 2)]];
        let (reference, mutated) = engine.substitutions(x.view(), &mutants);
        let full = engine.logits(x.view());
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * b.abs().max(1.0);
        assert!(reference.iter().zip(&full).all(|(a, b)| close(*a, *b)), "{}: reference logits", arch.name());
        let mut j = 0;
        for (row, list) in mutants.iter().enumerate() {
            for &(p, b) in list {
                let mut one = x.slice(ndarray::s![row..row + 1, .., ..]).to_owned();
                one.slice_mut(ndarray::s![0, .., p]).fill(0.0);
                one[[0, b, p]] = 1.0;
                let want = engine.logits(one.view());
                for k in 0..4 {
                    assert!(close(mutated[[j, k]], want[[0, k]]), "{} row {row} ({p}, {b}) class {k}", arch.name());
                }
                j += 1;
            }
        }
        assert_eq!(j, mutated.nrows());
    }
}

#[test]
fn scanning_equals_predicting_each_window() {
    for arch in [Arch::KooCnnDeep, Arch::KooCnnShallow, Arch::KooCnnLocal, Arch::KooCnnDist, Arch::DemoCnn] {
        for first in [Activation::Relu, Activation::Exponential] {
            let length = 200;
            let (spec, network) = model(arch, first, length, 3, 17);
            let engine = CnnEngine::new(&spec, &network).expect("a convolutional model");
            // A 1,400-position sequence (one row of `inputs`, with its N run), position-major.
            let long = inputs(5, 4, 1400, 9);
            let row = long.index_axis(ndarray::Axis(0), 4);
            let sequence: Vec<f32> = (0..1400).flat_map(|p| (0..4).map(move |c| row[[c, p]])).collect();
            for stride in [1, 7, 48, 100] {
                let starts: Vec<usize> = (0..=1400 - length).step_by(stride).collect();
                let t = std::time::Instant::now();
                let scanned = engine.scan(&sequence, &starts);
                let scan_s = t.elapsed().as_secs_f64();
                let windows = Array3::from_shape_fn((starts.len(), 4, length), |(w, c, p)| row[[c, starts[w] + p]]);
                let t = std::time::Instant::now();
                let direct = engine.logits(windows.view());
                let direct_s = t.elapsed().as_secs_f64();
                let diff = worst(scanned.as_slice().unwrap(), direct.as_slice().unwrap());
                println!(
                    "{} {} stride {stride}: {} windows, scan vs per-window {diff:.1e} ({scan_s:.3} s vs {direct_s:.3} s, not a benchmark)",
                    arch.name(),
                    first.name(),
                    starts.len()
                );
                assert!(diff <= 1e-5, "{} {} stride {stride}: {diff}", arch.name(), first.name());
            }
        }
    }
}

/// Each row's positions rotated by `shift`: a reference with the row's base composition.
fn rotated(x: &Array3<f32>, shift: usize) -> Array3<f32> {
    let (n, c, l) = x.dim();
    Array3::from_shape_fn((n, c, l), |(r, ch, p)| x[[r, ch, (p + shift) % l]])
}

#[test]
fn deeplift_sums_to_the_output_change_and_is_the_gradient_at_its_own_input() {
    for arch in [Arch::KooCnnDeep, Arch::KooCnnShallow, Arch::KooCnnLocal, Arch::KooCnnDist, Arch::DemoCnn] {
        for first in [Activation::Relu, Activation::Exponential] {
            let (classes, rows, length) = (3, 6, 200);
            let (spec, network) = model(arch, first, length, classes, 19);
            let engine = CnnEngine::new(&spec, &network).expect("a convolutional model");
            let x = inputs(rows, 4, length, 5);
            let class_of = |r: usize| r % classes;
            let logits = engine.logits(x.view());
            // Completeness (summation to delta): Σ (x − x′)·m = F(x) − F(x′).
            let reference = rotated(&x, 37);
            let dl = engine.deeplift(x.view(), reference.view(), &class_of);
            let reference_logits = engine.logits(reference.view());
            let mut worst_gap = 0f32;
            for r in 0..rows {
                let k = class_of(r);
                assert!((dl.logits[r] - logits[[r, k]]).abs() <= 1e-6 * logits[[r, k]].abs().max(1.0));
                assert!(
                    (dl.reference_logits[r] - reference_logits[[r, k]]).abs()
                        <= 1e-6 * reference_logits[[r, k]].abs().max(1.0)
                );
                let sum: f32 = (0..4)
                    .flat_map(|c| (0..length).map(move |p| (c, p)))
                    .map(|(c, p)| (x[[r, c, p]] - reference[[r, c, p]]) * dl.multipliers[[r, c, p]])
                    .sum();
                let change = dl.logits[r] - dl.reference_logits[r];
                worst_gap = worst_gap.max((sum - change).abs() / change.abs().max(1.0));
            }
            // And the multipliers are not the gradient (the rule did something).
            let (_, gradient) = engine.logits_and_gradients(x.view(), &class_of);
            let apart = worst(dl.multipliers.as_slice().unwrap(), gradient.as_slice().unwrap());
            // Against its own input every secant falls back to the derivative and every pool
            // window to its argmax: the multipliers are the gradient.
            let same = engine.deeplift(x.view(), x.view(), &class_of);
            let gap_to_gradient = worst(same.multipliers.as_slice().unwrap(), gradient.as_slice().unwrap());
            println!(
                "{} {}: completeness gap {worst_gap:.1e}, DeepLIFT(x, x) vs gradient {gap_to_gradient:.1e}, DeepLIFT vs gradient {apart:.1e}",
                arch.name(),
                first.name()
            );
            assert!(worst_gap <= 1e-4, "{} {}: Σ contributions − ΔF = {worst_gap}", arch.name(), first.name());
            assert!(gap_to_gradient <= 1e-6, "{} {}: {gap_to_gradient}", arch.name(), first.name());
            assert!(apart > 1e-3, "{} {}: multipliers equal the gradient", arch.name(), first.name());
        }
    }
}
