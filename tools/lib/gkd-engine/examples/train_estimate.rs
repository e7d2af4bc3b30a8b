//! A measured estimate of what a hand-written training step on the engine would cost, made
//! before it was written: every part of a training step is timed on this machine with the
//! engine's own kernels and the model's real shapes, and the parts are added.
//!
//! - forward + backward to the input: the engine's saliency pass on a batch (it already runs every
//!   layer's forward GEMM and input-gradient GEMM, activation and pooling backward);
//! - weight gradients: per convolution dW = X_colᵀ · dY, one GEMM over the batch's positions read
//!   in place as the forward pass reads them (a scatter-add of dY rows on one-hot input for the
//!   first layer), and dW = Xᵀ · dY per dense layer, split over the threads like the forward pass;
//! - training-mode BatchNorm (batch statistics forward, their gradient backward) and dropout:
//!   three passes over every normalised activation, timed as such;
//! - Adam: one pass over every parameter with its two moment buffers.
//!
//! Usage: `train_estimate ARCH [BATCH] [STEPS]`; threads: RAYON_NUM_THREADS. Prints one line:
//! `ARCH BATCH samples/s forward_backward_ms weight_grad_ms batchnorm_dropout_ms adam_ms params`.

use std::time::Instant;

use burn::tensor::Device;
use gkd_engine::{CnnEngine, MatRef, matmul};
use gkd_genomics::rng::SeededRng;
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::model::ModelSpec;
use ndarray::Array3;
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Median seconds of `reps` runs of `f`.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut runs: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[reps / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arch = args.get(1).map(String::as_str).unwrap_or("koo-cnn-deep").parse::<Arch>().expect("architecture name");
    let batch: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100);
    let reps: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(21);
    let (classes, length) = (12, 200);
    let threads = rayon::current_num_threads().max(1);

    let device = Device::flex();
    device.seed(1);
    let spec = ModelSpec::new(arch, 4, length, classes, Activation::Relu);
    let network = spec.build(&device).expect("architecture fits 4 x 200");
    let engine = CnnEngine::new(&spec, &network).expect("a convolutional architecture");
    let layers = engine.layers().clone();
    let mut rng = SeededRng::new(1, 0);
    let bases: Vec<usize> = (0..batch * length).map(|_| rng.below(4)).collect();
    let x = Array3::from_shape_fn((batch, 4, length), |(n, c, l)| f32::from(bases[n * length + l] == c));
    let noise =
        |n: usize, rng: &mut SeededRng| -> Vec<f32> { (0..n).map(|_| rng.below(1000) as f32 * 1e-3 - 0.5).collect() };

    // 1. Forward and backward to the input.
    let forward_backward = time(reps, || {
        std::hint::black_box(engine.logits_and_gradients(x.view(), &|_| 0));
    });

    // 2. Weight gradients with the real shapes, split over the threads by positions.
    let mut weight_grad = 0.0;
    let mut normalised = 0usize;
    for (i, conv) in layers.convs.iter().enumerate() {
        let (lp, lo) = (conv.padded_length(), conv.conv_length());
        // The batch's padded inputs end to end; every output row reads kernel × cin floats in place.
        let rows = batch * lp - conv.kernel + 1;
        let input = noise(batch * lp * conv.cin, &mut rng);
        let dy = noise(rows * conv.cout, &mut rng);
        normalised += batch * lo * conv.cout;
        let part = rows.div_ceil(threads);
        let mut partials = vec![vec![0f32; conv.kernel * conv.cin * conv.cout]; threads];
        weight_grad += if i == 0 && layers.one_hot {
            // One-hot input: dW[k, base(p + k), ·] += dY[p, ·] (no multiplications).
            let flat: Vec<usize> = (0..batch * lp).map(|p| bases[p % (batch * length)]).collect();
            time(reps, || {
                partials.par_iter_mut().enumerate().for_each(|(t, dw)| {
                    for r in t * part..((t + 1) * part).min(rows) {
                        let g = &dy[r * conv.cout..][..conv.cout];
                        for k in 0..conv.kernel {
                            let row = &mut dw[(k * 4 + flat[r + k]) * conv.cout..][..conv.cout];
                            row.iter_mut().zip(g).for_each(|(w, g)| *w += g);
                        }
                    }
                });
            })
        } else {
            time(reps, || {
                partials.par_iter_mut().enumerate().for_each(|(t, dw)| {
                    let (a, b) = (t * part, ((t + 1) * part).min(rows));
                    // X_colᵀ (kernel·cin × positions), read in place: element (i, j) = input[(a + j)·cin + i].
                    let x_col_t = MatRef {
                        data: &input[a * conv.cin..],
                        rows: conv.kernel * conv.cin,
                        cols: b - a,
                        row_stride: conv.cin,
                        transposed: true,
                    };
                    matmul(dw, x_col_t, MatRef::dense(&dy[a * conv.cout..b * conv.cout], b - a, conv.cout));
                });
            })
        };
    }
    for dense in &layers.dense {
        let input = noise(batch * dense.inputs, &mut rng);
        let dy = noise(batch * dense.outputs, &mut rng);
        if dense.relu {
            normalised += batch * dense.outputs;
        }
        let mut dw = vec![0f32; dense.inputs * dense.outputs];
        let cols = dense.inputs.div_ceil(threads);
        weight_grad += time(reps, || {
            dw.par_chunks_mut(cols * dense.outputs).enumerate().for_each(|(t, out)| {
                let (a, b) = (t * cols, ((t + 1) * cols).min(dense.inputs));
                // Xᵀ rows a..b: element (i, n) = input[n·inputs + a + i].
                let x_t =
                    MatRef { data: &input[a..], rows: b - a, cols: batch, row_stride: dense.inputs, transposed: true };
                matmul(out, x_t, MatRef::dense(&dy, batch, dense.outputs));
            });
        });
    }

    // 3. Training-mode BatchNorm and dropout: statistics, normalisation + mask, and the
    //    backward's two reductions: three passes over every normalised activation.
    let activations = noise(normalised, &mut rng);
    let mut out = vec![0f32; normalised];
    let chunk = normalised.div_ceil(threads);
    let batchnorm_dropout = time(reps, || {
        out.par_chunks_mut(chunk).zip(activations.par_chunks(chunk)).for_each(|(o, a)| {
            let (s, q) = a.iter().fold((0f32, 0f32), |(s, q), v| (s + v, q + v * v));
            let (mean, scale) = (s / a.len() as f32, 1.0 / (q / a.len() as f32 + 1e-5).sqrt());
            o.iter_mut()
                .zip(a)
                .enumerate()
                .for_each(|(i, (o, v))| *o = if i % 5 == 0 { 0.0 } else { (v - mean) * scale });
            let (ds, dq) = o.iter().zip(a).fold((0f32, 0f32), |(s, q), (o, v)| (s + o, q + o * v));
            o.iter_mut().for_each(|o| *o = *o * scale - ds * 1e-3 - dq * 1e-6);
        });
        std::hint::black_box(&out);
    });

    // 4. Adam over every parameter.
    let params: usize = layers.convs.iter().map(|c| c.forward.len() + 3 * c.cout).sum::<usize>()
        + layers.dense.iter().map(|d| d.weight.len() + 3 * d.outputs).sum::<usize>();
    let grads = noise(params, &mut rng);
    let (mut w, mut m, mut v) = (vec![0f32; params], vec![0f32; params], vec![0f32; params]);
    let adam = time(reps, || {
        let chunk = params.div_ceil(threads);
        w.par_chunks_mut(chunk)
            .zip(m.par_chunks_mut(chunk))
            .zip(v.par_chunks_mut(chunk))
            .zip(grads.par_chunks(chunk))
            .for_each(|(((w, m), v), g)| {
                for i in 0..w.len() {
                    m[i] = 0.9 * m[i] + 0.1 * g[i];
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                    w[i] -= 1e-3 * m[i] / (v[i].sqrt() + 1e-8);
                }
            });
    });

    let step = forward_backward + weight_grad + batchnorm_dropout + adam;
    println!(
        "{} {batch} {:.1} {:.2} {:.2} {:.2} {:.3} {params}",
        arch.name(),
        batch as f64 / step,
        forward_backward * 1e3,
        weight_grad * 1e3,
        batchnorm_dropout * 1e3,
        adam * 1e3
    );
}
