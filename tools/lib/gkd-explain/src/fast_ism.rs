//! Fast in-silico mutagenesis (the fastISM idea of Nair et al. 2022; Deep Shifting in the seed
//! work): a single-base mutation at position i changes only a window of each convolution and
//! pooling output. The reference activations of every block are computed once per sequence;
//! for each mutant only the changed window of each block is recomputed (a valid convolution over
//! that window plus its context, read from the cached reference), up to the first global layer
//! (flatten or global max), after which the head runs on the spliced feature map as usual.
//!
//! Supported: feed-forward convolutional networks ([`Network::Conv`]) whose same-padded
//! convolutions have odd kernels — every sequence CNN of the zoo. Others return `None` and the
//! caller falls back to [`crate::ism::ism_naive`].

use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use gkd_nn::model::{ConvNet, Network};
use ndarray::{Array2, Array3, ArrayView2, Axis, s};

use crate::gradients::Target;
use crate::ism::mutants_of;

/// Geometry of one block: kernel, left/right context of its convolution, pool size.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    left: usize,
    right: usize,
    pool: usize,
    input_len: usize,
    conv_len: usize,
    output_len: usize,
}

/// The per-block geometry, or `None` when a block cannot be windowed.
fn geometry(net: &ConvNet, length: usize) -> Option<Vec<Geometry>> {
    let mut out = Vec::with_capacity(net.blocks.len());
    let mut len = length;
    for block in &net.blocks {
        let k = block.conv.kernel_size;
        if block.conv.stride != 1 || block.conv.dilation != 1 || block.conv.groups != 1 {
            return None;
        }
        let same = matches!(block.conv.padding, burn::nn::PaddingConfig1d::Same);
        let (left, right, conv_len) = if same {
            if k % 2 == 0 {
                return None;
            }
            ((k - 1) / 2, (k - 1) / 2, len)
        } else if matches!(block.conv.padding, burn::nn::PaddingConfig1d::Valid) {
            (0, k - 1, len.checked_sub(k - 1)?)
        } else {
            return None;
        };
        let pool = block.pool.as_ref().map_or(1, |p| p.kernel_size);
        let output_len = conv_len / pool;
        out.push(Geometry { left, right, pool, input_len: len, conv_len, output_len });
        len = output_len;
    }
    Some(out)
}

/// For a changed interval [lo, hi) of a block's input, the block outputs to recompute, as an
/// interval of pool outputs, and the conv outputs [a, b) (whole pool windows) it needs.
fn recompute(g: &Geometry, lo: usize, hi: usize) -> (usize, usize) {
    // Conv output j reads inputs [j − left, j + right] (in input coordinates, shifted by `left`
    // for valid convolutions whose output j reads [j, j + k − 1]).
    let first = lo.saturating_sub(g.right);
    let last = (hi + g.left).min(g.conv_len); // exclusive
    let pooled_first = first / g.pool;
    let pooled_last = last.div_ceil(g.pool).min(g.output_len);
    (pooled_first, pooled_last.max(pooled_first))
}

/// Widest recomputed interval (in pool outputs) over every mutation position, per block.
fn window_widths(geometry: &[Geometry], length: usize) -> Vec<usize> {
    let mut widths = vec![1usize; geometry.len()];
    for i in 0..length {
        let (mut lo, mut hi) = (i, i + 1);
        for (b, g) in geometry.iter().enumerate() {
            let (first, last) = recompute(g, lo, hi);
            widths[b] = widths[b].max(last - first);
            (lo, hi) = (first, last);
        }
    }
    widths
}

/// Whether [`ism_fast`] supports `network` on inputs of `length` positions.
pub fn supports(network: &Network, length: usize) -> bool {
    let Network::Conv(net) = network else { return false };
    geometry(net, length).is_some_and(|g| g.last().is_some_and(|last| last.output_len > 0))
}

