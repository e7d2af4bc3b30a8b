//! GkmExplain (Shrikumar, Prakash & Kundaje 2019): how much each base of a sequence adds to a
//! gkm-SVM's decision, and what each other base would add in its place.
//!
//! The decision is f(x) = Σ_sv c_sv K(x, sv) / √(K(x, x) K(sv, sv)) − ρ, and K sums, over every
//! pair (u, v) of an l-mer of x and one of sv with m ≤ d mismatches, the h_m = C(l − m, k) gapped
//! k-mers they share. GkmExplain splits each shared gapped k-mer's credit equally among its k
//! positions: each of the pair's l − m matching positions gets h_m / (l − m) = C(l − m − 1, k − 1)/k,
//! so, with the normalisation held fixed, the scores of a sequence's bases sum to f(x) + ρ.
//! Hypothetical scores, as LS-GKM's `gkmexplain -m 1` gives them: a mismatching position of a pair
//! gets, at the base the support vector has there, the credit it would have as a match,
//! h_{m−1} / (l − m + 1). A map holds these for all four bases; at the observed base it is the
//! importance itself.
//!
//! Computed by counting, like the kernel. The score a word w gets at its position j from support
//! l-mers within D mismatches that match it at j, Σ_v c_v C(l − 1 − m, k − 1)/k, is a sum over
//! masks S of the other l − 1 positions (|S| ≤ D) of w_{|S|} Σ_{v equal to w outside S} c_v, with
//! weights w from the same unit triangular system as the kernel's. Grouping each mask S with j
//! into S' = S ∪ {j}, one sort of the support l-mers by what lies outside S' gives, for every
//! j in S' and every base b, the support weight of the l-mers that agree with w outside S' and
//! have b at j: the observed base's score (D = d) and the hypothetical bases' (w with b at j,
//! D = d − 1) come from the same run. With reverse complements, the sequence's forward l-mers
//! against both strands of the support vectors count half of the pairs, each mirrored pair
//! giving the same positions the same credit, so the scores are doubled.

use rayon::prelude::*;

use crate::kernel::{
    GkmParams, binomial, mask_weights, masked, placed_lmers, self_counts, sort_by_key_bits, subsets, words_of,
};
use crate::model::KmerModel;

/// Bases a map scores, in channel order (A, C, G, T).
const BASES: usize = 4;

/// A set S' of deleted positions and the weights of the masks S' ∖ {j}.
struct Mask {
    deleted: Vec<usize>,
    /// Weight at the observed base (partners within d mismatches).
    observed: i64,
    /// Weight at the other bases (partners within d − 1 mismatches of the substituted word).
    hypothetical: i64,
}

/// The support l-mers of one mask, sorted by their masked form: per distinct form, the summed
/// weights of those with each base at each deleted position.
struct MaskTable {
    keys: Vec<u64>,
    /// `deleted.len() × 4` sums per key.
    sums: Vec<f64>,
}

/// A gkm-SVM ready to explain sequences: its support l-mers with their weights, and the masks.
pub struct GkmExplainer {
    params: GkmParams,
    /// Every support l-mer (both strands when reverse complements are counted).
    support: Vec<u64>,
    /// Each support l-mer's weight c_sv / √K(sv, sv), doubled with reverse complements.
    weights: Vec<f64>,
    masks: Vec<Mask>,
}

impl GkmExplainer {
    /// Prepare `model` for [`explain`](Self::explain).
    pub fn new(model: &KmerModel) -> Self {
        let p = model.card.params();
        let words = words_of(&model.sequences, &p);
        let norms = self_counts(&words, &p);
        let strands = if p.reverse_complement { 2.0 } else { 1.0 };
        let (mut support, mut weights) = (Vec::new(), Vec::new());
        for ((list, &coef), &norm) in words.iter().zip(&model.coef).zip(&norms) {
            if norm > 0 {
                let w = strands * coef / (norm as f64).sqrt();
                support.extend_from_slice(list);
                weights.extend(std::iter::repeat_n(w, list.len()));
            }
        }
        assert!(support.len() < (1usize << 32), "at most 2^32 support l-mers");
        GkmExplainer { params: p, support, weights, masks: masks(&p) }
    }

