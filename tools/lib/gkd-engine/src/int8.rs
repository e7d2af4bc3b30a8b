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

use gkd_nn::layers::Activation;
use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;

use crate::layers::Layers;

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

    #[inline(always)]
    fn quantise(&self, x: f32) -> i16 {
        let (lo, hi) = if self.signed { (-127.0, 127.0) } else { (0.0, 255.0) };
        (x / self.scale).round().clamp(lo, hi) as i16
    }
}

/// A layer's int8 weights, one row of `width` levels per output channel.
#[derive(Debug, Clone)]
struct QuantWeights {
    levels: Vec<i16>,
    scales: Vec<f32>,
    width: usize,
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
    QuantWeights { levels, scales, width }
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

#[inline(always)]
fn integer_dot(a: &[i16], b: &[i16]) -> i32 {
    a.iter().zip(b).map(|(&x, &w)| x as i32 * w as i32).sum()
}

#[inline(always)]
fn activate(activation: Activation, y: f32) -> f32 {
    match activation {
        Activation::Relu => y.max(0.0),
        Activation::Exponential => y.exp(),
        Activation::Identity => y,
    }
}

impl Int8Network {
    /// The float layers' int8 weights with the given per-layer input quantisation (one per conv
    /// layer, then one per dense layer including the output); `None` when the count is wrong.
    pub fn new(layers: Layers, inputs: Vec<InputQuant>) -> Option<Self> {
        if inputs.len() != layers.convs.len() + layers.dense.len() {
            return None;
        }
        let convs = layers.convs.iter().map(|c| quantise_columns(&c.forward, c.kernel * c.cin, c.cout)).collect();
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
        let (n, c, l) = x.dim();
        let data = x.as_slice().expect("standard layout");
        (0..n)
            .into_par_iter()
            .map(|r| {
                let mut ranges = vec![(f32::INFINITY, f32::NEG_INFINITY); count];
                net.forward_row(&data[r * c * l..(r + 1) * c * l], Mode::Float, Some(&mut ranges));
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
        let rows: Vec<Vec<f32>> =
            (0..n).into_par_iter().map(|r| self.forward_row(&data[r * c * l..(r + 1) * c * l], mode, None)).collect();
        Array2::from_shape_vec((n, k), rows.concat()).expect("N x K")
    }

    /// One row (C, L) → logits, observing each layer's input range when asked. The loops are
    /// compiled twice: for the baseline target, and with AVX2 (chosen at run time), where the
    /// integer dot products become 16-lane multiply-adds. (An AVX-512 VNNI build measured slower
    /// on this engine's short dot products.)
    fn forward_row(&self, x: &[f32], mode: Mode, observe: Option<&mut Ranges>) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.forward_row_avx2(x, mode, observe) };
        }
        self.forward_row_portable(x, mode, observe)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn forward_row_avx2(&self, x: &[f32], mode: Mode, observe: Option<&mut Ranges>) -> Vec<f32> {
        self.forward_row_portable(x, mode, observe)
    }

    #[inline(always)]
    fn forward_row_portable(&self, x: &[f32], mode: Mode, mut observe: Option<&mut Ranges>) -> Vec<f32> {
        let layers = &self.layers;
        let (c0, l0) = (layers.channels, layers.length);
        // Position-major input (L, C).
        let mut act: Vec<f32> = vec![0.0; c0 * l0];
        for c in 0..c0 {
            for p in 0..l0 {
                act[p * c0 + c] = x[c * l0 + p];
            }
        }
        let mut slot = 0;
        let mut record = |values: &[f32], slot: usize| {
            if let Some(ranges) = observe.as_deref_mut() {
                let (lo, hi) = &mut ranges[slot];
                for &v in values {
                    *lo = lo.min(v);
                    *hi = hi.max(v);
                }
            }
        };
        for (conv, q) in layers.convs.iter().zip(&self.convs) {
            record(&act, slot);
            let (cin, cout, kernel) = (conv.cin, conv.cout, conv.kernel);
            let padded = conv.padded_length();
            let conv_len = conv.conv_length();
            let mut out = vec![0.0f32; conv_len * cout];
            match mode {
                Mode::Float => {
                    let mut input = vec![0.0f32; padded * cin];
                    input[conv.pad_left * cin..(conv.pad_left + conv.length_in) * cin].copy_from_slice(&act);
                    for p in 0..conv_len {
                        let window = &input[p * cin..(p + kernel) * cin];
                        for f in 0..cout {
                            let mut sum = 0.0f32;
                            for (j, v) in window.iter().enumerate() {
                                sum += v * conv.forward[j * cout + f];
                            }
                            out[p * cout + f] = activate(conv.activation, sum + conv.bias[f]);
                        }
                    }
                }
                Mode::Int8 => {
                    let iq = self.inputs[slot];
                    let mut input = vec![0i16; padded * cin];
                    for (dst, &v) in input[conv.pad_left * cin..].iter_mut().zip(&act) {
                        *dst = iq.quantise(v);
                    }
                    for p in 0..conv_len {
                        let window = &input[p * cin..(p + kernel) * cin];
                        for f in 0..cout {
                            let acc = integer_dot(window, &q.levels[f * q.width..(f + 1) * q.width]);
                            let y = acc as f32 * (iq.scale * q.scales[f]) + conv.bias[f];
                            out[p * cout + f] = activate(conv.activation, y);
                        }
                    }
                }
            }
            // Max-pool, stride = size, rounding the length down.
            let pooled = conv.pooled_length();
            act = if conv.pool > 1 {
                let mut next = vec![f32::NEG_INFINITY; pooled * cout];
                for p in 0..pooled * conv.pool {
                    for f in 0..cout {
                        let v = &mut next[(p / conv.pool) * cout + f];
                        *v = v.max(out[p * cout + f]);
                    }
                }
                next
            } else {
                out
            };
            slot += 1;
        }
        let (c, l) = layers.convs.last().map_or((c0, l0), |c| (c.cout, c.pooled_length()));
        let mut h: Vec<f32> = if layers.global_max {
            (0..c).map(|ch| (0..l).map(|p| act[p * c + ch]).fold(f32::NEG_INFINITY, f32::max)).collect()
        } else {
            act
        };
        for (dense, q) in layers.dense.iter().zip(&self.dense) {
            record(&h, slot);
            let mut out = vec![0.0f32; dense.outputs];
            match mode {
                Mode::Float => {
                    for (i, v) in h.iter().enumerate() {
                        let row = &dense.weight[i * dense.outputs..(i + 1) * dense.outputs];
                        out.iter_mut().zip(row).for_each(|(o, w)| *o += v * w);
                    }
                    out.iter_mut().zip(&dense.bias).for_each(|(o, b)| *o += b);
                }
                Mode::Int8 => {
                    let iq = self.inputs[slot];
                    let levels: Vec<i16> = h.iter().map(|&v| iq.quantise(v)).collect();
                    for (f, o) in out.iter_mut().enumerate() {
                        let acc = integer_dot(&levels, &q.levels[f * q.width..(f + 1) * q.width]);
                        *o = acc as f32 * (iq.scale * q.scales[f]) + dense.bias[f];
                    }
                }
            }
            if dense.relu {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            h = out;
            slot += 1;
        }
        h
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
        assert_eq!(q.levels[..2], [127, -64]);
        assert_eq!(q.levels[2..4], [-127, 64]);
        assert_eq!(q.levels[4..], [0, 0]);
        assert!((q.scales[1] - 2.0 / 127.0).abs() < 1e-9);
        assert_eq!(q.scales[2], 0.0);
    }
}
