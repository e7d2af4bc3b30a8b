//! The gapped k-mer kernel (gkm-SVM, Ghandi et al. 2014, as LS-GKM computes it).
//!
//! Two l-mers u, v with m mismatching positions share C(l − m, k) gapped k-mers (k informative
//! columns chosen among the l − m positions where they agree). The kernel of two sequences x, y
//! sums that over every pair of their l-mers with at most d mismatches:
//! K(x, y) = Σ_{m ≤ d} h_m N_m(x, y), h_m = C(l − m, k), N_m the number of l-mer pairs with exactly
//! m mismatches. With reverse complements each sequence's l-mers are those of both strands. The
//! normalised kernel is K(x, y) / √(K(x, x) K(y, y)). l-mers holding a base other than A, C, G, T
//! are left out.
//!
//! Computed by counting, as GaKCo does: for every set S of m ≤ d positions, the l-mers with S
//! deleted are sorted, and every run of equal masked l-mers adds c_x · c_y to the pair (x, y). That
//! gives the cumulative profile C_m = Σ_S #{(u, v) equal outside S} = Σ_{i ≤ m} C(l − i, m − i) N_i,
//! a unit lower-triangular system in N. So K = Σ_m w_m C_m with w = A⁻ᵀ h, and every mask adds its
//! co-occurrence counts times w_{|S|} to one integer matrix: the kernel is exact (integers) before
//! normalisation. Masks are spread over threads, each with its own matrix.

use rayon::prelude::*;

/// The parameters LS-GKM names l, k and d, and whether reverse complements are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GkmParams {
    /// Word length l (1–16).
    pub l: usize,
    /// Informative columns k (1 ≤ k ≤ l).
    pub k: usize,
    /// Most mismatches counted, d (d ≤ l − k: beyond, h_m is 0).
    pub d: usize,
    /// Count the l-mers of both strands.
    pub reverse_complement: bool,
}

impl GkmParams {
    /// Check the parameters; the message names what is wrong.
    pub fn check(&self) -> Result<(), String> {
        // A masked l-mer (at most 2l bits) shares a 64-bit sort key with a 32-bit sequence index.
        if !(1..=16).contains(&self.l) {
            return Err(format!("l = {} must be between 1 and 16 (LS-GKM allows 3 to 12)", self.l));
        }
        if self.k == 0 || self.k > self.l {
            return Err(format!("k = {} must be between 1 and l = {}", self.k, self.l));
        }
        if self.d > self.l - self.k {
            return Err(format!(
                "d = {} must be at most l − k = {} (more mismatches share no gapped k-mer)",
                self.d,
                self.l - self.k
            ));
        }
        Ok(())
    }
}

/// Binomial coefficient C(n, r) (0 for r > n).
pub fn binomial(n: usize, r: usize) -> i64 {
    if r > n {
        return 0;
    }
    let r = r.min(n - r);
    (0..r).fold(1i64, |acc, i| acc * (n - i) as i64 / (i + 1) as i64)
}

/// The weights of the cumulative profiles: K = Σ_m w_m C_m (see the module's doc).
pub fn profile_weights(p: &GkmParams) -> Vec<i64> {
    let h: Vec<i64> = (0..=p.d).map(|m| binomial(p.l - m, p.k)).collect();
    mask_weights(p.l, &h)
}

/// Weights w of masks by their size such that a pair of words (of `n` comparable positions)
/// differing at i positions, summed over every mask of the positions that covers its mismatches,
/// gets `targets[i]`: Σ_s C(n − i, s − i) w_s = targets[i] for i = 0..targets.len(), a unit
/// triangular system solved from the largest mask down.
pub(crate) fn mask_weights(n: usize, targets: &[i64]) -> Vec<i64> {
    let d = targets.len();
    let mut w = vec![0i64; d];
    for m in (0..d).rev() {
        w[m] = targets[m] - (m + 1..d).map(|j| binomial(n - m, j - m) * w[j]).sum::<i64>();
    }
    w
}

