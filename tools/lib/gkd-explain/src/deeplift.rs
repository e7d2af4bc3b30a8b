//! DeepLIFT and DeepSHAP maps (docs/science.md §4) from the engine's multipliers: each row
//! against each of its references, projected to hypothetical contributions on one-hot input.

use gkd_engine::Runner;
use gkd_io::error::{Error, Result};
use gkd_io::progress::Progress;
use ndarray::{Array1, Array2, Array3, Axis, s};

use crate::baselines::baselines;
use crate::method::{Computed, Settings};

/// DeepLIFT / DeepSHAP: every row against each of its references on the engine; the maps are the
/// hypothetical contributions averaged over the references (Shrikumar's projection, as
/// tangermeme's `hypothetical_attributions`: the contribution each base would make at each
/// position, m_b − Σ_c x′_c·m_c) on one-hot input, and the contributions (x − x′)·m on other
/// input (histone marks). Extra arrays: `convergence_delta` (maps × references: Σ (x − x′)·m −
/// (F(x) − F(x′))), `delta` (mean F(x) − F(x′)) and, when asked, `references`.
pub(crate) fn maps(
    runner: &Runner<'_>,
    x: &Array3<f32>,
    classes: &[usize],
    dataset_rows: &[usize],
    settings: &Settings,
    bar: &dyn Progress,
) -> Result<Computed> {
    let (n, c, l) = x.dim();
    let one_hot = settings.hypothetical;
    let refs_per_row: Vec<Vec<Array2<f32>>> = x
        .outer_iter()
        .zip(dataset_rows)
        .map(|(row, &dataset_row)| {
            baselines(row, settings.baseline, settings.baselines, settings.seed, dataset_row as u64)
        })
        .collect();
    let k = refs_per_row[0].len();
    let mut attr = Array3::<f32>::zeros((n, c, l));
    let mut convergence = Array2::<f32>::zeros((n, k));
    let mut delta = Array1::<f32>::zeros(n);
    let mut kept = settings.keep_references.then(|| ndarray::Array4::<f32>::zeros((n, k, c, l)));
    // Pairs a batch at a time: row i with each of its references.
    let rows_per_batch = (settings.batch / k).max(1);
    for start in (0..n).step_by(rows_per_batch) {
        let end = (start + rows_per_batch).min(n);
        let pairs = (end - start) * k;
        let inputs = Array3::from_shape_fn((pairs, c, l), |(p, ch, q)| x[[start + p / k, ch, q]]);
        let references = Array3::from_shape_fn((pairs, c, l), |(p, ch, q)| refs_per_row[start + p / k][p % k][[ch, q]]);
        let class_of = |p: usize| classes[start + p / k];
        let Some(dl) = runner.deeplift(inputs.view(), references.view(), &class_of) else {
            return Err(Error::usage(
                "--method deeplift/deepshap run on gkd's CPU engine: a convolutional model (koo-cnn-*, demo-cnn, deepchrome) with --device cpu and --engine auto",
            ));
        };
        for p in 0..pairs {
            let (i, j) = (start + p / k, p % k);
            let (xi, ri, m) = (
                inputs.index_axis(Axis(0), p),
                references.index_axis(Axis(0), p),
                dl.multipliers.index_axis(Axis(0), p),
            );
            let sum: f32 = xi.iter().zip(ri.iter()).zip(m.iter()).map(|((a, b), m)| (a - b) * m).sum();
            let change = dl.logits[p] - dl.reference_logits[p];
            convergence[[i, j]] = sum - change;
            delta[i] += change / k as f32;
            let mut map = attr.index_axis_mut(Axis(0), i);
            for q in 0..l {
                if one_hot {
                    let reference_part: f32 = (0..c).map(|ch| ri[[ch, q]] * m[[ch, q]]).sum();
                    for ch in 0..c {
                        map[[ch, q]] += (m[[ch, q]] - reference_part) / k as f32;
                    }
                } else {
                    for ch in 0..c {
                        map[[ch, q]] += (xi[[ch, q]] - ri[[ch, q]]) * m[[ch, q]] / k as f32;
                    }
                }
            }
            if let Some(kept) = kept.as_mut() {
                kept.slice_mut(s![i, j, .., ..]).assign(&ri);
            }
        }
        bar.advance((end - start) as u64);
    }
    let mut extra =
        vec![("convergence_delta".to_owned(), convergence.into_dyn()), ("delta".to_owned(), delta.into_dyn())];
    if let Some(kept) = kept {
        extra.push(("references".to_owned(), kept.into_dyn()));
    }
    Ok(Computed { attr, extra })
}
