//! Histone-mark signal binned around each gene's TSS, from bigWig tracks (bigtools) or
//! ChIP-seq alignments (noodles BAM), as DeepChrome/AttentiveChrome read it.
//!
//! The window of a gene is `flank` bases either side of the TSS, cut into bins of `bin_size`.
//! On `+` (and unknown) strands it is `[tss − flank, tss + flank)`; on `−` it is the mirror image
//! `[tss + 1 − flank, tss + 1 + flank)` read right to left, so that bin 0 is always the most
//! upstream bin and the TSS base is the first base of bin `bins/2` on both strands.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use bigtools::{BigWigRead, CachedBBIFileRead};
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::progress::Progress;
use gkd_io::table::Strand;
use ndarray::Array2;
use noodles::bam;
use noodles::sam::alignment::Record as _;

use crate::chroms::{ChromMatch, match_chroms};
use crate::genes::Gene;

/// Window geometry.
#[derive(Debug, Clone, Copy)]
pub struct WindowSpec {
    /// Bases either side of the TSS.
    pub flank: u64,
    /// Bases per bin.
    pub bin_size: u64,
}

impl WindowSpec {
    /// Number of bins (2 × flank / bin size).
    pub fn bins(&self) -> usize {
        (2 * self.flank / self.bin_size) as usize
    }

    /// Reference start of a gene's window (may be negative near a chromosome start).
    pub fn start(&self, gene: &Gene) -> i64 {
        let anchor = if gene.strand == Strand::Reverse { gene.tss as i64 + 1 } else { gene.tss as i64 };
        anchor - self.flank as i64
    }

    /// Bin index (0 = upstream) of reference bin `k` counted left to right.
    fn oriented(&self, gene: &Gene, k: usize) -> usize {
        if gene.strand == Strand::Reverse { self.bins() - 1 - k } else { k }
    }
}

/// The per-bin statistic asked for, before the file format is known.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum StatisticChoice {
    /// Mean for bigWig marks, read counts (sum) for BAM marks.
    Auto,
    /// Mean signal per base (BAM: reads per base).
    Mean,
    /// Total signal (BAM: reads per bin).
    Sum,
    /// Largest value (bigWig only).
    Max,
    /// Fraction of the bin's bases with data (bigWig only).
    Coverage,
}

impl StatisticChoice {
    /// The statistic used for a mark of this `format` (`mark` names it in the error).
    pub fn for_format(self, format: SignalFormat, mark: &str) -> Result<Statistic> {
        Ok(match (self, format) {
            (Self::Auto | Self::Mean, SignalFormat::BigWig) => Statistic::Mean,
            (Self::Sum, SignalFormat::BigWig) => Statistic::Sum,
            (Self::Max, SignalFormat::BigWig) => Statistic::Max,
            (Self::Coverage, SignalFormat::BigWig) => Statistic::Coverage,
            (Self::Auto | Self::Sum, SignalFormat::Bam) => Statistic::Sum,
            (Self::Mean, SignalFormat::Bam) => Statistic::Mean,
            (other, SignalFormat::Bam) => {
                let name: &'static str = other.into();
                return Err(Error::usage(format!(
                    "--stat {name} is not defined for BAM mark '{mark}'; use sum or mean"
                )));
            }
        })
    }
}

/// How each mark is binned around the genes.
#[derive(Debug, Clone, Copy)]
pub struct Binning {
    /// Window geometry.
    pub spec: WindowSpec,
    /// Per-bin statistic.
    pub stat: StatisticChoice,
    /// What bases without data count as.
    pub missing: Missing,
    /// BAM marks: which point of an alignment is counted.
    pub point: CountPoint,
    /// BAM marks: which alignments are kept.
    pub filter: ReadFilter,
}

/// One mark binned around every gene: the (genes, bins) matrix, how the genes' chromosomes
/// matched the file's, and (BAM marks) the alignments counted in a window.
#[derive(Debug)]
pub struct BinnedMark {
    /// (N genes, bins), upstream to downstream.
    pub values: Array2<f32>,
    /// The genes' chromosome names matched to the file's.
    pub matched: ChromMatch,
    /// Alignments counted in some gene's window (BAM marks only).
    pub reads_in_windows: Option<u64>,
}

