//! A CPU inference engine for gkd's convolutional models (koo-cnn-deep, koo-cnn-shallow,
//! koo-cnn-local, koo-cnn-dist, demo-cnn, deepchrome): logits and input gradients, equal to
//! burn's evaluation-mode forward and backward passes to float32 rounding.
//!
//! What makes it fast on these models (docs/architecture.md, "The CPU engine"):
//! - BatchNorm in evaluation mode is an affine map per channel, folded into the convolution or
//!   dense weights in front of it once, when the engine is built.
//! - The first convolution on one-hot DNA needs no multiplication: each output is the sum of
//!   `kernel` weight rows picked by the bases in its window.
//! - The deeper convolutions are GEMMs on position-major buffers read in place (im2col without
//!   the copy), with the batch's rows laid end to end so that one GEMM covers the sub-batch.
//! - Buffers are kept per worker and reused across batches; sub-batches run in parallel on the
//!   rayon pool (gkd's `--threads`).
//!
//! [`train`] adds a training step for the same models (training-mode BatchNorm, dropout,
//! gradients of every parameter, Adam and SGD), which gkd-train uses by default on the CPU.

mod deeplift;
mod dispatch;
pub mod int8;
mod ism;
mod layers;
mod matmul;
mod pass;
mod qgemm;
pub mod runner;
mod scan;
pub mod train;

use std::sync::Mutex;

use gkd_nn::model::{ModelSpec, Network};
use ndarray::{Array2, Array3, ArrayView3};
use rayon::prelude::*;

pub use deeplift::DeepLift;
pub use layers::{ConvLayer, DenseLayer, ExitLayer, Layers};
pub use matmul::{MatRef, matmul};
pub use runner::{EngineChoice, Runner};
pub use train::EngineTrainer;

use pass::Workspace;

/// Rows per task: enough for GEMMs of useful size, few enough to spread a batch over threads.
pub(crate) const MAX_ROWS_PER_TASK: usize = 32;

/// Rows per parallel task for a batch of `n` rows: the batch spread over the threads, at most
/// [`MAX_ROWS_PER_TASK`].
fn rows_per_task(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1)).clamp(1, MAX_ROWS_PER_TASK)
}

/// A convolutional gkd model ready to run on the CPU.
#[derive(Debug)]
pub struct CnnEngine {
    layers: Layers,
    workspaces: Mutex<Vec<Workspace>>,
}

impl CnnEngine {
    /// The engine for `network`, or `None` when the architecture is not one it runs (the
    /// recurrent and attention models stay on burn).
    pub fn new(spec: &ModelSpec, network: &Network) -> Option<Self> {
        Layers::from_network(spec, network).map(|layers| Self { layers, workspaces: Mutex::new(Vec::new()) })
    }

    /// The folded layers.
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    /// A workspace from the pool (or a new one).
    pub(crate) fn workspace(&self) -> Workspace {
        self.workspaces.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default()
    }

    /// Return a workspace to the pool, its buffers kept for the next task.
    pub(crate) fn give_back(&self, ws: Workspace) {
        self.workspaces.lock().unwrap_or_else(|e| e.into_inner()).push(ws);
    }

    /// Logits (N, K) of every row of `x` (N, C, L).
    pub fn logits(&self, x: ArrayView3<'_, f32>) -> Array2<f32> {
        self.run(x, None).0
    }

    /// Logits (N, K) and, per row, the gradient of logit `class_of(row)` with respect to the
    /// row's input (N, C, L).
    pub fn logits_and_gradients(
        &self,
        x: ArrayView3<'_, f32>,
        class_of: &(dyn Fn(usize) -> usize + Sync),
    ) -> (Array2<f32>, Array3<f32>) {
        let (logits, grad) = self.run(x, Some(class_of));
        (logits, grad.expect("gradients were asked for"))
    }

