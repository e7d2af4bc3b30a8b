//! Throughput of the one-hot encoder alone (in memory, no file I/O), for BENCHMARKS.md.
//! Usage: onehot_kernel FASTA THREADS REPEATS → prints "bases fresh_s warm_s": the best time
//! encoding into a freshly allocated tensor (what the tool does: page faults included) and
//! into one reused, already-touched tensor (the encoder's own cost).

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use gkd_genomics::fasta;
use gkd_genomics::onehot::{EncodingTable, encode_batch, encode_into};
use ndarray::{Array3, Axis};
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let threads: usize = args.get(2).map_or(1, |t| t.parse().expect("threads"));
    let repeats: usize = args.get(3).map_or(5, |r| r.parse().expect("repeats"));
    let records = fasta::read_all(path, false).expect("readable FASTA");
    let seqs: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let length = seqs[0].len();
    let bases: usize = seqs.iter().map(|s| s.len()).sum();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let best = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            let (x, _) = pool.install(|| encode_batch(&seqs, length, true, 0.0));
            let s = t.elapsed().as_secs_f64();
            std::hint::black_box(x);
            s
        })
        .fold(f64::INFINITY, f64::min);
    let table = EncodingTable::new(0.0);
    let mut x = Array3::<f32>::zeros((seqs.len(), 4, length));
    let warm = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            pool.install(|| {
                x.axis_iter_mut(Axis(0)).into_par_iter().zip(seqs.par_iter()).for_each(|(row, s)| {
                    encode_into(s, row, true, &table);
                })
            });
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    std::hint::black_box(&x);
    println!("{bases} {best:.4} {warm:.4}");
}
