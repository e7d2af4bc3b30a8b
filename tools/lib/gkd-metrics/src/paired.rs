//! Paired comparisons across seeds (model − reference on the same seed): the exact two-sided
//! sign test, the paired t-test with its confidence interval and effect size, and the Wilcoxon
//! signed-rank test, each defined as scipy.stats defines it (`binomtest`, `ttest_rel`,
//! `wilcoxon`), which tests/python/test_sweep_crosscheck.py checks.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Two-sided exact sign test of `above` positive and `below` negative paired differences (ties
/// left out): P(a count at least as far from n/2 as observed) under Binomial(n, ½), capped at 1.
/// `None` when there are no untied pairs.
pub fn sign_test(above: usize, below: usize) -> Option<f64> {
    let n = above + below;
    if n == 0 {
        return None;
    }
    let k = above.min(below);
    // Σ_{i ≤ k} C(n, i) / 2^n, in log space so that large n does not overflow.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_choose + ln_half_n).exp();
    }
    Some((2.0 * tail).min(1.0))
}

/// The paired t-test of differences `d` (H0: mean 0), as `scipy.stats.ttest_rel`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedT {
    /// t = mean / (sd / √n), sd with n − 1 degrees of freedom.
    pub t: f64,
    /// Two-sided p-value on n − 1 degrees of freedom.
    pub p: f64,
    /// The 95% confidence interval of the mean difference: mean ± t₀.₉₇₅ · sd / √n.
    pub ci95: (f64, f64),
    /// Cohen's d_z: mean / sd, the standardised paired effect.
    pub effect_size: f64,
}

/// The paired t-test of `d`; `None` with fewer than two differences or when they are all equal
/// (sd 0: the t statistic is undefined).
pub fn paired_t(d: &[f64]) -> Option<PairedT> {
    let n = d.len();
    if n < 2 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let se = sd / (n as f64).sqrt();
    let t = mean / se;
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    let half = dist.inverse_cdf(0.975) * se;
    Some(PairedT { t, p: (2.0 * dist.sf(t.abs())).min(1.0), ci95: (mean - half, mean + half), effect_size: mean / sd })
}

