//! Variants whose effect is known, written into synthetic sequences with embedded motifs: the
//! ground truth of `gkd-score variants` (docs/science.md §5b).
//!
//! - A **motif-breaking** variant sits at the most informative position of one embedded site
//!   (the highest information content of the site's generating column) and turns the sequence's
//!   base there into the base the motif makes least likely.
//! - A **background** variant sits at least `min_distance` bases from every site, its alternative
//!   base drawn uniformly from the three others.
//!
//! A model that uses the motifs should move its output more for the first kind than the second.
//! [`files`] writes them, with the split's rows as a reference genome, for `gkd-synth variants`.

pub mod files;

use ndarray::ArrayView2;

use crate::motif::information_content;
use crate::rng::SeededRng;

/// The bases in channel order (the one-hot channels A, C, G, T).
const BASES: [u8; 4] = *b"ACGT";

/// An embedded motif site of one row: 0-based half-open `[start, end)`, with its motif and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSpan {
    /// First position of the site.
    pub start: usize,
    /// One past the last position.
    pub end: usize,
    /// The motif's name.
    pub motif: String,
    /// The class (label) of the dataset the motif stands for; `None` for a decoy motif.
    pub class: Option<String>,
}

/// Which kind of variant a planned variant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// At a site's most informative position, to the motif's least likely base.
    Motif,
    /// Away from every site.
    Background,
}

impl VariantKind {
    /// The name written in the truth table and the VCF's INFO.
    pub fn as_str(self) -> &'static str {
        match self {
            VariantKind::Motif => "motif",
            VariantKind::Background => "background",
        }
    }
}

/// One single-base variant planned in a row.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedVariant {
    /// 0-based position in the row.
    pub offset: usize,
    /// The row's base there.
    pub reference: u8,
    /// The base it becomes.
    pub alternative: u8,
    /// Motif-breaking or background.
    pub kind: VariantKind,
    /// The site it breaks (index into the row's sites), for motif variants.
    pub site: Option<usize>,
    /// Information content (bits) of the generating column at the position.
    pub information: f64,
}

/// How many background variants a row gets and how far from the sites they stay.
#[derive(Debug, Clone, Copy)]
pub struct VariantPlan {
    /// Background variants per motif-breaking variant of the row.
    pub background_per_site: usize,
    /// Smallest distance in bases between a background variant and any site position.
    pub min_distance: usize,
}

/// The base of each column of a one-hot (4, L) row: A, C, G, T, or N where no channel is set.
pub fn decode_bases(x: ArrayView2<'_, f32>) -> Vec<u8> {
    (0..x.ncols())
        .map(|p| {
            let column = x.column(p);
            match (0..4).filter(|&c| column[c] > 0.5).collect::<Vec<_>>().as_slice() {
                [c] => BASES[*c],
                _ => b'N',
            }
        })
        .collect()
}

fn column(truth: ArrayView2<'_, f32>, p: usize) -> [f64; 4] {
    [0, 1, 2, 3].map(|c| truth[[c, p]] as f64)
}

/// The motif-breaking variant of `site`: its most informative position (first of ties), the row's
/// base there turned into the base of smallest generating probability (first of ties) among the
/// other three. `None` where the row's base there is not A, C, G or T.
pub fn motif_breaking(bases: &[u8], truth: ArrayView2<'_, f32>, site: &SiteSpan) -> Option<PlannedVariant> {
    let (mut best, mut best_ic) = (site.start, f64::NEG_INFINITY);
    for p in site.start..site.end {
        let ic = information_content(&column(truth, p));
        if ic > best_ic {
            (best, best_ic) = (p, ic);
        }
    }
    let reference = bases[best];
    let ref_channel = BASES.iter().position(|&b| b == reference)?;
    let probabilities = column(truth, best);
    let alt_channel = (0..4)
        .filter(|&c| c != ref_channel)
        .min_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]).then(a.cmp(&b)))
        .expect("three other bases");
    Some(PlannedVariant {
        offset: best,
        reference,
        alternative: BASES[alt_channel],
        kind: VariantKind::Motif,
        site: None,
        information: best_ic,
    })
}

/// Positions of a row of `length` at least `min_distance` bases from every position of `sites`.
pub fn background_positions(length: usize, sites: &[SiteSpan], min_distance: usize) -> Vec<usize> {
    (0..length)
        .filter(|&p| {
            sites.iter().all(|s| {
                let distance = if p < s.start {
                    s.start - p
                } else if p >= s.end {
                    p + 1 - s.end
                } else {
                    0
                };
                distance >= min_distance.max(1)
            })
        })
        .collect()
}

