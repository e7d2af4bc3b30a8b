//! This machine's float32 GEMM rate with the gemm crate the engine uses: the practical peak the
//! engine's GFLOP/s are measured against (bench/engine.sh). Prints `threads GFLOP/s`.
//!   cargo run --release --example gemm_peak -p gkd-engine -- [SIZE] [THREADS]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let a: Vec<f32> = (0..n * n).map(|i| ((i * 7) % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| ((i * 5) % 11) as f32 * 0.1).collect();
    let mut c = vec![0f32; n * n];
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        // SAFETY: three distinct n × n row-major buffers.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                parallelism,
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    println!("{threads} {:.1}", 2.0 * (n * n * n) as f64 / best / 1e9);
}
