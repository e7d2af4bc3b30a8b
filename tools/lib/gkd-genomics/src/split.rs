//! Train/valid/test splits: by seeded fractions or by chromosome lists. Rows keep their input
//! order inside each split.

use std::collections::HashMap;

use gkd_io::error::{Error, Result};

use crate::rng::SeededRng;

/// Parse `train=0.7,valid=0.1,test=0.2` into names and fractions (which must sum to 1).
pub fn parse_fractions(spec: &str) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let (name, f) = part
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("--split: '{part}' should be NAME=FRACTION, e.g. train=0.7")))?;
        let f: f64 = f.trim().parse().ok().filter(|f: &f64| (0.0..=1.0).contains(f)).ok_or_else(|| {
            Error::usage(format!("--split: fraction '{f}' for '{name}' should be a number in [0, 1]"))
        })?;
        out.push((checked_name(name)?, f));
    }
    let total: f64 = out.iter().map(|(_, f)| f).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(Error::usage(format!("--split: fractions sum to {total}; expected 1")));
    }
    Ok(out)
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(Error::usage(format!("split name '{name}' should be letters, digits, '_' or '-'")));
    }
    Ok(name.to_owned())
}

/// Split `n` rows by a seeded permutation: the first `round(cumulative fraction × n)` permuted
/// rows go to the first split, and so on. Each split's rows are returned in input order.
pub fn by_fraction(n: usize, fractions: &[(String, f64)], seed: u64) -> Vec<(String, Vec<usize>)> {
    let mut perm: Vec<usize> = (0..n).collect();
    SeededRng::new(seed, u64::MAX).shuffle(&mut perm);
    let mut out = Vec::new();
    let mut cum = 0.0;
    let mut from = 0;
    for (k, (name, f)) in fractions.iter().enumerate() {
        cum += f;
        let to = if k + 1 == fractions.len() { n } else { ((cum * n as f64).round() as usize).min(n) };
        let mut rows = perm[from..to].to_vec();
        rows.sort_unstable();
        out.push((name.clone(), rows));
        from = to;
    }
    out
}

/// Parse `valid=chr8` / `test=chr9,chr10` assignments (one per flag) into chromosome → split.
pub fn parse_chrom_assignments(specs: &[String]) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for spec in specs {
        let (name, chroms) = spec
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("--split-chroms: '{spec}' should be NAME=CHROM[,CHROM...]")))?;
        let name = checked_name(name)?;
        for c in chroms.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if let Some(prev) = map.insert(c.to_owned(), name.clone())
                && prev != name
            {
                return Err(Error::usage(format!(
                    "--split-chroms: chromosome '{c}' is given to both '{prev}' and '{name}'"
                )));
            }
        }
    }
    Ok(map)
}

/// Split rows by chromosome: rows on an assigned chromosome go to its split, all others to
/// `rest`. Split order: `rest` first, then the assigned splits in name order.
pub fn by_chromosome(chroms: &[&str], assign: &HashMap<String, String>, rest: &str) -> Vec<(String, Vec<usize>)> {
    let mut names: Vec<String> = assign.values().cloned().collect();
    names.sort();
    names.dedup();
    names.retain(|n| n != rest);
    names.insert(0, rest.to_owned());
    let mut out: Vec<(String, Vec<usize>)> = names.into_iter().map(|n| (n, Vec::new())).collect();
    for (i, c) in chroms.iter().enumerate() {
        let target = assign.get(*c).map(String::as_str).unwrap_or(rest);
        out.iter_mut().find(|(n, _)| n == target).expect("split exists").1.push(i);
    }
    out
}

/// How a tool was asked to split its rows: by seeded fractions, by chromosome, or not at all
/// (one split called "all").
#[derive(Debug, Clone, Copy)]
pub struct SplitPlan<'a> {
    /// `--split NAME=FRAC,...`, if given.
    pub fractions: Option<&'a str>,
    /// `--split-chroms NAME=CHR,...` assignments.
    pub chroms: &'a [String],
    /// Split for rows on unassigned chromosomes.
    pub rest: &'a str,
    /// Seed of the fraction permutation.
    pub seed: u64,
}

impl SplitPlan<'_> {
    /// True when rows are split (outputs then need a `{split}` template).
    pub fn is_split(&self) -> bool {
        self.fractions.is_some() || !self.chroms.is_empty()
    }

    /// Assign `n` rows to splits; `chrom_of(i)` gives row i's chromosome (only asked when
    /// splitting by chromosome).
    pub fn assign(&self, n: usize, chrom_of: impl Fn(usize) -> Result<String>) -> Result<Vec<(String, Vec<usize>)>> {
        if let Some(spec) = self.fractions {
            Ok(by_fraction(n, &parse_fractions(spec)?, self.seed))
        } else if !self.chroms.is_empty() {
            let assign = parse_chrom_assignments(self.chroms)?;
            let chroms = (0..n).map(chrom_of).collect::<Result<Vec<String>>>()?;
            Ok(by_chromosome(&chroms.iter().map(String::as_str).collect::<Vec<_>>(), &assign, self.rest))
        } else {
            Ok(vec![("all".to_owned(), (0..n).collect())])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_partition_rows() {
        let f = parse_fractions("train=0.7,valid=0.1,test=0.2").unwrap();
        let s = by_fraction(1000, &f, 3);
        assert_eq!(s.iter().map(|(_, r)| r.len()).collect::<Vec<_>>(), vec![700, 100, 200]);
        let mut all: Vec<usize> = s.iter().flat_map(|(_, r)| r.clone()).collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(s[0].1.windows(2).all(|w| w[0] < w[1]));
        assert!(parse_fractions("train=0.7,test=0.2").is_err());
    }

    #[test]
    fn chromosomes_route_rows() {
        let a = parse_chrom_assignments(&["valid=chr8".into(), "test=chr9,chr10".into()]).unwrap();
        let s = by_chromosome(&["chr1", "chr8", "chr9", "chr10", "chr2"], &a, "train");
        assert_eq!(s, vec![("train".into(), vec![0, 4]), ("test".into(), vec![2, 3]), ("valid".into(), vec![1])]);
    }
}
