//! Motif files as position probability matrices (columns A, C, G, T summing to 1).
//!
//! JASPAR (`>ID name` then `A [ ... ]` rows of counts or probabilities) and MEME minimal
//! format (`MOTIF id name`, `letter-probability matrix: alength= 4 w= W`, W rows) are read by
//! hand: neither noodles nor bio parses them, and both are small line formats whose problems
//! must be reported by line.

use std::path::Path;

use gkd_io::error::{Error, Result};
use gkd_io::input;

/// A motif: id, name, and one probability row [A, C, G, T] per position.
#[derive(Debug, Clone, PartialEq)]
pub struct Motif {
    /// Matrix id (e.g. `MA0079.3`).
    pub id: String,
    /// Factor name (e.g. `SP1`); the id when the file gives none.
    pub name: String,
    /// Probabilities per position, each row summing to 1.
    pub pwm: Vec<[f64; 4]>,
}

impl Motif {
    /// Number of positions.
    pub fn width(&self) -> usize {
        self.pwm.len()
    }

    /// The reverse-complement motif (positions reversed, A↔T, C↔G), named `<id>_rc`.
    pub fn reverse_complement(&self) -> Motif {
        Motif {
            id: format!("{}_rc", self.id),
            name: self.name.clone(),
            pwm: self.pwm.iter().rev().map(|p| [p[3], p[2], p[1], p[0]]).collect(),
        }
    }
}

/// Information content of a probability column in bits: 2 + Σ p log2 p.
pub fn information_content(p: &[f64; 4]) -> f64 {
    2.0 + p.iter().filter(|&&v| v > 0.0).map(|&v| v * v.log2()).sum::<f64>()
}

/// Read a JASPAR or MEME motif file (format detected from its content).
pub fn read_motifs(path: &Path) -> Result<Vec<Motif>> {
    let text = String::from_utf8(input::read_all(path)?).map_err(|_| Error::in_file(path, "is not UTF-8 text"))?;
    let motifs = if text.lines().any(|l| l.starts_with("MOTIF")) {
        parse_meme(path, &text)?
    } else if text.trim_start().starts_with('>') {
        parse_jaspar(path, &text)?
    } else {
        return Err(Error::in_file(
            path,
            "is neither a JASPAR ('>ID name' + A/C/G/T rows) nor a MEME ('MOTIF' lines) motif file",
        ));
    };
    if motifs.is_empty() {
        return Err(Error::in_file(path, "contains no motifs"));
    }
    Ok(motifs)
}

const PROB_TOLERANCE: f64 = 0.02;

/// Turn count or probability columns into probabilities, checking each column.
fn normalise_columns(path: &Path, line: u64, id: &str, rows: [Vec<f64>; 4]) -> Result<Vec<[f64; 4]>> {
    let width = rows[0].len();
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
        return Err(Error::at_line(
            path,
            line,
            format!("motif {id}: rows A, C, G, T have {lens:?} values; expected the same non-zero number"),
        ));
    }
    let mut pwm = Vec::with_capacity(width);
    let columns = (0..width).map(|j| [rows[0][j], rows[1][j], rows[2][j], rows[3][j]]);
    for (j, col) in columns.enumerate() {
        let sum: f64 = col.iter().sum();
        if col.iter().any(|v| !v.is_finite() || *v < 0.0) || sum <= 0.0 {
            return Err(Error::at_line(
                path,
                line,
                format!(
                    "motif {id}: column {} is {col:?}; expected non-negative counts or probabilities with a positive sum",
                    j + 1
                ),
            ));
        }
        // A column summing to ~1 holds probabilities; otherwise it must be a count (>= 1).
        if (sum - 1.0).abs() > PROB_TOLERANCE && sum < 1.0 {
            return Err(Error::at_line(
                path,
                line,
                format!("motif {id}: column {} sums to {sum:.4}; expected a count (>= 1) or a probability (1)", j + 1),
            ));
        }
        pwm.push(col.map(|v| v / sum));
    }
    Ok(pwm)
}