    /// Hypothetical GkmExplain scores of `sequences` (all of one length L), as (rows × 4 × L)
    /// values in row-major order: row r, base b (A, C, G, T), position i at (r · 4 + b) · L + i.
    /// At each observed base the score is its importance; positions outside every l-mer of A, C,
    /// G, T score 0, as do sequences with none.
    pub fn explain(&self, sequences: &[Vec<u8>]) -> Vec<f64> {
        let p = &self.params;
        let length = sequences.first().map_or(0, Vec::len);
        assert!(sequences.iter().all(|s| s.len() == length), "sequences of one length");
        let mut out = vec![0f64; sequences.len() * BASES * length];
        if length == 0 {
            return out;
        }
        let rows: Vec<Vec<(usize, u64)>> = sequences.iter().map(|s| placed_lmers(s, p.l)).collect();
        let norms = self_counts(&words_of(sequences, p), p);
        // Tables are built a group at a time, one per thread, and applied in mask order: every
        // row sums its terms in the same order whatever the number of threads.
        for group in self.masks.chunks(rayon::current_num_threads().max(1)) {
            let tables: Vec<MaskTable> = group.par_iter().map(|mask| self.table(mask)).collect();
            for (mask, table) in group.iter().zip(&tables) {
                out.par_chunks_mut(BASES * length).zip(&rows).for_each(|(map, words)| {
                    add_scores(map, words, mask, table, p.l, length);
                });
            }
        }
        // The 1/k of each position's credit and the sequence's own normalisation.
        for (map, &norm) in out.chunks_mut(BASES * length).zip(&norms) {
            let scale = if norm > 0 { 1.0 / (p.k as f64 * (norm as f64).sqrt()) } else { 0.0 };
            map.iter_mut().for_each(|v| *v *= scale);
        }
        out
    }

    /// The support l-mers of `mask` grouped by their masked form.
    fn table(&self, mask: &Mask) -> MaskTable {
        let l = self.params.l;
        let mut items: Vec<u64> =
            self.support.iter().enumerate().map(|(i, &v)| (masked(v, l, &mask.deleted) << 32) | i as u64).collect();
        sort_by_key_bits(&mut items);
        let width = mask.deleted.len() * BASES;
        let (mut keys, mut sums) = (Vec::new(), Vec::new());
        for &item in &items {
            let (key, i) = (item >> 32, (item & 0xffff_ffff) as usize);
            if keys.last() != Some(&key) {
                keys.push(key);
                sums.extend(std::iter::repeat_n(0.0, width));
            }
            let at = sums.len() - width;
            for (jj, &j) in mask.deleted.iter().enumerate() {
                sums[at + jj * BASES + base(self.support[i], l, j)] += self.weights[i];
            }
        }
        MaskTable { keys, sums }
    }
}

/// Add one mask's terms to a row's map (4 × `length`), given its placed l-mers.
fn add_scores(map: &mut [f64], words: &[(usize, u64)], mask: &Mask, table: &MaskTable, l: usize, length: usize) {
    let width = mask.deleted.len() * BASES;
    for &(start, u) in words {
        let Ok(r) = table.keys.binary_search(&masked(u, l, &mask.deleted)) else { continue };
        let sums = &table.sums[r * width..(r + 1) * width];
        for (jj, &j) in mask.deleted.iter().enumerate() {
            let observed = base(u, l, j);
            for b in 0..BASES {
                let weight = if b == observed { mask.observed } else { mask.hypothetical };
                if weight != 0 {
                    map[b * length + start + j] += weight as f64 * sums[jj * BASES + b];
                }
            }
        }
    }
}

