//! One forward (and, on request, backward) pass over a sub-batch of rows, in buffers that are
//! kept and reused from one sub-batch to the next.
//!
//! Layout: every activation is position-major, (rows, positions, channels), with each row's
//! 'same' padding stored as zero positions around it. A convolution over a sub-batch is then one
//! GEMM whose left matrix is the input buffer itself read with overlapping rows (output position
//! r reads the `kernel × channels` floats from position r on); the `kernel − 1` rows that
//! straddle two input rows are computed and ignored.

use gkd_nn::layers::Activation;

use crate::dispatch::avx2_dispatch;
use crate::layers::{ConvLayer, DenseLayer, Layers};
use crate::matmul::{MatRef, matmul};

/// How the first layer reads a padded input position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// Exactly one channel is 1, the others 0: the base.
    Base(u8),
    /// Every channel is 0 (padding, or an unknown base encoded as zeros).
    Zero,
    /// One channel nonzero, not 1 (a one-hot input scaled, as on IG's path from a zero
    /// baseline): read as that one number.
    Scaled(u8),
    /// Anything else (0.25s for N, interpolated inputs): read as numbers.
    Mixed,
}

/// Buffers of one sub-batch, reused across sub-batches.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Per conv layer, its padded input (rows, padded positions, cin).
    pub(crate) inputs: Vec<Vec<f32>>,
    /// Per conv layer, the activation before pooling (rows, conv positions, cout): kept for
    /// the backward pass.
    pub(crate) activations: Vec<Vec<f32>>,
    /// Per conv layer, the position within its pool window each pooled value came from.
    pub(crate) argmax: Vec<Vec<u32>>,
    /// Keep the pre-activations below (DeepLIFT's rescale rule needs them).
    pub(crate) keep_pre: bool,
    /// Per conv layer, with `keep_pre`: the convolution's output before the activation (rows,
    /// conv positions, cout).
    pub(crate) pre: Vec<Vec<f32>>,
    /// Per dense layer, with `keep_pre`: its output before the ReLU (rows, outputs).
    pub(crate) dense_pre: Vec<Vec<f32>>,
    /// GEMM output, and reused as a gradient buffer.
    scratch: Vec<f32>,
    /// The first convolution's output before bias and activation, in GEMM row order (row
    /// `r · padded length + position`): where fast ISM starts from.
    pub(crate) first_conv: Vec<f32>,
    /// First-layer reading of each padded input position.
    columns: Vec<Column>,
    /// The reduced features (rows, features) and, under a global max, where each came from.
    pub(crate) features: Vec<f32>,
    pub(crate) feature_argmax: Vec<u32>,
    /// Per dense layer, its output (rows, outputs).
    pub(crate) dense: Vec<Vec<f32>>,
    /// Gradient buffers.
    grad_a: Vec<f32>,
    grad_b: Vec<f32>,
}

/// How the first layer reads each 4-channel position of `input`: a base, zeros, or numbers.
pub(crate) fn classify_columns(input: &[f32], columns: &mut Vec<Column>) {
    columns.clear();
    columns.extend(input.chunks_exact(4).map(|v| {
        let ones = v.iter().filter(|&&x| x == 1.0).count();
        let zeros = v.iter().filter(|&&x| x == 0.0).count();
        match (ones, zeros) {
            (1, 3) => Column::Base(v.iter().position(|&x| x == 1.0).expect("one 1") as u8),
            (0, 4) => Column::Zero,
            (0, 3) => Column::Scaled(v.iter().position(|&x| x != 0.0).expect("one nonzero") as u8),
            _ => Column::Mixed,
        }
    }));
}

/// The shape of a first-layer convolution over `rows` padded rows laid end to end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GatherShape {
    /// Filters.
    pub cout: usize,
    /// Filter width.
    pub kernel: usize,
    /// Padded positions per row.
    pub padded: usize,
    /// Output positions per row.
    pub outputs: usize,
    /// Rows.
    pub rows: usize,
}

