//! Ranking metrics shared by training (validation AUROC/AUPR), scoring and motif recovery.
//!
//! Definitions follow scikit-learn, which the Koo lab's published numbers were computed with:
//! [`auroc`] is `roc_auc_score` (trapezoidal area under the ROC curve built at every distinct
//! score, so tied scores form one step) and [`aupr`] is `average_precision_score`
//! (Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, no interpolation). [`recovery`] scores
//! attribution maps against synthetic ground truth.

pub mod paired;
pub mod recovery;

/// The ROC and precision-recall summaries of one score vector against binary labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranking {
    /// Area under the ROC curve; `None` when the labels hold only one class.
    pub auroc: Option<f64>,
    /// Average precision; `None` when there is no positive.
    pub aupr: Option<f64>,
}

/// Cumulative true/false positive counts at each distinct threshold, scores descending.
fn threshold_counts(scores: &[f32], positive: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // NaN scores rank last (treated as the lowest score) instead of poisoning the sort.
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        y.partial_cmp(&x).unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()))
    });
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0.0, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(rank + 1).is_none_or(|&j| scores[j].to_bits() != scores[i].to_bits());
        if last_of_tie {
            points.push((tp, fp));
        }
    }
    points
}

/// AUROC and AUPR of `scores` against `labels` (> 0.5 is positive).
pub fn rank(scores: &[f32], labels: &[f32]) -> Ranking {
    assert_eq!(scores.len(), labels.len(), "scores and labels differ in length");
    let positive: Vec<bool> = labels.iter().map(|&l| l > 0.5).collect();
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    let points = threshold_counts(scores, &positive);

    let auroc = (n_pos > 0.0 && n_neg > 0.0).then(|| {
        let (mut area, mut prev_tp, mut prev_fp) = (0.0, 0.0, 0.0);
        for &(tp, fp) in &points {
            area += (fp - prev_fp) * (tp + prev_tp) / 2.0;
            (prev_tp, prev_fp) = (tp, fp);
        }
        area / (n_pos * n_neg)
    });
    let aupr = (n_pos > 0.0).then(|| {
        let (mut ap, mut prev_recall) = (0.0, 0.0);
        for &(tp, fp) in &points {
            let recall = tp / n_pos;
            ap += (recall - prev_recall) * tp / (tp + fp);
            prev_recall = recall;
        }
        ap
    });
    Ranking { auroc, aupr }
}

/// Area under the ROC curve (see [`rank`]).
pub fn auroc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    rank(scores, labels).auroc
}

/// Average precision (see [`rank`]).
pub fn aupr(scores: &[f32], labels: &[f32]) -> Option<f64> {
    rank(scores, labels).aupr
}

/// Per-class rankings of an (N, K) score matrix against (N, K) labels, both row-major.
pub fn per_class(scores: &[f32], labels: &[f32], classes: usize) -> Vec<Ranking> {
    assert_eq!(scores.len(), labels.len());
    let rows = scores.len().checked_div(classes).unwrap_or(0);
    (0..classes)
        .map(|k| {
            let s: Vec<f32> = (0..rows).map(|i| scores[i * classes + k]).collect();
            let l: Vec<f32> = (0..rows).map(|i| labels[i * classes + k]).collect();
            rank(&s, &l)
        })
        .collect()
}

/// Mean of the defined values, `None` when none is defined.
pub fn macro_mean(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let defined: Vec<f64> = values.into_iter().flatten().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: AUROC = P(score_pos > score_neg) + ½ P(tie), over all pairs.
    fn pairwise_auroc(scores: &[f32], labels: &[f32]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] > 0.5 && labels[j] <= 0.5 {
                    pairs += 1.0;
                    wins += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        wins / pairs
    }

    #[test]
    fn auroc_equals_pairwise_probability_with_ties() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.1, 0.9, 0.2];
        let labels = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let got = auroc(&scores, &labels).unwrap();
        assert!((got - pairwise_auroc(&scores, &labels)).abs() < 1e-12, "{got}");
    }

    #[test]
    fn average_precision_hand_computed() {
        // Ranked: 0.9(+) 0.8(-) 0.7(+) 0.1(-): AP = ½·1 + ½·(2/3).
        let ap = aupr(&[0.1, 0.9, 0.7, 0.8], &[0.0, 1.0, 1.0, 0.0]).unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-12, "{ap}");
        // A tie between a positive and a negative at the top counts as one threshold: P = ½.
        let ap = aupr(&[0.5, 0.5], &[1.0, 0.0]).unwrap();
        assert!((ap - 0.5).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn undefined_when_one_class() {
        assert_eq!(rank(&[0.1, 0.2], &[1.0, 1.0]).auroc, None);
        assert_eq!(rank(&[0.1, 0.2], &[0.0, 0.0]).aupr, None);
        assert_eq!(macro_mean([None, Some(0.5), Some(1.0)]), Some(0.75));
    }

    #[test]
    fn per_class_reads_columns() {
        let scores = [0.9, 0.1, 0.2, 0.8, 0.3, 0.7];
        let labels = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let r = per_class(&scores, &labels, 2);
        assert_eq!(r[0].auroc, Some(1.0));
        assert_eq!(r[1].auroc, Some(1.0));
    }
}
