//! Synthetic sequences with embedded motifs and their ground truth: the benchmarks of
//! Koo & Eddy (2019) and Koo & Ploenzke (2021) as described in docs/science.md §1.
//!
//! A sequence of length L carries n motifs (n = `min_motifs` + k with P(k) = `count_probs`).
//! The n motifs are drawn uniformly with replacement from a pool of PWMs (each motif and its
//! reverse complement), redrawn until their total width is below L. The L − width leftover
//! positions are split into n + 1 gaps: draw n + 1 Uniform(0, 1), scale them to the leftover
//! length, round, and redraw until they sum exactly. Every position, motif positions included,
//! is then sampled from its generating column (the background outside motifs); the generating
//! column is the ground truth.

use rayon::prelude::*;

use crate::motif::Motif;
use crate::onehot::CHANNELS;
use crate::rng::SeededRng;
use gkd_io::table::Strand;

/// A PWM that can be embedded: a motif on one strand, and the class it signals (if any).
#[derive(Debug, Clone)]
pub struct PoolEntry {
    /// The motif as embedded (already reverse-complemented for the `-` strand).
    pub motif: Motif,
    /// Strand relative to the source matrix.
    pub strand: Strand,
    /// Class index the motif marks, or `None` for decoys.
    pub class: Option<usize>,
}

/// Build a pool from motifs: each motif and its reverse complement, with the given classes.
pub fn pool_with_reverse_complements(motifs: &[(Motif, Option<usize>)]) -> Vec<PoolEntry> {
    let mut pool = Vec::with_capacity(motifs.len() * 2);
    for (m, class) in motifs {
        pool.push(PoolEntry { motif: m.clone(), strand: Strand::Forward, class: *class });
        pool.push(PoolEntry { motif: m.reverse_complement(), strand: Strand::Reverse, class: *class });
    }
    pool
}

/// How sequences are drawn from one pool.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Sequence length L.
    pub length: usize,
    /// Smallest number of motifs per sequence.
    pub min_motifs: usize,
    /// P(n = min_motifs + k) for k = 0, 1, ...
    pub count_probs: Vec<f64>,
    /// Background probabilities of A, C, G, T.
    pub background: [f64; 4],
}

/// One embedded motif instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// 0-based start in the sequence.
    pub start: usize,
    /// Exclusive end.
    pub end: usize,
    /// Strand of the embedded matrix.
    pub strand: Strand,
    /// Index into the pool.
    pub pool_index: usize,
}

/// One synthetic sequence: bases, generating columns, and sites.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Bases (uppercase ACGT).
    pub seq: Vec<u8>,
    /// Generating probabilities per position (the ground truth).
    pub truth: Vec<[f32; 4]>,
    /// Embedded motifs in sequence order.
    pub sites: Vec<Site>,
}

/// Why a recipe cannot be used with a pool.
pub fn check_recipe(recipe: &Recipe, pool: &[PoolEntry]) -> Result<(), String> {
    if pool.is_empty() {
        return Err("the motif pool is empty".into());
    }
    if recipe.count_probs.is_empty() || recipe.count_probs.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return Err("motif-count probabilities must be non-negative numbers".into());
    }
    let total: f64 = recipe.count_probs.iter().sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(format!("motif-count probabilities sum to {total}; expected 1"));
    }
    let bg: f64 = recipe.background.iter().sum();
    if (bg - 1.0).abs() > 1e-6 || recipe.background.iter().any(|p| *p < 0.0) {
        return Err(format!("background probabilities sum to {bg}; expected 1"));
    }
    let max_n = recipe.min_motifs + recipe.count_probs.iter().rposition(|p| *p > 0.0).unwrap_or(0);
    let narrowest = pool.iter().map(|e| e.motif.width()).min().unwrap_or(0);
    if max_n * narrowest >= recipe.length {
        return Err(format!(
            "{max_n} motifs of width >= {narrowest} cannot fit in length {}; use a longer --length or fewer motifs",
            recipe.length
        ));
    }
    Ok(())
}