/// The l-mers of a sequence's forward strand with their start positions (2 bits a base, first
/// base in the high bits); l-mers with a base other than A, C, G, T left out.
pub fn placed_lmers(seq: &[u8], l: usize) -> Vec<(usize, u64)> {
    let code = |b: u8| match b.to_ascii_uppercase() {
        b'A' => Some(0u64),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    };
    let codes: Vec<Option<u64>> = seq.iter().map(|&b| code(b)).collect();
    codes
        .windows(l)
        .enumerate()
        .filter_map(|(start, window)| {
            window.iter().try_fold(0u64, |acc, c| c.map(|c| (acc << 2) | c)).map(|v| (start, v))
        })
        .collect()
}

/// The reverse complement of an l-mer packed as [`placed_lmers`] packs them.
pub fn reverse_complement(v: u64, l: usize) -> u64 {
    (0..l).fold(0u64, |acc, i| (acc << 2) | (3 - ((v >> (2 * i)) & 3)))
}

/// The l-mers of a sequence (2 bits a base, first base in the high bits), of its reverse complement
/// too when asked; l-mers with a base other than A, C, G, T left out.
pub fn lmers(seq: &[u8], l: usize, reverse_complement: bool) -> Vec<u64> {
    let forward = placed_lmers(seq, l);
    let mut out: Vec<u64> = forward.iter().map(|&(_, v)| v).collect();
    if reverse_complement {
        // The reverse strand's l-mers, in its own order.
        out.extend(forward.iter().rev().map(|&(_, v)| self::reverse_complement(v, l)));
    }
    out
}

/// The l-mers of every sequence, as [`lmers`] with the kernel's l and strands.
pub fn words_of(sequences: &[Vec<u8>], p: &GkmParams) -> Vec<Vec<u64>> {
    sequences.iter().map(|s| lmers(s, p.l, p.reverse_complement)).collect()
}

/// Every set of `m` positions out of `l`, as sorted position lists.
pub(crate) fn subsets(l: usize, m: usize) -> Vec<Vec<usize>> {
    fn go(start: usize, l: usize, m: usize, current: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if current.len() == m {
            out.push(current.clone());
            return;
        }
        for p in start..l {
            if l - p < m - current.len() {
                break;
            }
            current.push(p);
            go(p + 1, l, m, current, out);
            current.pop();
        }
    }
    let mut out = Vec::new();
    go(0, l, m, &mut Vec::new(), &mut out);
    out
}

/// The l-mer `v` with the positions `deleted` (ascending, 0 = first base) cut out, packed: the
/// 2-bit fields are removed from the highest down, so the lower ones stay where they are.
pub(crate) fn masked(v: u64, l: usize, deleted: &[usize]) -> u64 {
    deleted.iter().fold(v, |v, &p| {
        let offset = 2 * (l - 1 - p);
        ((v >> (offset + 2)) << offset) | (v & ((1u64 << offset) - 1))
    })
}

/// Sum over every mask with a non-zero weight: the l-mers of `words` with the mask's positions
/// deleted are sorted, and `visit(acc, weight, run)` sees each run of equal masked l-mers (each
/// sequence of the run with its count, sequences ascending). The masks are cut into one group per
/// thread, each group summed into its own accumulator of `size` integers, so at most that many
/// accumulators exist at once (a rayon fold would make one per work split); the accumulators are
/// then added up (integers: in any order, the same sum).
fn over_masks(
    words: &[&Vec<u64>],
    p: &GkmParams,
    size: usize,
    visit: impl Fn(&mut [i64], i64, &[(usize, i64)]) + Sync,
) -> Vec<i64> {
    assert!(words.len() < (1usize << 32), "at most 2^32 sequences");
    let masks = weighted_masks(p);
    let per_thread = masks.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
    let parts: Vec<Vec<i64>> = masks
        .par_chunks(per_thread)
        .map(|group| {
            let (mut acc, mut items) = (vec![0i64; size], Vec::<u64>::new());
            for (weight, deleted) in group {
                items.clear();
                for (s, list) in words.iter().enumerate() {
                    items.extend(list.iter().map(|&v| (masked(v, p.l, deleted) << 32) | s as u64));
                }
                sort_by_key_bits(&mut items);
                for run in runs(&items) {
                    visit(&mut acc, *weight, &run);
                }
            }
            acc
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0i64; size]);
    for part in parts {
        total.iter_mut().zip(&part).for_each(|(x, y)| *x += y);
    }
    total
}

