//! The forward pass in training mode and the backward pass to every parameter, over one
//! mini-batch.
//!
//! Layout as in inference (crate::pass): activations are position-major (rows, positions,
//! channels), each row's 'same' padding stored as zero positions, and a convolution over a chunk
//! of rows is one GEMM reading its input in place. Training adds:
//! - BatchNorm with the batch's statistics (biased variance in the output, the running
//!   statistics updated as the model's settings say); its backward needs Σ dy and Σ dy·x̂ per
//!   channel over the batch;
//! - dropout masks from the network's seeded stream, drawn in the order and shape burn's layers
//!   draw them (row-major over (rows, channels, positions)) and stored position-major;
//! - weight gradients: dW = X_colᵀ · dZ per convolution, X_col read in place again (a
//!   scatter-add of dZ rows on one-hot input for the first layer), and dW = Xᵀ · dY per dense
//!   layer.
//!
//! A batch is cut into chunks of a size that depends on the batch size only; sums over the batch
//! (statistics, gradients) add the chunks' partial sums in chunk order, so a step gives the same
//! bytes whatever the thread count.

use gkd_nn::layers::{Activation, DropoutStream};
use rayon::prelude::*;

use super::net::{Conv, Dense, Net, Norm};
use crate::dispatch::avx2_dispatch;
use crate::layers::flipped_kernel;
use crate::matmul::{MatRef, matmul};
use crate::pass::{Column, GatherShape, activate_all, classify_columns, gather_conv, global_max, keep_max, resize};
use ndarray::{Array3, Axis};

/// Rows per parallel chunk of a batch of `rows` rows (a function of the batch size alone).
fn chunk_rows(rows: usize) -> usize {
    rows.div_ceil(8).max(1)
}

/// What a convolution block keeps from the forward pass for the backward pass.
#[derive(Debug, Default)]
pub(crate) struct ConvTape {
    /// GEMM rows (rows · padded, cout): the convolution's output, x̂ under BatchNorm.
    z: Vec<f32>,
    /// (rows, conv positions, cout) after the activation, before dropout.
    act: Vec<f32>,
    /// The dropout mask, position-major over the tensor it applies to; empty without dropout.
    mask: Vec<f32>,
    /// Per pooled value, its position within the pool window.
    argmax: Vec<u8>,
    /// Per channel, 1/√(σ² + ε) of the batch.
    invstd: Vec<f32>,
    /// How the first layer reads each padded input position (one-hot input).
    columns: Vec<Column>,
    /// Backward: dZ in GEMM rows.
    dz: Vec<f32>,
    /// Backward: the input gradient handed to the block below.
    g_in: Vec<f32>,
    /// Backward: per chunk of rows, its buffers.
    chunks: Vec<ChunkScratch>,
}

/// The backward pass's buffers of one chunk of rows.
#[derive(Debug, Default)]
struct ChunkScratch {
    /// dZ spread with zero positions around each row.
    spread: Vec<f32>,
    /// The input-gradient GEMM's rows.
    out: Vec<f32>,
    /// The chunk's share of dW.
    dw: Vec<f32>,
}

/// What a dense layer keeps.
#[derive(Debug, Default)]
pub(crate) struct DenseTape {
    /// Its input (rows, inputs).
    input: Vec<f32>,
    /// x̂ under BatchNorm (rows, outputs).
    xhat: Vec<f32>,
    /// After the ReLU, before dropout.
    act: Vec<f32>,
    /// The dropout mask (rows, outputs); empty without dropout.
    mask: Vec<f32>,
    /// Per unit, 1/√(σ² + ε) of the batch.
    invstd: Vec<f32>,
}

/// The buffers of one step, kept from step to step.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// Per convolution block its padded input; the last holds the last block's pooled output.
    inputs: Vec<Vec<f32>>,
    convs: Vec<ConvTape>,
    /// Under a global max: where each feature came from.
    feature_argmax: Vec<u32>,
    /// The reduction's dropout mask, in the engine's feature order.
    reduce_mask: Vec<f32>,
    dense: Vec<DenseTape>,
}

