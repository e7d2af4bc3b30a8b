//! Prediction over many overlapping windows of one long sequence (genome scans) with each layer
//! computed once along the sequence.
//!
//! A window's layers equal the same layers computed along the whole sequence except near the
//! window's ends, where the window's own zero ('same') padding stands in for the neighbouring
//! sequence. So each layer runs once over the sequence, and each window recomputes only its edge
//! positions: `pad` conv outputs at each end of a 'same' layer, widened to whole pool windows and
//! carried through the later layers (a 'valid' layer adds none). Max-pooling splits the sequence
//! into `pool` phases; windows whose starts differ by a multiple of the pools so far share a phase,
//! so the shared layers form a tree: one node per phase actually used, each 1/pool as long as its
//! parent, so every layer costs about one pass over the sequence whatever the stride.
//!
//! Every window's logits are what the forward pass of that window alone gives, up to the order
//! of float32 sums (the same arithmetic, read from different buffers).

use ndarray::Array2;

use crate::CnnEngine;
use crate::layers::{ConvLayer, Layers};
use crate::matmul::{MatRef, matmul};
use crate::pass::{activate, dense_forward, resize};

/// A window's recomputed rows of one layer's input: the first `left.len() / channels` and the
/// last `right.len() / channels` positions (all positions in `left` once the edges meet).
#[derive(Debug, Clone, Default)]
struct Edges {
    left: Vec<f32>,
    right: Vec<f32>,
}

/// One window being scanned.
#[derive(Debug, Clone)]
struct Window {
    /// Index into the starts (output row).
    row: usize,
    /// Start in the sequence.
    start: usize,
    /// Its edges of the current layer's input.
    edges: Edges,
}

/// Conv output (`positions × cout`, activated) of `layer` over a whole node input (`m × cin`),
/// with the layer's zero padding at the node's ends.
fn conv_along(layer: &ConvLayer, input: &[f32], m: usize) -> Vec<f32> {
    let (cin, cout, k) = (layer.cin, layer.cout, layer.kernel);
    let padded_len = m + layer.pad_left + layer.pad_right;
    if padded_len < k {
        return Vec::new();
    }
    let mut padded = vec![0f32; padded_len * cin];
    padded[layer.pad_left * cin..(layer.pad_left + m) * cin].copy_from_slice(&input[..m * cin]);
    let rows = padded_len + 1 - k;
    let mut out = vec![0f32; rows * cout];
    matmul(&mut out, MatRef::strided(&padded, rows, k * cin, cin), MatRef::dense(&layer.forward, k * cin, cout));
    for row in out.chunks_mut(cout) {
        for (z, b) in row.iter_mut().zip(&layer.bias) {
            *z = activate(layer.activation, *z + b);
        }
    }
    out
}

/// Max over each pool window `[r + q·pool, r + q·pool + pool)` of `act` (positions × c).
fn pool_along(act: &[f32], c: usize, pool: usize, r: usize) -> Vec<f32> {
    let positions = act.len() / c;
    let count = positions.saturating_sub(r) / pool;
    let mut out = vec![f32::NEG_INFINITY; count * c];
    for q in 0..count {
        let o = &mut out[q * c..(q + 1) * c];
        for t in 0..pool {
            let v = &act[(r + q * pool + t) * c..][..c];
            o.iter_mut().zip(v).for_each(|(o, v)| *o = o.max(*v));
        }
    }
    out
}

/// Which conv outputs of `layer` a window recomputes, given its input edge widths: the left
/// region `[0, a)` and the right region `[b, lq·pool)` in conv positions, and the widths of its
/// pooled output edges. When the regions meet, one region covers every pooled position.
fn edge_regions(
    layer: &ConvLayer,
    in_left: usize,
    in_right: usize,
) -> ((usize, usize), (usize, usize), (usize, usize)) {
    let (p, lq, lc) = (layer.pool, layer.pooled_length(), layer.conv_length());
    let (c_left, c_right) = (in_left + layer.pad_left, in_right + layer.pad_right);
    let q_left = c_left.div_ceil(p).min(lq);
    let q_right = lq - (lc.saturating_sub(c_right) / p).min(lq);
    if q_left + q_right >= lq || in_left >= layer.length_in {
        return ((0, lq * p), (lq * p, lq * p), (lq, 0));
    }
    ((0, q_left * p), ((lq - q_right) * p, lq * p), (q_left, q_right))
}

impl CnnEngine {
    /// Logits (windows, classes) of the windows `[s, s + L)` of `sequence` (positions ×
    /// channels, position-major), `s` in `starts`, with L the model's input length. Each layer is
    /// computed once along the sequence and each window recomputes only its edges.
    pub fn scan(&self, sequence: &[f32], starts: &[usize]) -> Array2<f32> {
        let layers = &self.layers;
        let (c, l) = (layers.channels, layers.length);
        let n = sequence.len() / c;
        assert!(starts.iter().all(|&s| s + l <= n), "every window lies inside the sequence");
        let windows: Vec<Window> =
            starts.iter().enumerate().map(|(row, &start)| Window { row, start, edges: Edges::default() }).collect();
        let mut features = vec![0f32; starts.len() * layers.features()];
        node(layers, 0, 0, 1, sequence, n, windows, &mut features);
        let mut logits = Vec::new();
        let mut input = features;
        for layer in &layers.dense {
            dense_forward(layer, &input, starts.len(), &mut logits);
            std::mem::swap(&mut input, &mut logits);
        }
        Array2::from_shape_vec((starts.len(), layers.classes()), input).expect("windows x classes")
    }
}