    /// Logits with the early exit: per row, the exit's logits when `confident` accepts them
    /// (the deeper blocks are then skipped for that row), else the final logits; and which rows
    /// exited. `None` when the model has no exit.
    pub fn logits_with_exit(
        &self,
        x: ArrayView3<'_, f32>,
        confident: &(dyn Fn(&[f32]) -> bool + Sync),
    ) -> Option<(Array2<f32>, Vec<bool>)> {
        let exit = self.layers.exit.as_ref()?;
        let (n, c, l) = x.dim();
        assert_eq!((c, l), (self.layers.channels, self.layers.length), "input shape");
        let k = self.layers.classes();
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let per_task = rows_per_task(n);
        let mut logits = vec![0f32; n * k];
        let mut exited = vec![false; n];
        let blocks = self.layers.convs.len();
        logits.par_chunks_mut(per_task * k).zip(exited.par_chunks_mut(per_task)).enumerate().for_each(
            |(task, (out, done))| {
                let first = task * per_task;
                let rows = done.len();
                let mut ws = self.workspace();
                ws.load_input(&self.layers, &x[first * c * l..(first + rows) * c * l], rows);
                ws.convs(&self.layers, rows, 0..exit.after + 1);
                let early = ws.exit_logits(&self.layers, exit, rows);
                let mut deeper = Vec::new();
                for r in 0..rows {
                    let z = &early[r * k..(r + 1) * k];
                    if confident(z) {
                        out[r * k..(r + 1) * k].copy_from_slice(z);
                        done[r] = true;
                    } else {
                        deeper.push(r);
                    }
                }
                if !deeper.is_empty() {
                    ws.keep_rows(&self.layers, exit.after, &deeper);
                    ws.convs(&self.layers, deeper.len(), exit.after + 1..blocks);
                    let mut buffer = Vec::new();
                    ws.head(&self.layers, deeper.len(), &mut buffer);
                    for (i, &r) in deeper.iter().enumerate() {
                        out[r * k..(r + 1) * k].copy_from_slice(&buffer[i * k..(i + 1) * k]);
                    }
                }
                self.give_back(ws);
            },
        );
        Some((Array2::from_shape_vec((n, k), logits).expect("N x K"), exited))
    }

    fn run(
        &self,
        x: ArrayView3<'_, f32>,
        class_of: Option<&(dyn Fn(usize) -> usize + Sync)>,
    ) -> (Array2<f32>, Option<Array3<f32>>) {
        let (n, c, l) = x.dim();
        assert_eq!((c, l), (self.layers.channels, self.layers.length), "input shape");
        let k = self.layers.classes();
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let per_task = rows_per_task(n);
        let mut logits = vec![0f32; n * k];
        let mut grads = class_of.map(|_| vec![0f32; n * c * l]);
        let grad_chunks: Vec<Option<&mut [f32]>> = match grads.as_mut() {
            Some(g) => g.chunks_mut(per_task * c * l).map(Some).collect(),
            None => (0..n.div_ceil(per_task)).map(|_| None).collect(),
        };
        logits.par_chunks_mut(per_task * k).zip(grad_chunks).enumerate().for_each(|(task, (out, grad))| {
            let first = task * per_task;
            let rows = out.len() / k.max(1);
            let input = &x[first * c * l..(first + rows) * c * l];
            let mut ws = self.workspace();
            let mut buffer = Vec::new();
            ws.forward(&self.layers, input, rows, &mut buffer);
            out.copy_from_slice(&buffer);
            if let (Some(grad), Some(class_of)) = (grad, class_of) {
                ws.backward(&self.layers, rows, &|r| class_of(first + r), &mut buffer);
                grad.copy_from_slice(&buffer);
            }
            self.give_back(ws);
        });
        let logits = Array2::from_shape_vec((n, k), logits).expect("N x K");
        (logits, grads.map(|g| Array3::from_shape_vec((n, c, l), g).expect("N x C x L")))
    }
}
