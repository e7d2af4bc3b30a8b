//! Fast in-silico mutagenesis on the engine: every single-base mutant of a row, recomputing only
//! what the mutation changes.
//!
//! - First layer: a mutation at position j changes only the `kernel` outputs whose windows cover
//!   j, each by the difference of two weight rows (new base's minus the reference column's):
//!   a rank-1 update of the reference's first-layer output, no convolution at all.
//! - Deeper layers: each changed interval of a layer's pooled output changes a slightly wider
//!   interval of the next convolution's output. That interval is recomputed from the reference
//!   input with the changed rows substituted; the windows of a group of mutants are laid end to
//!   end and run as one GEMM, as a batch is in the forward pass.
//! - Head: the mutants' feature vectors (the reference's with their changed rows) go through the
//!   dense layers as one batch.
//!
//! Every value is computed as the forward pass computes it, so the maps equal naive ISM (every
//! mutant through the whole network) to float32 rounding.

use ndarray::{Array2, Array3, ArrayView3};
use rayon::prelude::*;

use crate::CnnEngine;
use crate::layers::{ConvLayer, Layers};
use crate::matmul::{MatRef, matmul};
use crate::pass::{Workspace, activate, dense_forward, resize};

/// Mutants recomputed together (one GEMM per layer): 3 bases × 32 positions.
const GROUP: usize = 96;

/// Rows whose references and substitutions share one pass through the dense layers.
const BLOCK: usize = 64;

/// A mutant's changed rows of one layer's output: positions [lo, hi) × channels.
#[derive(Debug, Clone, Default)]
struct Change {
    lo: usize,
    hi: usize,
    values: Vec<f32>,
}

/// The single-base mutants (position, base) of a position-major one-hot row: every base that
/// differs from the reference column (all four where the column is not one-hot).
fn mutants(input: &[f32], channels: usize, pad: usize, length: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(3 * length);
    for p in 0..length {
        let column = &input[(p + pad) * channels..][..channels];
        let one_hot = column.iter().filter(|&&v| v == 1.0).count() == 1 && column.iter().sum::<f32>() == 1.0;
        out.extend(column.iter().enumerate().filter(|(_, v)| !(one_hot && **v == 1.0)).map(|(b, _)| (p, b)));
    }
    out
}

/// Max-pool of the conv outputs [oa, ob) given in `new` (rows × cout), with the reference's
/// activations `reference` (conv positions × cout) elsewhere in each window.
fn pool_change(layer: &ConvLayer, oa: usize, ob: usize, new: &[f32], reference: &[f32]) -> Change {
    let (pool, cout, lq) = (layer.pool, layer.cout, layer.pooled_length());
    let lo = oa / pool;
    let hi = ob.div_ceil(pool).min(lq);
    if lo >= hi {
        return Change { lo, hi: lo, values: Vec::new() };
    }
    let mut values = vec![f32::NEG_INFINITY; (hi - lo) * cout];
    for q in lo..hi {
        let out = &mut values[(q - lo) * cout..][..cout];
        for l in q * pool..(q + 1) * pool {
            let from =
                if (oa..ob).contains(&l) { &new[(l - oa) * cout..][..cout] } else { &reference[l * cout..][..cout] };
            out.iter_mut().zip(from).for_each(|(o, v)| *o = o.max(*v));
        }
    }
    Change { lo, hi, values }
}

impl CnnEngine {
    /// Fast ISM of every row of one-hot `x` (N, 4, L): attr[row, b, i] = logit(x with base b at
    /// position i) − logit(x), for logit `class_of(row)`; 0 at reference bases.
    pub fn ism(&self, x: ArrayView3<'_, f32>, class_of: &(dyn Fn(usize) -> usize + Sync)) -> Array3<f32> {
        let (n, c, l) = x.dim();
        assert_eq!((c, l), (self.layers.channels, self.layers.length), "input shape");
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let mut attr = vec![0f32; n * c * l];
        attr.par_chunks_mut(c * l).enumerate().for_each(|(row, out)| {
            let mut ws = self.workspace();
            ism_row(&self.layers, &mut ws, &x[row * c * l..(row + 1) * c * l], class_of(row), out);
            self.give_back(ws);
        });
        Array3::from_shape_vec((n, c, l), attr).expect("N x C x L")
    }
}