/// Bin the mark in `path` (a bigWig or a BAM, told apart by its first bytes) around `genes`.
pub fn bin_mark(
    path: &Path,
    mark: &str,
    genes: &[Gene],
    binning: &Binning,
    progress: &dyn Progress,
) -> Result<BinnedMark> {
    let format = detect_format(path)?;
    let stat = binning.stat.for_format(format, mark)?;
    Ok(match format {
        SignalFormat::BigWig => {
            let (values, matched) = bin_bigwig(path, genes, binning.spec, stat, binning.missing, progress)?;
            BinnedMark { values, matched, reads_in_windows: None }
        }
        SignalFormat::Bam => {
            let (values, matched, counted) = bin_bam(path, genes, binning, stat, progress)?;
            BinnedMark { values, matched, reads_in_windows: Some(counted) }
        }
    })
}

/// Per-bin statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Mean signal per base.
    Mean,
    /// Total signal (read count for BAM marks).
    Sum,
    /// Largest value.
    Max,
    /// Fraction of the bin's bases with data.
    Coverage,
}

/// What a bin (or base) without data counts as.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Missing {
    /// Bases without data are 0 (deepTools `--missingDataAsZero`).
    Zero,
    /// Statistics use covered bases only; a bin with none is NaN (deepTools default).
    Nan,
}

/// Which point of an alignment is counted.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum CountPoint {
    /// The 5′ end of each read.
    #[strum(serialize = "starts")]
    ReadStart,
    /// The centre of each fragment: for pairs, leftmost start + TLEN/2, counted once per pair;
    /// for unpaired reads, the read's centre.
    #[strum(serialize = "centres")]
    FragmentCentre,
}

/// Alignment filters (like `samtools view -q MAPQ -F FLAGS`).
#[derive(Debug, Clone, Copy)]
pub struct ReadFilter {
    /// Smallest mapping quality kept.
    pub min_mapq: u8,
    /// Reads with any of these flag bits are skipped.
    pub exclude_flags: u16,
}

/// Accumulates one bin's values.
#[derive(Debug, Clone, Copy, Default)]
struct BinAcc {
    sum: f64,
    covered: u64,
    max: f32,
    any: bool,
}

impl BinAcc {
    fn add(&mut self, value: f32, bases: u64) {
        self.sum += value as f64 * bases as f64;
        self.covered += bases;
        self.max = if self.any { self.max.max(value) } else { value };
        self.any = true;
    }

    fn finish(&self, stat: Statistic, missing: Missing, bin_size: u64) -> f32 {
        let empty = if missing == Missing::Nan { f32::NAN } else { 0.0 };
        match stat {
            Statistic::Coverage => (self.covered as f64 / bin_size as f64) as f32,
            _ if !self.any => empty,
            Statistic::Sum => self.sum as f32,
            Statistic::Max => {
                // Uncovered bases are zeros when missing data counts as zero.
                if missing == Missing::Zero && self.covered < bin_size { self.max.max(0.0) } else { self.max }
            }
            Statistic::Mean => match missing {
                Missing::Zero => (self.sum / bin_size as f64) as f32,
                Missing::Nan => (self.sum / self.covered as f64) as f32,
            },
        }
    }
}

/// The kinds of signal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalFormat {
    /// bigWig (magic 0x888FFC26).
    BigWig,
    /// BAM (BGZF whose content starts with `BAM\1`).
    Bam,
}

/// Tell a bigWig from a BAM by their first bytes.
pub fn detect_format(path: &Path) -> Result<SignalFormat> {
    let mut head = [0u8; 4];
    let mut f = File::open(path).with_path(path)?;
    let n = f.read(&mut head).with_path(path)?;
    if n == 4 && (u32::from_le_bytes(head) == 0x888F_FC26 || u32::from_be_bytes(head) == 0x888F_FC26) {
        return Ok(SignalFormat::BigWig);
    }
    if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let mut magic = [0u8; 4];
        let mut dec = flate2::read::MultiGzDecoder::new(File::open(path).with_path(path)?);
        if dec.read_exact(&mut magic).is_ok() && &magic == b"BAM\x01" {
            return Ok(SignalFormat::Bam);
        }
    }
    Err(Error::in_file(path, "is neither a bigWig nor a BAM file (checked the first bytes)"))
}