/// Fast ISM of every row; `None` when the network is not supported (use naive ISM).
pub fn ism_fast(
    network: &Network,
    x: &Array3<f32>,
    target: &Target,
    batch: usize,
    device: &Device,
) -> Option<Array3<f32>> {
    let Network::Conv(net) = network else { return None };
    let (n, c, l) = x.dim();
    let geometry = geometry(net, l)?;
    if geometry.is_empty() || geometry.last()?.output_len == 0 {
        return None;
    }
    let widths = window_widths(&geometry, l);
    // Cached block inputs of every row: acts[row][0] = x, acts[row][b + 1] = output of block b.
    let acts = reference_activations(net, x, batch, device);
    let base: Vec<f32> = acts
        .chunks(batch.max(1))
        .flat_map(|rows| {
            head_logits(net, &rows.iter().map(|a| a.last().expect("blocks").clone()).collect::<Vec<_>>(), device)
        })
        .enumerate()
        .map(|(row, z)| z[target.class_of(row)])
        .collect();
    // Mutants of all rows (batches mix rows).
    let mutants: Vec<(usize, usize, usize)> = (0..n)
        .flat_map(|row| mutants_of(x.index_axis(Axis(0), row)).into_iter().map(move |(i, b)| (row, i, b)))
        .collect();
    let mut attr = Array3::zeros((n, c, l));
    for chunk in mutants.chunks(batch.max(1)) {
        let logits = mutant_logits(net, &geometry, &widths, &acts, chunk, device);
        for (&(row, i, b), z) in chunk.iter().zip(&logits) {
            attr[[row, b, i]] = z[target.class_of(row)] - base[row];
        }
    }
    Some(attr)
}

/// Every row's block inputs and outputs on the reference sequence, computed in batches.
fn reference_activations(net: &ConvNet, x: &Array3<f32>, batch: usize, device: &Device) -> Vec<Vec<Array2<f32>>> {
    let (n, c, l) = x.dim();
    let mut acts: Vec<Vec<Array2<f32>>> = (0..n).map(|row| vec![x.index_axis(Axis(0), row).to_owned()]).collect();
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let data: Vec<f32> = x.slice(s![start..end, .., ..]).iter().copied().collect();
        let mut t = Tensor::<3>::from_data(TensorData::new(data, [end - start, c, l]), device);
        for block in &net.blocks {
            t = block.forward(t);
            let [rows, f, len] = t.dims();
            let v: Vec<f32> = t.clone().into_data().try_to_vec::<f32>().expect("float32");
            let v = Array3::from_shape_vec((rows, f, len), v).expect("B x F x L");
            for (j, out) in v.axis_iter(Axis(0)).enumerate() {
                acts[start + j].push(out.to_owned());
            }
        }
    }
    acts
}

/// Logits of a batch of single-base mutants `(row, position, base)`, given every row's cached
/// activations.
fn mutant_logits(
    net: &ConvNet,
    geometry: &[Geometry],
    widths: &[usize],
    acts: &[Vec<Array2<f32>>],
    mutants: &[(usize, usize, usize)],
    device: &Device,
) -> Vec<Vec<f32>> {
    let m = mutants.len();
    let channels = acts[0][0].nrows();
    // Changed interval and new values per mutant, in the current block's input coordinates.
    let mut changed: Vec<(usize, Array2<f32>)> = mutants
        .iter()
        .map(|&(_, i, b)| {
            let mut column = Array2::zeros((channels, 1));
            column[[b, 0]] = 1.0;
            (i, column)
        })
        .collect();
    for (bi, (block, g)) in net.blocks.iter().zip(geometry).enumerate() {
        let c_in = acts[0][bi].nrows();
        let width = widths[bi];
        // The outputs each mutant changes, and aligned windows of equal width that hold them.
        let affected: Vec<(usize, usize)> =
            changed.iter().map(|(lo, values)| recompute(g, *lo, lo + values.ncols())).collect();
        let starts: Vec<usize> =
            affected.iter().map(|&(first, _)| first.min(g.output_len.saturating_sub(width))).collect();
        let width = width.min(g.output_len);
        let conv_width = width * g.pool;
        let in_width = conv_width + g.left + g.right;
        let mut window = vec![0f32; m * c_in * in_width];
        for (j, ((lo, values), &start)) in changed.iter().zip(&starts).enumerate() {
            // Input positions [start·pool − left, start·pool + conv_width + right), zero outside.
            let origin = (start * g.pool) as isize - g.left as isize;
            fill_window(
                &mut window[j * c_in * in_width..(j + 1) * c_in * in_width],
                acts[mutants[j].0][bi].view(),
                origin,
                in_width,
                *lo,
                values.view(),
                g.input_len,
            );
        }
        let x = Tensor::<3>::from_data(TensorData::new(window, [m, c_in, in_width]), device);
        let bias = block.conv.bias.as_ref().map(|b| b.val());
        let y = conv1d(x, block.conv.weight.val(), bias, ConvOptions::new([1], [0], [1], 1));
        let y = match &block.norm {
            Some(norm) => norm.forward(y),
            None => y,
        };
        let y = block.pool(block.activation.apply(y));
        let [_, f, w] = y.dims();
        debug_assert_eq!(w, width);
        let v: Vec<f32> = y.into_data().try_to_vec::<f32>().expect("float32");
        let v = Array3::from_shape_vec((m, f, w), v).expect("M x F x W");
        // Pass on only the outputs that can differ from the reference.
        changed = affected
            .iter()
            .zip(&starts)
            .enumerate()
            .map(|(j, (&(first, last), &start))| (first, v.slice(s![j, .., first - start..last - start]).to_owned()))
            .collect();
    }
    let features: Vec<Array2<f32>> = changed
        .iter()
        .zip(mutants)
        .map(|((lo, values), &(row, _, _))| {
            let mut full = acts[row].last().expect("blocks").clone();
            full.slice_mut(s![.., *lo..lo + values.ncols()]).assign(values);
            full
        })
        .collect();
    head_logits(net, &features, device)
}

