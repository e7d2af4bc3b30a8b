//! Choosing λ by stability (StARS, Liu, Roeder & Wasserman 2010): fit the estimator on N seeded
//! subsamples of each condition over a grid of λ; an edge's instability at λ is 2θ(1 − θ), θ the
//! fraction of subsamples that have it; D(λ) is the mean over every pair of every network; the
//! rule takes the smallest λ whose monotonised instability sup_{λ′ ≥ λ} D(λ′) is at most β.

use gkd_genomics::rng::SeededRng;
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::covariance::{ThresholdRule, backward_map, sample_covariance};
use crate::estimators::{JointSettings, Method, estimate};
use crate::graph::pairs;

/// StARS settings.
#[derive(Debug, Clone)]
pub struct Stars {
    /// Subsamples N (at most 255).
    pub subsamples: usize,
    /// The instability bound β.
    pub beta: f64,
    /// Points of the λ grid.
    pub lambdas: usize,
    /// The grid runs from λ_max down to λ_max × this, evenly on a log scale.
    pub lambda_min_ratio: f64,
    /// Seed of the subsamples.
    pub seed: u64,
}

/// One λ of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    /// λ.
    pub lambda: f64,
    /// D(λ).
    pub instability: f64,
    /// sup_{λ′ ≥ λ} D(λ′).
    pub monotone: f64,
    /// Mean edges per network over the subsamples.
    pub mean_edges: f64,
}

/// What StARS chose.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The chosen λ.
    pub lambda: f64,
    /// The grid, largest λ first.
    pub grid: Vec<GridPoint>,
    /// Rows drawn per subsample, per condition: min(⌊10√n⌋, ⌊0.8 n⌋).
    pub subsample_rows: Vec<usize>,
}

/// The λ grid: `count` values from `top` down to `top × ratio`, log-spaced.
pub fn lambda_grid(top: f64, ratio: f64, count: usize) -> Vec<f64> {
    if count == 1 {
        return vec![top];
    }
    (0..count).map(|t| top * ratio.powf(t as f64 / (count - 1) as f64)).collect()
}

/// Rows of a subsample of n rows: min(⌊10√n⌋, ⌊0.8 n⌋) (Liu et al.'s b = 10√n, kept below n).
pub fn subsample_size(n: usize) -> usize {
    ((10.0 * (n as f64).sqrt()).floor() as usize).min((0.8 * n as f64).floor() as usize).max(2)
}

/// `b` distinct rows of 0..n, sorted (a partial Fisher–Yates shuffle of the seeded stream).
pub fn draw_rows(n: usize, b: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut index: Vec<usize> = (0..n).collect();
    for i in 0..b {
        let j = i + rng.below(n - i);
        index.swap(i, j);
    }
    let mut rows = index[..b].to_vec();
    rows.sort_unstable();
    rows
}

/// Run StARS on the conditions' data (samples × features each) over `grid` (largest first).
/// Subsample m of condition k uses the seeded stream m·K + k, so the choice does not depend on
/// the thread count.
#[allow(clippy::too_many_arguments)]
pub fn stars(
    method: Method,
    data: &[&DMatrix<f64>],
    standardise: bool,
    rule: ThresholdRule,
    settings: &JointSettings,
    stars: &Stars,
    grid: &[f64],
    mut progress: impl FnMut(),
) -> Result<Selection, String> {
    let k = data.len();
    let p = data[0].ncols();
    let graphs = if method.per_condition() { k } else { 1 };
    let n_pairs = p * (p - 1) / 2;
    let subsample_rows: Vec<usize> = data.iter().map(|x| subsample_size(x.nrows())).collect();
    let mut counts = vec![0u8; grid.len() * graphs * n_pairs];
    let mut edge_totals = vec![0usize; grid.len()];
    for m in 0..stars.subsamples {
        let inverses: Vec<DMatrix<f64>> = (0..k)
            .into_par_iter()
            .map(|c| {
                let mut rng = SeededRng::new(stars.seed, (m * k + c) as u64);
                let rows = draw_rows(data[c].nrows(), subsample_rows[c], &mut rng);
                let sub = data[c].select_rows(rows.iter());
                let s = sample_covariance(&sub, standardise);
                backward_map(&s, rule)
                    .map(|b| b.inverse)
                    .map_err(|e| format!("subsample {} of condition {}: {e}", m + 1, c + 1))
            })
            .collect::<Result<_, _>>()?;
        for (l, &lambda) in grid.iter().enumerate() {
            let fit = estimate(method, &inverses, lambda, settings);
            for (g, graph) in fit.graphs.iter().enumerate() {
                let base = (l * graphs + g) * n_pairs;
                for (e, (i, j)) in pairs(p).enumerate() {
                    if graph[(i, j)] != 0.0 {
                        counts[base + e] += 1;
                        edge_totals[l] += 1;
                    }
                }
            }
        }
        progress();
    }
    let n = stars.subsamples as f64;
    let mut points = Vec::with_capacity(grid.len());
    let mut monotone = 0.0_f64;
    for (l, &lambda) in grid.iter().enumerate() {
        let slice = &counts[l * graphs * n_pairs..(l + 1) * graphs * n_pairs];
        let instability = if slice.is_empty() {
            0.0
        } else {
            slice
                .iter()
                .map(|&c| {
                    let theta = c as f64 / n;
                    2.0 * theta * (1.0 - theta)
                })
                .sum::<f64>()
                / slice.len() as f64
        };
        monotone = monotone.max(instability);
        points.push(GridPoint {
            lambda,
            instability,
            monotone,
            mean_edges: edge_totals[l] as f64 / (n * graphs as f64),
        });
    }
    let lambda = points.iter().rev().find(|pt| pt.monotone <= stars.beta).map_or(grid[0], |pt| pt.lambda);
    Ok(Selection { lambda, grid: points, subsample_rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_subsample_sizes() {
        let g = lambda_grid(1.0, 0.01, 3);
        assert!((g[1] - 0.1).abs() < 1e-12 && (g[2] - 0.01).abs() < 1e-12);
        assert_eq!(subsample_size(100), 80);
        assert_eq!(subsample_size(10_000), 1000);
    }

    #[test]
    fn drawn_rows_are_distinct_and_seeded() {
        let a = draw_rows(50, 20, &mut SeededRng::new(7, 3));
        let b = draw_rows(50, 20, &mut SeededRng::new(7, 3));
        assert_eq!(a, b);
        let mut d = a.clone();
        d.dedup();
        assert_eq!(d.len(), 20);
        assert!(a.iter().all(|&r| r < 50));
        assert_ne!(a, draw_rows(50, 20, &mut SeededRng::new(7, 4)));
    }
}