/// Sort `items` (masked l-mer << 32 | index, made in ascending index order) as `sort_unstable`
/// would: a stable radix sort on the key alone keeps each key's indices ascending.
pub(crate) fn sort_by_key_bits(items: &mut [u64]) {
    radsort::sort_by_key(items, |&v| (v >> 32) as u32);
}

/// The unnormalised kernel (N × N, row-major) of the sequences whose l-mers are `words`.
pub fn gram_counts(words: &[Vec<u64>], p: &GkmParams) -> Vec<i64> {
    let n = words.len();
    over_masks(&words.iter().collect::<Vec<_>>(), p, n * n, |gram, weight, run| {
        for (a, &(x, cx)) in run.iter().enumerate() {
            gram[x * n + x] += weight * cx * cx;
            for &(y, cy) in &run[a + 1..] {
                let v = weight * cx * cy;
                gram[x * n + y] += v;
                gram[y * n + x] += v;
            }
        }
    })
}

/// Each sequence's unnormalised kernel with itself, K(x, x) (the gram's diagonal, in one pass).
pub fn self_counts(words: &[Vec<u64>], p: &GkmParams) -> Vec<i64> {
    over_masks(&words.iter().collect::<Vec<_>>(), p, words.len(), |diag, weight, run| {
        for &(x, cx) in run {
            diag[x] += weight * cx * cx;
        }
    })
}

/// The masks (weight, deleted positions) with a non-zero weight.
fn weighted_masks(p: &GkmParams) -> Vec<(i64, Vec<usize>)> {
    let w = profile_weights(p);
    (0..=p.d)
        .filter(|&m| w[m] != 0)
        .flat_map(|m| {
            let w = w[m];
            subsets(p.l, m).into_iter().map(move |deleted| (w, deleted))
        })
        .collect()
}

/// The kernel between two sets of sequences (rows × columns, row-major), unnormalised: the
/// pairs of `rows[i]` and `columns[j]` only (prediction against support vectors).
pub fn cross_counts(rows: &[Vec<u64>], columns: &[Vec<u64>], p: &GkmParams) -> Vec<i64> {
    let (r, c) = (rows.len(), columns.len());
    let words: Vec<&Vec<u64>> = rows.iter().chain(columns).collect();
    over_masks(&words, p, r * c, |cross, weight, run| {
        // Sequences are sorted within a run: rows (ids < r) first, then columns.
        let split = run.partition_point(|&(s, _)| s < r);
        for &(x, cx) in &run[..split] {
            for &(y, cy) in &run[split..] {
                cross[x * c + (y - r)] += weight * cx * cy;
            }
        }
    })
}

/// The runs of equal masked l-mers in sorted `items` (key << 32 | seq): per run, each sequence
/// with its count, in sequence order.
fn runs(items: &[u64]) -> impl Iterator<Item = Vec<(usize, i64)>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= items.len() {
            return None;
        }
        let key = items[i] >> 32;
        let mut counts: Vec<(usize, i64)> = Vec::new();
        while i < items.len() && items[i] >> 32 == key {
            let s = (items[i] & 0xffff_ffff) as usize;
            match counts.last_mut() {
                Some((last, c)) if *last == s => *c += 1,
                _ => counts.push((s, 1)),
            }
            i += 1;
        }
        Some(counts)
    })
}

/// K(x, y) / √(K(x, x) K(y, y)) of a square count matrix (0 where a sequence has no l-mer).
pub fn normalise(gram: &[i64], n: usize) -> Vec<f64> {
    let diag: Vec<f64> = (0..n).map(|i| gram[i * n + i] as f64).collect();
    let mut out = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            let d = (diag[i] * diag[j]).sqrt();
            out[i * n + j] = if d > 0.0 { gram[i * n + j] as f64 / d } else { 0.0 };
        }
    }
    out
}

