//! Motif patterns found by TF-MoDISco and named by Tomtom: the JSON that
//! `workflows/scripts/gkd_tomtom.py` writes from a modisco-lite results file, read by
//! `gkd-score motifs` and gkd-report (docs/data-contracts.md).

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, IoResultExt, Result};

/// A database motif a pattern resembles.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PatternMatch {
    /// Database id (e.g. a JASPAR matrix id, MA0079.3).
    pub id: String,
    /// Motif name (e.g. SP1).
    #[serde(default)]
    pub name: String,
    /// Tomtom p-value.
    pub p: f64,
    /// Tomtom q-value (Benjamini-Hochberg over the database, per pattern).
    pub q: f64,
    /// The motif's position probability matrix, positions × 4 (A, C, G, T).
    #[serde(default)]
    pub ppm: Vec<[f64; 4]>,
}

/// One TF-MoDISco pattern.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pattern {
    /// `pos_patterns` (positive contributions) or `neg_patterns`.
    pub metacluster: String,
    /// The pattern's name within its metacluster (pattern_0, ...).
    pub pattern: String,
    /// Seqlets supporting the pattern.
    pub seqlets: usize,
    /// Position probability matrix of the seqlets, trimmed, positions × 4.
    #[serde(default)]
    pub ppm: Vec<[f64; 4]>,
    /// Contribution weight matrix, trimmed, positions × 4.
    #[serde(default)]
    pub cwm: Vec<[f64; 4]>,
    /// The best database matches, best first (q-values not yet thresholded).
    #[serde(default)]
    pub matches: Vec<PatternMatch>,
}

/// The patterns of one TF-MoDISco run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PatternSet {
    /// The motif database the patterns were matched against.
    #[serde(default)]
    pub database: String,
    /// The patterns, positive metacluster first.
    pub patterns: Vec<Pattern>,
}

impl PatternSet {
    /// Read a patterns JSON file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_path(path)?;
        let set: Self = serde_json::from_str(&text).map_err(|e| {
            Error::at_line(path, e.line() as u64, format!("is not a patterns file (gkd_tomtom.py): {e}"))
        })?;
        for p in &set.patterns {
            if p.matches.iter().any(|m| !(0.0..=1.0).contains(&m.q) || !(0.0..=1.0).contains(&m.p)) {
                return Err(Error::in_file(
                    path,
                    format!("{} {}: a p- or q-value outside [0, 1]", p.metacluster, p.pattern),
                ));
            }
        }
        Ok(set)
    }
}