avx2_dispatch! {
/// The first convolution on one-hot DNA as a gather-add: output row `r · padded + l` (l below
/// `outputs`) is the sum over the window of the weight rows (`kernel · 4 + base`) its bases
/// pick; positions that are not one-hot are multiplied out. `weight` is (kernel · 4) × cout;
/// `out` is added to.
pub(crate) fn gather_conv(weight: &[f32], shape: GatherShape, input: &[f32], columns: &[Column], out: &mut [f32]) {
    let GatherShape { cout, kernel, padded, outputs, rows } = shape;
    for r in 0..rows {
        for l in 0..outputs {
            let out_row = r * padded + l;
            let row = &mut out[out_row * cout..(out_row + 1) * cout];
            // Blocks of 32 filters summed in registers over the window, stored once.
            let mut f0 = 0;
            while f0 + GATHER_BLOCK <= cout {
                let block: &mut [f32; GATHER_BLOCK] = (&mut row[f0..f0 + GATHER_BLOCK]).try_into().expect("a block");
                let mut acc = *block;
                gather_window(&mut acc, weight, cout, f0, kernel, &columns[out_row..], &input[out_row * 4..]);
                *block = acc;
                f0 += GATHER_BLOCK;
            }
            if f0 < cout {
                gather_window(&mut row[f0..], weight, cout, f0, kernel, &columns[out_row..], &input[out_row * 4..]);
            }
        }
    }
}
}

/// Filters one gather block sums in registers.
const GATHER_BLOCK: usize = 32;

/// `acc[i] += Σ_t (what window column t contributes to filter f0 + i)` over the `kernel`
/// columns starting at `columns[0]` (their values from `input[0..]`), taps in order.
#[inline(always)]
fn gather_window(
    acc: &mut [f32],
    weight: &[f32],
    cout: usize,
    f0: usize,
    kernel: usize,
    columns: &[Column],
    input: &[f32],
) {
    let width = acc.len();
    for t in 0..kernel {
        let w_of = |c: usize| &weight[(t * 4 + c) * cout + f0..][..width];
        match columns[t] {
            Column::Base(b) => acc.iter_mut().zip(w_of(b as usize)).for_each(|(a, w)| *a += w),
            Column::Zero => {}
            // Adding the other channels' zero products would change nothing.
            Column::Scaled(b) => {
                let v = input[t * 4 + b as usize];
                acc.iter_mut().zip(w_of(b as usize)).for_each(|(a, w)| *a += v * w);
            }
            Column::Mixed => {
                for c in 0..4 {
                    let v = input[t * 4 + c];
                    acc.iter_mut().zip(w_of(c)).for_each(|(a, w)| *a += v * w);
                }
            }
        }
    }
}

/// The maximum over positions of each channel of `rows` position-major rows (rows, positions,
/// channels) into `features` (rows, channels), with the position each came from.
pub(crate) fn global_max(
    pooled: &[f32],
    (rows, positions, channels): (usize, usize, usize),
    features: &mut Vec<f32>,
    argmax: &mut Vec<u32>,
) {
    resize(features, rows * channels);
    argmax.clear();
    argmax.resize(rows * channels, 0);
    for r in 0..rows {
        for ch in 0..channels {
            let (mut best, mut at) = (f32::NEG_INFINITY, 0u32);
            for p in 0..positions {
                let v = pooled[(r * positions + p) * channels + ch];
                if v > best {
                    (best, at) = (v, p as u32);
                }
            }
            features[r * channels + ch] = best;
            argmax[r * channels + ch] = at;
        }
    }
}

pub(crate) fn resize(buffer: &mut Vec<f32>, len: usize) {
    buffer.clear();
    buffer.resize(len, 0.0);
}

impl Workspace {
    /// Forward pass of `rows` inputs given channel-major as (rows, channels, positions) in `x`;
    /// returns the logits (rows × classes) in `logits`.
    pub fn forward(&mut self, layers: &Layers, x: &[f32], rows: usize, logits: &mut Vec<f32>) {
        self.load_input(layers, x, rows);
        self.convs(layers, rows, 0..layers.convs.len());
        self.head(layers, rows, logits);
    }