fn parse_jaspar(path: &Path, text: &str) -> Result<Vec<Motif>> {
    let mut motifs = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let header_line = i as u64 + 1;
        let header = line.strip_prefix('>').ok_or_else(|| {
            Error::at_line(path, header_line, format!("expected a '>ID name' header, found '{line}'"))
        })?;
        let mut words = header.split_whitespace();
        let id = words.next().ok_or_else(|| Error::at_line(path, header_line, "header has no motif id"))?.to_owned();
        let name = words.next().unwrap_or(&id).to_owned();
        let mut rows: [Vec<f64>; 4] = Default::default();
        for (k, letter) in ['A', 'C', 'G', 'T'].into_iter().enumerate() {
            let (j, row) = lines
                .next()
                .ok_or_else(|| Error::at_line(path, header_line, format!("motif {id}: missing row {letter}")))?;
            let row_line = j as u64 + 1;
            let row = row.trim();
            let body = row.strip_prefix(letter).ok_or_else(|| {
                Error::at_line(path, row_line, format!("motif {id}: expected row '{letter}', found '{row}'"))
            })?;
            rows[k] = body
                .replace(['[', ']'], " ")
                .split_whitespace()
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| Error::at_line(path, row_line, format!("motif {id}: '{v}' is not a number")))
                })
                .collect::<Result<_>>()?;
        }
        let pwm = normalise_columns(path, header_line, &id, rows)?;
        motifs.push(Motif { id, name, pwm });
    }
    Ok(motifs)
}

fn parse_meme(path: &Path, text: &str) -> Result<Vec<Motif>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut motifs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(rest) = lines[i].strip_prefix("MOTIF") else {
            i += 1;
            continue;
        };
        let motif_line = i as u64 + 1;
        let mut words = rest.split_whitespace();
        let id = words.next().ok_or_else(|| Error::at_line(path, motif_line, "MOTIF line has no id"))?.to_owned();
        let name = words.next().unwrap_or(&id).to_owned();
        // Find the matrix header within this motif's block.
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with("letter-probability") {
            if lines[i].starts_with("MOTIF") {
                return Err(Error::at_line(
                    path,
                    motif_line,
                    format!("motif {id} has no 'letter-probability matrix' line"),
                ));
            }
            i += 1;
        }
        if i == lines.len() {
            return Err(Error::at_line(
                path,
                motif_line,
                format!("motif {id} has no 'letter-probability matrix' line"),
            ));
        }
        let header_line = i as u64 + 1;
        let field = |key: &str| -> Option<usize> {
            let pos = lines[i].find(key)? + key.len();
            lines[i][pos..].split_whitespace().next()?.parse().ok()
        };
        if let Some(a) = field("alength=")
            && a != 4
        {
            return Err(Error::at_line(path, header_line, format!("motif {id}: alength= {a}; expected 4 (DNA)")));
        }
        let width = field("w=");
        i += 1;
        let mut rows: [Vec<f64>; 4] = Default::default();
        while i < lines.len() {
            let l = lines[i].trim();
            let values: Vec<&str> = l.split_whitespace().collect();
            let numeric = !values.is_empty() && values.iter().all(|v| v.parse::<f64>().is_ok());
            if !numeric || width.is_some_and(|w| rows[0].len() == w) {
                break;
            }
            if values.len() != 4 {
                return Err(Error::at_line(
                    path,
                    i as u64 + 1,
                    format!("motif {id}: {} values; expected 4 (A C G T)", values.len()),
                ));
            }
            let v: Vec<f64> = values.iter().map(|v| v.parse().unwrap_or(f64::NAN)).collect();
            let sum: f64 = v.iter().sum();
            if (sum - 1.0).abs() > PROB_TOLERANCE {
                return Err(Error::at_line(
                    path,
                    i as u64 + 1,
                    format!("motif {id}: probabilities sum to {sum:.4}; expected 1"),
                ));
            }
            for k in 0..4 {
                rows[k].push(v[k]);
            }
            i += 1;
        }
        if let Some(w) = width
            && rows[0].len() != w
        {
            return Err(Error::at_line(
                path,
                header_line,
                format!("motif {id}: w= {w} but {} matrix rows follow", rows[0].len()),
            ));
        }
        let pwm = normalise_columns(path, header_line, &id, rows)?;
        motifs.push(Motif { id, name, pwm });
    }
    Ok(motifs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaspar_counts_become_probabilities() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jaspar");
        std::fs::write(&p, ">MA1 X\nA [ 3 0 ]\nC [ 1 0 ]\nG [ 0 4 ]\nT [ 0 0 ]\n").unwrap();
        let m = read_motifs(&p).unwrap();
        assert_eq!(m[0].pwm, vec![[0.75, 0.25, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]);
        let rc = m[0].reverse_complement();
        assert_eq!(rc.pwm, vec![[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.25, 0.75]]);
        assert!((information_content(&[0.25; 4])).abs() < 1e-12);
        assert!((information_content(&[1.0, 0.0, 0.0, 0.0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn meme_rows_must_sum_to_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.meme");
        std::fs::write(
            &p,
            "MEME version 4\n\nMOTIF a b\nletter-probability matrix: alength= 4 w= 2\n0.5 0.5 0 0\n0.5 0.2 0 0\n",
        )
        .unwrap();
        let e = read_motifs(&p).unwrap_err().to_string();
        assert!(e.contains("line 6") && e.contains("sum to 0.7000"), "{e}");
    }
}
