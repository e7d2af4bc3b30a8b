//! The scores of one variant for one class, from the model's logits of its two windows.

use gkd_nn::loss::Head;

/// A variant's scores for one class (docs/science.md, "Variant effects").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    /// Logit of the reference window.
    pub ref_logit: f32,
    /// Logit of the alternative window.
    pub alt_logit: f32,
    /// Probability of the reference window (sigmoid of its logit, or its softmax share).
    pub ref_prob: f64,
    /// Probability of the alternative window.
    pub alt_prob: f64,
    /// alt − ref logit.
    pub logit_diff: f64,
    /// alt − ref probability.
    pub prob_diff: f64,
    /// log(p_alt / (1 − p_alt)) − log(p_ref / (1 − p_ref)).
    pub log_odds_ratio: f64,
}

/// log Σ exp over `z` without `skip` (−∞ when nothing is left), in f64.
fn log_sum_exp(z: &[f32], skip: Option<usize>) -> f64 {
    let kept = || z.iter().enumerate().filter(move |&(j, _)| Some(j) != skip).map(|(_, &v)| f64::from(v));
    let top = kept().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + kept().map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// Probability and log-odds of class `k` from one window's logits `z` (all classes).
fn probability_and_log_odds(head: Head, z: &[f32], k: usize) -> (f64, f64) {
    let zk = f64::from(z[k]);
    match head {
        // A sigmoid's log-odds are its logit.
        Head::Sigmoid => (1.0 / (1.0 + (-zk).exp()), zk),
        // log p_k − log(1 − p_k) = z_k − log Σ_{j≠k} exp z_j.
        Head::Softmax => ((zk - log_sum_exp(z, None)).exp(), zk - log_sum_exp(z, Some(k))),
    }
}

/// The scores of class `k` from the reference and alternative windows' logits (all classes).
pub fn effect(head: Head, reference: &[f32], alternative: &[f32], k: usize) -> Effect {
    let (ref_prob, ref_odds) = probability_and_log_odds(head, reference, k);
    let (alt_prob, alt_odds) = probability_and_log_odds(head, alternative, k);
    Effect {
        ref_logit: reference[k],
        alt_logit: alternative[k],
        ref_prob,
        alt_prob,
        logit_diff: f64::from(alternative[k]) - f64::from(reference[k]),
        prob_diff: alt_prob - ref_prob,
        log_odds_ratio: alt_odds - ref_odds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_scores_worked_by_hand() {
        // z_ref = 0 (p = 1/2), z_alt = ln 3 (p = 3/4): log-odds ratio ln 3, Δp = 1/4.
        let e = effect(Head::Sigmoid, &[7.0, 0.0], &[7.0, 3f32.ln()], 1);
        assert!((e.ref_prob - 0.5).abs() < 1e-12 && (e.alt_prob - 0.75).abs() < 1e-7);
        assert!((e.prob_diff - 0.25).abs() < 1e-7 && (e.log_odds_ratio - 3f64.ln()).abs() < 1e-7);
        assert_eq!(e.logit_diff, f64::from(3f32.ln()));
    }

    #[test]
    fn softmax_log_odds_are_those_of_the_probabilities() {
        let (r, a) = ([1.0f32, 2.0, -0.5], [0.3f32, 2.5, 1.0]);
        let softmax = |z: &[f32]| {
            let e: Vec<f64> = z.iter().map(|&v| f64::from(v).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect::<Vec<_>>()
        };
        let (pr, pa) = (softmax(&r), softmax(&a));
        for k in 0..3 {
            let e = effect(Head::Softmax, &r, &a, k);
            let odds = |p: f64| (p / (1.0 - p)).ln();
            assert!((e.ref_prob - pr[k]).abs() < 1e-12 && (e.alt_prob - pa[k]).abs() < 1e-12);
            assert!((e.log_odds_ratio - (odds(pa[k]) - odds(pr[k]))).abs() < 1e-12);
        }
        // Large logits stay finite.
        let e = effect(Head::Softmax, &[800.0, 0.0], &[0.0, 800.0], 0);
        assert!((e.log_odds_ratio + 1600.0).abs() < 1e-9, "{e:?}");
    }
}
