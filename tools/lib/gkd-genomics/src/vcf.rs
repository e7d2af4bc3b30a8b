//! Variants from a VCF, and the reference and alternative windows a sequence model scores.
//!
//! Records are streamed with noodles-vcf (plain, gzip or bgzip, detected from the bytes), one
//! [`Variant`] per alternative allele: a multi-allelic record is split. Alleles that are not bases
//! are skipped and counted ([`Skipped`]): symbolic alleles (`<DEL>`, `<*>`), breakends (`G]17:198982]`,
//! `.A`) and the missing or overlapping-deletion alleles (`.`, `*`).
//!
//! Windows ([`windows`]) are `length` bases. The reference window puts the variant's first REF
//! base at offset `length / 2` (0-based): it covers the genome from POS − 1 − `length / 2`. The
//! alternative window is the same left flank, the ALT bases, then the genome right of REF, cut
//! or extended at the right end to `length` bases. A substitution (SNV or MNV) so changes only its
//! own bases; an insertion pushes the right flank out of the window and a deletion pulls more of
//! it in, and the left flank and the variant's offset are the same in both windows. This is
//! tangermeme's convention (1.6.0, `deletion_effect` and `insertion_effect` with `left=False`: the
//! window keeps its left end, and a deletion takes the missing bases from the right); gReLU instead
//! overwrites the alleles in place around the centre, which does not shift the flank. Positions
//! outside the chromosome are N. The REF allele is checked against the FASTA first.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, Result};
use noodles::vcf;

use crate::fasta::IndexedFasta;

/// One alternative allele of a VCF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The record's number among the file's records (1-based), for messages.
    pub record: u64,
    /// Chromosome (CHROM).
    pub chrom: String,
    /// 1-based position of the first REF base (POS).
    pub position: u64,
    /// ID ("." when the record has none).
    pub id: String,
    /// REF bases, uppercase.
    pub reference: String,
    /// This ALT allele's bases, uppercase.
    pub alternative: String,
    /// Which ALT allele of the record this is (1-based, as in a GT field).
    pub allele: usize,
}

/// What kind of allele an ALT entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlleleKind {
    /// Plain bases (A, C, G, T, N).
    Bases,
    /// A symbolic allele in angle brackets, e.g. `<DEL>`, `<INS:ME>`, `<*>`.
    Symbolic,
    /// A breakend: square brackets (`G]17:198982]`) or a single breakend (`.A`, `G.`).
    Breakend,
    /// `.` (no allele) or `*` (an allele missing because of an overlapping deletion).
    Missing,
}

/// The kind of an ALT entry.
pub fn allele_kind(alt: &str) -> AlleleKind {
    if alt.is_empty() || alt == "." || alt == "*" {
        AlleleKind::Missing
    } else if alt.starts_with('<') {
        AlleleKind::Symbolic
    } else if alt.contains(['[', ']']) || alt.starts_with('.') || alt.ends_with('.') {
        AlleleKind::Breakend
    } else {
        AlleleKind::Bases
    }
}

/// Whether an allele (uppercase) is a non-empty run of A, C, G, T and N.
fn is_bases(allele: &str) -> bool {
    !allele.is_empty() && allele.bytes().all(|b| b"ACGTN".contains(&b))
}

/// ALT alleles left out, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Symbolic alleles.
    pub symbolic: u64,
    /// Breakends.
    pub breakend: u64,
    /// `.` and `*` alleles.
    pub missing: u64,
}

impl std::ops::AddAssign for Skipped {
    fn add_assign(&mut self, o: Self) {
        self.symbolic += o.symbolic;
        self.breakend += o.breakend;
        self.missing += o.missing;
    }
}

/// One VCF record: its line as read, and the variants of its ALT alleles that are bases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcfRecord {
    /// The record's number among the file's records (1-based).
    pub number: u64,
    /// The record's line, without its line end.
    pub line: String,
    /// How many ALT alleles the record lists (scored or not).
    pub alleles: usize,
    /// One variant per ALT allele made of bases, in ALT order.
    pub variants: Vec<Variant>,
    /// The record's ALT alleles that are not bases.
    pub skipped: Skipped,
}

