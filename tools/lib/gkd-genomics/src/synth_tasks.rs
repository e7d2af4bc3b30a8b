//! The two motif tasks of docs/science.md §1 built on [`crate::synth`]: task 1 (Koo & Eddy
//! 2019; multi-label, one class per motif) and task 3 (Koo & Ploenzke 2021; binary: positives
//! carry the positive motifs, negatives the positive motifs and decoys), with their labels, the
//! per-position ground truth and the table of embedded sites.

use ndarray::{Array2, Array3};

use crate::motif::Motif;
use crate::rng::SeededRng;
use crate::synth::{self, PoolEntry, Recipe, Synthetic};
use gkd_io::manifest::TaskKind;

/// The sequences of one task, before splitting, with what labels and describes them.
pub struct Generated {
    /// The sequences in generation order.
    pub seqs: Vec<Synthetic>,
    /// Labels, sequences × classes.
    pub y: Array2<f32>,
    /// Class names.
    pub classes: Vec<String>,
    /// Multi-label (task 1) or binary (task 3).
    pub task: TaskKind,
    /// Every pool entry a site can index.
    pub pool: Vec<PoolEntry>,
    /// Class name of each pool entry's motif ("." for decoys).
    pub pool_class: Vec<String>,
}

/// Task 1: `n` sequences from every motif and its reverse complement; a sequence is labelled
/// with the class of each motif it carries (one class per motif, named by the motif).
pub fn task1(motifs: &[Motif], recipe: &Recipe, n: usize, seed: u64) -> Result<Generated, String> {
    let classes: Vec<String> = motifs.iter().map(|m| m.name.clone()).collect();
    let pool = synth::pool_with_reverse_complements(
        &motifs.iter().enumerate().map(|(k, m)| (m.clone(), Some(k))).collect::<Vec<_>>(),
    );
    synth::check_recipe(recipe, &pool)?;
    let seqs = synth::draw_many(recipe, &pool, seed, 0, n);
    let mut y = Array2::<f32>::zeros((n, classes.len()));
    for (i, s) in seqs.iter().enumerate() {
        for site in &s.sites {
            if let Some(k) = pool[site.pool_index].class {
                y[[i, k]] = 1.0;
            }
        }
    }
    let pool_class = pool.iter().map(|e| e.class.map_or(".".to_owned(), |k| classes[k].clone())).collect();
    Ok(Generated { seqs, y, classes, task: TaskKind::Multilabel, pool, pool_class })
}

/// A seeded choice of `n` decoys among `candidates`, kept in their order (`n` ≤ their number).
pub fn choose_decoys(candidates: &[Motif], n: usize, seed: u64) -> Vec<Motif> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    SeededRng::new(seed, u64::MAX - 1).shuffle(&mut order);
    let mut chosen: Vec<usize> = order[..n.min(candidates.len())].to_vec();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| candidates[i].clone()).collect()
}

/// Task 3: `n_pos` positives drawn from the positive motifs, then `n_neg` negatives drawn from
/// the positive motifs and the decoys together (class "positive", 1 for the first `n_pos`).
pub fn task3(
    positives: &[Motif],
    decoys: &[Motif],
    recipe: &Recipe,
    (n_pos, n_neg): (usize, usize),
    seed: u64,
) -> Result<Generated, String> {
    let positive_pool =
        synth::pool_with_reverse_complements(&positives.iter().map(|m| (m.clone(), Some(0))).collect::<Vec<_>>());
    let mut negative_src: Vec<(Motif, Option<usize>)> = positives.iter().map(|m| (m.clone(), Some(0))).collect();
    negative_src.extend(decoys.iter().map(|m| (m.clone(), None)));
    let negative_pool = synth::pool_with_reverse_complements(&negative_src);
    synth::check_recipe(recipe, &positive_pool)?;
    synth::check_recipe(recipe, &negative_pool)?;

    let mut seqs = synth::draw_many(recipe, &positive_pool, seed, 0, n_pos);
    // Negative sites index the negative pool; shift them past the positive pool's entries so one
    // pool (positive entries, then negative entries) describes every site.
    let shift = positive_pool.len();
    let mut negatives = synth::draw_many(recipe, &negative_pool, seed, n_pos as u64, n_neg);
    for s in &mut negatives {
        for site in &mut s.sites {
            site.pool_index += shift;
        }
    }
    seqs.extend(negatives);
    let mut y = Array2::<f32>::zeros((n_pos + n_neg, 1));
    y.slice_mut(ndarray::s![..n_pos, ..]).fill(1.0);
    let mut pool = positive_pool;
    pool.extend(negative_pool);
    let pool_class =
        pool.iter().map(|e| if e.class.is_some() { e.motif.name.clone() } else { ".".to_owned() }).collect();
    Ok(Generated { seqs, y, classes: vec!["positive".to_owned()], task: TaskKind::Binary, pool, pool_class })
}

impl Generated {
    /// The ground truth of sequences `idx`: their generating columns, (rows, 4, `length`).
    pub fn truth(&self, idx: &[usize], length: usize) -> Array3<f32> {
        let mut truth = Array3::<f32>::zeros((idx.len(), 4, length));
        for (r, &i) in idx.iter().enumerate() {
            for (p, col) in self.seqs[i].truth.iter().enumerate() {
                for c in 0..4 {
                    truth[[r, c, p]] = col[c];
                }
            }
        }
        truth
    }

    /// The sites table of sequences `idx` (named `ids`, indexed like the sequences): one row per
    /// embedded motif, as columns id, start, end, strand, motif_id, motif_name, class.
    pub fn sites_columns(&self, idx: &[usize], ids: &[String]) -> Vec<(String, Vec<String>)> {
        let names = ["id", "start", "end", "strand", "motif_id", "motif_name", "class"];
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        for &i in idx {
            for site in &self.seqs[i].sites {
                let entry = &self.pool[site.pool_index];
                let values = [
                    ids[i].clone(),
                    site.start.to_string(),
                    site.end.to_string(),
                    site.strand.as_str().to_owned(),
                    entry.motif.id.trim_end_matches("_rc").to_owned(),
                    entry.motif.name.clone(),
                    self.pool_class[site.pool_index].clone(),
                ];
                for (c, v) in cols.iter_mut().zip(values) {
                    c.push(v);
                }
            }
        }
        names.iter().map(|n| n.to_string()).zip(cols).collect()
    }
}
