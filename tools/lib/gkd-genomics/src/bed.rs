//! BED intervals and cutting them out of a FASTA reference.
//!
//! BED lines are split on tabs here rather than with noodles' BED reader because the tools need
//! what that reader does not give: the 1-based line number of every problem, skipping of
//! `track`/`browser`/`#` lines, and arbitrary extra columns used as labels.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::input::{self, Compression};
use gkd_io::table::Strand;
use noodles::fasta;

use crate::chroms::{canonical_chrom, match_chroms};
use crate::fasta::FastaReader;
use crate::onehot::reverse_complement;

/// One BED interval (0-based, half-open) and the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct BedInterval {
    /// 1-based line number in the BED file.
    pub line: u64,
    /// Chromosome as written in the BED file.
    pub chrom: String,
    /// 0-based start.
    pub start: u64,
    /// Exclusive end.
    pub end: u64,
    /// Column 4, or `chrom:start-end` when absent or `.`.
    pub name: String,
    /// Column 6, or unknown.
    pub strand: Strand,
    /// Every column as text (for label columns).
    pub fields: Vec<String>,
}

/// Read a BED file (plain or compressed), skipping blank, `#`, `track` and `browser` lines.
pub fn read_bed(path: &Path) -> Result<Vec<BedInterval>> {
    let (reader, _) = input::open(path)?;
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| Error::at_line(path, line_no, format!("cannot read: {e}")))?;
        let trimmed = line.trim_end_matches('\r');
        if trimmed.trim().is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with("track")
            || trimmed.starts_with("browser")
        {
            continue;
        }
        out.push(parse_bed_line(path, line_no, trimmed)?);
    }
    if out.is_empty() {
        return Err(Error::in_file(path, "has no intervals; expected tab-separated chrom, start, end"));
    }
    Ok(out)
}

fn parse_bed_line(path: &Path, line: u64, text: &str) -> Result<BedInterval> {
    let fields: Vec<String> = text.split('\t').map(str::to_owned).collect();
    if fields.len() < 3 {
        return Err(Error::at_line(
            path,
            line,
            format!("found {} column(s); expected at least 3 tab-separated columns (chrom, start, end)", fields.len()),
        ));
    }
    let coord = |k: usize, what: &str| -> Result<u64> {
        fields[k]
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::at_line(path, line, format!("{what} '{}' is not a non-negative integer", fields[k])))
    };
    let start = coord(1, "start")?;
    let end = coord(2, "end")?;
    if end < start {
        return Err(Error::at_line(path, line, format!("end {end} is before start {start}")));
    }
    let chrom = fields[0].trim().to_owned();
    if chrom.is_empty() {
        return Err(Error::at_line(path, line, "empty chromosome name"));
    }
    let name = match fields.get(3).map(|s| s.trim()) {
        Some(n) if !n.is_empty() && n != "." => n.to_owned(),
        _ => format!("{chrom}:{start}-{end}"),
    };
    let strand = match fields.get(5).map(|s| s.trim()) {
        None | Some(".") | Some("") => Strand::Unknown,
        Some("+") => Strand::Forward,
        Some("-") => Strand::Reverse,
        Some(s) => return Err(Error::at_line(path, line, format!("strand '{s}' should be '+', '-' or '.'"))),
    };
    Ok(BedInterval { line, chrom, start, end, name, strand, fields })
}

/// How the windows were cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Windows that reached past a chromosome end and were padded with N.
    pub padded: u64,
    /// BED chromosome names matched through an alias (`bed name` → `fasta name`).
    pub aliases: Vec<(String, String)>,
    /// True when a `.fai` index was used for random access.
    pub indexed: bool,
}

/// The reference window of an interval: the interval itself, or `length` bases centred on it.
pub fn window(iv: &BedInterval, length: Option<usize>) -> (i64, i64) {
    match length {
        None => (iv.start as i64, iv.end as i64),
        Some(l) => {
            let center = iv.start as i64 + (iv.end as i64 - iv.start as i64) / 2;
            let start = center - (l as i64) / 2;
            (start, start + l as i64)
        }
    }
}

