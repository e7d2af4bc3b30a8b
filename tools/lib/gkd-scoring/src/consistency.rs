//! Attribution consistency (DEGU; docs/science.md §5): maps of several models for the same rows, each
//! compared with a reference map (default: the models' mean) by per-sequence RMSE, and the
//! across-model variability √(Σ over positions and channels of the variance across models).

use std::path::{Path, PathBuf};

use gkd_io::attributions::AttributionReader;
use gkd_io::error::{Error, Result};
use gkd_io::scores::ConsistencyRow;
use ndarray::{ArrayD, Axis};

use gkd_metrics::mean_sd;

fn same_rows(a: &AttributionReader, b: &AttributionReader) -> bool {
    a.len() == b.len()
        && (a.info.channels.len(), a.info.length) == (b.info.channels.len(), b.info.length)
        && a.rows.iter().zip(&b.rows).all(|(x, y)| x.id == y.id && x.class == y.class)
}

/// Maps read at a time from each file.
const CHUNK: usize = 256;

/// RMSE rows per model and the variability row; every file is read a chunk of maps at a time.
pub fn score(inputs: &[(String, PathBuf)], reference: Option<&Path>) -> Result<Vec<ConsistencyRow>> {
    let maps: Vec<AttributionReader> = inputs.iter().map(|(_, p)| AttributionReader::open(p)).collect::<Result<_>>()?;
    for ((_, path), m) in inputs.iter().zip(&maps).skip(1) {
        if !same_rows(m, &maps[0]) {
            return Err(Error::in_file(
                path,
                format!(
                    "explains other rows or classes than {} (consistency compares maps of the same rows)",
                    inputs[0].1.display()
                ),
            ));
        }
    }
    let reference = match reference {
        Some(path) => {
            let r = AttributionReader::open(path)?;
            if !same_rows(&r, &maps[0]) {
                return Err(Error::in_file(
                    path,
                    format!("explains other rows or classes than {}", inputs[0].1.display()),
                ));
            }
            Some(r)
        }
        None => None,
    };
    let n = maps[0].len();
    let k = maps.len() as f64;
    let mut rmse: Vec<Vec<f64>> = vec![Vec::with_capacity(n); maps.len()];
    let mut variability = Vec::with_capacity(n);
    for start in (0..n).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(n);
        let chunk: Vec<ArrayD<f64>> =
            maps.iter().map(|m| m.attr(range.clone()).map(|a| a.mapv(f64::from).into_dyn())).collect::<Result<_>>()?;
        let reference: ArrayD<f64> = match &reference {
            Some(r) => r.attr(range.clone())?.mapv(f64::from).into_dyn(),
            None => chunk.iter().fold(chunk[0].mapv(|_| 0.0), |sum, a| sum + a) / k,
        };
        for i in 0..range.len() {
            let r = reference.index_axis(Axis(0), i);
            for (m, a) in chunk.iter().enumerate() {
                let a = a.index_axis(Axis(0), i);
                let se: f64 = a.iter().zip(r.iter()).map(|(&x, &y)| (x - y).powi(2)).sum();
                rmse[m].push((se / a.len() as f64).sqrt());
            }
            // √(Σ_{c,l} population variance across models).
            let views: Vec<_> = chunk.iter().map(|a| a.index_axis(Axis(0), i)).collect();
            let flat: Vec<Vec<f64>> = views.iter().map(|v| v.iter().copied().collect()).collect();
            let total: f64 = (0..flat[0].len())
                .map(|j| {
                    let mean = flat.iter().map(|f| f[j]).sum::<f64>() / k;
                    flat.iter().map(|f| (f[j] - mean).powi(2)).sum::<f64>() / k
                })
                .sum();
            variability.push(total.sqrt());
        }
    }
    let mut rows: Vec<ConsistencyRow> = inputs
        .iter()
        .zip(&rmse)
        .map(|((label, _), rmse)| {
            let (rmse_mean, rmse_sd) = mean_sd(rmse.iter().copied());
            ConsistencyRow { model: label.clone(), sequences: n, rmse_mean, rmse_sd, variability_mean: None }
        })
        .collect();
    rows.push(ConsistencyRow {
        model: "across-models".into(),
        sequences: n,
        rmse_mean: None,
        rmse_sd: None,
        variability_mean: mean_sd(variability.iter().copied()).0,
    });
    Ok(rows)
}