/// The normalised kernel between two sets of sequences' l-mers (rows × columns, row-major):
/// K(x, y) / √(K(x, x) K(y, y)), 0 where a sequence has no l-mer.
pub fn cross_kernel(rows: &[Vec<u64>], columns: &[Vec<u64>], p: &GkmParams) -> Vec<f64> {
    let (dr, dc) = (self_counts(rows, p), self_counts(columns, p));
    let c = columns.len();
    cross_counts(rows, columns, p)
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let d = ((dr[i / c] as f64) * (dc[i % c] as f64)).sqrt();
            if d > 0.0 { v as f64 / d } else { 0.0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: every pair of l-mers, its mismatches, C(l − m, k) for m ≤ d.
    fn brute(x: &[u64], y: &[u64], p: &GkmParams) -> i64 {
        let mut k = 0;
        for &u in x {
            for &v in y {
                let m = (0..p.l).filter(|q| (u >> (2 * q)) & 3 != (v >> (2 * q)) & 3).count();
                if m <= p.d {
                    k += binomial(p.l - m, p.k);
                }
            }
        }
        k
    }

    #[test]
    fn weights_turn_cumulative_profiles_into_the_kernel() {
        // l = 3, k = 1, d = 2: h = (3, 2, 1); A = [[1], [3, 1], [3, 2, 1]] (C(3−i, m−i)).
        // Aᵀw = h: w2 = 1, w1 = 2 − 2·1 = 0, w0 = 3 − 3·0 − 3·1 = 0.
        let p = GkmParams { l: 3, k: 1, d: 2, reverse_complement: false };
        assert_eq!(profile_weights(&p), vec![0, 0, 1]);
        assert_eq!(binomial(11, 7), 330);
    }

    #[test]
    fn counting_equals_brute_force() {
        let seqs: [&[u8]; 4] = [b"ACGTACGGTACCA", b"TTGACGTACGNACGT", b"GGGGCCCCAAAT", b"ACG"];
        for p in [
            GkmParams { l: 6, k: 4, d: 2, reverse_complement: true },
            GkmParams { l: 5, k: 3, d: 1, reverse_complement: false },
            GkmParams { l: 4, k: 2, d: 2, reverse_complement: true },
        ] {
            let words: Vec<Vec<u64>> = seqs.iter().map(|s| lmers(s, p.l, p.reverse_complement)).collect();
            let gram = gram_counts(&words, &p);
            for i in 0..4 {
                for j in 0..4 {
                    assert_eq!(gram[i * 4 + j], brute(&words[i], &words[j], &p), "{p:?} ({i}, {j})");
                }
            }
            let diagonal: Vec<i64> = (0..4).map(|i| gram[i * 4 + i]).collect();
            assert_eq!(self_counts(&words, &p), diagonal, "{p:?}");
            // The cross block of rows 0–1 against rows 2–3 is the gram's.
            let cross = cross_counts(&words[..2], &words[2..], &p);
            assert_eq!(cross, vec![gram[2], gram[3], gram[4 + 2], gram[4 + 3]], "{p:?}");
        }
    }

    #[test]
    fn word_lengths_beyond_the_sort_key_are_refused() {
        let p = |l| GkmParams { l, k: 2, d: 0, reverse_complement: true };
        assert!(p(16).check().is_ok());
        assert!(p(17).check().unwrap_err().contains("between 1 and 16"));
        // At l = 16 with no mismatch allowed, the whole l-mer is the key: still exact.
        let words: Vec<Vec<u64>> =
            [b"ACGTACGTACGTACGTA".as_slice(), b"TACGTACGTACGTACGT"].iter().map(|s| lmers(s, 16, true)).collect();
        let gram = gram_counts(&words, &p(16));
        assert_eq!(gram[1], brute(&words[0], &words[1], &p(16)));
        assert!(gram[1] > 0);
    }

    #[test]
    fn lmers_skip_n_and_count_both_strands() {
        // ACGNT: 2-mers AC, CG (GN, NT skipped); reverse complement ANCGT: CG, GT.
        assert_eq!(lmers(b"ACGNT", 2, true), vec![0b0001, 0b0110, 0b0110, 0b1011]);
    }
}
