//! A detector of adversarial rows in the spirit of feature squeezing (Xu, Evans & Qi, NDSS 2018):
//! each row is scored by how far the model's prediction moves under "squeezers" that should not
//! change the prediction of a natural sequence, and the score is the largest such move. The
//! squeezers that suit DNA:
//!
//! - `rc`: the reverse complement (a motif is the same on either strand);
//! - `ensemble`: other models trained for the same task (an adversarial row is tuned to one
//!   model's quirks);
//! - `mask`: the fraction q of positions with the least attribution (|Σ_b ∂s/∂x_b · x_b|, the
//!   gradient × input of the class score) blurred to 0.25 per base.
//!
//! The combined detector takes the largest squeezer score after dividing each by its median on
//! the clean rows.
//!
//! The distance between two predictions is the absolute difference of the class score (the
//! logit, or the softmax margin): an adversarial row sits just past the decision threshold, where
//! probabilities of a sigmoid are flat or steep depending on the threshold, so logits compare
//! models and thresholds on one scale.
//!
//! Only rows the attack changed are scored: a row that met the goal with no substitution is not
//! an adversarial example.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use gkd_io::adversarial::{DETECTION_SCHEMA, DetectionReport, SqueezerScore};
use gkd_io::atomic::AtomicFile;
use gkd_io::dataset::Dataset;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::manifest::rows_path_for;
use gkd_io::table::TextTable;
use gkd_metrics::median;
use ndarray::{Array2, Array3, ArrayView3, Axis};

use crate::objective::{Attacked, bases_of};
use crate::run::check_data;

/// The squeezers of a detector.
pub struct Squeezers<'r, 'a> {
    /// Compare with the reverse complement's prediction.
    pub reverse_complement: bool,
    /// Compare with these models' predictions (the largest distance counts).
    pub ensemble: Vec<Attacked<'r, 'a>>,
    /// Compare with the prediction after blurring this fraction of lowest-attribution positions.
    pub mask: Option<f32>,
}

/// The reverse complement of one-hot rows (N, 4, L) in A, C, G, T order.
pub fn reverse_complement(x: ArrayView3<'_, f32>) -> Array3<f32> {
    let (n, c, l) = x.dim();
    Array3::from_shape_fn((n, c, l), |(r, b, i)| x[[r, c - 1 - b, l - 1 - i]])
}

/// Row-wise distances between two sets of logits: |Δ class score| (the logit under sigmoid
/// heads, the margin over the runner-up under a softmax head).
fn distances(model: &Attacked<'_, '_>, a: &Array2<f32>, b: &Array2<f32>) -> Vec<f32> {
    model.scores(a).iter().zip(model.scores(b)).map(|(x, y)| (x - y).abs()).collect()
}

/// Rows with the fraction `q` of their one-hot positions of least |gradient × input| (of the
/// class score) set to 0.25 per base; lower positions first on ties.
pub fn masked(model: &Attacked<'_, '_>, x: ArrayView3<'_, f32>, q: f32) -> Array3<f32> {
    let (_, gradient) = model.score_gradients(x);
    let mut out = x.to_owned();
    for (r, row) in x.axis_iter(Axis(0)).enumerate() {
        let mut open: Vec<(usize, f32)> = bases_of(row)
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.map(|b| (i, (gradient[[r, b, i]] * row[[b, i]]).abs())))
            .collect();
        open.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let blurred = ((open.len() as f32) * q).round() as usize;
        for &(i, _) in &open[..blurred.min(open.len())] {
            out.index_axis_mut(Axis(0), r).column_mut(i).fill(0.25);
        }
    }
    out
}

/// The names of the squeezers in use, in the order [`squeezer_scores`] gives them.
fn squeezer_names(squeezers: &Squeezers<'_, '_>) -> Vec<&'static str> {
    let used = [squeezers.reverse_complement, !squeezers.ensemble.is_empty(), squeezers.mask.is_some()];
    ["rc", "ensemble", "mask"].into_iter().zip(used).filter(|(_, u)| *u).map(|(n, _)| n).collect()
}