    /// Lay out `rows` inputs (rows, channels, positions) as the first layer's padded,
    /// position-major input.
    pub fn load_input(&mut self, layers: &Layers, x: &[f32], rows: usize) {
        let (c0, l0) = (layers.channels, layers.length);
        self.inputs.resize_with(layers.convs.len() + 1, Vec::new);
        self.activations.resize_with(layers.convs.len(), Vec::new);
        self.argmax.resize_with(layers.convs.len(), Vec::new);
        self.pre.resize_with(if self.keep_pre { layers.convs.len() } else { 0 }, Vec::new);
        // The first input, transposed to position-major with its padding.
        let (pl, lp) = layers.convs.first().map_or((0, l0), |c| (c.pad_left, c.padded_length()));
        let input = &mut self.inputs[0];
        resize(input, rows * lp * c0);
        for r in 0..rows {
            for c in 0..c0 {
                let from = &x[(r * c0 + c) * l0..(r * c0 + c + 1) * l0];
                for (p, v) in from.iter().enumerate() {
                    input[(r * lp + pl + p) * c0 + c] = *v;
                }
            }
        }
    }

    /// Convolution blocks `blocks` of `rows` rows, each reading the previous one's output.
    pub fn convs(&mut self, layers: &Layers, rows: usize, blocks: std::ops::Range<usize>) {
        for i in blocks {
            let layer = &layers.convs[i];
            if i == 0 && layers.one_hot {
                self.first_layer(layer, rows);
            } else {
                let (lp, k) = (layer.padded_length(), layer.kernel);
                let m = rows * lp + 1 - k;
                resize(&mut self.scratch, m * layer.cout);
                let a = MatRef::strided(&self.inputs[i], m, k * layer.cin, layer.cin);
                matmul(&mut self.scratch, a, MatRef::dense(&layer.forward, k * layer.cin, layer.cout));
            }
            if i == 0 {
                self.first_conv.clone_from(&self.scratch);
            }
            let next_pad = layers.convs.get(i + 1).map_or((0, 0), |n| (n.pad_left, n.pad_right));
            let outputs = ConvOutputs {
                next: &mut self.inputs[i + 1],
                activations: &mut self.activations[i],
                argmax: &mut self.argmax[i],
                pre: self.pre.get_mut(i),
            };
            finish_conv(layer, rows, &self.scratch, next_pad, outputs);
        }
    }

    /// Reduction, dense layers and output of `rows` rows after the last convolution block.
    pub fn head(&mut self, layers: &Layers, rows: usize, logits: &mut Vec<f32>) {
        self.reduce(layers, rows);
        self.dense_layers(layers, rows, logits);
    }

    /// The feature vectors (rows × features) of the last pooled output, into `self.features`:
    /// flattened, or each channel's maximum over positions for a global-max head.
    pub fn reduce(&mut self, layers: &Layers, rows: usize) {
        let (c0, l0) = (layers.channels, layers.length);
        // Reduce: the last pooled output is (rows, positions, channels), already flat.
        let last = &self.inputs[layers.convs.len()];
        let (c, l) = layers.convs.last().map_or((c0, l0), |c| (c.cout, c.pooled_length()));
        if layers.global_max {
            global_max(last, (rows, l, c), &mut self.features, &mut self.feature_argmax);
        } else {
            resize(&mut self.features, rows * c * l);
            self.features.copy_from_slice(&last[..rows * c * l]);
        }
    }

    /// The dense layers on `self.features` (rows × features), the last one's outputs into `logits`.
    fn dense_layers(&mut self, layers: &Layers, rows: usize, logits: &mut Vec<f32>) {
        // Dense layers.
        self.dense.resize_with(layers.dense.len(), Vec::new);
        self.dense_pre.resize_with(if self.keep_pre { layers.dense.len() } else { 0 }, Vec::new);
        for (j, layer) in layers.dense.iter().enumerate() {
            let mut out = std::mem::take(&mut self.dense[j]);
            let input = if j == 0 { &self.features } else { &self.dense[j - 1] };
            match self.dense_pre.get_mut(j) {
                Some(pre) if layer.relu => {
                    dense_linear(layer, input, rows, pre);
                    out.clone_from(pre);
                    out.iter_mut().filter(|y| **y < 0.0).for_each(|y| *y = 0.0);
                }
                _ => dense_forward(layer, input, rows, &mut out),
            }
            self.dense[j] = out;
        }
        logits.clear();
        logits.extend_from_slice(self.dense.last().expect("an output layer"));
    }

