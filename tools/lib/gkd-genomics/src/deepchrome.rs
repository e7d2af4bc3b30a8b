//! DeepChrome / AttentiveChrome CSV: no header, one line per bin,
//! `GeneID,BinID,mark1,...,markM,label`, bins 1..B in order, the label constant within a gene.

use std::collections::HashSet;
use std::path::Path;

use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::input;
use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

/// The five marks of the published data, in column order.
pub const DEEPCHROME_MARKS: [&str; 5] = ["H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3"];

/// A DeepChrome CSV read whole: gene ids, x (genes, marks, bins), labels (genes, 1).
#[derive(Debug, Clone)]
pub struct DeepChromeData {
    /// Gene ids in file order.
    pub ids: Vec<String>,
    /// Signal, (genes, marks, bins).
    pub x: Array3<f32>,
    /// Labels, (genes, 1).
    pub y: Array2<f32>,
    /// Raw label text per gene (kept for byte-exact rewriting).
    pub label_text: Vec<String>,
}

/// Read a DeepChrome CSV, checking column counts, bin order and per-gene labels.
pub fn read(path: &Path) -> Result<DeepChromeData> {
    let text = String::from_utf8(input::read_all(path)?).map_err(|_| Error::in_file(path, "is not UTF-8 text"))?;
    let mut ids: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut labels: Vec<String> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    let mut marks: Option<usize> = None;
    let mut bins: Option<usize> = None;
    let mut bin_in_gene = 0usize;
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        let m = *marks.get_or_insert(f.len().saturating_sub(3));
        if f.len() < 4 || f.len() != m + 3 {
            return Err(Error::at_line(
                path,
                n,
                format!("found {} columns; expected GeneID,BinID,{m} marks,label = {}", f.len(), m + 3),
            ));
        }
        let new_gene = ids.last().is_none_or(|last| last != f[0]);
        if new_gene {
            if let Some(b) = bins {
                if bin_in_gene != b {
                    return Err(Error::at_line(
                        path,
                        n,
                        format!("gene '{}' ended after {bin_in_gene} bins; expected {b}", ids.last().unwrap()),
                    ));
                }
            } else if !ids.is_empty() {
                bins = Some(bin_in_gene);
            }
            if !seen.insert(f[0].to_owned()) {
                return Err(Error::at_line(
                    path,
                    n,
                    format!("gene '{}' appears again after other genes; its bins must be consecutive", f[0]),
                ));
            }
            ids.push(f[0].to_owned());
            labels.push(f[m + 2].trim().to_owned());
            bin_in_gene = 0;
        }
        bin_in_gene += 1;
        let bin: usize =
            f[1].trim().parse().map_err(|_| Error::at_line(path, n, format!("BinID '{}' is not an integer", f[1])))?;
        if bin != bin_in_gene {
            return Err(Error::at_line(
                path,
                n,
                format!("BinID {bin} out of order; expected {bin_in_gene} for gene '{}'", f[0]),
            ));
        }
        if bins.is_some_and(|b| bin_in_gene > b) {
            return Err(Error::at_line(path, n, format!("gene '{}' has more than {} bins", f[0], bins.unwrap())));
        }
        if f[m + 2].trim() != labels.last().unwrap() {
            return Err(Error::at_line(
                path,
                n,
                format!(
                    "label '{}' differs from '{}' earlier in gene '{}'",
                    f[m + 2].trim(),
                    labels.last().unwrap(),
                    f[0]
                ),
            ));
        }
        for v in &f[2..m + 2] {
            values.push(
                v.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| Error::at_line(path, n, format!("'{v}' is not a number")))?,
            );
        }
    }
    let m = marks.ok_or_else(|| Error::in_file(path, "is empty; expected GeneID,BinID,marks...,label lines"))?;
    let b = bins.unwrap_or(bin_in_gene);
    if bin_in_gene != b {
        return Err(Error::in_file(
            path,
            format!("last gene '{}' has {bin_in_gene} bins; expected {b}", ids.last().unwrap()),
        ));
    }
    let g = ids.len();
    // values are (gene, bin, mark) in file order → (gene, mark, bin).
    let x = Array3::from_shape_vec((g, b, m), values)
        .expect("counted")
        .permuted_axes([0, 2, 1])
        .as_standard_layout()
        .into_owned();
    let y = labels
        .iter()
        .enumerate()
        .map(|(k, l)| {
            l.parse::<f32>()
                .map_err(|_| Error::in_file(path, format!("gene '{}': label '{l}' is not a number", ids[k])))
        })
        .collect::<Result<Vec<f32>>>()?;
    Ok(DeepChromeData { ids, x, y: Array2::from_shape_vec((g, 1), y).expect("one label per gene"), label_text: labels })
}

/// Format a value: integers without a decimal point (counts), others with the shortest
/// round-trip representation; NaN as `nan`.
fn format_value(v: f32) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 { format!("{}", v as i64) } else { format!("{v}") }
}

/// Write the DeepChrome CSV of (genes, marks, bins) signal and (genes, 1) labels.
pub fn write(out: &mut AtomicFile, ids: &[String], x: ArrayView3<'_, f32>, labels: &[String]) -> Result<()> {
    use std::io::Write;
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    let (g, m, b) = x.dim();
    for i in 0..g {
        for k in 0..b {
            let mut line = format!("{},{}", ids[i], k + 1);
            for j in 0..m {
                line.push(',');
                line.push_str(&format_value(x[[i, j, k]]));
            }
            writeln!(w, "{line},{}", labels[i]).with_path(&path)?;
        }
    }
    w.flush().with_path(&path)
}

/// Label text of a (genes, 1) label matrix, integers without a decimal point.
pub fn label_texts(y: ArrayView2<'_, f32>) -> Vec<String> {
    y.column(0).iter().map(|&v| format_value(v)).collect()
}