/// Cut each interval's window out of `fasta`, reverse-complemented for `-` strand. Windows
/// past a chromosome end are padded with `N` (counted in the stats). Without `length`, a window
/// past the end is an error. Uses `<fasta>.fai` for random access when the FASTA is plain text
/// and the index exists; otherwise reads the FASTA once from start to end.
pub fn extract(
    fasta_path: &Path,
    bed_path: &Path,
    intervals: &[BedInterval],
    length: Option<usize>,
) -> Result<(Vec<Vec<u8>>, ExtractStats)> {
    let fai_path = PathBuf::from(format!("{}.fai", fasta_path.display()));
    let plain = !input::is_stdin(fasta_path) && {
        let mut head = [0u8; 18];
        let n = File::open(fasta_path).and_then(|mut f| f.read(&mut head)).with_path(fasta_path)?;
        input::detect(&head[..n]) == Compression::Plain
    };
    let indexed = plain && fai_path.exists();
    let (cut, aliases) = if indexed {
        extract_indexed(fasta_path, &fai_path, bed_path, intervals, length)?
    } else {
        extract_streaming(fasta_path, bed_path, intervals, length)?
    };
    let padded = cut.iter().filter(|(_, p)| *p).count() as u64;
    Ok((cut.into_iter().map(|(s, _)| s).collect(), ExtractStats { padded, aliases, indexed }))
}

/// Cut window `win` (reference coordinates) from `known`, the reference bases starting at
/// `known_start` of a chromosome of length `clen`; positions off the chromosome become `N`.
/// Returns the bases and whether padding was needed.
fn cut_window(
    known: &[u8],
    known_start: i64,
    win: (i64, i64),
    clen: i64,
    iv: &BedInterval,
    bed_path: &Path,
    allow_pad: bool,
) -> Result<(Vec<u8>, bool)> {
    let (ws, we) = win;
    let padded = ws < 0 || we > clen;
    if padded && !allow_pad {
        return Err(Error::at_line(
            bed_path,
            iv.line,
            format!(
                "interval {}:{}-{} reaches past the end of '{}' (length {clen})",
                iv.chrom, iv.start, iv.end, iv.chrom
            ),
        ));
    }
    let mut s: Vec<u8> = (ws..we)
        .map(|p| {
            let k = p - known_start;
            if p < 0 || p >= clen || k < 0 || k >= known.len() as i64 { b'N' } else { known[k as usize] }
        })
        .collect();
    if iv.strand == Strand::Reverse {
        s = reverse_complement(&s);
    }
    Ok((s, padded))
}

fn missing_chrom(bed_path: &Path, fasta_path: &Path, iv: &BedInterval) -> Error {
    Error::at_line(
        bed_path,
        iv.line,
        format!(
            "chromosome '{}' is not in {} (also tried aliases such as chr1/1, chrM/MT)",
            iv.chrom,
            fasta_path.display()
        ),
    )
}

/// Windows cut from the reference, each with whether it needed N padding, and the aliases used.
type Cut = (Vec<(Vec<u8>, bool)>, Vec<(String, String)>);

