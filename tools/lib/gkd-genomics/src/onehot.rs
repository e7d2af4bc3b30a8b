//! The DNA alphabet (A, C, G, T in that channel order) and one-hot encoding.
//!
//! Each input byte is classified once through a 256-entry table: a base (either case; `U` is
//! read as `T`), `N`, another IUPAC ambiguity code (encoded like `N` and counted), or not a
//! nucleotide at all (an error naming the record and position).

use ndarray::{Array3, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// Channel names in tensor order.
pub const CHANNELS: [&str; 4] = ["A", "C", "G", "T"];

/// What a sequence byte means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// A, C, G or T (channel 0..3).
    Base(u8),
    /// N: every channel gets the N value.
    N,
    /// Another IUPAC code (R, Y, S, W, K, M, B, D, H, V): encoded like N and counted.
    Ambiguous,
    /// Anything else.
    Invalid,
}

const fn build_table() -> [Symbol; 256] {
    let mut t = [Symbol::Invalid; 256];
    let bases = [(b'A', 0u8), (b'C', 1), (b'G', 2), (b'T', 3), (b'U', 3)];
    let mut i = 0;
    while i < bases.len() {
        let (b, c) = bases[i];
        t[b as usize] = Symbol::Base(c);
        t[b.to_ascii_lowercase() as usize] = Symbol::Base(c);
        i += 1;
    }
    t[b'N' as usize] = Symbol::N;
    t[b'n' as usize] = Symbol::N;
    let amb = *b"RYSWKMBDHV";
    let mut j = 0;
    while j < amb.len() {
        t[amb[j] as usize] = Symbol::Ambiguous;
        t[amb[j].to_ascii_lowercase() as usize] = Symbol::Ambiguous;
        j += 1;
    }
    t
}

/// Byte → symbol.
pub static SYMBOLS: [Symbol; 256] = build_table();

/// Counts of non-ACGT symbols seen while encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SymbolCounts {
    /// N (either case).
    pub n: u64,
    /// Other IUPAC codes, encoded like N.
    pub ambiguous: u64,
}

impl std::ops::AddAssign for SymbolCounts {
    fn add_assign(&mut self, o: Self) {
        self.n += o.n;
        self.ambiguous += o.ambiguous;
    }
}

impl std::iter::Sum for SymbolCounts {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |mut a, b| {
            a += b;
            a
        })
    }
}

/// The first byte of `seq` that is not a nucleotide code: (0-based position, byte).
pub fn first_invalid(seq: &[u8]) -> Option<(usize, u8)> {
    seq.iter().position(|&b| SYMBOLS[b as usize] == Symbol::Invalid).map(|i| (i, seq[i]))
}

/// Per-byte channel values: `values[b]` is the 4-channel encoding of byte `b`.
#[derive(Debug, Clone)]
pub struct EncodingTable {
    values: Box<[[f32; 4]; 256]>,
    n_value: f32,
}

impl EncodingTable {
    /// The table for a given value of N (and other IUPAC codes) in every channel.
    pub fn new(n_value: f32) -> Self {
        let mut values = Box::new([[0.0f32; 4]; 256]);
        for (b, v) in values.iter_mut().enumerate() {
            match SYMBOLS[b] {
                Symbol::Base(c) => v[c as usize] = 1.0,
                Symbol::N | Symbol::Ambiguous => *v = [n_value; 4],
                Symbol::Invalid => {}
            }
        }
        EncodingTable { values, n_value }
    }
}

/// How many N and other IUPAC codes a sequence holds.
pub fn count_symbols(seq: &[u8]) -> SymbolCounts {
    let mut counts = SymbolCounts::default();
    for &b in seq {
        match SYMBOLS[b as usize] {
            Symbol::N => counts.n += 1,
            Symbol::Ambiguous => counts.ambiguous += 1,
            _ => {}
        }
    }
    counts
}

