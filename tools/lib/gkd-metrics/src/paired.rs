//! Paired comparisons across seeds: the exact two-sided sign test.

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

#[cfg(test)]
mod tests {
    use super::*;

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