/// A VCF read one record at a time, as variants. The header's lines and every record's line are
/// kept as read, so a copy of the file can pass them through unchanged.
pub struct VcfVariants {
    path: PathBuf,
    input: Box<dyn std::io::BufRead + Send>,
    header_lines: Vec<String>,
    /// A record line read while looking for the end of the header.
    first_line: Option<String>,
    records: u64,
    pending: VecDeque<Variant>,
    /// The alleles skipped so far.
    pub skipped: Skipped,
}

impl VcfVariants {
    /// Open a VCF (plain, gzip or bgzip) and read its header (checked by noodles).
    pub fn open(path: &Path) -> Result<Self> {
        let (mut input, _) = gkd_io::input::open(path)?;
        let mut header_lines = Vec::new();
        let mut first_line = None;
        let mut line = String::new();
        loop {
            line.clear();
            let n = input.read_line(&mut line).map_err(|e| Error::in_file(path, format!("cannot be read: {e}")))?;
            if n == 0 {
                break;
            }
            let text = line.trim_end_matches(['\n', '\r']);
            if text.starts_with('#') {
                header_lines.push(text.to_owned());
            } else {
                first_line = Some(text.to_owned());
                break;
            }
        }
        let text: String = header_lines.iter().map(|l| format!("{l}\n")).collect();
        let valid = header_lines.last().is_some_and(|l| l.starts_with("#CHROM"));
        if let Err(e) = text
            .parse::<vcf::Header>()
            .map_err(|e| e.to_string())
            .and_then(|h| if valid { Ok(h) } else { Err("no #CHROM line ends it".to_owned()) })
        {
            return Err(Error::in_file(path, format!("has no valid VCF header: {e}")));
        }
        Ok(Self {
            path: path.to_path_buf(),
            input,
            header_lines,
            first_line,
            records: 0,
            pending: VecDeque::new(),
            skipped: Skipped::default(),
        })
    }

    /// The header's lines as read (`##` meta lines, then the `#CHROM` line).
    pub fn header_lines(&self) -> &[String] {
        &self.header_lines
    }

