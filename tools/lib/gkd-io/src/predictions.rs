//! Prediction files (docs/data-contracts.md): `NAME.npz` with `logits` and `probabilities` (N, K), and the
//! long-form `NAME.tsv` beside it (id, class, logit, probability), which carries the row ids
//! that let a student match a teacher's cached logits to its own rows.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rayon::prelude::*;

use crate::atomic::AtomicFile;
use crate::error::{Error, IoResultExt, Result};
use crate::npz;
use crate::table::TextTable;

/// Logits of a model for the rows of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Row ids, in row order.
    pub ids: Vec<String>,
    /// Class names, in column order.
    pub classes: Vec<String>,
    /// (N, K) logits.
    pub logits: Array2<f32>,
}

/// The TSV that goes with a predictions NPZ: same name, `.tsv` extension.
pub fn tsv_path_for(npz_path: &Path) -> PathBuf {
    npz_path.with_extension("tsv")
}

/// Stage `logits` and `probabilities` into an NPZ and the long-form TSV.
pub fn stage(
    npz_path: &Path,
    tsv_path: &Path,
    predictions: &Predictions,
    probabilities: &Array2<f32>,
) -> Result<Vec<AtomicFile>> {
    let mut npz_file = AtomicFile::create(npz_path)?;
    npz::write_npz(
        &mut npz_file,
        &[("logits", predictions.logits.view().into_dyn()), ("probabilities", probabilities.view().into_dyn())],
        false,
    )?;
    let mut tsv = AtomicFile::create(tsv_path)?;
    {
        let path = tsv.path().to_path_buf();
        let mut w = tsv.buffered();
        writeln!(w, "id\tclass\tlogit\tprobability").with_path(&path)?;
        // Blocks of rows formatted in parallel, written in order (the same bytes as one loop).
        let block = |rows: std::ops::Range<usize>| {
            let mut text = String::new();
            for i in rows {
                let id = &predictions.ids[i];
                for (k, class) in predictions.classes.iter().enumerate() {
                    // `{}` prints the shortest decimal that reads back as the same f32.
                    let (z, p) = (predictions.logits[[i, k]], probabilities[[i, k]]);
                    std::fmt::Write::write_fmt(&mut text, format_args!("{id}\t{class}\t{z}\t{p}\n"))
                        .expect("formatting into a String");
                }
            }
            text
        };
        // 16 blocks of 1,024 rows in memory at a time (a few MB of text).
        const ROWS_PER_BLOCK: usize = 1024;
        const ROWS_AT_ONCE: usize = 16 * ROWS_PER_BLOCK;
        let n = predictions.ids.len();
        for start in (0..n).step_by(ROWS_AT_ONCE) {
            let end = (start + ROWS_AT_ONCE).min(n);
            let texts: Vec<String> = (start..end)
                .into_par_iter()
                .step_by(ROWS_PER_BLOCK)
                .map(|b| block(b..(b + ROWS_PER_BLOCK).min(end)))
                .collect();
            for text in texts {
                w.write_all(text.as_bytes()).with_path(&path)?;
            }
        }
        w.flush().with_path(&path)?;
    }
    Ok(vec![npz_file, tsv])
}

/// Read predictions from their long-form TSV (or from an NPZ path, using the TSV beside it).
/// Rows must list every class of each id, ids in blocks, classes in the same order each time.
pub fn read(path: &Path) -> Result<Predictions> {
    let tsv = if path.extension().is_some_and(|e| e == "npz") { tsv_path_for(path) } else { path.to_path_buf() };
    if !tsv.exists() {
        return Err(Error::in_file(&tsv, "is missing (the long-form predictions TSV written by gkd-predict)"));
    }
    let table = TextTable::read(&tsv, Some(b'\t'))?;
    let ids = table.column("id")?;
    let classes_col = table.column("class")?;
    let logits_col = table.column("logit")?;
    let mut row_ids: Vec<String> = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    let mut values = Vec::with_capacity(ids.len());
    for (i, ((id, class), logit)) in ids.into_iter().zip(classes_col).zip(logits_col).enumerate() {
        let line = i as u64 + 2;
        let (id, class, logit) = match (id, class, logit) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(Error::at_line(&tsv, line, "empty cell; expected id, class and logit")),
        };
        let value: f32 = logit
            .parse()
            .ok()
            .filter(|v: &f32| v.is_finite())
            .ok_or_else(|| Error::at_line(&tsv, line, format!("logit '{logit}' is not a finite number")))?;
        if row_ids.last() != Some(&id) {
            row_ids.push(id);
        }
        let position = values.len() % classes.len().max(1);
        if row_ids.len() == 1 {
            if classes.contains(&class) {
                return Err(Error::at_line(&tsv, line, format!("id '{}' lists class '{class}' twice", row_ids[0])));
            }
            classes.push(class);
        } else if classes.get(position) != Some(&class) {
            return Err(Error::at_line(
                &tsv,
                line,
                format!(
                    "expected class '{}' for id '{}' (every id lists the classes in the same order)",
                    classes.get(position).map(String::as_str).unwrap_or("?"),
                    row_ids.last().map(String::as_str).unwrap_or("?")
                ),
            ));
        }
        values.push(value);
    }
    if values.is_empty() {
        return Err(Error::in_file(&tsv, "holds no predictions"));
    }
    let k = classes.len();
    if values.len() != row_ids.len() * k {
        return Err(Error::in_file(&tsv, format!("the last id lists fewer than the {k} classes of the others")));
    }
    let logits = Array2::from_shape_vec((row_ids.len(), k), values).expect("N x K values");
    Ok(Predictions { ids: row_ids, classes, logits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let logits = Array2::from_shape_vec((2, 2), vec![0.1f32, -3.4028235e38, 1.0e-45, 7.25]).unwrap();
        let p = Predictions { ids: vec!["a".into(), "b".into()], classes: vec!["x".into(), "y".into()], logits };
        let npz = dir.path().join("p.npz");
        let files = stage(&npz, &tsv_path_for(&npz), &p, &p.logits.clone()).unwrap();
        crate::atomic::commit_all(files).unwrap();
        assert_eq!(read(&npz).unwrap(), p);
    }

    #[test]
    fn class_order_must_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = dir.path().join("p.tsv");
        std::fs::write(&tsv, "id\tclass\tlogit\tprobability\na\tx\t1\t0.7\na\ty\t2\t0.8\nb\ty\t1\t0.7\nb\tx\t1\t0.7\n")
            .unwrap();
        let e = read(&tsv).unwrap_err().to_string();
        assert!(e.contains("line 4") && e.contains("expected class 'x'"), "{e}");
    }
}