/// A complete bigWig ends with its magic number (UCSC's writer puts it there last); a file cut
/// short does not, even when its header and index are intact.
fn check_bigwig_end(path: &Path) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).with_path(path)?;
    let mut tail = [0u8; 4];
    let ok = f.seek(SeekFrom::End(-4)).is_ok() && f.read_exact(&mut tail).is_ok();
    if !ok || (u32::from_le_bytes(tail) != 0x888F_FC26 && u32::from_be_bytes(tail) != 0x888F_FC26) {
        return Err(Error::in_file(
            path,
            "is truncated: a bigWig ends with its magic number 0x888FFC26, this one does not",
        ));
    }
    Ok(())
}

/// Open a bigWig (checked for truncation) and match the genes' chromosome names to its own.
fn open_bigwig(path: &Path, genes: &[Gene]) -> Result<(BigWigRead<CachedBBIFileRead<File>>, ChromMatch)> {
    check_bigwig_end(path)?;
    let file = File::open(path).with_path(path)?;
    let bw = BigWigRead::open(file).map_err(|e| Error::in_file(path, format!("not a readable bigWig: {e}")))?.cached();
    let chroms: Vec<(String, u64)> = bw.chroms().iter().map(|c| (c.name.clone(), c.length as u64)).collect();
    let matched = match_chroms(genes.iter().map(|g| g.chrom.as_str()), &chroms);
    Ok((bw, matched))
}

/// The records of `chrom:[start, end)` of an open bigWig (`path`, for messages).
fn interval(
    bw: &mut BigWigRead<CachedBBIFileRead<File>>,
    path: &Path,
    chrom: &str,
    start: u64,
    end: u64,
) -> Result<Vec<bigtools::Value>> {
    let read_error = |e: &dyn std::fmt::Display| Error::in_file(path, format!("reading {chrom}:{start}-{end}: {e}"));
    bw.get_interval(chrom, start as u32, end as u32)
        .map_err(|e| read_error(&e))?
        .map(|v| v.map_err(|e| read_error(&e)))
        .collect()
}

/// Bin a bigWig around every gene: an (N genes, bins) matrix in upstream-to-downstream order.
/// Genes on chromosomes the file lacks get the missing value; the returned match lists them.
pub fn bin_bigwig(
    path: &Path,
    genes: &[Gene],
    spec: WindowSpec,
    stat: Statistic,
    missing: Missing,
    progress: &dyn Progress,
) -> Result<(Array2<f32>, ChromMatch)> {
    let (mut bw, matched) = open_bigwig(path, genes)?;
    let bins = spec.bins();
    let mut out = Array2::<f32>::zeros((genes.len(), bins));
    let mut acc = vec![BinAcc::default(); bins];
    let bar = progress;
    bar.start(&format!("binning {}", path.display()), Some(genes.len() as u64));
    for (i, g) in genes.iter().enumerate() {
        if i.is_multiple_of(256) {
            bar.set_position(i as u64);
        }
        acc.iter_mut().for_each(|a| *a = BinAcc::default());
        if let Some((chrom, len)) = matched.map.get(&g.chrom) {
            let ws = spec.start(g);
            let we = ws + (bins as u64 * spec.bin_size) as i64;
            let (qs, qe) = (ws.max(0) as u64, (we.max(0) as u64).min(*len));
            if qe > qs {
                for v in interval(&mut bw, path, chrom, qs, qe)? {
                    let (vs, ve) = (v.start.max(qs as u32) as i64, v.end.min(qe as u32) as i64);
                    // Spread the interval over the bins it overlaps.
                    let mut p = vs;
                    while p < ve {
                        let k = ((p - ws) as u64 / spec.bin_size) as usize;
                        let bin_end = ws + ((k as u64 + 1) * spec.bin_size) as i64;
                        let stop = ve.min(bin_end);
                        acc[spec.oriented(g, k)].add(v.value, (stop - p) as u64);
                        p = stop;
                    }
                }
            }
        }
        for (k, a) in acc.iter().enumerate() {
            out[[i, k]] = a.finish(stat, missing, spec.bin_size);
        }
    }
    bar.finish();
    Ok((out, matched))
}

