//! int8 inference for the convolutional models (gkd-compress quantize).
//!
//! Weights: per output channel, symmetric, w ≈ s_w[f]·q with q ∈ [−127, 127] and
//! s_w[f] = max|W[·, f]| / 127, taken from the engine's folded weights (BatchNorm folded in).
//! Activations: per layer input, one scale calibrated on example rows: s_x = max|x| / 255 for
//! inputs that were never negative (the outputs of ReLU, exp and max-pool; stored like uint8),
//! s_x = max|x| / 127 otherwise. Each output is then an exact integer dot product, rescaled once:
//! y[f] = s_x·s_w[f]·Σ q_x·q_w + b[f], followed by the activation and the pool in float32.
//! One-hot DNA quantises exactly (s_x = 1/255).
//!
//! Calibration runs the same loops in float32 (`Mode::Float`), recording each layer's input
//! range, so the float32 and int8 paths differ only by the rounding they are meant to measure.

use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;

use crate::dispatch::avx2_dispatch;
use crate::layers::Layers;
use crate::pass::{Column, activate_all, classify_columns};
use crate::qgemm::{self, PackedLevels};

/// The calibrated input quantisation of one layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputQuant {
    /// Step of one integer level.
    pub scale: f32,
    /// Whether negative inputs occur (levels −127..127; else 0..255).
    pub signed: bool,
}

impl InputQuant {
    /// The quantisation of inputs in [min, max].
    pub fn for_range(min: f32, max: f32) -> Self {
        let signed = min < 0.0;
        let top = max.abs().max(min.abs());
        let levels = if signed { 127.0 } else { 255.0 };
        Self { scale: if top > 0.0 { top / levels } else { 1.0 }, signed }
    }

    /// The nearest level (ties to even, as `torch.round`), clamped to the range (through i32,
    /// which vectorises; the clamp keeps it in range).
    #[inline(always)]
    fn quantise(&self, x: f32) -> i16 {
        let (lo, hi) = if self.signed { (-127.0, 127.0) } else { (0.0, 255.0) };
        (x / self.scale).round_ties_even().clamp(lo, hi) as i32 as i16
    }
}

/// A layer's int8 weights, one row of `width` levels per output channel, packed for the
/// integer product, and their per-channel scales.
#[derive(Debug, Clone)]
struct QuantWeights {
    levels: PackedLevels,
    scales: Vec<f32>,
    /// The first layer's levels as (width × outputs) i32, row j = input j's weights (the
    /// one-hot gather's layout); empty for the other layers.
    by_input: Vec<i32>,
}

/// Per output column f of a (width × outputs) row-major matrix: its levels (transposed) and scale.
fn quantise_columns(w: &[f32], width: usize, outputs: usize) -> QuantWeights {
    let mut levels = vec![0i16; width * outputs];
    let mut scales = vec![0f32; outputs];
    for f in 0..outputs {
        let top = (0..width).map(|j| w[j * outputs + f].abs()).fold(0.0f32, f32::max);
        let scale = top / 127.0;
        scales[f] = scale;
        if scale > 0.0 {
            for j in 0..width {
                levels[f * width + j] = (w[j * outputs + f] / scale).round().clamp(-127.0, 127.0) as i16;
            }
        }
    }
    QuantWeights { levels: PackedLevels::new(levels, width, outputs), scales, by_input: Vec::new() }
}

/// How a pass computes each layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// float32 weights and activations (calibration, and the reference).
    Float,
    /// int8 weights and calibrated activations.
    Int8,
}

/// A convolutional network with int8 weights and its activation scales.
#[derive(Debug, Clone)]
pub struct Int8Network {
    layers: Layers,
    convs: Vec<QuantWeights>,
    dense: Vec<QuantWeights>,
    inputs: Vec<InputQuant>,
}

/// Observed input range of each layer: (min, max).
pub type Ranges = Vec<(f32, f32)>;

/// Rows one task computes: their dense layers run as one integer product over the rows.
const CHUNK_ROWS: usize = 32;