/// Copy input positions [origin, origin + width) of `reference` (zero outside [0, len)) into
/// `out` (C × width), with the changed columns [lo, lo + values.ncols()) taken from `values`.
fn fill_window(
    out: &mut [f32],
    reference: ArrayView2<'_, f32>,
    origin: isize,
    width: usize,
    lo: usize,
    values: ArrayView2<'_, f32>,
    len: usize,
) {
    let c = reference.nrows();
    for ch in 0..c {
        for w in 0..width {
            let p = origin + w as isize;
            if p < 0 || p as usize >= len {
                continue;
            }
            let p = p as usize;
            out[ch * width + w] =
                if p >= lo && p < lo + values.ncols() { values[[ch, p - lo]] } else { reference[[ch, p]] };
        }
    }
}

/// The head (reduction, dense layers, output) on full feature maps.
fn head_logits(net: &ConvNet, features: &[Array2<f32>], device: &Device) -> Vec<Vec<f32>> {
    let (f, len) = features[0].dim();
    let data: Vec<f32> = features.iter().flat_map(|a| a.iter().copied()).collect();
    let z = net.head(Tensor::<3>::from_data(TensorData::new(data, [features.len(), f, len]), device));
    let k = z.dims()[1];
    let v: Vec<f32> = z.into_data().try_to_vec::<f32>().expect("float32");
    v.chunks(k).map(<[f32]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ism::ism_naive;
    use crate::testing::network;
    use gkd_engine::Runner;
    use gkd_nn::arch::Arch;
    use gkd_nn::layers::Activation;

    #[test]
    fn fast_ism_equals_naive_ism_on_every_sequence_cnn() {
        let device = Device::flex();
        for (arch, length) in [
            (Arch::KooCnnDeep, 200),
            (Arch::KooCnnShallow, 200),
            (Arch::KooCnnLocal, 150),
            (Arch::KooCnnDist, 120),
            (Arch::DemoCnn, 60),
        ] {
            for first in [Activation::Relu, Activation::Exponential] {
                let network = network(9, arch, length, 3, first, &device);
                let mut x =
                    Array3::from_shape_fn((2, 4, length), |(n, c, p)| ((n * 3 + p * 7 + p / 5) % 4 == c) as u8 as f32);
                x.slice_mut(s![1, .., length / 2]).fill(0.0);
                let naive = ism_naive(&Runner::burn(&network, &device), &x, &Target::PerRow(vec![2, 0]), 128);
                let fast = ism_fast(&network, &x, &Target::PerRow(vec![2, 0]), 100, &device).expect("supported");
                let diff = (&naive - &fast).mapv(f32::abs).fold(0f32, |a, &b| a.max(b));
                let scale = naive.mapv(f32::abs).fold(0f32, |a, &b| a.max(b));
                assert!(scale > 1e-3, "{}: naive ISM is flat ({scale}), the comparison would be empty", arch.name());
                assert!(diff <= 1e-4, "{} ({}): max |fast − naive| = {diff}", arch.name(), first.name());
            }
        }
    }

    #[test]
    fn recurrent_networks_are_not_supported() {
        let device = Device::flex();
        let network = network(1, Arch::DemoRnn, 20, 1, Activation::Relu, &device);
        assert!(ism_fast(&network, &Array3::zeros((1, 4, 20)), &Target::Class(0), 8, &device).is_none());
    }
}
