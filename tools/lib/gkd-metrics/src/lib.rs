//! Ranking metrics shared by training (validation AUROC/AUPR), scoring and motif recovery.
//!
//! Definitions follow scikit-learn, which the Koo lab's published numbers were computed with:
//! [`auroc`] is `roc_auc_score` (trapezoidal area under the ROC curve built at every distinct
//! score, so tied scores form one step) and [`aupr`] is `average_precision_score`
//! (Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, no interpolation). [`recovery`] scores
//! attribution maps against synthetic ground truth.
//!
//! A model's predictive AUROC/AUPR is computed once, by [`predictive`], from its logits: every
//! gkd tool that reports them (gkd-train's validation, `gkd-predict --metrics`, `gkd-score
//! predictive`) calls it, so the same predictions get the same numbers everywhere.

pub mod agreement;
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
fn threshold_counts(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64)> {
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
    // float32 → float64 is exact and one-to-one, so ties are the same.
    rank_f64(&scores.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), labels)
}

/// [`rank`] of float64 scores.
pub fn rank_f64(scores: &[f64], labels: &[f32]) -> Ranking {
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

/// How a model's logits become probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Independent classes: p = σ(z / T) per class (multi-label, binary).
    Sigmoid,
    /// Exclusive classes: p = softmax(z / T) over the row.
    Softmax,
}

/// Per-class AUROC/AUPR of a model's (N, K) logits (row-major) against (N, K) labels, ranked as
/// its probabilities at temperature `temperature` rank rows, without their rounding: a sigmoid
/// head ranks by the logit itself (σ is increasing; in float32 σ rounds to exactly 1.0 above
/// a logit of about 16.6, which would tie rows the logits order), a softmax head by the log
/// probability z_k/T − log Σ_j exp(z_j/T), computed in float64.
pub fn predictive(link: Link, logits: &[f32], labels: &[f32], classes: usize, temperature: f32) -> Vec<Ranking> {
    assert_eq!(logits.len(), labels.len(), "logits and labels differ in length");
    let rows = logits.len().checked_div(classes).unwrap_or(0);
    let scores: Vec<f64> = match link {
        Link::Sigmoid => logits.iter().map(|&z| f64::from(z)).collect(),
        Link::Softmax => logits
            .chunks_exact(classes.max(1))
            .flat_map(|z| {
                let t = f64::from(temperature);
                let max = z.iter().map(|&v| f64::from(v) / t).fold(f64::NEG_INFINITY, f64::max);
                let log_total = max + z.iter().map(|&v| (f64::from(v) / t - max).exp()).sum::<f64>().ln();
                z.iter().map(move |&v| f64::from(v) / t - log_total)
            })
            .collect(),
    };
    (0..classes)
        .map(|k| {
            let s: Vec<f64> = (0..rows).map(|i| scores[i * classes + k]).collect();
            let l: Vec<f32> = (0..rows).map(|i| labels[i * classes + k]).collect();
            rank_f64(&s, &l)
        })
        .collect()
}

/// The probabilities (float64) of (N, K) logits, row-major: σ(z) per value, or a softmax per row.
pub fn probabilities(link: Link, logits: &[f32], classes: usize) -> Vec<f64> {
    match link {
        Link::Sigmoid => logits.iter().map(|&v| 1.0 / (1.0 + (-f64::from(v)).exp())).collect(),
        Link::Softmax => logits
            .chunks_exact(classes.max(1))
            .flat_map(|z| {
                let max = z.iter().map(|&v| f64::from(v)).fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = z.iter().map(|&v| (f64::from(v) - max).exp()).sum();
                z.iter().map(move |&v| (f64::from(v) - max).exp() / total)
            })
            .collect(),
    }
}

/// The macro averages (over the classes where each is defined) of per-class rankings.
pub fn macro_ranking(rankings: &[Ranking]) -> Ranking {
    Ranking { auroc: macro_mean(rankings.iter().map(|r| r.auroc)), aupr: macro_mean(rankings.iter().map(|r| r.aupr)) }
}

