//! Synthetic histone-mark data with ground truth (gkd-synth histone): genes × marks × bins whose
//! label depends on chosen marks in chosen bins, so that what a histone model's explanations
//! (attention, saliency, class optimization) should point at is known.
//!
//! Background: every synthetic gene takes, for each mark independently, the profile of that mark
//! in a randomly drawn real gene (e.g. DeepChrome's Roadmap data), and each bin is then redrawn as
//! a Poisson count around the real value, so the tracks keep real shapes and counts while no real
//! gene's combination of marks (and so no real expression signal) survives.
//!
//! Label: a rule is a list of terms MARK:START-END:SIGN (bins START..END, 0-based, END
//! exclusive). Each term's value is the mean of log(1 + count) over its bins, standardised over
//! the generated genes; the gene's score is the signed sum, and the label is 1 for scores above
//! the median (balanced classes), then flipped with probability `label_noise`. The truth array
//! marks each term's cells (mark, bins) with 1.

use std::path::PathBuf;

use gkd_io::error::{Error, Result};
use ndarray::{Array2, Array3, Axis};

use crate::deepchrome::{self, DEEPCHROME_MARKS};
use crate::rng::SeededRng;

/// The genes of every background file (DeepChrome CSVs) as one pool, genes × marks × bins; an
/// error naming the file whose marks or bins differ from the first file's.
pub fn read_backgrounds(paths: &[PathBuf]) -> Result<Array3<f32>> {
    let mut pools: Vec<Array3<f32>> = Vec::new();
    for path in paths {
        let data = deepchrome::read(path)?;
        if let Some(first) = pools.first().map(|p| p.dim())
            && (first.1, first.2) != (data.x.shape()[1], data.x.shape()[2])
        {
            return Err(Error::in_file(
                path,
                format!(
                    "has {} marks x {} bins; the first background has {} x {}",
                    data.x.shape()[1],
                    data.x.shape()[2],
                    first.1,
                    first.2
                ),
            ));
        }
        pools.push(data.x);
    }
    let views: Vec<_> = pools.iter().map(|p| p.view()).collect();
    Ok(ndarray::concatenate(Axis(0), &views).expect("checked: same marks and bins"))
}

/// The marks' names: the given ones (one per mark), else DeepChrome's five when there are five,
/// else mark1, mark2, ….
pub fn mark_names(given: &[String], n_marks: usize) -> std::result::Result<Vec<String>, String> {
    if !given.is_empty() {
        if given.len() != n_marks {
            return Err(format!("--marks names {} marks; the background has {n_marks}", given.len()));
        }
        return Ok(given.to_vec());
    }
    if n_marks == DEEPCHROME_MARKS.len() {
        return Ok(DEEPCHROME_MARKS.iter().map(|m| m.to_string()).collect());
    }
    Ok((1..=n_marks).map(|k| format!("mark{k}")).collect())
}

/// One term of a labelling rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTerm {
    /// Index of the mark (channel).
    pub mark: usize,
    /// First bin (0-based).
    pub start: usize,
    /// One past the last bin.
    pub end: usize,
    /// +1 (activating) or −1 (repressing).
    pub sign: f64,
}

/// Parse `MARK:START-END:+|-` terms (comma-separated) against the mark names and bin count.
pub fn parse_rule(text: &str, marks: &[String], bins: usize) -> Result<Vec<RuleTerm>, String> {
    let mut terms = Vec::new();
    for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let parts: Vec<&str> = term.split(':').collect();
        let [mark, range, sign] = parts[..] else {
            return Err(format!("rule term '{term}': expected MARK:START-END:+ or MARK:START-END:-"));
        };
        let mark = marks
            .iter()
            .position(|m| m.eq_ignore_ascii_case(mark))
            .ok_or_else(|| format!("rule term '{term}': no mark '{mark}' (marks: {})", marks.join(", ")))?;
        let (start, end) = range
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<usize>().ok()?, b.trim().parse::<usize>().ok()?)))
            .ok_or_else(|| format!("rule term '{term}': bins '{range}' are not START-END"))?;
        if start >= end || end > bins {
            return Err(format!("rule term '{term}': bins {start}-{end} must satisfy START < END <= {bins}"));
        }
        let sign = match sign {
            "+" => 1.0,
            "-" => -1.0,
            other => return Err(format!("rule term '{term}': sign '{other}' is not + or -")),
        };
        terms.push(RuleTerm { mark, start, end, sign });
    }
    if terms.is_empty() {
        return Err("the rule has no term".to_owned());
    }
    Ok(terms)
}

/// `n` background genes (n, marks, bins) resampled from `pool` (genes, marks, bins).
pub fn background(pool: &Array3<f32>, n: usize, rng: &mut SeededRng) -> Array3<f32> {
    let (genes, marks, bins) = pool.dim();
    let mut x = Array3::zeros((n, marks, bins));
    for g in 0..n {
        for k in 0..marks {
            let source = rng.below(genes);
            for b in 0..bins {
                x[[g, k, b]] = rng.poisson(f64::from(pool[[source, k, b]].max(0.0))) as f32;
            }
        }
    }
    x
}