/// Every variant of one row, sorted by position: one motif-breaking variant per site (a position
/// broken once: a site whose best position another site already took is skipped), then
/// `background_per_site` background variants per motif variant, at distinct positions drawn from
/// `rng` (fewer where the row has fewer such positions).
pub fn plan_row(
    bases: &[u8],
    truth: ArrayView2<'_, f32>,
    sites: &[SiteSpan],
    plan: VariantPlan,
    rng: &mut SeededRng,
) -> Vec<PlannedVariant> {
    let mut variants: Vec<PlannedVariant> = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        if let Some(v) = motif_breaking(bases, truth, site)
            && variants.iter().all(|w| w.offset != v.offset)
        {
            variants.push(PlannedVariant { site: Some(i), ..v });
        }
    }
    let mut free: Vec<usize> = background_positions(bases.len(), sites, plan.min_distance)
        .into_iter()
        .filter(|&p| BASES.contains(&bases[p]))
        .collect();
    let wanted = (variants.len() * plan.background_per_site).min(free.len());
    for _ in 0..wanted {
        let offset = free.swap_remove(rng.below(free.len()));
        let reference = bases[offset];
        let others: Vec<u8> = BASES.into_iter().filter(|&b| b != reference).collect();
        variants.push(PlannedVariant {
            offset,
            reference,
            alternative: others[rng.below(3)],
            kind: VariantKind::Background,
            site: None,
            information: information_content(&column(truth, offset)),
        });
    }
    variants.sort_by_key(|v| v.offset);
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// A row of 30 Ts whose positions 10..14 carry a 4-column motif: columns certain A, 0.7 C,
    /// uniform, certain G; the sequence there reads A C A G.
    fn row() -> (Vec<u8>, Array2<f32>, Vec<SiteSpan>) {
        let mut bases = vec![b'T'; 30];
        bases[10..14].copy_from_slice(b"ACAG");
        let mut truth = Array2::from_elem((4, 30), 0.25f32);
        let columns = [[1.0, 0.0, 0.0, 0.0], [0.1, 0.7, 0.1, 0.1], [0.25; 4], [0.0, 0.0, 1.0, 0.0]];
        for (k, col) in columns.iter().enumerate() {
            for c in 0..4 {
                truth[[c, 10 + k]] = col[c];
            }
        }
        (bases, truth, vec![SiteSpan { start: 10, end: 14, motif: "m".into(), class: Some("K".into()) }])
    }

    #[test]
    fn breaks_the_first_most_informative_position_to_the_least_likely_base() {
        let (bases, truth, sites) = row();
        let v = motif_breaking(&bases, truth.view(), &sites[0]).unwrap();
        // Columns 10 and 13 both carry 2 bits; the first wins. Its base A becomes C (probability
        // 0, first of the three zero-probability bases C, G, T).
        assert_eq!((v.offset, v.reference, v.alternative), (10, b'A', b'C'));
        assert!((v.information - 2.0).abs() < 1e-12);
    }

    #[test]
    fn background_stays_away_from_sites() {
        let (_, _, sites) = row();
        let free = background_positions(30, &sites, 3);
        // Sites cover 10..14; distance ≥ 3 leaves 0..=7 and 16..=29.
        let expected: Vec<usize> = (0..=7).chain(16..30).collect();
        assert_eq!(free, expected);
    }

    #[test]
    fn a_row_gets_its_background_variants_at_distinct_free_positions() {
        let (bases, truth, sites) = row();
        let plan = VariantPlan { background_per_site: 5, min_distance: 3 };
        let v = plan_row(&bases, truth.view(), &sites, plan, &mut SeededRng::new(1, 0));
        assert_eq!(v.len(), 6);
        assert_eq!(v.iter().filter(|v| v.kind == VariantKind::Motif).count(), 1);
        let offsets: Vec<usize> = v.iter().map(|v| v.offset).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "sorted, distinct: {offsets:?}");
        for b in v.iter().filter(|v| v.kind == VariantKind::Background) {
            assert!(b.offset <= 7 || b.offset >= 16);
            assert_eq!(b.reference, b'T');
            assert_ne!(b.alternative, b'T');
        }
    }

    #[test]
    fn decodes_one_hot_with_n_for_empty_columns() {
        let mut x = Array2::<f32>::zeros((4, 3));
        x[[2, 0]] = 1.0;
        x[[3, 2]] = 1.0;
        assert_eq!(decode_bases(x.view()), b"GNT".to_vec());
    }
}
