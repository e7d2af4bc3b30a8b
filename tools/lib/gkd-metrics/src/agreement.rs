//! How alike two models rank the same items (variants by the size of their effect): Spearman's ρ
//! over average ranks (`scipy.stats.spearmanr`) and the overlap of their top-k sets.

/// 1-based ranks of `values` ascending, ties given the mean of the ranks they span
/// (`scipy.stats.rankdata(method="average")`). NaN values are not allowed.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // Positions i..j (0-based) share ranks i + 1 ..= j: their mean.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        i = j;
    }
    ranks
}

/// Pearson correlation of two equally long vectors; `None` for fewer than two items or a
/// constant vector.
fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    if a.len() < 2 {
        return None;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Spearman's rank correlation of `a` and `b` (the Pearson correlation of their average ranks);
/// `None` for fewer than two items or when either is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "spearman: vectors differ in length");
    pearson(&average_ranks(a), &average_ranks(b))
}

/// Indices of the `k` largest values, ties broken by the lower index.
pub fn top_k(values: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// The fraction of `a`'s `k` largest items (k at most the number of items) that are also among
/// `b`'s; `None` when there are no items or k is 0.
pub fn top_k_overlap(a: &[f64], b: &[f64], k: usize) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "top_k_overlap: vectors differ in length");
    let k = k.min(a.len());
    if k == 0 {
        return None;
    }
    let mut in_b = vec![false; b.len()];
    for i in top_k(b, k) {
        in_b[i] = true;
    }
    Some(top_k(a, k).into_iter().filter(|&i| in_b[i]).count() as f64 / k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_mean_rank() {
        // scipy.stats.rankdata([3, 1, 4, 1, 5]) = [3, 1.5, 4, 1.5, 5].
        assert_eq!(average_ranks(&[3.0, 1.0, 4.0, 1.0, 5.0]), vec![3.0, 1.5, 4.0, 1.5, 5.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // Ranks a: 1 2 3 4 5, b: 2 1 4 3 5; Σd² = 4; ρ = 1 − 6·4 / (5·24) = 0.8.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[20.0, 10.0, 40.0, 30.0, 50.0]).unwrap();
        assert!((rho - 0.8).abs() < 1e-12, "{rho}");
        assert!((spearman(&[1.0, 2.0, 3.0], &[9.0, 4.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn top_k_overlap_counts_shared_items() {
        let a = [0.9, 0.8, 0.1, 0.7, 0.0];
        let b = [0.9, 0.1, 0.8, 0.7, 0.0];
        // Top 3 of a: {0, 1, 3}; of b: {0, 2, 3}; shared: 2 of 3.
        assert!((top_k_overlap(&a, &b, 3).unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(top_k_overlap(&a, &b, 10), Some(1.0));
        assert_eq!(top_k_overlap(&[], &[], 3), None);
    }
}