/// `out[p, f] = Σ_j input[p·stride + j] · w[j, f] + bias[f]` in float32 for `positions` rows
/// (the calibration and reference path; `w` is width × outputs, row-major).
fn float_product(out: &mut [f32], input: &[f32], positions: usize, stride: usize, w: &[f32], bias: &[f32]) {
    let outputs = bias.len();
    let width = w.len() / outputs;
    for (p, row) in out.chunks_exact_mut(outputs).take(positions).enumerate() {
        row.copy_from_slice(bias);
        for (j, v) in input[p * stride..p * stride + width].iter().enumerate() {
            row.iter_mut().zip(&w[j * outputs..(j + 1) * outputs]).for_each(|(o, w)| *o += v * w);
        }
    }
}

/// The first layer's integer sums on one-hot input, gathered: a window's sum is `one` times the
/// sum of the weight levels its bases pick, exactly what the product computes from levels
/// `one` and 0. `input` is the padded (positions + kernel − 1) × 4 float input; `false` (and
/// nothing written) when a position is not one-hot or all zero. `columns` is scratch.
#[inline(always)]
fn one_hot_sums(
    sums: &mut [i32],
    columns: &mut Vec<Column>,
    input: &[f32],
    positions: usize,
    q: &QuantWeights,
    one: i16,
) -> bool {
    classify_columns(input, columns);
    if columns.iter().any(|c| !matches!(c, Column::Base(_) | Column::Zero)) {
        return false;
    }
    let (by_input, outputs) = (&q.by_input, q.scales.len());
    let kernel = by_input.len() / (4 * outputs);
    const BLOCK: usize = 32;
    for (p, row) in sums.chunks_exact_mut(outputs).take(positions).enumerate() {
        // Blocks of 32 filters summed in registers over the window.
        for f0 in (0..outputs).step_by(BLOCK) {
            let width = BLOCK.min(outputs - f0);
            let mut acc = [0i32; BLOCK];
            for (t, column) in columns[p..p + kernel].iter().enumerate() {
                if let Column::Base(b) = *column {
                    let w = &by_input[(t * 4 + b as usize) * outputs + f0..][..width];
                    acc.iter_mut().zip(w).for_each(|(s, w)| *s += w);
                }
            }
            row[f0..f0 + width].iter_mut().zip(&acc).for_each(|(s, a)| *s = a * one as i32);
        }
    }
    true
}

/// Buffers one task reuses from layer to layer and row to row.
#[derive(Default)]
struct Scratch {
    act: Vec<f32>,
    out: Vec<f32>,
    padded: Vec<f32>,
    integer: IntegerScratch,
}

/// The buffers of one layer's integer product.
#[derive(Default)]
struct IntegerScratch {
    levels: Vec<i16>,
    sums: Vec<i32>,
    columns: Vec<Column>,
}

/// `buffer` resized to `len` values (contents unspecified past the old length).
fn sized<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    buffer.resize(len, T::default());
    &mut buffer[..len]
}

impl Int8Network {
    /// The float layers' int8 weights with the given per-layer input quantisation (one per conv
    /// layer, then one per dense layer including the output); `None` when the count is wrong.
    pub fn new(layers: Layers, inputs: Vec<InputQuant>) -> Option<Self> {
        if inputs.len() != layers.convs.len() + layers.dense.len() {
            return None;
        }
        let mut convs: Vec<QuantWeights> =
            layers.convs.iter().map(|c| quantise_columns(&c.forward, c.kernel * c.cin, c.cout)).collect();
        if let (Some(first), Some(q)) = (layers.convs.first(), convs.first_mut()) {
            let (width, outputs) = (first.kernel * first.cin, first.cout);
            q.by_input = (0..width * outputs).map(|i| q.levels.row(i % outputs)[i / outputs] as i32).collect();
        }
        let dense = layers.dense.iter().map(|d| quantise_columns(&d.weight, d.inputs, d.outputs)).collect();
        Some(Self { layers, convs, dense, inputs })
    }

    /// Layers before quantisation: as many input ranges as [`Int8Network::new`] needs.
    pub fn layer_count(layers: &Layers) -> usize {
        layers.convs.len() + layers.dense.len()
    }

