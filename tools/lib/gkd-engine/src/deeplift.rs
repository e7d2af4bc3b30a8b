//! DeepLIFT multipliers on the engine: the rescale rule of Shrikumar et al. (2017), with the
//! max-pooling rule of Captum's `DeepLift` and tangermeme's `deep_lift_shap`.
//!
//! Each row is run forward twice, on the input x and on its reference x′, keeping every layer's
//! pre-activations. The backward pass then carries multipliers m (contributions are Δx · m)
//! instead of gradients:
//! - linear maps (convolutions, dense layers, BatchNorm folded into them) pass m as a gradient;
//! - an activation f (ReLU, exponential) multiplies m by its secant (f(z) − f(z′)) / (z − z′), or
//!   by f′(z) where |z − z′| < 1e-6;
//! - a max-pool window with outputs o = max(x window) and o′ = max(x′ window) sends the change
//!   m · (max(o, o′) − o′) to x's argmax and m · (o − max(o, o′)) to x′'s argmax; each position's
//!   routed change divided by its own change Δa is its multiplier (the plain gradient where Δa is
//!   exactly 0). A global max over positions is one window spanning them all.
//!
//! So Σ Δx · m = F(x) − F(x′) up to float32 rounding (the convergence delta), and the values follow
//! tangermeme's thresholds and arithmetic (tests/python: against tangermeme and Captum).

use gkd_nn::layers::Activation;
use ndarray::{Array1, Array3, ArrayView3};
use rayon::prelude::*;

use crate::CnnEngine;
use crate::layers::Layers;
use crate::matmul::{MatRef, matmul};
use crate::pass::{Workspace, activate};

/// Below this |z − z′| an activation's secant is replaced by its derivative at z (tangermeme).
const SECANT_EPS: f32 = 1e-6;

/// DeepLIFT on a batch of (input, reference) pairs.
#[derive(Debug, Clone)]
pub struct DeepLift {
    /// (N, C, L) multipliers: the contributions are (x − x′) · m.
    pub multipliers: Array3<f32>,
    /// The explained logit of each input.
    pub logits: Array1<f32>,
    /// The same logit of each reference.
    pub reference_logits: Array1<f32>,
}

fn derivative(activation: Activation, z: f32) -> f32 {
    match activation {
        Activation::Relu => f32::from(z > 0.0),
        Activation::Exponential => z.exp(),
        Activation::Identity => 1.0,
    }
}

/// The rescale rule's multiplier of an activation between z (input) and z′ (reference).
fn secant(activation: Activation, z: f32, z_ref: f32) -> f32 {
    let d = z - z_ref;
    if d.abs() < SECANT_EPS {
        derivative(activation, z)
    } else {
        (activate(activation, z) - activate(activation, z_ref)) / d
    }
}

/// One max-pool window's rule: the multipliers at x's argmax `lx` and x′'s argmax `lr`, given
/// the upstream multiplier `m`, the window outputs `o`, `o_ref` and the input changes there.
/// Returns `(at lx, at lr)`; when `lx == lr` the first holds the whole value.
fn pool_rule(m: f32, o: f32, o_ref: f32, same: bool, delta_lx: f32, delta_lr: f32) -> (f32, f32) {
    let cross = o.max(o_ref);
    let (to_x, to_ref) = (m * (cross - o_ref), m * (o - cross));
    if same {
        let routed = to_x + to_ref;
        return (if delta_lx == 0.0 { m } else { routed / delta_lx }, 0.0);
    }
    let at_x = if delta_lx == 0.0 { m } else { to_x / delta_lx };
    let at_ref = if delta_lr == 0.0 { 0.0 } else { to_ref / delta_lr };
    (at_x, at_ref)
}

impl CnnEngine {
    /// DeepLIFT multipliers of logit `class_of(row)` for each row of `x` (N, C, L) against the
    /// same row of `references`, with both logits.
    pub fn deeplift(
        &self,
        x: ArrayView3<'_, f32>,
        references: ArrayView3<'_, f32>,
        class_of: &(dyn Fn(usize) -> usize + Sync),
    ) -> DeepLift {
        let (n, c, l) = x.dim();
        assert_eq!((c, l), (self.layers.channels, self.layers.length), "input shape");
        assert_eq!(references.dim(), x.dim(), "one reference per input");
        let (x, references) = (x.as_standard_layout(), references.as_standard_layout());
        let (x, references) = (x.as_slice().expect("standard layout"), references.as_slice().expect("standard layout"));
        let k = self.layers.classes();
        let per_task = crate::rows_per_task(n);
        let mut multipliers = vec![0f32; n * c * l];
        let mut logits = vec![0f32; n];
        let mut reference_logits = vec![0f32; n];
        multipliers
            .par_chunks_mut(per_task * c * l)
            .zip(logits.par_chunks_mut(per_task).zip(reference_logits.par_chunks_mut(per_task)))
            .enumerate()
            .for_each(|(task, (out, (fx, fr)))| {
                let (first, rows) = (task * per_task, fx.len());
                let span = first * c * l..(first + rows) * c * l;
                let mut pair = [self.workspace(), self.workspace()];
                let mut z = Vec::new();
                for (ws, input) in pair.iter_mut().zip([&x[span.clone()], &references[span]]) {
                    ws.keep_pre = true;
                    ws.forward(&self.layers, input, rows, &mut z);
                }
                for r in 0..rows {
                    let class = class_of(first + r);
                    fx[r] = pair[0].dense.last().expect("an output layer")[r * k + class];
                    fr[r] = pair[1].dense.last().expect("an output layer")[r * k + class];
                }
                backward(&self.layers, &pair[0], &pair[1], rows, &|r| class_of(first + r), out);
                for mut ws in pair {
                    ws.keep_pre = false;
                    self.give_back(ws);
                }
            });
        DeepLift {
            multipliers: Array3::from_shape_vec((n, c, l), multipliers).expect("N x C x L"),
            logits: Array1::from(logits),
            reference_logits: Array1::from(reference_logits),
        }
    }
}