/// Layer `i` of the phase node whose grid starts at sequence position `base` with `stride`
/// sequence positions per node position (the product of the pools before layer i); `input` is
/// the node's layer-i input (`m` positions). Fills each window's features row.
#[allow(clippy::too_many_arguments)]
fn node(
    layers: &Layers,
    i: usize,
    base: usize,
    stride: usize,
    input: &[f32],
    m: usize,
    mut windows: Vec<Window>,
    features: &mut [f32],
) {
    let layer = &layers.convs[i];
    let (cin, cout, k, pool, lin) = (layer.cin, layer.cout, layer.kernel, layer.pool, layer.length_in);
    let lq = layer.pooled_length();
    let act = conv_along(layer, input, m);
    // Each window's edges of this layer's output: its local input rows (edges, or the node's
    // values at the window's offset) over each region, one GEMM for all windows.
    let mut buffer = Vec::new();
    let mut jobs = Vec::with_capacity(windows.len());
    for w in &windows {
        let offset = (w.start - base) / stride;
        let (in_left, in_right) = (w.edges.left.len() / cin, w.edges.right.len() / cin);
        let (left, right, widths) = edge_regions(layer, in_left, in_right);
        let mut spans = Vec::new();
        for (u, v) in [left, right] {
            if u >= v {
                spans.push((u, v, 0));
                continue;
            }
            let at = buffer.len() / cin;
            for padded in u..v + k - 1 {
                let r = padded as isize - layer.pad_left as isize;
                if r < 0 || r as usize >= lin {
                    buffer.extend(std::iter::repeat_n(0.0, cin));
                    continue;
                }
                let r = r as usize;
                let row = if r < in_left {
                    &w.edges.left[r * cin..(r + 1) * cin]
                } else if r >= lin - in_right {
                    &w.edges.right[(r - (lin - in_right)) * cin..][..cin]
                } else {
                    &input[(offset + r) * cin..(offset + r + 1) * cin]
                };
                buffer.extend_from_slice(row);
            }
            spans.push((u, v, at));
        }
        jobs.push((spans, widths));
    }
    let rows = buffer.len() / cin;
    let mut out = Vec::new();
    if rows >= k {
        resize(&mut out, (rows + 1 - k) * cout);
        matmul(
            &mut out,
            MatRef::strided(&buffer, rows + 1 - k, k * cin, cin),
            MatRef::dense(&layer.forward, k * cin, cout),
        );
    }
    for (w, (spans, (q_left, q_right))) in windows.iter_mut().zip(jobs) {
        let mut pooled = Vec::new();
        for &(u, v, at) in &spans {
            let mut values = out[at * cout..(at + v - u) * cout].to_vec();
            for row in values.chunks_mut(cout) {
                for (z, b) in row.iter_mut().zip(&layer.bias) {
                    *z = activate(layer.activation, *z + b);
                }
            }
            pooled.push(pool_along(&values, cout, pool, 0));
        }
        w.edges = Edges { left: pooled.swap_remove(0), right: pooled.pop().unwrap_or_default() };
        debug_assert_eq!((w.edges.left.len() / cout, w.edges.right.len() / cout), (q_left, q_right));
    }
    let last = i + 1 == layers.convs.len();
    // The node's pooled output per phase residue, for the windows of that residue.
    let mut by_residue: Vec<Vec<Window>> = (0..pool).map(|_| Vec::new()).collect();
    for w in windows {
        let residue = ((w.start - base) / stride) % pool;
        by_residue[residue].push(w);
    }
    for (r, group) in by_residue.into_iter().enumerate() {
        if group.is_empty() {
            continue;
        }
        let child = pool_along(&act, cout, pool, r);
        let child_m = child.len() / cout;
        let (child_base, child_stride) = (base + r * stride, stride * pool);
        if !last {
            node(layers, i + 1, child_base, child_stride, &child, child_m, group, features);
            continue;
        }
        // Features: the window's final pooled output (edges, and the node's values between them).
        let width = layers.features();
        for w in group {
            let offset = (w.start - child_base) / child_stride;
            let (el, er) = (w.edges.left.len() / cout, w.edges.right.len() / cout);
            let row = |q: usize| -> &[f32] {
                if q < el {
                    &w.edges.left[q * cout..(q + 1) * cout]
                } else if q >= lq - er {
                    &w.edges.right[(q - (lq - er)) * cout..][..cout]
                } else {
                    &child[(offset + q) * cout..(offset + q + 1) * cout]
                }
            };
            let f = &mut features[w.row * width..(w.row + 1) * width];
            if layers.global_max {
                f.fill(f32::NEG_INFINITY);
                for q in 0..lq {
                    f.iter_mut().zip(row(q)).for_each(|(o, v)| *o = o.max(*v));
                }
            } else {
                for q in 0..lq {
                    f[q * cout..(q + 1) * cout].copy_from_slice(row(q));
                }
            }
        }
    }
}