    /// Early-exit logits (rows × classes) from the output of block `exit.after`, computed by
    /// [`convs`](Self::convs) up to that block: global max over its positions, then the linear
    /// head.
    pub fn exit_logits(&self, layers: &Layers, exit: &crate::layers::ExitLayer, rows: usize) -> Vec<f32> {
        let block = &layers.convs[exit.after];
        let next = &layers.convs[exit.after + 1];
        let (c, l, lp, pl) = (block.cout, block.pooled_length(), next.padded_length(), next.pad_left);
        let buffer = &self.inputs[exit.after + 1];
        let mut features = vec![f32::NEG_INFINITY; rows * c];
        for r in 0..rows {
            for p in 0..l {
                let at = &buffer[(r * lp + pl + p) * c..][..c];
                features[r * c..(r + 1) * c].iter_mut().zip(at).for_each(|(f, v)| *f = f.max(*v));
            }
        }
        let mut out = Vec::new();
        dense_forward(&exit.head, &features, rows, &mut out);
        out
    }

    /// Keep only rows `keep` (in order) of block `after`'s output, for the deeper blocks.
    pub fn keep_rows(&mut self, layers: &Layers, after: usize, keep: &[usize]) {
        let next = &layers.convs[after + 1];
        let width = next.padded_length() * next.cin;
        let buffer = &mut self.inputs[after + 1];
        for (to, &from) in keep.iter().enumerate() {
            if to != from {
                buffer.copy_within(from * width..(from + 1) * width, to * width);
            }
        }
    }

    /// The first convolution on one-hot DNA: each output is the sum of the weight rows its
    /// window's bases pick (no multiplications); positions that are not one-hot are read as
    /// numbers. Writes the same rows a GEMM would into `scratch`.
    fn first_layer(&mut self, layer: &ConvLayer, rows: usize) {
        let (lp, k, cout) = (layer.padded_length(), layer.kernel, layer.cout);
        classify_columns(&self.inputs[0], &mut self.columns);
        resize(&mut self.scratch, (rows * lp + 1 - k) * cout);
        let shape = GatherShape { cout, kernel: k, padded: lp, outputs: layer.conv_length(), rows };
        gather_conv(&layer.forward, shape, &self.inputs[0], &self.columns, &mut self.scratch);
    }

