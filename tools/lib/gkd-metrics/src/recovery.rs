//! Motif recovery of attribution maps against a synthetic dataset's ground truth (docs/science.md §5,
//! Koo & Ploenzke 2021): per sequence, each position gets one score (gradient methods:
//! Σ_channels attr·x; ISM: the L2 norm over the bases), positions whose generating PWM column has
//! information content > 0.01 bits are the positives, and the scores are ranked against them.

use gkd_io::attributions::{AttributionMethod, MapKind};

use crate::{Ranking, rank};

/// Information content in bits of a probability column over 4 bases: 2 + Σ p·log2 p.
pub fn information_content(column: &[f32]) -> f64 {
    2.0 + column.iter().filter(|&&p| p > 0.0).map(|&p| p as f64 * (p as f64).log2()).sum::<f64>()
}

/// How a position's score is read from a (C, L) attribution map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionScore {
    /// Σ over channels of attr · x (saliency, grad × input, IG, DeepLIFT).
    Observed,
    /// √(Σ over channels of attr²) (in-silico mutagenesis).
    L2Norm,
}

impl PositionScore {
    /// How maps of a gkd-attribute method are scored: ISM by the L2 norm, gradient maps (saliency,
    /// grad × input, integrated gradients) and DeepLIFT/DeepSHAP hypothetical contributions on
    /// the observed base; `None` for maps that are not scores of the input's positions
    /// (temporal, class optimization, attention).
    pub fn for_method(method: AttributionMethod) -> Option<Self> {
        match method.map_kind() {
            MapKind::Mutagenesis => Some(PositionScore::L2Norm),
            MapKind::Gradient | MapKind::Contribution => Some(PositionScore::Observed),
            MapKind::Temporal | MapKind::ClassOptimization | MapKind::Attention => None,
        }
    }
}

/// Per-position scores of a channel-major (C × L) map and its one-hot input.
pub fn position_scores(attr: &[f32], x: &[f32], channels: usize, how: PositionScore) -> Vec<f32> {
    let length = attr.len() / channels;
    (0..length)
        .map(|i| match how {
            PositionScore::Observed => (0..channels).map(|c| attr[c * length + i] * x[c * length + i]).sum(),
            PositionScore::L2Norm => (0..channels).map(|c| attr[c * length + i].powi(2)).sum::<f32>().sqrt(),
        })
        .collect()
}

/// Motif positions of a channel-major (C × L) ground-truth PWM: IC > `threshold` bits.
pub fn motif_positions(truth: &[f32], channels: usize, threshold: f64) -> Vec<bool> {
    let length = truth.len() / channels;
    (0..length)
        .map(|i| {
            let column: Vec<f32> = (0..channels).map(|c| truth[c * length + i]).collect();
            information_content(&column) > threshold
        })
        .collect()
}

/// AUROC and AUPR of position scores against motif positions.
pub fn recovery(scores: &[f32], motif: &[bool]) -> Ranking {
    let labels: Vec<f32> = motif.iter().map(|&m| m as u8 as f32).collect();
    rank(scores, &labels)
}

/// Signal-to-noise of one sequence's scores (tfomics): the mean score over motif positions
/// divided by the largest, the mean and the top-10 mean of the positive background scores.
/// `None` where there is no motif position or no positive background score.
pub fn signal_to_noise(scores: &[f32], motif: &[bool]) -> [Option<f64>; 3] {
    let signal: Vec<f64> = scores.iter().zip(motif).filter(|(_, m)| **m).map(|(&s, _)| s as f64).collect();
    let mut noise: Vec<f64> =
        scores.iter().zip(motif).filter(|(s, m)| !**m && **s > 0.0).map(|(&s, _)| s as f64).collect();
    if signal.is_empty() || noise.is_empty() {
        return [None; 3];
    }
    let mean_signal = signal.iter().sum::<f64>() / signal.len() as f64;
    noise.sort_by(|a, b| b.total_cmp(a));
    let top = &noise[..noise.len().min(10)];
    [
        Some(mean_signal / noise[0]),
        Some(mean_signal / (noise.iter().sum::<f64>() / noise.len() as f64)),
        Some(mean_signal / (top.iter().sum::<f64>() / top.len() as f64)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_content_by_hand() {
        assert!((information_content(&[0.25; 4]) - 0.0).abs() < 1e-12);
        assert!((information_content(&[1.0, 0.0, 0.0, 0.0]) - 2.0).abs() < 1e-12);
        // 2 + 2·(0.5·log2 0.5) = 1 bit.
        assert!((information_content(&[0.5, 0.5, 0.0, 0.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn scores_positions_and_recovery() {
        // C = 4, L = 3, channel-major. x = A, G, T.
        let x = [1., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 1.];
        let attr = [0.5, -1., 2., 0.1, 0.2, 0.3, -0.4, 3., 1., 0.0, 0.0, -2.];
        assert_eq!(position_scores(&attr, &x, 4, PositionScore::Observed), vec![0.5, 3.0, -2.0]);
        let l2 = position_scores(&attr, &x, 4, PositionScore::L2Norm);
        assert!((l2[0] - (0.25f32 + 0.01 + 0.16 + 0.0).sqrt()).abs() < 1e-6);
        let truth = [0.25, 0.9, 0.25, 0.25, 0.05, 0.25, 0.25, 0.05, 0.25, 0.25, 0.0, 0.25];
        assert_eq!(motif_positions(&truth, 4, 0.01), vec![false, true, false]);
        let r = recovery(&[0.5, 3.0, -2.0], &[false, true, false]);
        assert_eq!(r.auroc, Some(1.0));
        assert_eq!(r.aupr, Some(1.0));
    }

    #[test]
    fn signal_to_noise_by_hand() {
        let scores = [4.0, 6.0, 1.0, 2.0, -3.0];
        let motif = [true, true, false, false, false];
        let [max, mean, top] = signal_to_noise(&scores, &motif);
        assert_eq!(max, Some(5.0 / 2.0));
        assert_eq!(mean, Some(5.0 / 1.5));
        assert_eq!(top, Some(5.0 / 1.5));
        assert_eq!(signal_to_noise(&[1.0], &[false]), [None; 3]);
    }
}