/// Mean and sample standard deviation (n − 1) of `values`; `None` when empty (sd: when < 2 values).
pub fn mean_sd(values: impl IntoIterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return (None, None);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.len() > 1).then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt());
    (Some(mean), sd)
}

/// Median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

/// Mean of the defined values, `None` when none is defined.
pub fn macro_mean(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let defined: Vec<f64> = values.into_iter().flatten().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits above 17.3, where float32 sigmoid probabilities are all exactly 1.0: ranked by
    /// probability every row ties (AUROC 0.5); [`predictive`] ranks them by the logits.
    #[test]
    fn large_logits_rank_by_the_logit_not_the_rounded_probability() {
        let logits = [18.0f32, 21.0, 19.0, 25.0];
        let labels = [0.0f32, 1.0, 0.0, 1.0];
        let rounded: Vec<f32> = logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
        assert!(rounded.iter().all(|&p| p == 1.0));
        assert_eq!(rank(&rounded, &labels).auroc, Some(0.5));
        let r = predictive(Link::Sigmoid, &logits, &labels, 1, 1.0);
        assert_eq!((r[0].auroc, r[0].aupr), (Some(1.0), Some(1.0)));
    }

    /// A softmax head ranks each class by its probability (computed here in float64 by hand),
    /// at the temperature given; the logits alone would rank class 0 otherwise.
    #[test]
    fn softmax_heads_rank_by_the_probability_at_the_temperature() {
        // Two classes, three rows: class 0's logit is highest in row 0, its probability in row 1.
        let logits = [3.0f32, 4.0, 2.0, -1.0, 1.0, 0.5];
        let labels = [0.0f32, 1.0, 1.0, 0.0, 0.0, 1.0];
        for t in [1.0f32, 4.0] {
            let p0: Vec<f64> = logits
                .chunks(2)
                .map(|z| {
                    let e: Vec<f64> = z.iter().map(|&v| (f64::from(v) / f64::from(t)).exp()).collect();
                    e[0] / (e[0] + e[1])
                })
                .collect();
            let by_hand = rank_f64(&p0, &[labels[0], labels[2], labels[4]]);
            assert_eq!(predictive(Link::Softmax, &logits, &labels, 2, t)[0], by_hand);
        }
        let by_logit = rank(&[3.0, 2.0, 1.0], &[0.0, 1.0, 0.0]);
        assert_ne!(predictive(Link::Softmax, &logits, &labels, 2, 1.0)[0], by_logit);
    }

    #[test]
    fn probabilities_by_hand() {
        let p = probabilities(Link::Sigmoid, &[0.0, 2.0f32.ln()], 2);
        assert!((p[0] - 0.5).abs() < 1e-12 && (p[1] - 2.0 / 3.0).abs() < 1e-7);
        let q = probabilities(Link::Softmax, &[0.0, 3.0f32.ln(), 1000.0, 1000.0], 2);
        assert!((q[0] - 0.25).abs() < 1e-7 && (q[1] - 0.75).abs() < 1e-7);
        assert_eq!((q[2], q[3]), (0.5, 0.5));
    }

    #[test]
    fn mean_and_sample_sd_by_hand() {
        let (m, sd) = mean_sd([2.0, 4.0, 9.0]);
        assert_eq!(m, Some(5.0));
        assert!((sd.unwrap() - 13.0f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd([1.5]), (Some(1.5), None));
        assert_eq!(mean_sd(std::iter::empty()), (None, None));
    }

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
    fn predictive_reads_columns() {
        let logits = [0.9, 0.1, 0.2, 0.8, 0.3, 0.7];
        let labels = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let r = predictive(Link::Sigmoid, &logits, &labels, 2, 1.0);
        assert_eq!(r[0].auroc, Some(1.0));
        assert_eq!(r[1].auroc, Some(1.0));
        // Column 1 scored against column 0's labels would be perfectly wrong.
        assert_eq!(rank(&[0.1, 0.8, 0.7], &[1.0, 0.0, 0.0]).auroc, Some(0.0));
    }
}