/// Batch statistics of one BatchNorm: per channel the mean and biased variance of `count`
/// values, and the running statistics moved towards them.
fn batch_statistics(norm: &Norm, sums: &[f64], count: f64, stats: &mut [f32], invstd: &mut Vec<f32>) -> Vec<f32> {
    let channels = sums.len() / 2;
    let m = norm.spec.momentum;
    let unbiased = norm.spec.running_variance == gkd_nn::norm::RunningVariance::Unbiased && count > 1.0;
    let mut means = vec![0f32; channels];
    invstd.clear();
    for f in 0..channels {
        let mean = sums[f] / count;
        let var = (sums[channels + f] / count - mean * mean).max(0.0);
        let running_var = if unbiased { var * count / (count - 1.0) } else { var };
        let (rm, rv) = (norm.mean.start + f, norm.var.start + f);
        stats[rm] = ((1.0 - m) * stats[rm] as f64 + m * mean) as f32;
        stats[rv] = ((1.0 - m) * stats[rv] as f64 + m * running_var) as f32;
        means[f] = mean as f32;
        invstd.push((1.0 / (var + norm.spec.epsilon).sqrt()) as f32);
    }
    means
}

/// Add per-chunk partial sums in chunk order.
fn add_in_order(partials: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    partials.into_iter().fold(vec![0.0; len], |mut acc, p| {
        acc.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
        acc
    })
}

/// Training-mode forward pass of rows `batch` of `x` (N, channels, positions); updates the
/// BatchNorm running statistics in `stats` and returns the logits (rows × classes).
pub(crate) fn forward(
    net: &Net,
    params: &[f32],
    stats: &mut [f32],
    x: &Array3<f32>,
    batch: &[usize],
    stream: &DropoutStream,
    tape: &mut Tape,
) -> Vec<f32> {
    let rows = batch.len();
    let blocks = net.convs.len();
    tape.inputs.resize_with(blocks + 1, Vec::new);
    tape.convs.resize_with(blocks, ConvTape::default);
    tape.dense.resize_with(net.dense.len(), DenseTape::default);
    load_input(net, x, batch, &mut tape.inputs[0]);
    for (i, conv) in net.convs.iter().enumerate() {
        let next_pad = net.convs.get(i + 1).map_or((0, 0), |n| (n.pad_left, n.pad_right));
        let (done, rest) = tape.inputs.split_at_mut(i + 1);
        let one_hot = i == 0 && net.one_hot;
        conv_forward(conv, one_hot, params, stats, &done[i], &mut rest[0], next_pad, rows, stream, &mut tape.convs[i]);
    }
    // The reduction: the last block's pooled output is (rows, positions, channels), already flat.
    let last = net.convs.last().expect("a convolution block");
    let (c, l) = (last.cout, last.pooled());
    let pooled = &tape.inputs[blocks];
    let mut features = Vec::new();
    if net.global_max {
        global_max(pooled, (rows, l, c), &mut features, &mut tape.feature_argmax);
    } else {
        features.extend_from_slice(&pooled[..rows * c * l]);
    }
    tape.reduce_mask.clear();
    if net.reduce_dropout > 0.0 {
        // burn draws over (rows, features), a flatten's features channel-major (a global max
        // leaves one position per channel).
        let positions = if net.global_max { 1 } else { l };
        stream.mask_position_major(&mut tape.reduce_mask, (rows, c, positions), net.reduce_dropout);
        features.iter_mut().zip(&tape.reduce_mask).for_each(|(v, m)| *v *= m);
    }
    for (dense, t) in net.dense.iter().zip(tape.dense.iter_mut()) {
        features = dense_forward(dense, params, stats, features, rows, stream, t);
    }
    features
}