    /// The input range of every layer over the rows of `x` (N, C, L), computed in float32.
    pub fn calibrate(layers: &Layers, x: ArrayView3<'_, f32>) -> Ranges {
        let count = Self::layer_count(layers);
        let unit = InputQuant { scale: 1.0, signed: true };
        let net = Self::new(layers.clone(), vec![unit; count]).expect("one per layer");
        let x = x.as_standard_layout();
        let (_, c, l) = x.dim();
        let data = x.as_slice().expect("standard layout");
        data.par_chunks(CHUNK_ROWS * c * l)
            .map(|rows| {
                let mut ranges = vec![(f32::INFINITY, f32::NEG_INFINITY); count];
                forward_rows(&net, rows, rows.len() / (c * l), Mode::Float, Some(&mut ranges));
                ranges
            })
            .reduce(
                || vec![(f32::INFINITY, f32::NEG_INFINITY); count],
                |a, b| a.iter().zip(&b).map(|(x, y)| (x.0.min(y.0), x.1.max(y.1))).collect(),
            )
    }

    /// Logits (N, K) of every row of `x` (N, C, L).
    pub fn logits(&self, x: ArrayView3<'_, f32>, mode: Mode) -> Array2<f32> {
        let x = x.as_standard_layout();
        let (n, c, l) = x.dim();
        let data = x.as_slice().expect("standard layout");
        let k = self.layers.classes();
        let chunks: Vec<Vec<f32>> = data
            .par_chunks(CHUNK_ROWS * c * l)
            .map(|rows| forward_rows(self, rows, rows.len() / (c * l), mode, None))
            .collect();
        Array2::from_shape_vec((n, k), chunks.concat()).expect("N x K")
    }
}

impl Int8Network {
    /// One layer's product over `positions` rows `stride` apart of `input` (float), in `mode`,
    /// into `out` (positions × outputs) with the bias added.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn layer_product(
        &self,
        scratch: &mut IntegerScratch,
        out: &mut [f32],
        input: &[f32],
        positions: usize,
        stride: usize,
        (weights, q, bias): (&[f32], &QuantWeights, &[f32]),
        slot: usize,
        mode: Mode,
    ) {
        let outputs = bias.len();
        match mode {
            Mode::Float => float_product(out, input, positions, stride, weights, bias),
            Mode::Int8 => {
                let iq = self.inputs[slot];
                let IntegerScratch { levels, sums, columns } = scratch;
                let sums = sized(sums, positions * outputs);
                // One-hot DNA into the first layer: the same integer sums, gathered.
                let gathered = slot == 0
                    && self.layers.one_hot
                    && one_hot_sums(sums, columns, input, positions, q, iq.quantise(1.0));
                if !gathered {
                    let len = qgemm::input_len(positions, stride, &q.levels).max(input.len());
                    let levels = sized(levels, len);
                    for (dst, &v) in levels.iter_mut().zip(input) {
                        *dst = iq.quantise(v);
                    }
                    levels[input.len()..].fill(0);
                    qgemm::product(sums, levels, positions, stride, &q.levels);
                }
                for (row_sums, row) in sums.chunks_exact(outputs).zip(out.chunks_exact_mut(outputs)) {
                    for (((o, &s), &scale), &b) in row.iter_mut().zip(row_sums).zip(&q.scales).zip(bias) {
                        *o = s as f32 * (iq.scale * scale) + b;
                    }
                }
            }
        }
    }

    /// Rows (n, C, L) → logits (n × K), observing each layer's input range when asked (compiled
    /// into [`forward_rows`]'s baseline and AVX2 builds).
    #[inline(always)]
    fn forward_rows_portable(&self, x: &[f32], n: usize, mode: Mode, mut observe: Option<&mut Ranges>) -> Vec<f32> {
        let layers = &self.layers;
        let (c0, l0) = (layers.channels, layers.length);
        let mut record = |values: &[f32], slot: usize| {
            if let Some(ranges) = observe.as_deref_mut() {
                let (lo, hi) = &mut ranges[slot];
                for &v in values {
                    *lo = lo.min(v);
                    *hi = hi.max(v);
                }
            }
        };
        let mut s = Scratch::default();
        let (c, l) = layers.convs.last().map_or((c0, l0), |c| (c.cout, c.pooled_length()));
        let features = if layers.global_max { c } else { c * l };
        let mut h = vec![0.0f32; n * features];
        for (r, row_features) in h.chunks_exact_mut(features).enumerate() {
            // Position-major input (L, C).
            let x = &x[r * c0 * l0..(r + 1) * c0 * l0];
            let act = sized(&mut s.act, c0 * l0);
            for c in 0..c0 {
                for p in 0..l0 {
                    act[p * c0 + c] = x[c * l0 + p];
                }
            }
            for (slot, (conv, q)) in layers.convs.iter().zip(&self.convs).enumerate() {
                record(&s.act, slot);
                let (cin, cout) = (conv.cin, conv.cout);
                let conv_len = conv.conv_length();
                let padded = sized(&mut s.padded, conv.padded_length() * cin);
                padded.fill(0.0);
                padded[conv.pad_left * cin..(conv.pad_left + conv.length_in) * cin].copy_from_slice(&s.act);
                let out = sized(&mut s.out, conv_len * cout);
                let layer = (&conv.forward[..], q, &conv.bias[..]);
                self.layer_product(&mut s.integer, out, padded, conv_len, cin, layer, slot, mode);
                activate_all(conv.activation, out);
                // Max-pool, stride = size, rounding the length down.
                if conv.pool > 1 {
                    let pooled = conv.pooled_length();
                    let next = sized(&mut s.act, pooled * cout);
                    next.fill(f32::NEG_INFINITY);
                    for (p, values) in out.chunks_exact(cout).take(pooled * conv.pool).enumerate() {
                        let target = &mut next[(p / conv.pool) * cout..(p / conv.pool + 1) * cout];
                        target.iter_mut().zip(values).for_each(|(t, &v)| *t = t.max(v));
                    }
                } else {
                    std::mem::swap(&mut s.act, &mut s.out);
                    s.act.truncate(conv_len * cout);
                }
            }
            if layers.global_max {
                row_features.fill(f32::NEG_INFINITY);
                for values in s.act.chunks_exact(c) {
                    row_features.iter_mut().zip(values).for_each(|(t, &v)| *t = t.max(v));
                }
            } else {
                row_features.copy_from_slice(&s.act[..features]);
            }
        }
        let convs = layers.convs.len();
        for (i, (dense, q)) in layers.dense.iter().zip(&self.dense).enumerate() {
            record(&h, convs + i);
            let mut out = vec![0.0f32; n * dense.outputs];
            let layer = (&dense.weight[..], q, &dense.bias[..]);
            self.layer_product(&mut s.integer, &mut out, &h, n, dense.inputs, layer, convs + i, mode);
            if dense.relu {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            h = out;
        }
        h
    }
}