/// Draw one sequence from `pool` with `rng`. The recipe must have passed [`check_recipe`].
pub fn draw(recipe: &Recipe, pool: &[PoolEntry], rng: &mut SeededRng) -> Synthetic {
    let n = recipe.min_motifs + rng.categorical(&recipe.count_probs);
    // Motifs, redrawn until they fit with room to spare.
    let chosen: Vec<usize> = loop {
        let c: Vec<usize> = (0..n).map(|_| rng.below(pool.len())).collect();
        if c.iter().map(|&i| pool[i].motif.width()).sum::<usize>() < recipe.length {
            break c;
        }
    };
    let width: usize = chosen.iter().map(|&i| pool[i].motif.width()).sum();
    let leftover = recipe.length - width;
    // Gaps: n + 1 uniforms scaled to the leftover, rounded, redrawn until they sum exactly.
    let gaps: Vec<usize> = loop {
        let u: Vec<f64> = (0..=n).map(|_| rng.uniform()).collect();
        let s: f64 = u.iter().sum();
        let g: Vec<usize> = u.iter().map(|v| (v / s * leftover as f64).round() as usize).collect();
        if g.iter().sum::<usize>() == leftover {
            break g;
        }
    };
    let bg = recipe.background.map(|p| p as f32);
    let mut truth: Vec<[f32; 4]> = Vec::with_capacity(recipe.length);
    let mut sites = Vec::with_capacity(n);
    for (k, &gap) in gaps.iter().enumerate() {
        truth.extend(std::iter::repeat_n(bg, gap));
        if let Some(&pi) = chosen.get(k) {
            let start = truth.len();
            truth.extend(pool[pi].motif.pwm.iter().map(|c| c.map(|p| p as f32)));
            sites.push(Site { start, end: truth.len(), strand: pool[pi].strand, pool_index: pi });
        }
    }
    let seq = truth
        .iter()
        .map(|col| {
            let w = col.map(f64::from);
            CHANNELS[rng.categorical(&w)].as_bytes()[0]
        })
        .collect();
    Synthetic { seq, truth, sites }
}

/// Draw `count` sequences; sequence `i` uses random stream `first_stream + i` of `seed`, so the
/// result does not depend on the number of threads.
pub fn draw_many(recipe: &Recipe, pool: &[PoolEntry], seed: u64, first_stream: u64, count: usize) -> Vec<Synthetic> {
    (0..count).into_par_iter().map(|i| draw(recipe, pool, &mut SeededRng::new(seed, first_stream + i as u64))).collect()
}

/// The default motif-count distribution of both tasks: .50/.25/.17/.05/.03.
pub const KOO_COUNT_PROBS: [f64; 5] = [0.50, 0.25, 0.17, 0.05, 0.03];

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Vec<PoolEntry> {
        let m = Motif {
            id: "m".into(),
            name: "m".into(),
            pwm: vec![[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]],
        };
        pool_with_reverse_complements(&[(m, Some(0))])
    }

    #[test]
    fn sites_carry_their_motif() {
        let recipe = Recipe { length: 40, min_motifs: 1, count_probs: KOO_COUNT_PROBS.to_vec(), background: [0.25; 4] };
        let p = pool();
        check_recipe(&recipe, &p).unwrap();
        for s in draw_many(&recipe, &p, 5, 0, 200) {
            assert_eq!(s.seq.len(), 40);
            assert!((1..=5).contains(&s.sites.len()));
            for site in &s.sites {
                let expect: &[u8] = if site.strand == Strand::Forward { b"ATC" } else { b"GAT" };
                assert_eq!(&s.seq[site.start..site.end], expect);
            }
        }
    }

    #[test]
    fn impossible_recipe_is_refused() {
        // Three motifs of width 3 need a total width below L: 9 is not below 9.
        let recipe = Recipe { length: 9, min_motifs: 3, count_probs: vec![1.0], background: [0.25; 4] };
        assert!(check_recipe(&Recipe { length: 10, ..recipe.clone() }, &pool()).is_ok());
        assert!(check_recipe(&recipe, &pool()).is_err());
    }
}
