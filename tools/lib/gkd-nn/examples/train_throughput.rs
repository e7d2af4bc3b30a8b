//! Training throughput of an architecture on random one-hot DNA (bench/train_throughput.sh
//! compares it with the same architecture in PyTorch).
//!
//! Usage: `train_throughput ARCH [BATCH] [STEPS] [WARMUP]`; prints `ARCH BATCH samples_per_second`.
//! Threads: RAYON_NUM_THREADS (flex runs on rayon's global pool).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use gkd_genomics::rng::SeededRng;
use gkd_nn::arch::Arch;
use gkd_nn::layers::Activation;
use gkd_nn::loss::{Head, training_loss};
use gkd_nn::model::ModelSpec;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arch = args.get(1).map(String::as_str).unwrap_or("koo-cnn-deep").parse::<Arch>().expect("architecture name");
    let batch: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100);
    let steps: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(50);
    let warmup: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(5);
    let (classes, length) = (12, 200);

    let device = Device::flex().autodiff();
    device.seed(1);
    let spec = ModelSpec::new(arch, 4, length, classes, Activation::Relu);
    let mut network = spec.build(&device).expect("architecture fits 4 x 200");
    let mut optim = AdamConfig::new().init();
    let mut rng = SeededRng::new(1, 0);
    let mut x = vec![0f32; batch * 4 * length];
    for n in 0..batch {
        for l in 0..length {
            x[n * 4 * length + rng.below(4) * length + l] = 1.0;
        }
    }
    let y: Vec<f32> = (0..batch * classes).map(|_| rng.below(2) as f32).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [batch, 4, length]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(y, [batch, classes]), &device);

    let mut timed = None;
    for step in 0..warmup + steps {
        if step == warmup {
            timed = Some(Instant::now());
        }
        let parts = training_loss(Head::Sigmoid, network.forward(x.clone()), y.clone(), None);
        let _loss = parts.total.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(parts.total.backward(), &network);
        network = optim.step(1e-3, network, grads);
    }
    let seconds = timed.expect("steps > 0").elapsed().as_secs_f64();
    println!(
        "{} {batch} {:.1} params={}",
        arch.name(),
        (steps * batch) as f64 / seconds,
        gkd_nn::model::trainable_params(&network)
    );
}