fn extract_streaming(
    fasta_path: &Path,
    bed_path: &Path,
    intervals: &[BedInterval],
    length: Option<usize>,
) -> Result<Cut> {
    let mut by_chrom: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, iv) in intervals.iter().enumerate() {
        by_chrom.entry(iv.chrom.as_str()).or_default().push(i);
    }
    let mut out: Vec<Option<(Vec<u8>, bool)>> = vec![None; intervals.len()];
    // BED chromosome → the FASTA record it was cut from. An alias is taken only while nothing
    // matched; a later exact match replaces it.
    let mut matched: HashMap<&str, String> = HashMap::new();
    for record in FastaReader::open(fasta_path, false)? {
        let record = record?;
        let canonical = canonical_chrom(&record.id);
        for (&bc, rows) in &by_chrom {
            let exact = bc == record.id;
            let alias = !exact && !matched.contains_key(bc) && canonical_chrom(bc) == canonical;
            if !(exact || alias) {
                continue;
            }
            matched.insert(bc, record.id.clone());
            let clen = record.seq.len() as i64;
            for &i in rows {
                let iv = &intervals[i];
                out[i] = Some(cut_window(&record.seq, 0, window(iv, length), clen, iv, bed_path, length.is_some())?);
            }
        }
    }
    if let Some(i) = out.iter().position(Option::is_none) {
        return Err(missing_chrom(bed_path, fasta_path, &intervals[i]));
    }
    let mut aliases: Vec<(String, String)> =
        matched.into_iter().filter(|(bc, fc)| bc != fc).map(|(bc, fc)| (bc.to_owned(), fc)).collect();
    aliases.sort();
    Ok((out.into_iter().map(Option::unwrap).collect(), aliases))
}

fn extract_indexed(
    fasta_path: &Path,
    fai_path: &Path,
    bed_path: &Path,
    intervals: &[BedInterval],
    length: Option<usize>,
) -> Result<Cut> {
    let index =
        fasta::fai::fs::read(fai_path).map_err(|e| Error::in_file(fai_path, format!("not a FASTA index: {e}")))?;
    let by_name: HashMap<String, &fasta::fai::Record> =
        index.as_ref().iter().map(|r| (r.name().to_string(), r)).collect();
    let available: Vec<(String, u64)> = index.as_ref().iter().map(|r| (r.name().to_string(), r.length())).collect();
    let matched = match_chroms(intervals.iter().map(|iv| iv.chrom.as_str()), &available);
    let mut file = BufReader::new(File::open(fasta_path).with_path(fasta_path)?);
    let mut out = Vec::with_capacity(intervals.len());
    for iv in intervals {
        let (name, clen) = matched.map.get(&iv.chrom).ok_or_else(|| missing_chrom(bed_path, fasta_path, iv))?;
        let clen = *clen as i64;
        let (ws, we) = window(iv, length);
        // Read only the part inside the chromosome; cut_window pads the rest.
        let (cs, ce) = (ws.clamp(0, clen), we.clamp(0, clen));
        let mut inside = Vec::with_capacity((ce - cs) as usize);
        if ce > cs {
            read_span(&mut file, by_name[name], cs as u64, ce as u64, &mut inside).map_err(|e| {
                Error::in_file(fasta_path, format!("reading {name}:{cs}-{ce} through {}: {e}", fai_path.display()))
            })?;
        }
        out.push(cut_window(&inside, cs, (ws, we), clen, iv, bed_path, length.is_some())?);
    }
    Ok((out, matched.aliases))
}

/// Read reference bases [start, end) of one `.fai` record, skipping line breaks.
fn read_span<R: BufRead + Seek>(
    file: &mut R,
    rec: &fasta::fai::Record,
    start: u64,
    end: u64,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let line_bases = rec.line_base_count().get();
    let line_width = rec.line_width().get();
    let offset = rec.position() + (start / line_bases) * line_width + start % line_bases;
    file.seek(SeekFrom::Start(offset))?;
    let want = (end - start) as usize;
    while out.len() < want {
        let buf = file.fill_buf()?;
        if buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "index points past the end of the file (stale .fai?)",
            ));
        }
        let mut used = 0;
        for &b in buf {
            used += 1;
            if b == b'\n' || b == b'\r' {
                continue;
            }
            if b == b'>' {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "index points into the next record (stale .fai?)",
                ));
            }
            out.push(b);
            if out.len() == want {
                break;
            }
        }
        file.consume(used);
    }
    Ok(())
}