/// The mean of a bigWig over every gene's body [start, end), bases without data counting as 0 —
/// e.g. RNA-seq coverage as an expression value (mean coverage ∝ reads per base of gene). Genes on
/// chromosomes the file lacks get `None` (the returned match lists them).
pub fn gene_body_means(path: &Path, genes: &[Gene]) -> Result<(Vec<Option<f64>>, ChromMatch)> {
    let (mut bw, matched) = open_bigwig(path, genes)?;
    let mut out = Vec::with_capacity(genes.len());
    for g in genes {
        let Some((chrom, len)) = matched.map.get(&g.chrom) else {
            out.push(None);
            continue;
        };
        let (qs, qe) = (g.start.min(*len), g.end.min(*len));
        let mut sum = 0f64;
        if qe > qs {
            for v in interval(&mut bw, path, chrom, qs, qe)? {
                let overlap = (v.end as u64).min(qe).saturating_sub((v.start as u64).max(qs));
                sum += v.value as f64 * overlap as f64;
            }
        }
        out.push(Some(sum / (g.end - g.start).max(1) as f64));
    }
    Ok((out, matched))
}

/// Count alignments per bin around every gene (the statistic is applied to per-base counts:
/// `Sum` = reads per bin, `Mean` = reads per base). Bins past a chromosome end are missing.
pub fn bin_bam(
    path: &Path,
    genes: &[Gene],
    binning: &Binning,
    stat: Statistic,
    progress: &dyn Progress,
) -> Result<(Array2<f32>, ChromMatch, u64)> {
    let Binning { spec, missing, point, filter, .. } = *binning;
    let mut reader = bam::io::Reader::new(BufReader::with_capacity(1 << 20, File::open(path).with_path(path)?));
    let header = reader.read_header().map_err(|e| Error::in_file(path, format!("not a readable BAM header: {e}")))?;
    let chroms: Vec<(String, u64)> = header
        .reference_sequences()
        .iter()
        .map(|(name, rs)| (name.to_string(), usize::from(rs.length()) as u64))
        .collect();
    let matched = match_chroms(genes.iter().map(|g| g.chrom.as_str()), &chroms);
    let bins = spec.bins();
    let width = bins as i64 * spec.bin_size as i64;
    // Per reference sequence: windows sorted by start, as (start, gene index).
    let mut windows: Vec<Vec<(i64, usize)>> = vec![Vec::new(); chroms.len()];
    let ref_index: HashMap<&str, usize> = chroms.iter().enumerate().map(|(i, (n, _))| (n.as_str(), i)).collect();
    for (i, g) in genes.iter().enumerate() {
        if let Some((name, _)) = matched.map.get(&g.chrom) {
            windows[ref_index[name.as_str()]].push((spec.start(g), i));
        }
    }
    windows.iter_mut().for_each(|w| w.sort_unstable());
    let mut counts = Array2::<f64>::zeros((genes.len(), bins));
    let mut record = bam::Record::default();
    let mut n: u64 = 0;
    let mut counted: u64 = 0;
    let spinner = progress;
    spinner.start(&format!("reading {}", path.display()), None);
    loop {
        match reader.read_record(&mut record) {
            Ok(0) => break,
            Ok(_) => n += 1,
            Err(e) => return Err(Error::at_record(path, n + 1, None, format!("cannot read alignment: {e}"))),
        }
        if n.is_multiple_of(65_536) {
            spinner.set_position(n);
        }
        let bad = |e: std::io::Error| Error::at_record(path, n, None, format!("malformed alignment: {e}"));
        let flags = record.flags();
        if flags.bits() & filter.exclude_flags != 0 || flags.is_unmapped() {
            continue;
        }
        if record.mapping_quality().map_or(255, |q| q.get()) < filter.min_mapq {
            continue;
        }
        let Some(rid) = record.reference_sequence_id().transpose().map_err(bad)? else { continue };
        let Some(start) = record.alignment_start().transpose().map_err(bad)? else { continue };
        let start0 = usize::from(start) as i64 - 1;
        let span = record.alignment_span().transpose().map_err(bad)?.unwrap_or(0) as i64;
        let pos = match point {
            CountPoint::ReadStart => {
                if flags.is_reverse_complemented() {
                    start0 + span.max(1) - 1
                } else {
                    start0
                }
            }
            CountPoint::FragmentCentre if flags.is_segmented() => {
                let tlen = record.template_length() as i64;
                if tlen <= 0 {
                    continue; // the mate with positive TLEN counts the fragment
                }
                start0 + tlen / 2
            }
            CountPoint::FragmentCentre => start0 + span / 2,
        };
        let Some(ws) = windows.get(rid) else { continue };
        // Windows containing pos: start in (pos − width, pos].
        let first = ws.partition_point(|&(s, _)| s <= pos - width);
        for &(s, gi) in ws[first..].iter().take_while(|&&(s, _)| s <= pos) {
            let k = ((pos - s) as u64 / spec.bin_size) as usize;
            counts[[gi, spec.oriented(&genes[gi], k)]] += 1.0;
            counted += 1;
        }
    }
    spinner.finish();
    let mut out = Array2::<f32>::zeros((genes.len(), bins));
    for (i, g) in genes.iter().enumerate() {
        let len = matched.map.get(&g.chrom).map(|(_, l)| *l as i64);
        let ws = spec.start(g);
        for k in 0..bins {
            let (bs, be) = (ws + k as i64 * spec.bin_size as i64, ws + (k as i64 + 1) * spec.bin_size as i64);
            // Bases of the bin that lie on the chromosome.
            let on_chrom = len.map_or(0, |l| (be.min(l) - bs.max(0)).max(0)) as u64;
            let c = counts[[i, spec.oriented(g, k)]];
            out[[i, spec.oriented(g, k)]] = if on_chrom == 0 {
                if missing == Missing::Nan { f32::NAN } else { 0.0 }
            } else {
                match stat {
                    Statistic::Sum => c as f32,
                    Statistic::Mean => (c / spec.bin_size as f64) as f32,
                    Statistic::Max | Statistic::Coverage => unreachable!("rejected for BAM marks by the caller"),
                }
            };
        }
    }
    Ok((out, matched, counted))
}

