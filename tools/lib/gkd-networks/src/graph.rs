//! Reading networks off precision matrices: edges (nonzero off-diagonal entries), partial
//! correlations −Ω_ij / √(Ω_ii Ω_jj), shared and specific edges, and hub scores.

use nalgebra::DMatrix;

/// The upper-triangle pairs (i < j) of p features, in row order.
pub fn pairs(p: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..p).flat_map(move |i| ((i + 1)..p).map(move |j| (i, j)))
}

/// Partial correlations of a precision matrix (unit diagonal).
pub fn partial_correlation(omega: &DMatrix<f64>) -> DMatrix<f64> {
    let p = omega.nrows();
    DMatrix::from_fn(p, p, |i, j| if i == j { 1.0 } else { -omega[(i, j)] / (omega[(i, i)] * omega[(j, j)]).sqrt() })
}

/// Whether pair (i, j) is an edge of `m` (a nonzero off-diagonal entry), for each pair in
/// [`pairs`] order.
pub fn edge_mask(m: &DMatrix<f64>) -> Vec<bool> {
    pairs(m.nrows()).map(|(i, j)| m[(i, j)] != 0.0).collect()
}

/// How an edge of one condition's network relates to the others'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum EdgeKind {
    /// In every condition's network (JEEK: its shared part is nonzero).
    Shared,
    /// Not in every condition's network (JEEK: only its condition-specific part is nonzero).
    Specific,
    /// Only one network was estimated (K = 1).
    Single,
    /// An edge of DIFFEE's difference network.
    Differential,
}

/// Hub scores of one network: per feature, its degree (edges) and strength (the sum of its
/// edges' |weights|: partial correlations, or |Δ| for a difference).
pub fn hub_scores(weights: &DMatrix<f64>) -> Vec<(usize, f64)> {
    let p = weights.nrows();
    (0..p)
        .map(|i| {
            let row = (0..p).filter(|&j| j != i && weights[(i, j)] != 0.0);
            (row.clone().count(), row.map(|j| weights[(i, j)].abs()).sum())
        })
        .collect()
}

/// Precision, recall and F1 of an estimated edge set against the true one (pairs order).
pub fn edge_f1(estimated: &[bool], truth: &[bool]) -> (f64, f64, f64) {
    let tp = estimated.iter().zip(truth).filter(|(e, t)| **e && **t).count() as f64;
    let found = estimated.iter().filter(|e| **e).count() as f64;
    let real = truth.iter().filter(|t| **t).count() as f64;
    let precision = if found > 0.0 { tp / found } else { 0.0 };
    let recall = if real > 0.0 { tp / real } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    (precision, recall, f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_correlation_and_hubs_by_hand() {
        let omega = DMatrix::from_row_slice(3, 3, &[2.0, -1.0, 0.0, -1.0, 2.0, 0.5, 0.0, 0.5, 4.0]);
        let r = partial_correlation(&omega);
        assert!((r[(0, 1)] - 0.5).abs() < 1e-12);
        assert!((r[(1, 2)] + 0.5 / 8.0_f64.sqrt()).abs() < 1e-12);
        assert_eq!(r[(0, 2)], 0.0);
        let hubs = hub_scores(&r);
        assert_eq!(hubs[1].0, 2);
        assert!((hubs[1].1 - (0.5 + 0.5 / 8.0_f64.sqrt())).abs() < 1e-12);
        assert_eq!(edge_mask(&omega), vec![true, false, true]);
    }

    #[test]
    fn f1_by_hand() {
        let (p, r, f) = edge_f1(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((p, r, f), (0.5, 0.5, 0.5));
    }
}