/// Per squeezer (in the order rc, ensemble, mask, each if used): its name and every row's
/// detection score.
pub fn squeezer_scores(
    model: &Attacked<'_, '_>,
    squeezers: &Squeezers<'_, '_>,
    x: ArrayView3<'_, f32>,
) -> Vec<(&'static str, Vec<f32>)> {
    let logits = model.logits(x);
    let mut out = Vec::new();
    if squeezers.reverse_complement {
        let rc = model.logits(reverse_complement(x).view());
        out.push(("rc", distances(model, &logits, &rc)));
    }
    if !squeezers.ensemble.is_empty() {
        let mut largest = vec![0f32; x.shape()[0]];
        for member in &squeezers.ensemble {
            let d = distances(model, &logits, &member.logits(x));
            largest.iter_mut().zip(d).for_each(|(l, d)| *l = l.max(d));
        }
        out.push(("ensemble", largest));
    }
    if let Some(q) = squeezers.mask {
        let m = model.logits(masked(model, x, q).view());
        out.push(("mask", distances(model, &logits, &m)));
    }
    out
}

/// The fraction of `positive` scores above the 95th percentile of `negative` ones.
fn detected_at_5pct(negative: &[f32], positive: &[f32]) -> Option<f64> {
    if negative.is_empty() || positive.is_empty() {
        return None;
    }
    let mut sorted = negative.to_vec();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[((0.95 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Some(positive.iter().filter(|&&s| s > threshold).count() as f64 / positive.len() as f64)
}

/// What `gkd-attack detect` compares.
pub struct DetectRequest {
    /// The clean split.
    pub clean: PathBuf,
    /// The adversarial split (gkd-attack output, with its attack_success column).
    pub adversarial: PathBuf,
    /// The model directory (for the sidecar).
    pub model_dir: PathBuf,
    /// The ensemble squeezer's model directories.
    pub ensemble_dirs: Vec<PathBuf>,
    /// Output prefix.
    pub prefix: String,
}

/// Score the successful adversarial rows and their clean originals; stage the table and the
/// sidecar.
pub fn detect(
    request: &DetectRequest,
    model: &Attacked<'_, '_>,
    class_name: &str,
    squeezers: &Squeezers<'_, '_>,
) -> Result<Vec<AtomicFile>> {
    let clean = Dataset::load(&request.clean)?;
    let adversarial = Dataset::load(&request.adversarial)?;
    check_data(&clean, model.length)?;
    check_data(&adversarial, model.length)?;
    let rows_path = rows_path_for(&request.adversarial);
    let table = TextTable::read(&rows_path, Some(b'\t'))?;
    if !table.columns.iter().any(|c| c == "attack_success") {
        return Err(Error::in_file(
            &rows_path,
            "has no attack_success column (write adversarial splits with gkd-attack)",
        ));
    }
    let success = table.column("attack_success")?;
    let used = table.column("substitutions")?;
    let attack = adversarial.manifest.parameters.get("attack").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned();
    let index: HashMap<&str, usize> = clean.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let mut adversarial_rows = Vec::new();
    let mut clean_rows = Vec::new();
    for (i, flag) in success.iter().enumerate() {
        if flag.as_deref() != Some("1") || used[i].as_deref() == Some("0") {
            continue;
        }
        let id = &adversarial.ids[i];
        let &c = index.get(id.as_str()).ok_or_else(|| {
            Error::at_record(
                &request.adversarial,
                i as u64 + 1,
                Some(id),
                format!("has no clean row in {}", request.clean.display()),
            )
        })?;
        adversarial_rows.push(i);
        clean_rows.push(c);
    }
    let names = squeezer_names(squeezers);
    if names.is_empty() {
        return Err(Error::usage("give at least one squeezer (--rc, --ensemble-model, --mask)"));
    }
    let (on_clean, on_adversarial) = if adversarial_rows.is_empty() {
        log::warn!(
            "{}: no row the attack changed and broke (attack_success 1, substitutions > 0); nothing to detect",
            request.adversarial.display()
        );
        let empty: Vec<(&str, Vec<f32>)> = names.iter().map(|&n| (n, Vec::new())).collect();
        (empty.clone(), empty)
    } else {
        let x_clean = clean.gather_x(&clean_rows)?;
        let x_adversarial = adversarial.gather_x(&adversarial_rows)?;
        (squeezer_scores(model, squeezers, x_clean.view()), squeezer_scores(model, squeezers, x_adversarial.view()))
    };
    // Squeezers move predictions on different scales (another model's logits are calibrated
    // differently from the attacked model's), so each is put on the scale of its own median on
    // the clean rows before the largest is taken: a detector knows clean data, not the attack.
    let scales: Vec<f32> = on_clean
        .iter()
        .map(|(_, s)| median(s.iter().map(|&v| v as f64)).map_or(1.0, |m| (m as f32).max(f32::MIN_POSITIVE)))
        .collect();
    let combined = |scores: &[(&str, Vec<f32>)]| -> Vec<f32> {
        (0..scores[0].1.len())
            .map(|r| scores.iter().zip(&scales).map(|((_, s), scale)| s[r] / scale).fold(0f32, f32::max))
            .collect()
    };
    let (all_clean, all_adversarial) = (combined(&on_clean), combined(&on_adversarial));
    let mut squeezer_rows = Vec::new();
    let mut score = |name: &str, negative: &[f32], positive: &[f32]| {
        let scores: Vec<f32> = negative.iter().chain(positive).copied().collect();
        let labels: Vec<f32> = negative.iter().map(|_| 0.0).chain(positive.iter().map(|_| 1.0)).collect();
        squeezer_rows.push(SqueezerScore {
            squeezer: name.to_owned(),
            auroc: gkd_metrics::auroc(&scores, &labels),
            detected_at_5pct_fpr: detected_at_5pct(negative, positive),
        });
    };
    for ((name, c), (_, a)) in on_clean.iter().zip(&on_adversarial) {
        score(name, c, a);
    }
    score("combined", &all_clean, &all_adversarial);

    let prefix = &request.prefix;
    let table_path = PathBuf::from(format!("{prefix}.tsv"));
    let out = AtomicFile::create(&table_path)?;
    {
        let mut w = out.writer()?;
        let names: Vec<&str> = on_clean.iter().map(|(n, _)| *n).collect();
        writeln!(w, "id\tkind\t{}\tcombined", names.join("\t")).with_path(&table_path)?;
        for (kind, rows, scores, all) in [
            ("clean", &clean_rows, &on_clean, &all_clean),
            ("adversarial", &adversarial_rows, &on_adversarial, &all_adversarial),
        ] {
            let ids = if kind == "clean" { &clean.ids } else { &adversarial.ids };
            for (i, &r) in rows.iter().enumerate() {
                let cells: Vec<String> = scores.iter().map(|(_, s)| s[i].to_string()).collect();
                writeln!(w, "{}\t{kind}\t{}\t{}", ids[r], cells.join("\t"), all[i]).with_path(&table_path)?;
            }
        }
        w.flush().with_path(&table_path)?;
    }
    let file_name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let report = DetectionReport {
        schema: DETECTION_SCHEMA.to_owned(),
        model: request.model_dir.display().to_string(),
        clean: request.clean.display().to_string(),
        adversarial: request.adversarial.display().to_string(),
        attack,
        class: class_name.to_owned(),
        pairs: adversarial_rows.len(),
        ensemble: request.ensemble_dirs.iter().map(|d| d.display().to_string()).collect(),
        mask_fraction: squeezers.mask,
        squeezers: squeezer_rows,
        table: file_name(&table_path),
        tool: "gkd-attack".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let sidecar = report.stage(Path::new(&format!("{prefix}.json")))?;
    Ok(vec![out, sidecar])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_complement_by_hand() {
        // ACG -> CGT.
        let mut x = Array3::<f32>::zeros((1, 4, 3));
        for (i, b) in [0usize, 1, 2].into_iter().enumerate() {
            x[[0, b, i]] = 1.0;
        }
        let rc = reverse_complement(x.view());
        let bases: Vec<Option<usize>> = bases_of(rc.index_axis(Axis(0), 0));
        assert_eq!(bases, vec![Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn five_percent_threshold_by_hand() {
        let clean: Vec<f32> = (1..=20).map(|v| v as f32).collect(); // 95th percentile: 19
        assert_eq!(detected_at_5pct(&clean, &[18.0, 19.0, 19.5, 25.0]), Some(0.5));
    }
}
