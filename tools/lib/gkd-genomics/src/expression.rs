//! Gene expression as DeepChrome's labels: a value per gene from a TSV (gene id, value) or the
//! mean RNA-seq signal over each gene body in a bigWig, and "expressed" = above a threshold (the
//! median by default, as DeepChrome splits its genes).

use std::collections::HashMap;
use std::path::Path;

use gkd_io::error::{Error, Result};
use gkd_io::table::TextTable;
use ndarray::Array2;

use crate::genes::Gene;
use crate::signal;

/// Where the expressed / not expressed line is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// The median expression of the genes.
    Median,
    /// A fixed value.
    Value(f32),
}

impl std::str::FromStr for Threshold {
    type Err = String;

    /// `median` or a number.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "median" {
            return Ok(Self::Median);
        }
        text.parse::<f32>().map(Self::Value).map_err(|_| format!("--threshold '{text}': expected 'median' or a number"))
    }
}

/// One value per gene, in gene order, from a TSV whose first column is the gene id and whose
/// second is the value (`genes_path` names the annotation in messages).
pub fn from_tsv(path: &Path, genes: &[Gene], genes_path: &Path) -> Result<Vec<f32>> {
    let table = TextTable::read(path, Some(b'\t'))?;
    if table.columns.len() < 2 {
        return Err(Error::at_line(path, 1, "expected a header with a gene id column and a value column"));
    }
    let ids = table.column(&table.columns[0])?;
    let values = table.label_column(&table.columns[1])?;
    let index: HashMap<&str, usize> = genes.iter().enumerate().map(|(i, g)| (g.id.as_str(), i)).collect();
    let mut expr: Vec<Option<f32>> = vec![None; genes.len()];
    for (j, id) in ids.iter().enumerate() {
        let line = j as u64 + 2;
        let id = id.as_deref().ok_or_else(|| Error::at_line(path, line, "empty gene id"))?;
        let &i = index
            .get(id)
            .ok_or_else(|| Error::at_line(path, line, format!("gene '{id}' is not among the {} genes", genes.len())))?;
        if expr[i].replace(values[j]).is_some() {
            return Err(Error::at_line(path, line, format!("gene '{id}' has a second value")));
        }
    }
    if let Some(i) = expr.iter().position(Option::is_none) {
        let g = &genes[i];
        return Err(Error::in_file(
            path,
            format!("has no value for gene '{}' ({} line {})", g.id, genes_path.display(), g.line),
        ));
    }
    Ok(expr.into_iter().map(|v| v.expect("checked above")).collect())
}

/// One value per gene: the mean signal of an RNA-seq bigWig over the gene body.
pub fn from_bigwig(path: &Path, genes: &[Gene], genes_path: &Path) -> Result<Vec<f32>> {
    let (means, matched) = signal::gene_body_means(path, genes)?;
    signal::check_chromosomes(path, &matched, genes, genes_path, false)?;
    Ok(means.into_iter().map(|v| v.expect("every chromosome matched") as f32).collect())
}

/// (genes, 1) labels: 1 where expression is above the threshold.
pub fn labels(expr: &[f32], threshold: Threshold) -> Array2<f32> {
    let threshold = match threshold {
        Threshold::Median => median(expr),
        Threshold::Value(v) => v,
    };
    log::info!("labels: expression > {threshold} → 1");
    Array2::from_shape_fn((expr.len(), 1), |(i, _)| f32::from(u8::from(expr[i] > threshold)))
}

/// Median (mean of the two middle values for an even count).
fn median(v: &[f32]) -> f32 {
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genes_above_the_median_are_expressed() {
        let y = labels(&[5.0, 1.0, 3.0, 8.0], Threshold::Median); // median (3 + 5) / 2 = 4
        assert_eq!(y.column(0).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        let y = labels(&[5.0, 1.0, 3.0], Threshold::Value(3.0));
        assert_eq!(y.column(0).to_vec(), vec![1.0, 0.0, 0.0]);
        assert_eq!("median".parse::<Threshold>(), Ok(Threshold::Median));
        assert_eq!("2.5".parse::<Threshold>(), Ok(Threshold::Value(2.5)));
        assert!("high".parse::<Threshold>().unwrap_err().contains("'median' or a number"));
    }
}
