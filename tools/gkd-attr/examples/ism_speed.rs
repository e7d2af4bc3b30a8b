//! Naive against fast ISM on one architecture (the issue-5 benchmark's Rust side).
//! Usage: `ism_speed [ARCH] [ROWS] [LENGTH]`; prints seconds of each and the largest difference.
//! Threads: RAYON_NUM_THREADS.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use gkd_attr::fast_ism::ism_fast;
use gkd_attr::gradients::Target;
use gkd_attr::ism::ism_naive;
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::model::ModelSpec;
use ndarray::Array3;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arch = Arch::from_name(args.get(1).map(String::as_str).unwrap_or("koo-cnn-deep")).expect("architecture");
    let rows: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(20);
    let length: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(200);
    let device = Device::flex();
    device.seed(1);
    let spec = ModelSpec { arch, channels: 4, length, classes: 12, first_activation: Activation::Relu };
    let network = spec.build(&device).expect("fits").valid();
    let x = Array3::from_shape_fn((rows, 4, length), |(n, c, p)| ((n * 5 + p * 3 + p / 7) % 4 == c) as u8 as f32);
    let target = Target::Class(0);
    let t = Instant::now();
    let naive = ism_naive(&network, &x, &target, 600, &device);
    let naive_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fast = ism_fast(&network, &x, &target, 600, &device).expect("supported architecture");
    let fast_s = t.elapsed().as_secs_f64();
    let diff = (&naive - &fast).mapv(f32::abs).fold(0f32, |a, &b| a.max(b));
    println!(
        "{} rows={rows} L={length} naive={naive_s:.3}s fast={fast_s:.3}s speedup={:.2}x max_diff={diff:.2e}",
        arch.name(),
        naive_s / fast_s
    );
}
