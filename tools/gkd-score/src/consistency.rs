//! Attribution consistency (DEGU; docs/science.md §5): maps of several models for the same rows, each
//! compared with a reference map (default: the models' mean) by per-sequence RMSE, and the
//! across-model variability √(Σ over positions and channels of the variance across models).

use std::path::{Path, PathBuf};

use gkd_io::attributions::Attributions;
use gkd_io::error::{Error, Result};
use gkd_io::scores::ConsistencyRow;
use ndarray::{ArrayD, Axis};

use crate::mean_sd;

fn same_rows(a: &Attributions, b: &Attributions) -> bool {
    a.attr().shape() == b.attr().shape() && a.rows.iter().zip(&b.rows).all(|(x, y)| x.id == y.id && x.class == y.class)
}

/// RMSE rows per model and the variability row.
pub fn score(inputs: &[(String, PathBuf)], reference: Option<&Path>) -> Result<Vec<ConsistencyRow>> {
    let maps: Vec<Attributions> = inputs.iter().map(|(_, p)| Attributions::read(p)).collect::<Result<_>>()?;
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
    let reference: ArrayD<f64> = match reference {
        Some(path) => {
            let r = Attributions::read(path)?;
            if !same_rows(&r, &maps[0]) {
                return Err(Error::in_file(
                    path,
                    format!("explains other rows or classes than {}", inputs[0].1.display()),
                ));
            }
            r.attr().mapv(f64::from)
        }
        None => {
            let mut sum = maps[0].attr().mapv(|_| 0f64);
            for m in &maps {
                sum.zip_mut_with(m.attr(), |s, &v| *s += v as f64);
            }
            sum / maps.len() as f64
        }
    };
    let n = maps[0].rows.len();
    let mut rows = Vec::new();
    for ((label, _), m) in inputs.iter().zip(&maps) {
        let rmse: Vec<f64> = (0..n)
            .map(|i| {
                let (a, r) = (m.attr().index_axis(Axis(0), i), reference.index_axis(Axis(0), i));
                let se: f64 = a.iter().zip(r.iter()).map(|(&x, &y)| (x as f64 - y).powi(2)).sum();
                (se / a.len() as f64).sqrt()
            })
            .collect();
        let (rmse_mean, rmse_sd) = mean_sd(rmse.iter().copied());
        rows.push(ConsistencyRow { model: label.clone(), sequences: n, rmse_mean, rmse_sd, variability_mean: None });
    }
    // Per sequence: √(Σ_{c,l} population variance across models), then the mean over sequences.
    let k = maps.len() as f64;
    let variability: Vec<f64> = (0..n)
        .map(|i| {
            let views: Vec<_> = maps.iter().map(|m| m.attr().index_axis(Axis(0), i)).collect();
            let cells = views[0].len();
            let flat: Vec<Vec<f32>> = views.iter().map(|v| v.iter().copied().collect()).collect();
            (0..cells)
                .map(|j| {
                    let mean = flat.iter().map(|f| f[j] as f64).sum::<f64>() / k;
                    flat.iter().map(|f| (f[j] as f64 - mean).powi(2)).sum::<f64>() / k
                })
                .sum::<f64>()
                .sqrt()
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