    /// Gradients of Σ_r logit[r, class_of(r)] with respect to every input value, channel-major
    /// (rows, channels, positions), after [`forward`](Self::forward) on the same rows.
    pub fn backward(&mut self, layers: &Layers, rows: usize, class_of: &dyn Fn(usize) -> usize, grad: &mut Vec<f32>) {
        let classes = layers.classes();
        let mut upstream = std::mem::take(&mut self.grad_a);
        let mut below = std::mem::take(&mut self.grad_b);
        resize(&mut upstream, rows * classes);
        for r in 0..rows {
            upstream[r * classes + class_of(r)] = 1.0;
        }
        // Dense layers, last first: d(input) = d(output) · Wᵀ, through ReLU where there is one.
        for j in (0..layers.dense.len()).rev() {
            let layer = &layers.dense[j];
            if layer.relu {
                let out = &self.dense[j];
                upstream.iter_mut().zip(out).for_each(|(g, y)| *g = if *y > 0.0 { *g } else { 0.0 });
            }
            resize(&mut below, rows * layer.inputs);
            matmul(
                &mut below,
                MatRef::dense(&upstream, rows, layer.outputs),
                MatRef::transpose_of(&layer.weight, layer.inputs, layer.outputs),
            );
            std::mem::swap(&mut upstream, &mut below);
        }
        // The reduction: back to the last pooled output (rows, positions, channels).
        let (c, l) = layers.convs.last().map_or((layers.channels, layers.length), |c| (c.cout, c.pooled_length()));
        if layers.global_max {
            resize(&mut below, rows * l * c);
            for r in 0..rows {
                for ch in 0..c {
                    let p = self.feature_argmax[r * c + ch] as usize;
                    below[(r * l + p) * c + ch] = upstream[r * c + ch];
                }
            }
            std::mem::swap(&mut upstream, &mut below);
        }
        // Convolution blocks, last first. `upstream` is d(pooled output), (rows, lq, cout).
        for i in (0..layers.convs.len()).rev() {
            let layer = &layers.convs[i];
            let (lc, lq, cout, k) = (layer.conv_length(), layer.pooled_length(), layer.cout, layer.kernel);
            // d(conv output before activation) into a buffer with kernel − 1 zero positions on
            // each side of every row: the input gradient is then a 'valid' convolution of it
            // with the flipped kernel, one GEMM with overlapping rows again.
            let span = lc + 2 * (k - 1);
            resize(&mut below, rows * span * cout);
            let act = &self.activations[i];
            let argmax = &self.argmax[i];
            for r in 0..rows {
                for q in 0..lq {
                    for f in 0..cout {
                        let l = q * layer.pool + argmax[(r * lq + q) * cout + f] as usize;
                        let y = act[(r * lc + l) * cout + f];
                        let slope = match layer.activation {
                            Activation::Relu => (y > 0.0) as u8 as f32,
                            Activation::Exponential => y,
                            Activation::Identity => 1.0,
                        };
                        below[(r * span + k - 1 + l) * cout + f] += upstream[(r * lq + q) * cout + f] * slope;
                    }
                }
            }
            let m = rows * span + 1 - k;
            resize(&mut self.scratch, m * layer.cin);
            matmul(
                &mut self.scratch,
                MatRef::strided(&below, m, k * cout, cout),
                MatRef::dense(&layer.backward, k * cout, layer.cin),
            );
            // Row r·span + p' is d(padded input position p'); keep the unpadded positions.
            resize(&mut upstream, rows * layer.length_in * layer.cin);
            for r in 0..rows {
                let from = (r * span + layer.pad_left) * layer.cin;
                let to = r * layer.length_in * layer.cin;
                let n = layer.length_in * layer.cin;
                upstream[to..to + n].copy_from_slice(&self.scratch[from..from + n]);
            }
        }
        // (rows, positions, channels) → (rows, channels, positions).
        let (c0, l0) = (layers.channels, layers.length);
        resize(grad, rows * c0 * l0);
        for r in 0..rows {
            for p in 0..l0 {
                for ch in 0..c0 {
                    grad[(r * c0 + ch) * l0 + p] = upstream[(r * l0 + p) * c0 + ch];
                }
            }
        }
        self.grad_a = upstream;
        self.grad_b = below;
    }
}

/// Where a convolution block's results go.
struct ConvOutputs<'a> {
    /// The next layer's padded input.
    next: &'a mut Vec<f32>,
    /// The activation before pooling (rows, conv positions, cout).
    activations: &'a mut Vec<f32>,
    /// Where in its window each pooled value came from.
    argmax: &'a mut Vec<u32>,
    /// The pre-activations, when kept.
    pre: Option<&'a mut Vec<f32>>,
}

avx2_dispatch! {
/// Bias, activation and max-pool of a convolution's GEMM rows `scratch` into the next layer's
/// input, padded by `next_pad`.
fn finish_conv(layer: &ConvLayer, rows: usize, scratch: &[f32], next_pad: (usize, usize), out: ConvOutputs<'_>) {
    let (lp, lc, lq, cout, pool) =
        (layer.padded_length(), layer.conv_length(), layer.pooled_length(), layer.cout, layer.pool);
    let next_len = lq + next_pad.0 + next_pad.1;
    let ConvOutputs { next, activations: act, argmax, mut pre } = out;
    resize(next, rows * next_len * cout);
    resize(act, rows * lc * cout);
    if let Some(pre) = pre.as_deref_mut() {
        resize(pre, rows * lc * cout);
    }
    argmax.clear();
    argmax.resize(rows * lq * cout, 0);
    for r in 0..rows {
        let from = &scratch[r * lp * cout..][..lc * cout];
        let to = &mut act[r * lc * cout..][..lc * cout];
        for (to, from) in to.chunks_exact_mut(cout).zip(from.chunks_exact(cout)) {
            to.iter_mut().zip(from).zip(&layer.bias).for_each(|((a, z), b)| *a = z + b);
        }
        if let Some(pre) = pre.as_deref_mut() {
            pre[r * lc * cout..][..lc * cout].copy_from_slice(to);
        }
        activate_all(layer.activation, to);
        for q in 0..lq {
            let out = &mut next[(r * next_len + next_pad.0 + q) * cout..][..cout];
            let at = &mut argmax[(r * lq + q) * cout..][..cout];
            out.copy_from_slice(&act[(r * lc + q * pool) * cout..][..cout]);
            for j in 1..pool {
                let window = &act[(r * lc + q * pool + j) * cout..][..cout];
                keep_max(out, at, window, j as u32);
            }
        }
    }
}
}