/// Refuse a track that shares no chromosome with the genes, or (unless `allow_missing`) lacks one
/// that a gene is on; warn about aliases used and chromosomes filled with the missing value.
pub fn check_chromosomes(
    path: &Path,
    matched: &ChromMatch,
    genes: &[Gene],
    genes_path: &Path,
    allow_missing: bool,
) -> Result<()> {
    if matched.map.is_empty() {
        return Err(Error::in_file(
            path,
            format!("shares no chromosome with {} (not even through chr1/1, chrM/MT aliases)", genes_path.display()),
        ));
    }
    for (from, to) in &matched.aliases {
        log::warn!("{}: gene chromosome '{from}' matched '{to}'", path.display());
    }
    if let Some(c) = matched.missing.first() {
        let g = genes.iter().find(|g| &g.chrom == c).expect("missing chromosome comes from a gene");
        if !allow_missing {
            return Err(Error::in_file(
                path,
                format!(
                    "has no chromosome '{c}', used by gene '{}' ({} line {}); add --allow-missing-chroms to fill such genes with the missing value",
                    g.id,
                    genes_path.display(),
                    g.line
                ),
            ));
        }
        log::warn!(
            "{}: no data for chromosomes {:?}; their genes get the missing value",
            path.display(),
            matched.missing
        );
    }
    Ok(())
}