/// The multipliers of Σ_r logit[r, class_of(r)], channel-major (rows, channels, positions), from
/// the forward passes of the inputs (`wx`) and the references (`wr`).
fn backward(
    layers: &Layers,
    wx: &Workspace,
    wr: &Workspace,
    rows: usize,
    class_of: &dyn Fn(usize) -> usize,
    out: &mut [f32],
) {
    let classes = layers.classes();
    let mut m = vec![0f32; rows * classes];
    for r in 0..rows {
        m[r * classes + class_of(r)] = 1.0;
    }
    // Dense layers, last first: the ReLU's secant, then the transposed weights.
    for j in (0..layers.dense.len()).rev() {
        let layer = &layers.dense[j];
        if layer.relu {
            let (z, z_ref) = (&wx.dense_pre[j], &wr.dense_pre[j]);
            m.iter_mut().zip(z.iter().zip(z_ref)).for_each(|(m, (z, zr))| *m *= secant(Activation::Relu, *z, *zr));
        }
        let mut below = vec![0f32; rows * layer.inputs];
        matmul(
            &mut below,
            MatRef::dense(&m, rows, layer.outputs),
            MatRef::transpose_of(&layer.weight, layer.inputs, layer.outputs),
        );
        m = below;
    }
    let convs = layers.convs.len();
    let (c, l) = layers.convs.last().map_or((layers.channels, layers.length), |c| (c.cout, c.pooled_length()));
    if layers.global_max {
        // One max-pool window over every position of the last pooled output.
        let (ax, ar) = (&wx.inputs[convs], &wr.inputs[convs]);
        let mut below = vec![0f32; rows * l * c];
        for r in 0..rows {
            for ch in 0..c {
                let at = r * c + ch;
                let (lx, lr) = (wx.feature_argmax[at] as usize, wr.feature_argmax[at] as usize);
                let delta = |p: usize| ax[(r * l + p) * c + ch] - ar[(r * l + p) * c + ch];
                let (mx, mr) = pool_rule(m[at], wx.features[at], wr.features[at], lx == lr, delta(lx), delta(lr));
                below[(r * l + lx) * c + ch] += mx;
                if lx != lr {
                    below[(r * l + lr) * c + ch] += mr;
                }
            }
        }
        m = below;
    }
    // Convolution blocks, last first; `m` is the multiplier of the pooled output (rows, lq, cout).
    for i in (0..convs).rev() {
        let layer = &layers.convs[i];
        let (lc, lq, cout, k, pool) =
            (layer.conv_length(), layer.pooled_length(), layer.cout, layer.kernel, layer.pool);
        let (act_x, act_r) = (&wx.activations[i], &wr.activations[i]);
        let (arg_x, arg_r) = (&wx.argmax[i], &wr.argmax[i]);
        let (z, z_ref) = (&wx.pre[i], &wr.pre[i]);
        // Multipliers of the pre-activations, in a buffer with kernel − 1 zero positions on each
        // side of every row (the input's multiplier is then one GEMM, as for the gradient).
        let span = lc + 2 * (k - 1);
        let mut pre = vec![0f32; rows * span * cout];
        let mut add = |r: usize, at: usize, f: usize, value: f32| {
            let e = (r * lc + at) * cout + f;
            pre[(r * span + k - 1 + at) * cout + f] += value * secant(layer.activation, z[e], z_ref[e]);
        };
        for r in 0..rows {
            for q in 0..lq {
                for f in 0..cout {
                    let g = m[(r * lq + q) * cout + f];
                    if pool == 1 {
                        add(r, q, f, g);
                        continue;
                    }
                    let (lx, lr) = (
                        q * pool + arg_x[(r * lq + q) * cout + f] as usize,
                        q * pool + arg_r[(r * lq + q) * cout + f] as usize,
                    );
                    let a = |p: usize| (act_x[(r * lc + p) * cout + f], act_r[(r * lc + p) * cout + f]);
                    let ((ox, _), (_, or)) = (a(lx), a(lr));
                    let delta = |p: usize| a(p).0 - a(p).1;
                    let (mx, mr) = pool_rule(g, ox, or, lx == lr, delta(lx), delta(lr));
                    add(r, lx, f, mx);
                    if lx != lr {
                        add(r, lr, f, mr);
                    }
                }
            }
        }
        let rows_out = rows * span + 1 - k;
        let mut input = vec![0f32; rows_out * layer.cin];
        matmul(
            &mut input,
            MatRef::strided(&pre, rows_out, k * cout, cout),
            MatRef::dense(&layer.backward, k * cout, layer.cin),
        );
        // Row r·span + p′ is padded input position p′; keep the unpadded positions.
        let n = layer.length_in * layer.cin;
        m = vec![0f32; rows * n];
        for r in 0..rows {
            let from = (r * span + layer.pad_left) * layer.cin;
            m[r * n..(r + 1) * n].copy_from_slice(&input[from..from + n]);
        }
    }
    // (rows, positions, channels) → (rows, channels, positions).
    let (c0, l0) = (layers.channels, layers.length);
    for r in 0..rows {
        for p in 0..l0 {
            for ch in 0..c0 {
                out[(r * c0 + ch) * l0 + p] = m[(r * l0 + p) * c0 + ch];
            }
        }
    }
}
