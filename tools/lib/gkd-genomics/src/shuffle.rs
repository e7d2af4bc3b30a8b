//! Dinucleotide shuffles for attribution baselines (docs/science.md §4; positional shuffles are
//! [`SeededRng::shuffle`]): every dinucleotide count is kept, with the Eulerian-walk construction of Altschul & Erickson (1985) as implemented in
//! DeepLIFT / tangermeme (`dinuc_shuffle`): each token's list of successors is permuted except its
//! last entry, which guarantees the walk uses every edge.

use crate::rng::SeededRng;

/// A sequence with the same first token and the same count of every ordered pair of adjacent
/// tokens as `tokens` (tokens are small integers, e.g. 0–3 for A, C, G, T and 4 for N).
pub fn dinucleotide_shuffle(tokens: &[u8], rng: &mut SeededRng) -> Vec<u8> {
    if tokens.len() < 3 {
        return tokens.to_vec();
    }
    let alphabet = *tokens.iter().max().expect("non-empty") as usize + 1;
    // Successor positions of every occurrence of each token (the last position has none).
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); alphabet];
    for (i, &t) in tokens[..tokens.len() - 1].iter().enumerate() {
        successors[t as usize].push(i + 1);
    }
    for list in &mut successors {
        if list.len() > 1 {
            let last = list.len() - 1;
            rng.shuffle(&mut list[..last]);
        }
    }
    let mut used = vec![0usize; alphabet];
    let mut out = Vec::with_capacity(tokens.len());
    let mut at = 0usize;
    out.push(tokens[0]);
    for _ in 1..tokens.len() {
        let t = tokens[at] as usize;
        at = successors[t][used[t]];
        used[t] += 1;
        out.push(tokens[at]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair_counts(tokens: &[u8]) -> [[usize; 5]; 5] {
        let mut counts = [[0usize; 5]; 5];
        for w in tokens.windows(2) {
            counts[w[0] as usize][w[1] as usize] += 1;
        }
        counts
    }

    #[test]
    fn dinucleotide_counts_and_first_token_are_kept() {
        let mut rng = SeededRng::new(1, 0);
        let seq: Vec<u8> = (0..500).map(|i| ((i * 7 + i / 3 + (i * i) % 11) % 5) as u8).collect();
        for _ in 0..20 {
            let shuffled = dinucleotide_shuffle(&seq, &mut rng);
            assert_eq!(shuffled.len(), seq.len());
            assert_eq!(shuffled[0], seq[0]);
            assert_eq!(pair_counts(&shuffled), pair_counts(&seq));
            assert_ne!(shuffled, seq);
        }
    }

    #[test]
    fn same_seed_same_shuffle() {
        let seq: Vec<u8> = (0..200).map(|i| (i % 4) as u8).collect();
        let a = dinucleotide_shuffle(&seq, &mut SeededRng::new(9, 3));
        let b = dinucleotide_shuffle(&seq, &mut SeededRng::new(9, 3));
        assert_eq!(a, b);
        // A periodic sequence has only one dinucleotide walk: ACGTACGT... stays itself.
        assert_eq!(a, seq);
    }
}
