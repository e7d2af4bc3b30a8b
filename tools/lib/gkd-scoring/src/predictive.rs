//! Predictive scores: per-class and macro AUROC / AUPR of each model's predictions against a
//! dataset split's labels (ranked by logits, [`gkd_metrics::predictive`]), and optionally each
//! model's mean |p − p_ref| against a reference model (a student's agreement with its teacher).

use std::path::{Path, PathBuf};

use gkd_io::dataset::{Dataset, index_ids};
use gkd_io::error::{Error, Result};
use gkd_io::manifest::TaskKind;
use gkd_io::predictions;
use gkd_io::scores::PredictiveRow;

/// Per-class and macro AUROC / AUPR of each input's probabilities against the labels, and each
/// input's mean |p − p_ref| against input `reference` when given.
pub fn score(data_path: &Path, inputs: &[(String, PathBuf)], reference: Option<usize>) -> Result<Vec<PredictiveRow>> {
    let data = Dataset::load(data_path)?;
    let classes = &data.manifest.classes;
    if classes.is_empty() {
        return Err(Error::in_file(data_path, "has no labels to score predictions against"));
    }
    let softmax = data.manifest.task == TaskKind::Multiclass;
    let scores: Vec<Vec<f32>> =
        inputs.iter().map(|(_, path)| row_logits(&data, data_path, path)).collect::<Result<_>>()?;
    let k = classes.len();
    let link = if softmax { gkd_metrics::Link::Softmax } else { gkd_metrics::Link::Sigmoid };
    let probabilities = |z: &[f32]| gkd_metrics::probabilities(link, z, k);
    let reference = reference.map(|r| probabilities(&scores[r]));
    let truth: Vec<f32> = data.y.iter().copied().collect();
    let mut out = Vec::new();
    for ((label, _), scores) in inputs.iter().zip(&scores) {
        // |p − p_ref| per row and class (row-major, as the scores), with a reference.
        let diffs: Option<Vec<f64>> =
            reference.as_ref().map(|r| probabilities(scores).iter().zip(r).map(|(a, b)| (a - b).abs()).collect());
        let ranks = gkd_metrics::predictive(link, scores, &truth, k, 1.0);
        for (class, (name, rank)) in classes.iter().zip(&ranks).enumerate() {
            out.push(PredictiveRow {
                model: label.clone(),
                class: name.clone(),
                positives: data.y.column(class).iter().filter(|&&v| v > 0.5).count(),
                rows: data.len(),
                auroc: rank.auroc,
                aupr: rank.aupr,
                mean_abs_diff: diffs.as_ref().map(|d| d.iter().skip(class).step_by(k).sum::<f64>() / data.len() as f64),
            });
        }
        out.push(PredictiveRow {
            model: label.clone(),
            class: "macro".into(),
            positives: data.y.iter().filter(|&&v| v > 0.5).count(),
            rows: data.len(),
            auroc: gkd_metrics::macro_mean(ranks.iter().map(|r| r.auroc)),
            aupr: gkd_metrics::macro_mean(ranks.iter().map(|r| r.aupr)),
            mean_abs_diff: diffs.as_ref().map(|d| d.iter().sum::<f64>() / d.len() as f64),
        });
    }
    Ok(out)
}

/// One input's logits in the dataset's row order (N × K, row-major), which
/// [`gkd_metrics::predictive`] ranks.
fn row_logits(data: &Dataset, data_path: &Path, path: &Path) -> Result<Vec<f32>> {
    let classes = &data.manifest.classes;
    let p = predictions::read(path)?;
    if p.classes != *classes {
        return Err(Error::in_file(
            path,
            format!("predicts classes ({}); the dataset's labels are ({})", p.classes.join(", "), classes.join(", ")),
        ));
    }
    let index = index_ids(&p.ids, path)?;
    let mut scores = Vec::with_capacity(data.len() * classes.len());
    for id in &data.ids {
        let &r = index.get(id).ok_or_else(|| {
            Error::in_file(path, format!("has no prediction for row '{id}' of {}", data_path.display()))
        })?;
        scores.extend(p.logits.row(r).iter().copied());
    }
    Ok(scores)
}