/// The two-sided Wilcoxon signed-rank test of `d` (H0: symmetric about 0), as
/// `scipy.stats.wilcoxon(d)` with its defaults (scipy ≥ 1.15): zero differences dropped, tied
/// |d| given their mean rank, W⁺ the sum of the positive differences' ranks. Exact (every sign
/// assignment of the ranks equally likely) when there are no zeros or ties and at most 50
/// differences, or at most 13 differences in all; otherwise the normal approximation with the
/// tie correction and no continuity correction. `None` when every difference is zero.
pub fn wilcoxon(d: &[f64]) -> Option<f64> {
    let nonzero: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return None;
    }
    // Twice the mean ranks of |d| (integers even when ties share a half rank).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| nonzero[a].abs().total_cmp(&nonzero[b].abs()));
    let mut double_rank = vec![0usize; n];
    let mut tie_term = 0.0; // Σ (t³ − t) over groups of t tied |d|
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && nonzero[order[j + 1]].abs() == nonzero[order[i]].abs() {
            j += 1;
        }
        order[i..=j].iter().for_each(|&k| double_rank[k] = i + j + 2);
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let w_plus2: usize = (0..n).filter(|&k| nonzero[k] > 0.0).map(|k| double_rank[k]).sum();
    let exact = (n == d.len() && tie_term == 0.0 && n <= 50) || d.len() <= 13;
    if exact {
        // How many sign assignments give each 2·W⁺, by dynamic programming over the ranks.
        let max: usize = double_rank.iter().sum();
        let mut count = vec![0.0f64; max + 1];
        count[0] = 1.0;
        for &r in &double_rank {
            for s in (r..=max).rev() {
                count[s] += count[s - r];
            }
        }
        let total = 2f64.powi(n as i32);
        let low = count[..=w_plus2].iter().sum::<f64>() / total;
        let high = count[w_plus2..].iter().sum::<f64>() / total;
        return Some((2.0 * low.min(high)).min(1.0));
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
    let z = (w_plus2 as f64 / 2.0 - mean) / var.sqrt();
    let normal = Normal::new(0.0, 1.0).ok()?;
    Some((2.0 * normal.sf(z.abs())).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_t_equals_the_textbook_case_by_hand() {
        // d = 1, 2, 3, 4: mean 2.5, sd √(5/3), se = sd/2, t = 2.5/se = 3.8729833...
        let r = paired_t(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((r.t - 2.5 / ((5.0f64 / 3.0).sqrt() / 2.0)).abs() < 1e-12);
        assert!((r.effect_size - 2.5 / (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        // t₀.₉₇₅ on 3 df = 3.182446305284263 (tables): CI = 2.5 ± 3.1824463 · 0.6454972.
        let half = 3.182_446_305_284_263 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((r.ci95.0 - (2.5 - half)).abs() < 1e-9 && (r.ci95.1 - (2.5 + half)).abs() < 1e-9);
        // scipy.stats.ttest_rel on these differences: p = 0.030466291662170977.
        assert!((r.p - 0.030_466_291_662_170_977).abs() < 1e-9);
        assert_eq!(paired_t(&[1.0]), None);
        assert_eq!(paired_t(&[0.5, 0.5, 0.5]), None);
    }

    #[test]
    fn wilcoxon_exact_and_approximate_by_hand() {
        // Three positive differences: W+ = 6 is the largest of 8 equally likely sums, so
        // p = 2 · 1/8.
        assert_eq!(wilcoxon(&[0.1, 0.2, 0.3]), Some(0.25));
        // Ranks 1..4 with signs + − + +: W+ = 1 + 3 + 4 = 8; P(W+ ≥ 8) = #{8, 9, 10} / 16 = 3/16.
        assert!((wilcoxon(&[0.1, -0.2, 0.3, 0.4]).unwrap() - 2.0 * 3.0 / 16.0).abs() < 1e-12);
        // A zero is dropped; few differences stay exact: W+ = 10 is the largest of 16 sums.
        assert_eq!(wilcoxon(&[0.0, 0.1, 0.2, 0.3, 0.4]), Some(2.0 / 16.0));
        // Ties share a mean rank: |d| = 1, 1, 2 get ranks 1.5, 1.5, 3; signs + + −: W+ = 3.
        // The 8 sign assignments give W+ = 0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6: P(W+ ≤ 3) = 5/8.
        assert_eq!(wilcoxon(&[1.0, 1.0, -2.0]), Some(1.0));
        // Fourteen differences with a tie: the normal approximation. Ranks 1..14 with 13 and 14
        // tied (13.5 each), all positive but rank 1: W+ = 104, mean 52.5, var 253.75 − 6/48.
        let mut d: Vec<f64> = (1..=14).map(f64::from).collect();
        d[0] = -1.0;
        d[13] = 13.0;
        let z = (104.0 - 52.5) / (253.75f64 - 6.0 / 48.0).sqrt();
        let want = 2.0 * Normal::new(0.0, 1.0).unwrap().sf(z);
        assert!((wilcoxon(&d).unwrap() - want).abs() < 1e-12);
        assert_eq!(wilcoxon(&[0.0, 0.0]), None);
    }

    #[test]
    fn sign_test_equals_the_binomial_tail_by_hand() {
        let close = |got: Option<f64>, want: f64| (got.unwrap() - want).abs() < 1e-12;
        // 3 of 3 the same way: 2 * (1/8).
        assert!(close(sign_test(3, 0), 0.25) && close(sign_test(0, 3), 0.25));
        // 9 against 1: 2 * (C(10,0) + C(10,1)) / 1024 = 22/1024.
        assert!((sign_test(9, 1).unwrap() - 22.0 / 1024.0).abs() < 1e-12);
        // Balanced counts cap at 1; no untied pairs, no test.
        assert_eq!(sign_test(2, 2), Some(1.0));
        assert_eq!(sign_test(0, 0), None);
        // Large n stays finite: 60 of 100 -> scipy.stats.binomtest(60, 100).pvalue = 0.056887933...
        assert!((sign_test(60, 40).unwrap() - 0.05688793364098078).abs() < 1e-9);
    }
}