    /// The records read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Up to `n` variants (fewer only at the end of the file).
    pub fn next_chunk(&mut self, n: usize) -> Result<Vec<Variant>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next_variant()? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(out)
    }

    /// The next variant, or `None` at the end of the file.
    pub fn next_variant(&mut self) -> Result<Option<Variant>> {
        while self.pending.is_empty() {
            match self.next_record()? {
                Some(record) => self.pending.extend(record.variants),
                None => return Ok(None),
            }
        }
        Ok(self.pending.pop_front())
    }

    /// The next record (blank lines skipped), or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<VcfRecord>> {
        let line = loop {
            let line = match self.first_line.take() {
                Some(line) => line,
                None => {
                    let mut line = String::new();
                    let n = self.input.read_line(&mut line).map_err(|e| {
                        Error::in_file(&self.path, format!("record {}: cannot be read: {e}", self.records + 1))
                    })?;
                    if n == 0 {
                        return Ok(None);
                    }
                    line.truncate(line.trim_end_matches(['\n', '\r']).len());
                    line
                }
            };
            if !line.trim().is_empty() {
                break line;
            }
        };
        self.records += 1;
        let (alleles, variants, skipped) = self.parse(&line)?;
        self.skipped += skipped;
        Ok(Some(VcfRecord { number: self.records, line, alleles, variants, skipped }))
    }

    /// The ALT count, the scorable variants and the skipped alleles of record line `line`
    /// (number `self.records`).
    fn parse(&self, line: &str) -> Result<(usize, Vec<Variant>, Skipped)> {
        let at = |what: String| Error::in_file(&self.path, format!("record {}: {what}", self.records));
        let r = vcf::Record::try_from(line.as_bytes()).map_err(|e| at(format!("is not a VCF record: {e}")))?;
        let chrom = r.reference_sequence_name().to_owned();
        let position = match r.variant_start() {
            Some(Ok(p)) => usize::from(p) as u64,
            Some(Err(e)) => return Err(at(format!("POS is not a position: {e}"))),
            None => return Err(at("POS 0 (a telomere) has no base to score".into())),
        };
        let reference = r.reference_bases().to_ascii_uppercase();
        if !is_bases(&reference) {
            return Err(at(format!(
                "REF '{}' at {chrom}:{position} is not a run of A, C, G, T or N",
                r.reference_bases()
            )));
        }
        let id = match r.ids().as_ref() {
            "" => ".".to_owned(),
            ids => ids.to_owned(),
        };
        let alts = r.alternate_bases();
        let alts: &str = alts.as_ref();
        let mut variants = Vec::new();
        let mut skipped = Skipped::default();
        let mut alleles = 0;
        for (k, alt) in alts.split(',').enumerate() {
            alleles += 1;
            match allele_kind(alt) {
                AlleleKind::Symbolic => skipped.symbolic += 1,
                AlleleKind::Breakend => skipped.breakend += 1,
                AlleleKind::Missing => skipped.missing += 1,
                AlleleKind::Bases => {
                    let alternative = alt.to_ascii_uppercase();
                    if !is_bases(&alternative) {
                        return Err(at(format!("ALT '{alt}' at {chrom}:{position} is not a run of A, C, G, T or N")));
                    }
                    variants.push(Variant {
                        record: self.records,
                        chrom: chrom.clone(),
                        position,
                        id: id.clone(),
                        reference: reference.clone(),
                        alternative,
                        allele: k + 1,
                    });
                }
            }
        }
        Ok((alleles, variants, skipped))
    }
}

/// The two windows of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Windows {
    /// The reference window (`length` bases, uppercase; N outside the chromosome).
    pub reference: Vec<u8>,
    /// The alternative window (`length` bases).
    pub alternative: Vec<u8>,
    /// 0-based genome position of both windows' first base (negative near the chromosome start).
    pub start: i64,
    /// Offset of the variant's first base in both windows (`length / 2`).
    pub offset: usize,
}

/// What building a variant's windows found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// The REF allele matches the FASTA: the windows.
    Windows(Windows),
    /// The FASTA has other bases where REF is (uppercase), so no windows.
    RefMismatch(String),
}

/// The bases of `chrom` over `[start, end)`, with N where the interval leaves the chromosome.
fn padded(fasta: &mut IndexedFasta, chrom: &str, size: u64, start: i64, end: i64) -> Result<Vec<u8>> {
    let mut out = vec![b'N'; (end - start).max(0) as usize];
    let (lo, hi) = (start.max(0), end.min(size as i64));
    if lo < hi {
        let bases = fasta.fetch(chrom, lo as u64, hi as u64)?;
        let at = (lo - start) as usize;
        out[at..at + bases.len()].copy_from_slice(&bases);
    }
    out.make_ascii_uppercase();
    Ok(out)
}