impl CnnEngine {
    /// Logits of every row of `x` (N, C, L) and of its single-base substitutions `mutants[row]`
    /// (position, base), recomputing for each only what it changes (the first layer's rank-1
    /// update, then the changed intervals of deeper layers): reference logits (N, K) and the
    /// substitutions' logits (Σ mutants, K) in the order given. Equal to full forward passes of
    /// the mutated rows to float32 rounding.
    pub fn substitutions(&self, x: ArrayView3<'_, f32>, mutants: &[Vec<(usize, usize)>]) -> (Array2<f32>, Array2<f32>) {
        let (n, c, l) = x.dim();
        assert_eq!((c, l), (self.layers.channels, self.layers.length), "input shape");
        assert_eq!(mutants.len(), n, "one mutant list per row");
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let (k, width) = (self.layers.classes(), self.layers.features());
        // Blocks of rows: each row's convolutions and its mutants' features, then the dense
        // layers once for the block's references and mutants together (a GEMM, not a
        // matrix-vector product per row).
        let order: Vec<usize> = (0..n).collect();
        let rows: Vec<(Vec<f32>, Vec<f32>)> = order
            .par_chunks(BLOCK)
            .map(|block| {
                let mut ws = self.workspace();
                let mut scratch = Scratch::default();
                let (mut features, mut mutant_features) = (Vec::new(), Vec::new());
                for &row in block {
                    ws.load_input(&self.layers, &x[row * c * l..(row + 1) * c * l], 1);
                    ws.convs(&self.layers, 1, 0..self.layers.convs.len());
                    ws.reduce(&self.layers, 1);
                    features.extend_from_slice(&ws.features[..width]);
                    for group in mutants[row].chunks(GROUP) {
                        group_features(&self.layers, &ws, group, &mut scratch);
                        mutant_features.extend_from_slice(&scratch.features[..group.len() * width]);
                    }
                }
                self.give_back(ws);
                let references = block.len();
                features.extend_from_slice(&mutant_features);
                let total = features.len() / width;
                dense_head(&self.layers, &features, total, &mut scratch);
                let logits = &scratch.hidden[..total * k];
                (logits[..references * k].to_vec(), logits[references * k..].to_vec())
            })
            .collect();
        let m: usize = mutants.iter().map(Vec::len).sum();
        let (mut reference, mut mutated) = (Vec::with_capacity(n * k), Vec::with_capacity(m * k));
        for (r, z) in rows {
            reference.extend(r);
            mutated.extend(z);
        }
        (
            Array2::from_shape_vec((n, k), reference).expect("N x K"),
            Array2::from_shape_vec((m, k), mutated).expect("M x K"),
        )
    }
}

/// Fast ISM of one row (channel-major `x`), explaining logit `class`, into channel-major `out`.
fn ism_row(layers: &Layers, ws: &mut Workspace, x: &[f32], class: usize, out: &mut [f32]) {
    let mut logits = Vec::new();
    ws.forward(layers, x, 1, &mut logits);
    let reference = logits[class];
    let (channels, length) = (layers.channels, layers.length);
    let all = mutants(&ws.inputs[0], channels, layers.convs[0].pad_left, length);
    let mut scratch = Scratch::default();
    let k = layers.classes();
    for group in all.chunks(GROUP) {
        let hidden = group_logits(layers, ws, group, &mut scratch);
        for (m, &(p, b)) in group.iter().enumerate() {
            out[b * length + p] = hidden[m * k + class] - reference;
        }
    }
}

/// Buffers of [`group_logits`], kept across groups.
#[derive(Default)]
struct Scratch {
    window: Vec<f32>,
    conv: Vec<f32>,
    features: Vec<f32>,
    hidden: Vec<f32>,
    next: Vec<f32>,
}

/// Logits (mutants × classes, row-major) of the single-base mutants `group` (position, base) of
/// the row whose forward pass `ws` holds, recomputing only what each mutation changes.
fn group_logits<'s>(layers: &Layers, ws: &Workspace, group: &[(usize, usize)], scratch: &'s mut Scratch) -> &'s [f32] {
    group_features(layers, ws, group, scratch);
    let features = std::mem::take(&mut scratch.features);
    dense_head(layers, &features, group.len(), scratch);
    scratch.features = features;
    &scratch.hidden[..group.len() * layers.classes()]
}

/// The dense layers on `features` (rows × features), the logits into `scratch.hidden`.
fn dense_head(layers: &Layers, features: &[f32], rows: usize, scratch: &mut Scratch) {
    let (mut hidden, mut next) = (std::mem::take(&mut scratch.hidden), std::mem::take(&mut scratch.next));
    let mut input = features;
    for layer in &layers.dense {
        dense_forward(layer, input, rows, &mut next);
        std::mem::swap(&mut hidden, &mut next);
        input = &hidden;
    }
    scratch.hidden = hidden;
    scratch.next = next;
}