/// Each gene's rule score: Σ sign · standardised mean log(1 + count) over the term's bins.
pub fn scores(x: &Array3<f32>, rule: &[RuleTerm]) -> Vec<f64> {
    let n = x.shape()[0];
    let mut total = vec![0.0; n];
    for term in rule {
        let values: Vec<f64> = (0..n)
            .map(|g| {
                let sum: f64 = (term.start..term.end).map(|b| f64::from(x[[g, term.mark, b]]).ln_1p()).sum();
                sum / (term.end - term.start) as f64
            })
            .collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        for (t, v) in total.iter_mut().zip(&values) {
            *t += term.sign * if sd > 0.0 { (v - mean) / sd } else { 0.0 };
        }
    }
    total
}

/// Labels (n, 1): 1 above the median score, then flipped with probability `noise`.
pub fn labels(scores: &[f64], noise: f64, rng: &mut SeededRng) -> Array2<f32> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let mut y = Array2::zeros((scores.len(), 1));
    for (g, &s) in scores.iter().enumerate() {
        let label = s >= median;
        let flipped = rng.uniform() < noise;
        y[[g, 0]] = f32::from(u8::from(label != flipped));
    }
    y
}

/// The truth mask (marks, bins): 1 on every rule term's cells.
pub fn truth(rule: &[RuleTerm], marks: usize, bins: usize) -> Array2<f32> {
    let mut t = Array2::zeros((marks, bins));
    for term in rule {
        for b in term.start..term.end {
            t[[term.mark, b]] = 1.0;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks() -> Vec<String> {
        ["H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rules_parse_and_refuse_bad_terms() {
        let r = parse_rule("H3K4me3:40-60:+, h3k27me3:60-100:-", &marks(), 100).unwrap();
        assert_eq!(
            r,
            vec![
                RuleTerm { mark: 3, start: 40, end: 60, sign: 1.0 },
                RuleTerm { mark: 0, start: 60, end: 100, sign: -1.0 }
            ]
        );
        for bad in ["H3K4me3:40-60", "H3K99:1-2:+", "H3K4me3:60-40:+", "H3K4me3:0-101:+", "H3K4me3:0-1:*", ""] {
            assert!(parse_rule(bad, &marks(), 100).is_err(), "{bad}");
        }
        let t = truth(&r, 5, 100);
        assert_eq!(t.sum(), 60.0);
        assert_eq!((t[[3, 40]], t[[3, 60]], t[[0, 99]], t[[1, 70]]), (1.0, 0.0, 1.0, 0.0));
    }

    #[test]
    fn labels_follow_the_rule_by_hand() {
        // Three genes, one mark, two bins; rule: mark 0 bins 0-2, activating.
        let x = Array3::from_shape_vec((3, 1, 2), vec![0.0, 0.0, 3.0, 3.0, 1.0, 1.0]).unwrap();
        let rule = vec![RuleTerm { mark: 0, start: 0, end: 2, sign: 1.0 }];
        let s = scores(&x, &rule);
        // Values ln 1 = 0, ln 4, ln 2: standardised, the order is gene 1 > gene 2 > gene 0.
        let v = [0.0, 4f64.ln(), 2f64.ln()];
        let mean = v.iter().sum::<f64>() / 3.0;
        let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        for (got, want) in s.iter().zip(v.iter().map(|a| (a - mean) / sd)) {
            assert!((got - want).abs() < 1e-12);
        }
        let y = labels(&s, 0.0, &mut SeededRng::new(1, 0));
        assert_eq!(y.column(0).to_vec(), vec![0.0, 1.0, 1.0], "median (gene 2) and above are 1");
        // A repressing term flips the order.
        let s = scores(&x, &[RuleTerm { sign: -1.0, ..rule[0].clone() }]);
        assert_eq!(labels(&s, 0.0, &mut SeededRng::new(1, 0)).column(0).to_vec(), vec![1.0, 0.0, 1.0]);
        // With noise 1 every label flips.
        assert_eq!(labels(&s, 1.0, &mut SeededRng::new(1, 0)).column(0).to_vec(), vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn background_redraws_counts_around_real_values_mark_by_mark() {
        // One pool gene: every bin's mean over many genes is its pool value (Poisson, both the
        // small-count and the large-count branch), within 5 standard errors.
        let pool = Array3::from_shape_fn((1, 1, 40), |(_, _, b)| (b * 2) as f32);
        let n = 4000;
        let x = background(&pool, n, &mut SeededRng::new(3, 0));
        for b in 0..40 {
            let lambda = (b * 2) as f64;
            let mean = (0..n).map(|g| f64::from(x[[g, 0, b]])).sum::<f64>() / n as f64;
            assert!((mean - lambda).abs() <= 5.0 * (lambda / n as f64).sqrt() + 1e-9, "bin {b}: {mean} vs {lambda}");
        }
        assert!(x.iter().all(|&v| v >= 0.0 && v.fract() == 0.0), "counts");
        // Two pool genes, zero and high: each mark picks its source on its own.
        let pool = Array3::from_shape_fn((2, 2, 1), |(g, _, _)| if g == 0 { 0.0 } else { 1000.0 });
        let x = background(&pool, n, &mut SeededRng::new(4, 0));
        let high = |k: usize| (0..n).filter(|&g| x[[g, k, 0]] > 0.0).count() as f64 / n as f64;
        let both = (0..n).filter(|&g| x[[g, 0, 0]] > 0.0 && x[[g, 1, 0]] > 0.0).count() as f64 / n as f64;
        assert!((high(0) - 0.5).abs() < 0.04 && (high(1) - 0.5).abs() < 0.04);
        assert!((both - 0.25).abs() < 0.04, "marks drawn independently: {both}");
    }
}