/// Encode one sequence into a (4, L) view (`channels_first`) or an (L, 4) view. Bytes must
/// have been checked with [`first_invalid`]. Contiguous rows take a branch-free path that
/// writes every channel of every position from the table.
pub fn encode_into(
    seq: &[u8],
    mut out: ArrayViewMut2<'_, f32>,
    channels_first: bool,
    table: &EncodingTable,
) -> SymbolCounts {
    let counts = count_symbols(seq);
    let len = seq.len();
    match (channels_first, out.as_slice_mut()) {
        (true, Some(buf)) => {
            // One pass per channel comparing case-folded bytes: branch-free, and each channel's
            // row is written contiguously, so the compiler vectorises it.
            for (ch, dst) in buf.chunks_exact_mut(len).enumerate() {
                let base = b"ACGT"[ch];
                let alt = if ch == 3 { b'U' } else { base };
                for (d, &b) in dst.iter_mut().zip(seq) {
                    let upper = b & 0xDF;
                    *d = f32::from(u8::from(upper == base) | u8::from(upper == alt));
                }
            }
            if counts.n + counts.ambiguous > 0 && table.n_value != 0.0 {
                for (i, &b) in seq.iter().enumerate() {
                    if matches!(SYMBOLS[b as usize], Symbol::N | Symbol::Ambiguous) {
                        for ch in 0..4 {
                            buf[ch * len + i] = table.n_value;
                        }
                    }
                }
            }
        }
        (false, Some(buf)) => {
            for (&b, cell) in seq.iter().zip(buf.chunks_exact_mut(4)) {
                cell.copy_from_slice(&table.values[b as usize]);
            }
        }
        (_, None) => {
            if !channels_first {
                out.swap_axes(0, 1);
            }
            for (i, &b) in seq.iter().enumerate() {
                for ch in 0..4 {
                    out[[ch, i]] = table.values[b as usize][ch];
                }
            }
        }
    }
    counts
}

/// Encode equal-length sequences into an (N, 4, L) or (N, L, 4) tensor, in parallel over rows.
/// Panics if a sequence's length differs from `length` (callers check first).
pub fn encode_batch<S: AsRef<[u8]> + Sync>(
    seqs: &[S],
    length: usize,
    channels_first: bool,
    n_value: f32,
) -> (Array3<f32>, SymbolCounts) {
    let shape = if channels_first { (seqs.len(), 4, length) } else { (seqs.len(), length, 4) };
    let mut x = Array3::<f32>::zeros(shape);
    let table = EncodingTable::new(n_value);
    let counts = x
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(seqs.par_iter())
        .map(|(row, s)| {
            let s = s.as_ref();
            assert_eq!(s.len(), length, "sequence length checked by caller");
            encode_into(s, row, channels_first, &table)
        })
        .reduce(SymbolCounts::default, |mut a, b| {
            a += b;
            a
        });
    (x, counts)
}

/// Reverse complement, keeping case and IUPAC codes (via `bio`).
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    bio::alphabets::dna::revcomp(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_by_hand() {
        let (x, c) = encode_batch(&[b"ACgtNR".to_vec()], 6, true, 0.25);
        let expect = [
            [1.0, 0.0, 0.0, 0.0, 0.25, 0.25],
            [0.0, 1.0, 0.0, 0.0, 0.25, 0.25],
            [0.0, 0.0, 1.0, 0.0, 0.25, 0.25],
            [0.0, 0.0, 0.0, 1.0, 0.25, 0.25],
        ];
        for ch in 0..4 {
            for i in 0..6 {
                assert_eq!(x[[0, ch, i]], expect[ch][i], "channel {ch} position {i}");
            }
        }
        assert_eq!(c, SymbolCounts { n: 1, ambiguous: 1 });
        let (y, _) = encode_batch(&[b"ACgtNR".to_vec()], 6, false, 0.25);
        for ch in 0..4 {
            for i in 0..6 {
                assert_eq!(y[[0, i, ch]], expect[ch][i]);
            }
        }
    }

    #[test]
    fn invalid_bytes_are_found() {
        assert_eq!(first_invalid(b"ACGTNRYU"), None);
        assert_eq!(first_invalid(b"ACG-T"), Some((3, b'-')));
        assert_eq!(first_invalid(b"AC1"), Some((2, b'1')));
    }

    #[test]
    fn revcomp_keeps_case_and_n() {
        assert_eq!(reverse_complement(b"AACgtN"), b"NacGTT".to_vec());
    }
}