avx2_dispatch! {
/// Rows (n, C, L) → logits (n × K) of `net`, observing each layer's input range when asked.
fn forward_rows(net: &Int8Network, x: &[f32], n: usize, mode: Mode, observe: Option<&mut Ranges>) -> Vec<f32> {
    net.forward_rows_portable(x, n, mode, observe)
}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_levels_cover_the_range_and_one_hot_is_exact() {
        let q = InputQuant::for_range(0.0, 1.0);
        assert!(!q.signed);
        assert_eq!(q.quantise(1.0), 255);
        assert_eq!(q.quantise(0.0), 0);
        assert_eq!(q.quantise(-3.0), 0);
        assert!((q.quantise(1.0) as f32 * q.scale - 1.0).abs() < 1e-7);
        let s = InputQuant::for_range(-2.0, 0.5);
        assert!(s.signed);
        assert_eq!(s.quantise(-2.0), -127);
        assert_eq!(s.quantise(0.5), (0.5f32 / (2.0 / 127.0)).round() as i16);
    }

    #[test]
    fn column_scales_put_each_columns_largest_weight_at_127() {
        // 2 × 3, row-major (width × outputs).
        let w = [0.5f32, -2.0, 0.0, -0.25, 1.0, 0.0];
        let q = quantise_columns(&w, 2, 3);
        assert_eq!(q.levels.row(0), [127, -64]);
        assert_eq!(q.levels.row(1), [-127, 64]);
        assert_eq!(q.levels.row(2), [0, 0]);
        assert!((q.scales[1] - 2.0 / 127.0).abs() < 1e-9);
        assert_eq!(q.scales[2], 0.0);
    }
}