/// The reference and alternative windows of `variant` for a model of input `length`, after
/// checking its REF against `fasta` (the module's doc states the convention). An error names the
/// VCF record when its chromosome is not in the FASTA or REF runs past the chromosome's end.
pub fn windows(fasta: &mut IndexedFasta, vcf_path: &Path, variant: &Variant, length: usize) -> Result<Built> {
    let v = variant;
    let at = |what: String| Error::in_file(vcf_path, format!("record {}: {what}", v.record));
    let size = fasta
        .sizes()
        .iter()
        .find(|(name, _)| *name == v.chrom)
        .map(|(_, n)| *n)
        .ok_or_else(|| at(format!("chromosome '{}' is not a sequence of the FASTA", v.chrom)))?;
    let (ref_start, ref_len) = (v.position as i64 - 1, v.reference.len() as i64);
    if v.position == 0 || ref_start + ref_len > size as i64 {
        return Err(at(format!(
            "REF {}:{}-{} runs past the end of '{}' ({size} bases)",
            v.chrom,
            v.position,
            v.position as i64 + ref_len - 1,
            v.chrom
        )));
    }
    // One read covers both windows and REF: span[i] is the genome at start + i, REF at `offset`.
    let offset = length / 2;
    let start = ref_start - offset as i64;
    let after_ref = (length - offset).saturating_sub(v.alternative.len()) as i64;
    let end = (start + length as i64).max(ref_start + ref_len + after_ref);
    let span = padded(fasta, &v.chrom, size, start, end)?;
    let ref_end = offset + v.reference.len();
    if span[offset..ref_end] != *v.reference.as_bytes() {
        return Ok(Built::RefMismatch(String::from_utf8_lossy(&span[offset..ref_end]).into_owned()));
    }
    let reference = span[..length].to_vec();
    let mut alternative = span[..offset].to_vec();
    alternative.extend_from_slice(v.alternative.as_bytes());
    alternative.extend_from_slice(&span[ref_end..ref_end + after_ref as usize]);
    alternative.truncate(length);
    Ok(Built::Windows(Windows { reference, alternative, start, offset }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A FASTA with chr1 = ACGTACGTAC GGCCTTAAGG (20 bases) and chr2 = TTTT.
    fn fasta(dir: &Path) -> IndexedFasta {
        let path = dir.join("g.fa");
        std::fs::write(&path, ">chr1\nACGTACGTAC\nGGCCTTAAGG\n>chr2\nTTTT\n").unwrap();
        IndexedFasta::open(&path).unwrap()
    }

    fn variant(chrom: &str, position: u64, reference: &str, alternative: &str) -> Variant {
        Variant {
            record: 1,
            chrom: chrom.into(),
            position,
            id: ".".into(),
            reference: reference.into(),
            alternative: alternative.into(),
            allele: 1,
        }
    }

    fn built(fa: &mut IndexedFasta, v: &Variant, length: usize) -> (String, String, i64) {
        match windows(fa, Path::new("v.vcf"), v, length).unwrap() {
            Built::Windows(w) => {
                assert_eq!((w.reference.len(), w.alternative.len(), w.offset), (length, length, length / 2));
                (String::from_utf8(w.reference).unwrap(), String::from_utf8(w.alternative).unwrap(), w.start)
            }
            Built::RefMismatch(found) => panic!("REF mismatch, found {found}"),
        }
    }

    #[test]
    fn windows_follow_the_stated_convention_worked_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let mut fa = fasta(dir.path());
        // chr1, 1-based: A1 C2 G3 T4 A5 C6 G7 T8 A9 C10 G11 G12 C13 C14 T15 T16 A17 A18 G19 G20.
        // SNV at 8 (T>C), window 6: offset 3, so 1-based 5..10 = A C G [T] A C (0-based start 4).
        assert_eq!(built(&mut fa, &variant("chr1", 8, "T", "C"), 6), ("ACGTAC".into(), "ACGCAC".into(), 4));
        // MNV at 8 (TA>GG): A C G [G G] C.
        assert_eq!(built(&mut fa, &variant("chr1", 8, "TA", "GG"), 6).1, "ACGGGC");
        // Deletion at 8 (TAC>T): left flank ACG, ALT T, then the genome after REF: G11 G12.
        assert_eq!(built(&mut fa, &variant("chr1", 8, "TAC", "T"), 6), ("ACGTAC".into(), "ACGTGG".into(), 4));
        // Insertion at 8 (T>TGGG): left flank ACG, ALT TGG (its last G cut at the window's end).
        assert_eq!(built(&mut fa, &variant("chr1", 8, "T", "TGGG"), 6).1, "ACGTGG");
        // Near the start: POS 2 with window 6 starts at genome -2 (two N).
        assert_eq!(built(&mut fa, &variant("chr1", 2, "C", "A"), 6), ("NNACGT".into(), "NNAAGT".into(), -2));
        // Near the end: POS 19, window 6: 1-based 16..21 = T A A [G G] N; the deletion pulls in N.
        assert_eq!(built(&mut fa, &variant("chr1", 19, "GG", "G"), 6), ("TAAGGN".into(), "TAAGNN".into(), 15));
        // Odd length: offset 2.
        assert_eq!(built(&mut fa, &variant("chr2", 2, "T", "A"), 5), ("NTTTT".into(), "NTATT".into(), -1));
    }

    #[test]
    fn a_ref_that_is_not_the_genome_is_reported_and_bad_coordinates_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut fa = fasta(dir.path());
        let v = variant("chr1", 8, "G", "C");
        assert_eq!(windows(&mut fa, Path::new("v.vcf"), &v, 6).unwrap(), Built::RefMismatch("T".into()));
        let e = windows(&mut fa, Path::new("v.vcf"), &variant("chrX", 8, "T", "C"), 6).unwrap_err();
        assert!(e.to_string().contains("chromosome 'chrX' is not a sequence"), "{e}");
        let e = windows(&mut fa, Path::new("v.vcf"), &variant("chr2", 4, "TT", "T"), 6).unwrap_err();
        assert!(e.to_string().contains("runs past the end of 'chr2'"), "{e}");
    }

    const HEADER: &str =
        "##fileformat=VCFv4.3\n##contig=<ID=chr1,length=20>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";

    #[test]
    fn multi_allelic_records_are_split_and_alleles_that_are_not_bases_counted() {
        let dir = tempfile::tempdir().unwrap();
        let body = "chr1\t8\trs1\tT\tC,g,<DEL>\t.\tPASS\t.\n\
                    chr1\t11\t.\tG\tG]chr1:5],*,.A\t50\t.\t.\n\
                    chr1\t12\trs3;rs4\tgc\tG\t.\t.\tDP=3\n";
        let path = dir.path().join("v.vcf.gz");
        // bgzip, as tabix-indexed VCFs are.
        let mut w = noodles::bgzf::io::Writer::new(std::fs::File::create(&path).unwrap());
        w.write_all(format!("{HEADER}{body}").as_bytes()).unwrap();
        w.finish().unwrap();
        let mut vcf = VcfVariants::open(&path).unwrap();
        let all = vcf.next_chunk(10).unwrap();
        let got: Vec<(u64, &str, u64, &str, &str, usize)> = all
            .iter()
            .map(|v| (v.record, v.id.as_str(), v.position, v.reference.as_str(), v.alternative.as_str(), v.allele))
            .collect();
        assert_eq!(got, vec![(1, "rs1", 8, "T", "C", 1), (1, "rs1", 8, "T", "G", 2), (3, "rs3;rs4", 12, "GC", "G", 1)]);
        assert_eq!(vcf.skipped, Skipped { symbolic: 1, breakend: 2, missing: 1 });
        assert_eq!(vcf.records(), 3);
        assert!(vcf.next_variant().unwrap().is_none());
    }

    #[test]
    fn a_bad_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.vcf");
        std::fs::write(&path, format!("{HEADER}chr1\t8\t.\tT\tC\t.\t.\t.\nchr1\t9\t.\tTX\tC\t.\t.\t.\n")).unwrap();
        let mut vcf = VcfVariants::open(&path).unwrap();
        let e = vcf.next_chunk(10).unwrap_err().to_string();
        assert!(e.contains("v.vcf") && e.contains("record 2") && e.contains("REF 'TX'"), "{e}");
        let empty = dir.path().join("e.vcf");
        std::fs::write(&empty, "chr1\t8\t.\tT\tC\n").unwrap();
        assert!(VcfVariants::open(&empty).is_err(), "a file without a header is refused");
    }
}