/// The first block's padded, position-major input from rows `batch` of `x` (N, channels,
/// positions).
fn load_input(net: &Net, x: &Array3<f32>, batch: &[usize], input: &mut Vec<f32>) {
    let c0 = net.channels;
    let first = &net.convs[0];
    let (pl, lp) = (first.pad_left, first.padded());
    resize(input, batch.len() * lp * c0);
    input.par_chunks_mut(lp * c0).zip(batch.par_iter()).for_each(|(to, &r)| {
        for (c, channel) in x.index_axis(Axis(0), r).outer_iter().enumerate() {
            for (p, v) in channel.iter().enumerate() {
                to[(pl + p) * c0 + c] = *v;
            }
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn conv_forward(
    conv: &Conv,
    one_hot: bool,
    params: &[f32],
    stats: &mut [f32],
    input: &[f32],
    next: &mut Vec<f32>,
    next_pad: (usize, usize),
    rows: usize,
    stream: &DropoutStream,
    t: &mut ConvTape,
) {
    let (lp, lc, lq, cin, cout, k) =
        (conv.padded(), conv.conv_length(), conv.pooled(), conv.cin, conv.cout, conv.kernel);
    let per = chunk_rows(rows);
    let weight = &params[conv.weight.clone()];
    resize(&mut t.z, rows * lp * cout);
    if one_hot {
        classify_columns(input, &mut t.columns);
    }
    let columns = &t.columns;
    // The convolution, one GEMM (or gather-add) per chunk of rows.
    t.z.par_chunks_mut(per * lp * cout).zip(input.par_chunks(per * lp * cin)).enumerate().for_each(|(c, (z, x))| {
        let n = z.len() / (lp * cout);
        if one_hot {
            let shape = GatherShape { cout, kernel: k, padded: lp, outputs: lc, rows: n };
            gather_conv(weight, shape, x, &columns[c * per * lp..][..n * lp], z);
        } else {
            let m = n * lp + 1 - k;
            matmul(&mut z[..m * cout], MatRef::strided(x, m, k * cin, cin), MatRef::dense(weight, k * cin, cout));
        }
    });
    // BatchNorm's batch statistics (per row in f32, across rows in f64).
    let means = conv.norm.as_ref().map(|norm| {
        let partials: Vec<Vec<f64>> =
            t.z.par_chunks(per * lp * cout)
                .map(|z| {
                    let mut sums = vec![0f64; 2 * cout];
                    let (mut s, mut q) = (vec![0f32; cout], vec![0f32; cout]);
                    for r in 0..z.len() / (lp * cout) {
                        s.fill(0.0);
                        q.fill(0.0);
                        for l in 0..lc {
                            let row = &z[(r * lp + l) * cout..][..cout];
                            for f in 0..cout {
                                s[f] += row[f];
                                q[f] += row[f] * row[f];
                            }
                        }
                        for f in 0..cout {
                            sums[f] += s[f] as f64;
                            sums[cout + f] += q[f] as f64;
                        }
                    }
                    sums
                })
                .collect();
        let sums = add_in_order(partials, 2 * cout);
        batch_statistics(norm, &sums, (rows * lc) as f64, stats, &mut t.invstd)
    });
    let dropped = if conv.dropout_after_pool { lq } else { lc };
    t.mask.clear();
    if conv.dropout > 0.0 {
        stream.mask_position_major(&mut t.mask, (rows, cout, dropped), conv.dropout);
    }
    // Normalise, activate, drop out and pool into the next block's padded input.
    let nl = lq + next_pad.0 + next_pad.1;
    resize(next, rows * nl * cout);
    resize(&mut t.act, rows * lc * cout);
    t.argmax.clear();
    t.argmax.resize(rows * lq * cout, 0);
    let (scale, shift): (Vec<f32>, Vec<f32>) = match (&conv.norm, &conv.bias) {
        (Some(norm), _) => (params[norm.gamma.clone()].to_vec(), params[norm.beta.clone()].to_vec()),
        (None, Some(bias)) => (vec![1.0; cout], params[bias.clone()].to_vec()),
        (None, None) => (vec![1.0; cout], vec![0.0; cout]),
    };
    let (invstd, mask, activation, pool) = (&t.invstd, &t.mask, conv.activation, conv.pool);
    let drop_before = !mask.is_empty() && !conv.dropout_after_pool;
    let drop_after = !mask.is_empty() && conv.dropout_after_pool;
    let pass = FinishPass {
        means: means.as_deref(),
        invstd,
        scale: &scale,
        shift: &shift,
        mask,
        activation,
        pool,
        drop_before,
        drop_after,
        per,
        lengths: (lp, lc, lq, nl),
        cout,
        pad_left: next_pad.0,
    };
    t.z.par_chunks_mut(per * lp * cout)
        .zip(t.act.par_chunks_mut(per * lc * cout))
        .zip(next.par_chunks_mut(per * nl * cout))
        .zip(t.argmax.par_chunks_mut(per * lq * cout))
        .enumerate()
        .for_each(|(c, (((z, act), next), argmax))| finish_chunk(&pass, c, z, act, next, argmax));
}

/// What the normalise → activate → drop out → pool pass of a convolution block reads.
struct FinishPass<'a> {
    means: Option<&'a [f32]>,
    invstd: &'a [f32],
    scale: &'a [f32],
    shift: &'a [f32],
    mask: &'a [f32],
    activation: Activation,
    pool: usize,
    drop_before: bool,
    drop_after: bool,
    per: usize,
    /// Padded, convolved, pooled and next block's padded lengths.
    lengths: (usize, usize, usize, usize),
    cout: usize,
    pad_left: usize,
}

avx2_dispatch! {
/// The pass over chunk `c` of rows: x̂ into `z`, the activations into `act`, the pooled (and
/// dropped-out) values into the next block's padded input, the pool's choice into `argmax`.
fn finish_chunk(p: &FinishPass<'_>, c: usize, z: &mut [f32], act: &mut [f32], next: &mut [f32], argmax: &mut [u8]) {
    let FinishPass { means, invstd, scale, shift, mask, activation, pool, drop_before, drop_after, per, .. } = *p;
    let ((lp, lc, lq, nl), cout) = (p.lengths, p.cout);
    let mut window = vec![0f32; cout];
    for r in 0..act.len() / (lc * cout) {
        let row = c * per + r;
        for l in 0..lc {
            let zr = &mut z[(r * lp + l) * cout..][..cout];
            let ar = &mut act[(r * lc + l) * cout..][..cout];
            match means {
                Some(mean) => {
                    let per_channel = mean.iter().zip(invstd).zip(scale.iter().zip(shift));
                    for ((zv, av), ((m, is), (sc, sh))) in zr.iter_mut().zip(ar.iter_mut()).zip(per_channel) {
                        let xhat = (*zv - m) * is;
                        *zv = xhat;
                        *av = xhat * sc + sh;
                    }
                }
                None => ar.iter_mut().zip(zr.iter()).zip(shift).for_each(|((a, z), b)| *a = z + b),
            }
            activate_all(activation, ar);
        }
        for q in 0..lq {
            let out = &mut next[(r * nl + p.pad_left + q) * cout..][..cout];
            let at = &mut argmax[(r * lq + q) * cout..][..cout];
            out.fill(f32::NEG_INFINITY);
            for j in 0..pool {
                let l = q * pool + j;
                let a = &act[(r * lc + l) * cout..][..cout];
                if drop_before {
                    let m = &mask[(row * lc + l) * cout..][..cout];
                    window.iter_mut().zip(a).zip(m).for_each(|((w, a), m)| *w = a * m);
                } else {
                    window.copy_from_slice(a);
                }
                keep_max(out, at, &window, j as u8);
            }
            if drop_after {
                let m = &mask[(row * lq + q) * cout..][..cout];
                out.iter_mut().zip(m).for_each(|(o, m)| *o *= m);
            }
        }
    }
}
}

/// linear → (BatchNorm) → ReLU → (dropout), or the output layer's linear map.
fn dense_forward(
    dense: &Dense,
    params: &[f32],
    stats: &mut [f32],
    input: Vec<f32>,
    rows: usize,
    stream: &DropoutStream,
    t: &mut DenseTape,
) -> Vec<f32> {
    let (inputs, outputs) = (dense.inputs, dense.outputs);
    let mut y = vec![0f32; rows * outputs];
    matmul(&mut y, MatRef::dense(&input, rows, inputs), MatRef::dense(&params[dense.weight.clone()], inputs, outputs));
    t.input = input;
    if let Some(bias) = &dense.bias {
        let b = &params[bias.clone()];
        y.chunks_mut(outputs).for_each(|row| row.iter_mut().zip(b).for_each(|(v, b)| *v += b));
    }
    if !dense.relu {
        return y;
    }
    if let Some(norm) = &dense.norm {
        let mut sums = vec![0f64; 2 * outputs];
        for row in y.chunks(outputs) {
            for (f, v) in row.iter().enumerate() {
                sums[f] += *v as f64;
                sums[outputs + f] += (*v as f64) * (*v as f64);
            }
        }
        let mean = batch_statistics(norm, &sums, rows as f64, stats, &mut t.invstd);
        let (gamma, beta) = (&params[norm.gamma.clone()], &params[norm.beta.clone()]);
        for row in y.chunks_mut(outputs) {
            for f in 0..outputs {
                row[f] = (row[f] - mean[f]) * t.invstd[f];
            }
        }
        t.xhat.clone_from(&y);
        for row in y.chunks_mut(outputs) {
            for f in 0..outputs {
                row[f] = row[f] * gamma[f] + beta[f];
            }
        }
    }
    y.iter_mut().for_each(|v| *v = v.max(0.0));
    t.act.clone_from(&y);
    t.mask.clear();
    if dense.dropout > 0.0 {
        stream.mask_into(&mut t.mask, rows * outputs, dense.dropout);
    }
    y.iter_mut().zip(&t.mask).for_each(|(v, m)| *v *= m);
    y
}

/// BatchNorm's backward over `count` values per channel: given Σ g and Σ g·x̂, the gradient
/// γ/σ · (g − Σg/count − x̂ · Σg·x̂/count) of one value.
#[inline(always)]
fn norm_input_gradient(g: f32, xhat: f32, gamma_invstd: f32, mean_g: f32, mean_gx: f32) -> f32 {
    gamma_invstd * (g - mean_g - xhat * mean_gx)
}

/// The gradients of every parameter into `grads`, given d loss / d logits, after [`forward`]
/// on the same rows.
pub(crate) fn backward(net: &Net, params: &[f32], tape: &mut Tape, rows: usize, dlogits: &[f32], grads: &mut [f32]) {
    let mut g = dlogits.to_vec();
    for (dense, t) in net.dense.iter().zip(&tape.dense).rev() {
        g = dense_backward(dense, params, t, rows, g, grads);
    }
    g.iter_mut().zip(&tape.reduce_mask).for_each(|(g, m)| *g *= m);
    let last = net.convs.last().expect("a convolution block");
    let (c, l) = (last.cout, last.pooled());
    if net.global_max {
        let mut pooled = vec![0f32; rows * l * c];
        for r in 0..rows {
            for ch in 0..c {
                let p = tape.feature_argmax[r * c + ch] as usize;
                pooled[(r * l + p) * c + ch] = g[r * c + ch];
            }
        }
        g = pooled;
    }
    let mut owner: Option<usize> = None;
    for (i, conv) in net.convs.iter().enumerate().rev() {
        let one_hot = i == 0 && net.one_hot;
        let below = conv_backward(conv, one_hot, params, &mut tape.convs[i], &tape.inputs[i], &g, rows, grads, i > 0);
        // Each block's input gradient lives in that block's buffer; it goes back there once the
        // block below has read it.
        match owner {
            Some(o) => tape.convs[o].g_in = std::mem::replace(&mut g, below),
            None => g = below,
        }
        owner = Some(i);
    }
    if let Some(o) = owner {
        tape.convs[o].g_in = g;
    }
}

fn dense_backward(
    dense: &Dense,
    params: &[f32],
    t: &DenseTape,
    rows: usize,
    mut g: Vec<f32>,
    grads: &mut [f32],
) -> Vec<f32> {
    let (inputs, outputs) = (dense.inputs, dense.outputs);
    if dense.relu {
        g.iter_mut().zip(&t.mask).for_each(|(g, m)| *g *= m);
        g.iter_mut().zip(&t.act).for_each(|(g, a)| *g = if *a > 0.0 { *g } else { 0.0 });
    }
    let mut sums = vec![0f64; 2 * outputs];
    for (r, row) in g.chunks(outputs).enumerate() {
        for f in 0..outputs {
            sums[f] += row[f] as f64;
            if dense.norm.is_some() {
                sums[outputs + f] += (row[f] * t.xhat[r * outputs + f]) as f64;
            }
        }
    }
    match (&dense.norm, &dense.bias) {
        (Some(norm), _) => {
            for f in 0..outputs {
                grads[norm.beta.start + f] = sums[f] as f32;
                grads[norm.gamma.start + f] = sums[outputs + f] as f32;
            }
            let gamma = &params[norm.gamma.clone()];
            let n = rows as f64;
            for (r, row) in g.chunks_mut(outputs).enumerate() {
                for f in 0..outputs {
                    let (mean_g, mean_gx) = ((sums[f] / n) as f32, (sums[outputs + f] / n) as f32);
                    row[f] =
                        norm_input_gradient(row[f], t.xhat[r * outputs + f], gamma[f] * t.invstd[f], mean_g, mean_gx);
                }
            }
        }
        (None, Some(bias)) => {
            for f in 0..outputs {
                grads[bias.start + f] = sums[f] as f32;
            }
        }
        (None, None) => {}
    }
    matmul(
        &mut grads[dense.weight.clone()],
        MatRef::transpose_of(&t.input, rows, inputs),
        MatRef::dense(&g, rows, outputs),
    );
    let mut below = vec![0f32; rows * inputs];
    matmul(
        &mut below,
        MatRef::dense(&g, rows, outputs),
        MatRef::transpose_of(&params[dense.weight.clone()], inputs, outputs),
    );
    below
}

/// The backward pass of one convolution block from the gradient of its pooled output
/// (rows, pooled positions, cout); returns the gradient of its unpadded input when asked.
#[allow(clippy::too_many_arguments)]
fn conv_backward(
    conv: &Conv,
    one_hot: bool,
    params: &[f32],
    t: &mut ConvTape,
    input: &[f32],
    g_out: &[f32],
    rows: usize,
    grads: &mut [f32],
    input_gradient: bool,
) -> Vec<f32> {
    let (lp, lc, lq, cin, cout, k) =
        (conv.padded(), conv.conv_length(), conv.pooled(), conv.cin, conv.cout, conv.kernel);
    let per = chunk_rows(rows);
    let ConvTape { z, act, mask, argmax, invstd, columns, dz, g_in, chunks, .. } = t;
    let pool = conv.pool;
    let drop_before = !mask.is_empty() && !conv.dropout_after_pool;
    let drop_after = !mask.is_empty() && conv.dropout_after_pool;
    // dZ in GEMM rows: through dropout, the pool's argmax and the activation's slope; rows that
    // straddle two input rows stay 0.
    resize(dz, rows * lp * cout);
    chunks.resize_with(rows.div_ceil(per), ChunkScratch::default);
    let pass = SlopePass {
        g_out,
        mask,
        argmax,
        act,
        z,
        activation: conv.activation,
        pool,
        drop_before,
        drop_after,
        norm: conv.norm.is_some(),
        per,
        lengths: (lp, lc, lq),
        cout,
    };
    let partials: Vec<Vec<f64>> =
        dz.par_chunks_mut(per * lp * cout).enumerate().map(|(c, dz)| slope_chunk(&pass, c, dz)).collect();
    let sums = add_in_order(partials, 2 * cout);
    match (&conv.norm, &conv.bias) {
        (Some(norm), _) => {
            for f in 0..cout {
                grads[norm.beta.start + f] = sums[f] as f32;
                grads[norm.gamma.start + f] = sums[cout + f] as f32;
            }
            let n = (rows * lc) as f64;
            let gamma = &params[norm.gamma.clone()];
            let scale: Vec<f32> = (0..cout).map(|f| gamma[f] * invstd[f]).collect();
            let mean_g: Vec<f32> = (0..cout).map(|f| (sums[f] / n) as f32).collect();
            let mean_gx: Vec<f32> = (0..cout).map(|f| (sums[cout + f] / n) as f32).collect();
            let per_channel = (&scale[..], &mean_g[..], &mean_gx[..]);
            dz.par_chunks_mut(per * lp * cout)
                .zip(z.par_chunks(per * lp * cout))
                .for_each(|(dz, xhat)| norm_backward_chunk(dz, xhat, (lp, lc, cout), per_channel));
        }
        (None, Some(bias)) => {
            for f in 0..cout {
                grads[bias.start + f] = sums[f] as f32;
            }
        }
        (None, None) => {}
    }
    // dW = X_colᵀ · dZ per chunk, added in chunk order.
    let width = k * cin * cout;
    let columns = &*columns;
    dz.par_chunks(per * lp * cout)
        .zip(input.par_chunks(per * lp * cin))
        .zip(chunks.par_iter_mut())
        .enumerate()
        .for_each(|(c, ((dz, x), scratch))| {
            let n = dz.len() / (lp * cout);
            let dw = &mut scratch.dw;
            resize(dw, width);
            if one_hot {
                let columns = &columns[c * per * lp..][..n * lp];
                for r in 0..n {
                    for l in 0..lc {
                        let out_row = r * lp + l;
                        let g = &dz[out_row * cout..][..cout];
                        for tap in 0..k {
                            let p = out_row + tap;
                            match columns[p] {
                                Column::Base(b) => {
                                    let w = &mut dw[(tap * 4 + b as usize) * cout..][..cout];
                                    w.iter_mut().zip(g).for_each(|(w, g)| *w += g);
                                }
                                Column::Zero => {}
                                Column::Scaled(_) | Column::Mixed => {
                                    for ch in 0..4 {
                                        let v = x[p * 4 + ch];
                                        let w = &mut dw[(tap * 4 + ch) * cout..][..cout];
                                        w.iter_mut().zip(g).for_each(|(w, g)| *w += v * g);
                                    }
                                }
                            }
                        }
                    }
                }
            } else {
                let m = n * lp + 1 - k;
                // X_colᵀ (k·cin × m) read in place: element (i, j) = x[j·cin + i].
                let x_col_t = MatRef { data: x, rows: k * cin, cols: m, row_stride: cin, transposed: true };
                matmul(dw, x_col_t, MatRef::dense(&dz[..m * cout], m, cout));
            }
        });
    let dw = &mut grads[conv.weight.clone()];
    dw.fill(0.0);
    for scratch in chunks.iter() {
        dw.iter_mut().zip(&scratch.dw).for_each(|(a, b)| *a += b);
    }
    if !input_gradient {
        return Vec::new();
    }
    // The input gradient: dZ with k − 1 zero positions around each row, convolved ('valid')
    // with the flipped kernel, as in inference's backward pass.
    let flipped = flipped_kernel(&params[conv.weight.clone()], cin, cout, k);
    let span = lc + 2 * (k - 1);
    let length_in = conv.length_in;
    let mut g_in = std::mem::take(g_in);
    resize(&mut g_in, rows * length_in * cin);
    g_in.par_chunks_mut(per * length_in * cin).zip(dz.par_chunks(per * lp * cout)).zip(chunks.par_iter_mut()).for_each(
        |((g_in, dz), scratch)| {
            let n = g_in.len() / (length_in * cin);
            let ChunkScratch { spread, out, .. } = scratch;
            resize(spread, n * span * cout);
            for r in 0..n {
                spread[(r * span + k - 1) * cout..][..lc * cout].copy_from_slice(&dz[r * lp * cout..][..lc * cout]);
            }
            let m = n * span + 1 - k;
            out.resize(m * cin, 0.0);
            matmul(out, MatRef::strided(spread, m, k * cout, cout), MatRef::dense(&flipped, k * cout, cin));
            for r in 0..n {
                g_in[r * length_in * cin..][..length_in * cin]
                    .copy_from_slice(&out[(r * span + conv.pad_left) * cin..][..length_in * cin]);
            }
        },
    );
    g_in
}

/// What the pass from a block's output gradient to dZ reads.
struct SlopePass<'a> {
    g_out: &'a [f32],
    mask: &'a [f32],
    argmax: &'a [u8],
    act: &'a [f32],
    z: &'a [f32],
    activation: Activation,
    pool: usize,
    drop_before: bool,
    drop_after: bool,
    norm: bool,
    per: usize,
    /// Padded, convolved and pooled lengths.
    lengths: (usize, usize, usize),
    cout: usize,
}

avx2_dispatch! {
/// BatchNorm's input gradient over a chunk of rows in GEMM rows (`per_channel`: γ/σ, mean of
/// dZ, mean of dZ·x̂).
fn norm_backward_chunk(dz: &mut [f32], xhat: &[f32], lengths: (usize, usize, usize), per_channel: (&[f32], &[f32], &[f32])) {
    let ((lp, lc, cout), (scale, mean_g, mean_gx)) = (lengths, per_channel);
    for r in 0..dz.len() / (lp * cout) {
        for l in 0..lc {
            let at = (r * lp + l) * cout;
            let (d, x) = (&mut dz[at..at + cout], &xhat[at..at + cout]);
            for f in 0..cout {
                d[f] = norm_input_gradient(d[f], x[f], scale[f], mean_g[f], mean_gx[f]);
            }
        }
    }
}
}

avx2_dispatch! {
/// dZ of chunk `c` of rows in GEMM rows: through dropout, the pool's argmax and the
/// activation's slope; returns Σ dZ and Σ dZ·x̂ per channel (f64, rows added in order).
fn slope_chunk(p: &SlopePass<'_>, c: usize, dz: &mut [f32]) -> Vec<f64> {
    let SlopePass { g_out, mask, argmax, act, z, pool, drop_before, drop_after, norm, per, cout, .. } = *p;
    let (lp, lc, lq) = p.lengths;
    let mut sums = vec![0f64; 2 * cout];
    let (mut g, mut s, mut sx) = (vec![0f32; cout], vec![0f32; cout], vec![0f32; cout]);
    for r in 0..dz.len() / (lp * cout) {
        let row = c * per + r;
        s.fill(0.0);
        sx.fill(0.0);
        for q in 0..lq {
            let at = (row * lq + q) * cout;
            g.copy_from_slice(&g_out[at..at + cout]);
            if drop_after {
                g.iter_mut().zip(&mask[at..at + cout]).for_each(|(g, m)| *g *= m);
            }
            let chosen = &argmax[at..at + cout];
            for j in 0..pool {
                let l = q * pool + j;
                let a = &act[(row * lc + l) * cout..][..cout];
                let d = &mut dz[(r * lp + l) * cout..][..cout];
                let picked = d.iter_mut().zip(a).zip(g.iter().zip(chosen));
                match p.activation {
                    Activation::Relu => picked.for_each(|((d, a), (g, k))| {
                        *d = if *k == j as u8 && *a > 0.0 { *g } else { 0.0 };
                    }),
                    Activation::Exponential => picked.for_each(|((d, a), (g, k))| {
                        *d = if *k == j as u8 { g * a } else { 0.0 };
                    }),
                    Activation::Identity => picked.for_each(|((d, _), (g, k))| {
                        *d = if *k == j as u8 { *g } else { 0.0 };
                    }),
                }
                if drop_before {
                    d.iter_mut().zip(&mask[(row * lc + l) * cout..][..cout]).for_each(|(d, m)| *d *= m);
                }
                // Σ dZ and Σ dZ·x̂ per channel (x̂ sits in z at the same place).
                s.iter_mut().zip(d.iter()).for_each(|(s, d)| *s += d);
                if norm {
                    let x = &z[(c * per * lp + r * lp + l) * cout..][..cout];
                    sx.iter_mut().zip(d.iter()).zip(x).for_each(|((s, d), x)| *s += d * x);
                }
            }
        }
        for f in 0..cout {
            sums[f] += s[f] as f64;
            sums[cout + f] += sx[f] as f64;
        }
    }
    sums
}
}
