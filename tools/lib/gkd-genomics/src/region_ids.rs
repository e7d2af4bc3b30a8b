//! Coordinates carried by FASTA ids that name a region of a reference, as `bedtools getfasta`
//! (`chr1:100-300`, 0-based start; `chr1:100-300(+)` with `-s`) and `samtools faidx`
//! (`chr1:101-300`, 1-based inclusive; `chr1:101-300/rc` with `-i`) write them. The two
//! conventions look alike; the sequence lengths tell them apart (end − start is the length in
//! BED coordinates, end − start + 1 in 1-based ones), so a file is read under the one convention
//! that fits every record, or not at all.

use gkd_io::table::{RowIdentity, Strand};

/// Which tool's coordinates a file's ids follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdConvention {
    /// bedtools getfasta: 0-based start, exclusive end.
    Bed,
    /// samtools faidx: 1-based start, inclusive end.
    OneBased,
}

/// A region id taken apart: chromosome, the two numbers as written, strand.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegionId {
    chrom: String,
    first: u64,
    last: u64,
    strand: Strand,
}

fn parse(id: &str) -> Option<RegionId> {
    let (body, strand) = if let Some(b) = id.strip_suffix("(+)") {
        (b, Strand::Forward)
    } else if let Some(b) = id.strip_suffix("(-)") {
        (b, Strand::Reverse)
    } else if let Some(b) = id.strip_suffix("(.)") {
        (b, Strand::Unknown)
    } else if let Some(b) = id.strip_suffix("/rc") {
        (b, Strand::Reverse)
    } else {
        (id, Strand::Unknown)
    };
    let (chrom, range) = body.rsplit_once(':')?;
    let (first, last) = range.split_once('-')?;
    let number = |t: &str| (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse::<u64>().ok())?;
    let (first, last) = (number(first)?, number(last)?);
    (!chrom.is_empty() && last >= first).then(|| RegionId { chrom: chrom.to_owned(), first, last, strand })
}

/// Give every row its region when every id names one and one convention fits every sequence's
/// length; returns the convention used (rows are left as they are otherwise). `lengths[i]` is
/// row i's sequence length.
pub fn assign(rows: &mut [RowIdentity], lengths: &[usize]) -> Option<IdConvention> {
    let regions: Vec<RegionId> = rows.iter().map(|r| parse(&r.id)).collect::<Option<_>>()?;
    let span = |r: &RegionId| r.last - r.first;
    let convention = if regions.iter().zip(lengths).all(|(r, &l)| span(r) == l as u64) {
        IdConvention::Bed
    } else if regions.iter().zip(lengths).all(|(r, &l)| span(r) + 1 == l as u64 && r.first >= 1) {
        IdConvention::OneBased
    } else {
        return None;
    };
    for (row, region) in rows.iter_mut().zip(regions) {
        let start = match convention {
            IdConvention::Bed => region.first,
            IdConvention::OneBased => region.first - 1,
        };
        row.chrom = Some(region.chrom);
        row.start = Some(start);
        row.end = Some(region.last);
        row.strand = region.strand;
    }
    Some(convention)
}

/// The reference window of a row after its sequence of `old` bases was centre-cropped or padded
/// to `new` bases (the sequence keeps its middle; for a reverse-strand row the sequence runs
/// from the window's end). Coordinates are cleared when the padded window would start before 0.
pub fn refit(row: &mut RowIdentity, old: usize, new: usize) {
    let (Some(start), Some(end)) = (row.start, row.end) else { return };
    if end - start != old as u64 {
        return;
    }
    // Bases removed (or added, when padding) before the sequence's first base, in sequence order.
    let (before, after) = if old >= new {
        let before = (old - new) / 2;
        (before as i64, (old - new - before) as i64)
    } else {
        let before = (new - old) / 2;
        (-(before as i64), -((new - old - before) as i64))
    };
    // On the reverse strand the sequence's first base is the window's last.
    let (left, right) = if row.strand == Strand::Reverse { (after, before) } else { (before, after) };
    let new_start = start as i64 + left;
    if new_start < 0 {
        row.chrom = None;
        row.start = None;
        row.end = None;
        return;
    }
    row.start = Some(new_start as u64);
    row.end = Some((end as i64 - right) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[&str]) -> Vec<RowIdentity> {
        ids.iter().map(|id| RowIdentity { id: (*id).to_owned(), ..Default::default() }).collect()
    }

    #[test]
    fn lengths_choose_the_convention() {
        // bedtools getfasta: chr1:100-300 holds bases 100..300 (0-based), 200 of them.
        let mut r = rows(&["chr1:100-300", "chrUn_gl000220:5-25(-)"]);
        assert_eq!(assign(&mut r, &[200, 20]), Some(IdConvention::Bed));
        assert_eq!((r[0].chrom.as_deref(), r[0].start, r[0].end), (Some("chr1"), Some(100), Some(300)));
        assert_eq!((r[1].chrom.as_deref(), r[1].strand), (Some("chrUn_gl000220"), Strand::Reverse));
        // samtools faidx: chr1:101-300 is the same 200 bases, 1-based inclusive.
        let mut r = rows(&["chr1:101-300", "chr2:1-10/rc"]);
        assert_eq!(assign(&mut r, &[200, 10]), Some(IdConvention::OneBased));
        assert_eq!((r[0].start, r[0].end, r[1].start, r[1].end), (Some(100), Some(300), Some(0), Some(10)));
        assert_eq!(r[1].strand, Strand::Reverse);
        // Mixed conventions, ordinary ids or a missing one: nothing is assigned.
        for (ids, lengths) in
            [(&["chr1:100-300", "chr1:101-300"][..], &[200usize, 200][..]), (&["seq1", "chr1:1-5"], &[5, 4])]
        {
            let mut r = rows(ids);
            assert_eq!(assign(&mut r, lengths), None);
            assert!(r.iter().all(|row| row.start.is_none()));
        }
        // Colons inside the chromosome name (HLA contigs) and bad numbers.
        assert_eq!(parse("HLA-A*01:01:01:01:3-9").map(|r| r.chrom), Some("HLA-A*01:01:01:01".to_owned()));
        for bad in ["chr1:9-3", "chr1:-3", "chr1:1-2x", ":1-2", "chr1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn refit_keeps_the_middle_on_either_strand() {
        let row =
            |strand| RowIdentity { id: "x".into(), chrom: Some("c".into()), start: Some(100), end: Some(111), strand };
        // 11 bases cropped to 4: the sequence keeps bases 3..7 of itself.
        let mut f = row(Strand::Forward);
        refit(&mut f, 11, 4);
        assert_eq!((f.start, f.end), (Some(103), Some(107)));
        // Reverse strand: sequence base 0 is reference base 110, so bases 3..7 are 104..108.
        let mut r = row(Strand::Reverse);
        refit(&mut r, 11, 4);
        assert_eq!((r.start, r.end), (Some(104), Some(108)));
        // Padding 11 to 16 adds 2 before and 3 after.
        let mut p = row(Strand::Forward);
        refit(&mut p, 11, 16);
        assert_eq!((p.start, p.end), (Some(98), Some(114)));
        // A window that would start before 0 loses its coordinates.
        let mut z = RowIdentity { start: Some(1), end: Some(3), chrom: Some("c".into()), ..row(Strand::Forward) };
        refit(&mut z, 2, 10);
        assert_eq!((z.chrom, z.start), (None, None));
    }
}