/// The feature vectors (mutants × features, into `scratch.features`) of the single-base mutants
/// `group` (position, base) of the row whose convolutions `ws` holds, recomputing only what each
/// mutation changes.
fn group_features(layers: &Layers, ws: &Workspace, group: &[(usize, usize)], scratch: &mut Scratch) {
    // The buffers are taken for the body and put back at the end.
    let take = std::mem::take;
    let (mut window, mut conv, mut features) =
        (take(&mut scratch.window), take(&mut scratch.conv), take(&mut scratch.features));
    let (channels, length) = (layers.channels, layers.length);
    let first = &layers.convs[0];
    // First layer: reference output + (new base's weight row − reference column's), on the
    // `kernel` outputs whose windows cover the position.
    let (k, cout, pl, lc) = (first.kernel, first.cout, first.pad_left, first.conv_length());
    let mut changes: Vec<Change> = group
        .iter()
        .map(|&(p, b)| {
            let (oa, ob) = ((p + pl + 1).saturating_sub(k), (p + pl + 1).min(lc));
            let column = &ws.inputs[0][(p + pl) * channels..][..channels];
            let mut new = vec![0f32; (ob - oa) * cout];
            for l in oa..ob {
                let t = p + pl - l;
                let row = &mut new[(l - oa) * cout..][..cout];
                row.copy_from_slice(&ws.first_conv[l * cout..][..cout]);
                let w = |base: usize| &first.forward[(t * channels + base) * cout..][..cout];
                row.iter_mut().zip(w(b)).for_each(|(z, w)| *z += w);
                for (base, v) in column.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                    row.iter_mut().zip(w(base)).for_each(|(z, w)| *z -= v * w);
                }
                for (z, bias) in row.iter_mut().zip(&first.bias) {
                    *z = activate(first.activation, *z + bias);
                }
            }
            pool_change(first, oa, ob, &new, &ws.activations[0])
        })
        .collect();
    // Deeper layers: each mutant's affected outputs, recomputed from its input window.
    for (i, layer) in layers.convs.iter().enumerate().skip(1) {
        let (k, cin, cout, pl, lc) = (layer.kernel, layer.cin, layer.cout, layer.pad_left, layer.conv_length());
        let reference_input = &ws.inputs[i];
        // Per mutant: its output interval and where its window starts in `window`.
        let mut spans = Vec::with_capacity(changes.len());
        window.clear();
        for change in &changes {
            if change.lo == change.hi {
                spans.push((0, 0, 0));
                continue;
            }
            let (oa, ob) = ((change.lo + pl + 1).saturating_sub(k), (change.hi + pl).min(lc));
            let start = window.len() / cin;
            window.extend_from_slice(&reference_input[oa * cin..(ob + k - 1) * cin]);
            let at = (start + change.lo + pl - oa) * cin;
            window[at..at + change.values.len()].copy_from_slice(&change.values);
            spans.push((oa, ob, start));
        }
        let rows = window.len() / cin;
        if rows >= k {
            let m = rows + 1 - k;
            resize(&mut conv, m * cout);
            matmul(&mut conv, MatRef::strided(&window, m, k * cin, cin), MatRef::dense(&layer.forward, k * cin, cout));
        }
        for (change, &(oa, ob, start)) in changes.iter_mut().zip(&spans) {
            if oa == ob {
                *change = Change::default();
                continue;
            }
            let mut new = conv[start * cout..(start + ob - oa) * cout].to_vec();
            for row in new.chunks_mut(cout) {
                for (z, bias) in row.iter_mut().zip(&layer.bias) {
                    *z = activate(layer.activation, *z + bias);
                }
            }
            *change = pool_change(layer, oa, ob, &new, &ws.activations[i]);
        }
    }
    // Head: the mutants' feature vectors through the dense layers as one batch.
    let last = &ws.inputs[layers.convs.len()];
    let (c_last, l_last) = layers.convs.last().map_or((channels, length), |c| (c.cout, c.pooled_length()));
    let width = layers.features();
    resize(&mut features, group.len() * width);
    for (m, change) in changes.iter().enumerate() {
        let f = &mut features[m * width..(m + 1) * width];
        if layers.global_max {
            f.fill(f32::NEG_INFINITY);
            for p in 0..l_last {
                let from = if (change.lo..change.hi).contains(&p) {
                    &change.values[(p - change.lo) * c_last..][..c_last]
                } else {
                    &last[p * c_last..][..c_last]
                };
                f.iter_mut().zip(from).for_each(|(o, v)| *o = o.max(*v));
            }
        } else {
            f.copy_from_slice(&ws.features[..width]);
            f[change.lo * c_last..change.hi * c_last].copy_from_slice(&change.values);
        }
    }
    (scratch.window, scratch.conv, scratch.features) = (window, conv, features);
}