/// The base (0–3) at position `j` of an l-mer (first base in the high bits).
fn base(v: u64, l: usize, j: usize) -> usize {
    ((v >> (2 * (l - 1 - j))) & 3) as usize
}

/// The masks S' of 1 to d + 1 deleted positions with a non-zero weight.
fn masks(p: &GkmParams) -> Vec<Mask> {
    // Position credit C(l − 1 − i, k − 1) (times 1/k, applied last) for a partner i mismatches
    // away among the other l − 1 positions.
    let credit: Vec<i64> = (0..=p.d).map(|i| binomial(p.l - 1 - i, p.k - 1)).collect();
    let observed = mask_weights(p.l - 1, &credit);
    let hypothetical = mask_weights(p.l - 1, &credit[..p.d]);
    let mut out = Vec::new();
    for size in 1..=(p.d + 1).min(p.l) {
        let (wo, wh) = (observed[size - 1], hypothetical.get(size - 1).copied().unwrap_or(0));
        if wo == 0 && wh == 0 {
            continue;
        }
        for deleted in subsets(p.l, size) {
            out.push(Mask { deleted, observed: wo, hypothetical: wh });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{lmers, reverse_complement};
    use crate::model::KmerCard;

    /// The importance of each observed base (the map's values at the bases of `sequence`),
    /// summed: the decision value plus ρ.
    fn importance_sum(map: &[f64], sequence: &[u8]) -> f64 {
        let length = sequence.len();
        sequence
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let channel = b"ACGT".iter().position(|c| c == &b.to_ascii_uppercase())?;
                Some(map[channel * length + i])
            })
            .sum()
    }

    fn model(sequences: &[&[u8]], coef: &[f64], rho: f64, p: GkmParams) -> KmerModel {
        let card = KmerCard {
            schema: crate::model::KMER_SCHEMA.into(),
            kind: "gkm-svm".into(),
            l: p.l,
            k: p.k,
            d: p.d,
            reverse_complement: p.reverse_complement,
            c: 1.0,
            tolerance: 1e-3,
            class: "positive".into(),
            length: sequences[0].len(),
            rho,
            support_vectors: sequences.len(),
            training: serde_json::Value::Null,
            tool: "test".into(),
            version: "0".into(),
        };
        KmerModel {
            card,
            ids: (0..sequences.len()).map(|i| i.to_string()).collect(),
            coef: coef.to_vec(),
            sequences: sequences.iter().map(|s| s.to_vec()).collect(),
        }
    }

    /// LS-GKM's rule pair by pair (gkmexplain -m 1), on every l-mer of both strands of x against
    /// every l-mer of both strands of each support vector, scores mapped back to forward
    /// positions and bases; brute-force kernels for the normalisation.
    fn brute(model: &KmerModel, x: &[u8]) -> Vec<f64> {
        let p = model.card.params();
        let (l, k, d) = (p.l, p.k, p.d);
        let h = |m: usize| binomial(l - m, k) as f64;
        let kernel = |a: &[u64], b: &[u64]| -> f64 {
            let mut s = 0.0;
            for &u in a {
                for &v in b {
                    let m = (0..l).filter(|&j| base(u, l, j) != base(v, l, j)).count();
                    if m <= d {
                        s += h(m);
                    }
                }
            }
            s
        };
        let strands = |s: &[u8]| lmers(s, l, p.reverse_complement);
        let xw = strands(x);
        let mut out = vec![0f64; 4 * x.len()];
        // Each x l-mer with, per l-mer position, its forward position and whether it is reversed.
        let mut placed: Vec<(u64, Vec<usize>, bool)> = Vec::new();
        for (start, u) in placed_lmers(x, l) {
            placed.push((u, (0..l).map(|j| start + j).collect(), false));
            if p.reverse_complement {
                placed.push((reverse_complement(u, l), (0..l).map(|j| start + l - 1 - j).collect(), true));
            }
        }
        for (sv, &coef) in model.sequences.iter().zip(&model.coef) {
            let svw = strands(sv);
            let c = coef / (kernel(&xw, &xw) * kernel(&svw, &svw)).sqrt();
            for (u, positions, reversed) in &placed {
                for &v in &svw {
                    let m = (0..l).filter(|&j| base(*u, l, j) != base(v, l, j)).count();
                    if m > d {
                        continue;
                    }
                    for j in 0..l {
                        let (bu, bv) = (base(*u, l, j), base(v, l, j));
                        let forward = |b: usize| if *reversed { 3 - b } else { b };
                        if bu == bv {
                            out[forward(bu) * x.len() + positions[j]] += c * h(m) / (l - m) as f64;
                        } else {
                            out[forward(bv) * x.len() + positions[j]] += c * h(m - 1) / (l - m + 1) as f64;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn hand_checked_case() {
        // l 2, k 1, d 1, one strand; support vector AC (c = 1.5), ρ = 0.25; x = GC.
        // K(GC, GC) = K(AC, AC) = h0 = C(2, 1) = 2; K(GC, AC) = h1 = C(1, 1) = 1 (one mismatch),
        // normalised 1/2: f = 1.5 · 0.5 − 0.25 = 0.5. The pair's matching C (position 1) gets
        // h1/(l − 1) = 1, the mismatching position 0 gets, at A, h0/l = 1: both × 1.5/2 = 0.75.
        // Hypothetical bases at position 1 would leave GC two mismatches away: 0.
        let p = GkmParams { l: 2, k: 1, d: 1, reverse_complement: false };
        let m = model(&[b"AC"], &[1.5], 0.25, p);
        let map = GkmExplainer::new(&m).explain(&[b"GC".to_vec()]);
        let expect = [0.75, 0.0, 0.0, 0.75, 0.0, 0.0, 0.0, 0.0]; // A: pos 0, 1; C: pos 0, 1; ...
        for (got, want) in map.iter().zip(expect) {
            assert!((got - want).abs() < 1e-12, "{map:?}");
        }
        assert!((importance_sum(&map, b"GC") - (m.decision(&[b"GC".to_vec()])[0] + 0.25)).abs() < 1e-12);
    }

    #[test]
    fn counting_equals_the_pairwise_rule_and_sums_to_the_decision() {
        let svs: [&[u8]; 3] = [b"ACGTACGGTACCAGT", b"TTGACGTACGAACGT", b"GGGGCCCCAAATCGA"];
        let xs: Vec<Vec<u8>> =
            [b"ACGTTCGGTACNAGT", b"CCGACGTACGAAGGT", b"TTTTTTTTTTTTTTT", b"NNNNNNNNNNNNNNN"].map(|s| s.to_vec()).into();
        for p in [
            GkmParams { l: 6, k: 4, d: 2, reverse_complement: true },
            GkmParams { l: 5, k: 3, d: 1, reverse_complement: false },
            GkmParams { l: 4, k: 2, d: 2, reverse_complement: true },
            GkmParams { l: 5, k: 5, d: 0, reverse_complement: true },
        ] {
            let m = model(&svs, &[0.7, -1.2, 0.4], -0.3, p);
            let maps = GkmExplainer::new(&m).explain(&xs);
            let decision = m.decision(&xs);
            for (i, x) in xs.iter().enumerate() {
                let map = &maps[i * 4 * x.len()..(i + 1) * 4 * x.len()];
                for (a, b) in map.iter().zip(brute(&m, x)) {
                    assert!((a - b).abs() < 1e-12, "{p:?} row {i}: {a} vs {b}");
                }
                let total = importance_sum(map, x);
                assert!((total - (decision[i] + m.card.rho)).abs() < 1e-9, "{p:?} row {i}: {total} vs {}", decision[i]);
            }
        }
    }
}
