//! Reference inputs for integrated gradients (docs/science.md §4): all zeros, uniform 0.25, positional
//! (mononucleotide) shuffles and dinucleotide shuffles of each sequence, `count` of them.

use gkd_genomics::rng::SeededRng;
use gkd_genomics::shuffle::dinucleotide_shuffle;
use ndarray::{Array2, ArrayView2};

/// How IG's reference inputs are made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Baseline {
    /// All-zero input.
    Zeros,
    /// 0.25 everywhere (the uniform PWM).
    Uniform,
    /// Positions of the sequence permuted (base composition kept).
    Shuffle,
    /// Dinucleotide-preserving shuffles.
    Dinucleotide,
}

impl Baseline {
    /// The name written in the sidecar (as on the command line).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Token of a column: the index of its 1 in a one-hot column, or `channels` for anything else
/// (all-zero N columns, soft encodings), whose column is then copied as it is.
fn tokens(x: ArrayView2<'_, f32>) -> Vec<u8> {
    let (c, l) = x.dim();
    (0..l)
        .map(|i| {
            let column = x.column(i);
            match column.iter().position(|&v| v == 1.0) {
                Some(b) if column.sum() == 1.0 => b as u8,
                _ => c as u8,
            }
        })
        .collect()
}

/// The baselines of one (C, L) input: one for zeros/uniform, `count` shuffles otherwise (seeded by
/// `seed` and the row index, so a row's baselines do not depend on the other rows).
pub fn baselines(x: ArrayView2<'_, f32>, kind: Baseline, count: usize, seed: u64, row: u64) -> Vec<Array2<f32>> {
    match kind {
        Baseline::Zeros => vec![Array2::zeros(x.dim())],
        Baseline::Uniform => vec![Array2::from_elem(x.dim(), 0.25)],
        Baseline::Shuffle | Baseline::Dinucleotide => {
            let original = tokens(x);
            let mut rng = SeededRng::new(seed, row);
            (0..count.max(1))
                .map(|_| {
                    // Shuffle positions (as indices) so non-one-hot columns travel with their token.
                    let order: Vec<usize> = match kind {
                        Baseline::Shuffle => {
                            let mut positions: Vec<usize> = (0..original.len()).collect();
                            rng.shuffle(&mut positions);
                            positions
                        }
                        _ => source_positions(&original, &dinucleotide_shuffle(&original, &mut rng)),
                    };
                    let mut out = Array2::zeros(x.dim());
                    for (i, &from) in order.iter().enumerate() {
                        out.column_mut(i).assign(&x.column(from));
                    }
                    out
                })
                .collect()
        }
    }
}

/// For a shuffled token sequence, a source position in the original for each output position
/// holding the same token (taken in order), so each output column copies a real input column.
fn source_positions(original: &[u8], shuffled: &[u8]) -> Vec<usize> {
    let alphabet = original.iter().chain(shuffled).copied().max().unwrap_or(0) as usize + 1;
    let mut queues: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); alphabet];
    for (i, &t) in original.iter().enumerate() {
        queues[t as usize].push_back(i);
    }
    shuffled.iter().map(|&t| queues[t as usize].pop_front().expect("same token counts")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn shuffled_baselines_keep_composition_and_dinucleotides() {
        let l = 300;
        let x = Array2::from_shape_fn((4, l), |(c, p)| ((p * 5 + p / 7) % 4 == c) as u8 as f32);
        let original = tokens(x.view());
        let count_pairs = |t: &[u8]| {
            let mut m = std::collections::BTreeMap::new();
            for w in t.windows(2) {
                *m.entry((w[0], w[1])).or_insert(0) += 1;
            }
            m
        };
        let dinuc = baselines(x.view(), Baseline::Dinucleotide, 5, 1, 0);
        assert_eq!(dinuc.len(), 5);
        for b in &dinuc {
            assert_eq!(count_pairs(&tokens(b.view())), count_pairs(&original));
            assert_ne!(b, &x);
        }
        let mono = baselines(x.view(), Baseline::Shuffle, 2, 1, 0);
        for b in &mono {
            assert_eq!(b.sum_axis(ndarray::Axis(1)), x.sum_axis(ndarray::Axis(1)));
            assert_ne!(b, &x);
        }
        assert_eq!(baselines(x.view(), Baseline::Uniform, 9, 1, 0), vec![Array2::from_elem((4, l), 0.25)]);
        // Same seed and row → same baselines; another row → others.
        assert_eq!(baselines(x.view(), Baseline::Dinucleotide, 2, 1, 0), dinuc[..2].to_vec());
        assert_ne!(baselines(x.view(), Baseline::Dinucleotide, 2, 1, 1), dinuc[..2].to_vec());
    }
}