/// `values[i] = act(values[i])` over a slice, the activation chosen once so that the loop
/// vectorises (inlined into the AVX2 builds of its callers).
#[inline(always)]
pub(crate) fn activate_all(activation: Activation, values: &mut [f32]) {
    match activation {
        Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Exponential => values.iter_mut().for_each(|v| *v = v.exp()),
        Activation::Identity => {}
    }
}

/// One step of a max-pool with its argmax: where `window[i] > out[i]`, `out[i] = window[i]`
/// and `at[i] = index` (strictly greater, so the first maximum wins); branch-free.
#[inline(always)]
pub(crate) fn keep_max<I: Copy>(out: &mut [f32], at: &mut [I], window: &[f32], index: I) {
    for ((o, a), &v) in out.iter_mut().zip(at.iter_mut()).zip(window) {
        let greater = v > *o;
        *a = if greater { index } else { *a };
        *o = if greater { v } else { *o };
    }
}

/// The activation of one value.
pub(crate) fn activate(activation: Activation, z: f32) -> f32 {
    match activation {
        Activation::Relu => z.max(0.0),
        Activation::Exponential => z.exp(),
        Activation::Identity => z,
    }
}

/// `out = relu?(input · W + b)` for `rows` input vectors.
pub(crate) fn dense_forward(layer: &DenseLayer, input: &[f32], rows: usize, out: &mut Vec<f32>) {
    dense_linear(layer, input, rows, out);
    if layer.relu {
        out.iter_mut().filter(|y| **y < 0.0).for_each(|y| *y = 0.0);
    }
}

/// `out = input · W + b` for `rows` input vectors (no activation).
fn dense_linear(layer: &DenseLayer, input: &[f32], rows: usize, out: &mut Vec<f32>) {
    resize(out, rows * layer.outputs);
    matmul(out, MatRef::dense(input, rows, layer.inputs), MatRef::dense(&layer.weight, layer.inputs, layer.outputs));
    for row in out.chunks_mut(layer.outputs) {
        row.iter_mut().zip(&layer.bias).for_each(|(y, b)| *y += b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gather-add equals the convolution written out, for every kind of column: a base, zero
    /// padding, a scaled base (IG from a zero baseline) and a mixture (N as 0.25s); with fewer
    /// filters than a register block and with one block and a remainder.
    #[test]
    fn the_gather_equals_the_convolution_for_every_kind_of_column() {
        for cout in [3, GATHER_BLOCK + 5] {
            gather_matches_the_convolution(cout);
        }
    }

    fn gather_matches_the_convolution(cout: usize) {
        let (kernel, padded) = (2, 5);
        #[rustfmt::skip]
        let input = [
            0.0, 1.0, 0.0, 0.0,   0.0, 0.0, 0.0, 0.0,   0.0, 0.0, 0.3, 0.0,
            0.25, 0.25, 0.25, 0.25,   0.0, 0.0, 0.0, -2.0,
        ];
        let weight: Vec<f32> = (0..kernel * 4 * cout).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut columns = Vec::new();
        classify_columns(&input, &mut columns);
        assert_eq!(columns, [Column::Base(1), Column::Zero, Column::Scaled(2), Column::Mixed, Column::Scaled(3)]);
        let outputs = padded + 1 - kernel;
        let mut out = vec![0.0f32; padded * cout];
        let shape = GatherShape { cout, kernel, padded, outputs, rows: 1 };
        gather_conv(&weight, shape, &input, &columns, &mut out);
        for l in 0..outputs {
            for f in 0..cout {
                let by_hand: f32 = (0..kernel)
                    .flat_map(|t| (0..4).map(move |c| (t, c)))
                    .map(|(t, c)| input[(l + t) * 4 + c] * weight[(t * 4 + c) * cout + f])
                    .sum();
                assert!((out[l * cout + f] - by_hand).abs() < 1e-6, "{cout} filters: position {l}, filter {f}");
            }
        }
    }
}
