//! FASTA records through noodles, from plain, gzip or BGZF input (detected from the bytes),
//! with every problem reported against the file and the 1-based record number.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::input;
use noodles::fasta;

/// One FASTA record: the id (first word of the header), the rest of the header, and the
/// sequence with line breaks removed (case kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastaRecord {
    /// First whitespace-delimited word after `>`.
    pub id: String,
    /// The rest of the header line, if any.
    pub description: Option<String>,
    /// Bases, line breaks removed.
    pub seq: Vec<u8>,
}

/// A checked FASTA reader. Iterating yields records or the first error.
pub struct FastaReader {
    path: PathBuf,
    reader: fasta::io::Reader<Box<dyn BufRead + Send>>,
    record: u64,
    seen: Option<HashSet<String>>,
    done: bool,
}

impl FastaReader {
    /// Open `path` (`-` for stdin). With `unique_ids`, a repeated id is an error.
    /// Leading `#` comment lines (as in RegulonDB / logomaker site files) are skipped.
    pub fn open(path: &Path, unique_ids: bool) -> Result<Self> {
        let (mut inner, _) = input::open(path)?;
        loop {
            let buf = inner.fill_buf().with_path(path)?;
            if buf.first() != Some(&b'#') {
                break;
            }
            let mut comment = Vec::new();
            inner.read_until(b'\n', &mut comment).with_path(path)?;
        }
        Ok(FastaReader {
            path: path.to_path_buf(),
            reader: fasta::io::Reader::new(inner),
            record: 0,
            seen: unique_ids.then(HashSet::new),
            done: false,
        })
    }

    fn next_record(&mut self) -> Result<Option<FastaRecord>> {
        let mut definition = fasta::record::Definition::default();
        self.record += 1;
        let n = self.record;
        match self.reader.read_definition(&mut definition) {
            Ok(0) if n == 1 => {
                return Err(Error::in_file(&self.path, "is empty; expected FASTA records ('>' header lines)"));
            }
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::at_record(
                    &self.path,
                    n,
                    None,
                    "expected a header line starting with '>' (is this a FASTA file?)",
                ));
            }
        }
        let id = String::from_utf8_lossy(definition.name()).into_owned();
        if id.is_empty() {
            return Err(Error::at_record(&self.path, n, None, "header has no name after '>'"));
        }
        let mut seq = Vec::new();
        self.reader
            .read_sequence(&mut seq)
            .map_err(|e| Error::at_record(&self.path, n, Some(&id), format!("cannot read sequence: {e}")))?;
        if seq.is_empty() {
            return Err(Error::at_record(
                &self.path,
                n,
                Some(&id),
                "empty record: the header is followed by no sequence",
            ));
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(id.clone())
        {
            return Err(Error::at_record(&self.path, n, Some(&id), format!("duplicate id '{id}'; ids must be unique")));
        }
        let description = definition.description().map(|d| String::from_utf8_lossy(d).trim().to_owned());
        Ok(Some(FastaRecord { id, description, seq }))
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based number of the record last returned.
    pub fn record_number(&self) -> u64 {
        self.record
    }
}

impl Iterator for FastaReader {
    type Item = Result<FastaRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Read every record of a FASTA file.
pub fn read_all(path: &Path, unique_ids: bool) -> Result<Vec<FastaRecord>> {
    FastaReader::open(path, unique_ids)?.collect()
}

/// A FASTA file read by region through its index: the `.fai` beside it, or one built in memory
/// for an uncompressed file (a bgzip FASTA needs its `.fai` and `.gzi`, as samtools faidx makes).
pub struct IndexedFasta {
    path: PathBuf,
    reader: fasta::io::IndexedReader<fasta::io::BufReader<std::fs::File>>,
    sizes: Vec<(String, u64)>,
    /// The last span read (chromosome, start, bases): requests inside it are served from memory.
    cached: Option<(String, u64, Vec<u8>)>,
}

/// Bases read past a request's end when reads move forward along a chromosome (a sorted VCF's
/// windows), so that the ones that follow are served from memory: one BGZF block's worth, which a
/// bgzip FASTA decompresses for any read inside it anyway. Reads in no order, and reads this long
/// or longer (whole sequences), are read as asked and not kept twice.
const READ_AHEAD: u64 = 1 << 16;

impl IndexedFasta {
    /// Open `path` and its index.
    pub fn open(path: &Path) -> Result<Self> {
        std::fs::metadata(path).with_path(path)?;
        let mut fai = path.as_os_str().to_owned();
        fai.push(".fai");
        let index = if Path::new(&fai).exists() {
            fasta::fai::fs::read(&fai).map_err(|e| Error::in_file(&fai, format!("is not a FASTA index: {e}")))?
        } else {
            index_plain(path)?
        };
        let sizes =
            index.as_ref().iter().map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.length())).collect();
        let reader = fasta::io::indexed_reader::Builder::default()
            .set_index(index)
            .build_from_path(path)
            .map_err(|e| Error::in_file(path, format!("cannot be opened for reading by region: {e}")))?;
        Ok(Self { path: path.to_path_buf(), reader, sizes, cached: None })
    }

    /// Every sequence's name and length, in file order.
    pub fn sizes(&self) -> &[(String, u64)] {
        &self.sizes
    }

    /// The bases of `chrom` over the 0-based half-open `[start, end)` (non-empty, inside the
    /// sequence).
    pub fn fetch(&mut self, chrom: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        if let Some((c, at, bases)) = &self.cached
            && c == chrom
            && start >= *at
            && end <= at + bases.len() as u64
        {
            return Ok(bases[(start - at) as usize..(end - at) as usize].to_vec());
        }
        if end - start >= READ_AHEAD {
            return self.read(chrom, start, end);
        }
        let forward = self.cached.as_ref().is_some_and(|(c, at, _)| c == chrom && start >= *at);
        let size = self.sizes.iter().find(|(name, _)| name == chrom).map_or(end, |(_, n)| *n);
        let read_end = if forward { end.max((start + READ_AHEAD).min(size)) } else { end };
        let bases = self.read(chrom, start, read_end)?;
        let wanted = bases[..(end - start) as usize].to_vec();
        self.cached = Some((chrom.to_owned(), start, bases));
        Ok(wanted)
    }

    /// The bases of `chrom` over `[start, end)` read from the file.
    fn read(&mut self, chrom: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        let position = |p: u64| noodles::core::Position::try_from(p as usize).expect("1-based positions");
        let region = noodles::core::Region::new(chrom, position(start + 1)..=position(end));
        let record = self
            .reader
            .query(&region)
            .map_err(|e| Error::in_file(&self.path, format!("cannot read {chrom}:{start}-{end}: {e}")))?;
        let bases = record.sequence().as_ref();
        // An index that does not match the file (edited, or made for another version) can give
        // fewer bases, or line breaks, where the sequence should be.
        if bases.len() as u64 != end - start || bases.iter().any(|&b| b == b'\n' || b == b'\r' || b == b'>') {
            return Err(Error::in_file(
                &self.path,
                format!("{chrom}:{start}-{end} does not read back as {} bases: is its .fai out of date?", end - start),
            ));
        }
        Ok(bases.to_vec())
    }
}

/// A record of the index being built.
struct Indexing {
    name: String,
    length: u64,
    position: u64,
    line_bases: u64,
    line_width: u64,
    /// A line shorter than the first (or without its line break) was seen: it must be the last.
    short: bool,
    /// A blank line was seen: only blank lines may follow in this record.
    blank: bool,
}

/// Index an uncompressed FASTA as `samtools faidx` does. Hand-written because noodles' indexer
/// refuses blank lines after a record's sequence, which samtools accepts and real files have
/// (deepTools' phiX174 FASTA ends with one).
fn index_plain(path: &Path) -> Result<fasta::fai::Index> {
    use std::io::Read;
    let mut file = std::io::BufReader::new(std::fs::File::open(path).with_path(path)?);
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).with_path(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Err(Error::in_file(path, "is compressed: give a bgzip FASTA with its .fai and .gzi (samtools faidx)"));
    }
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).with_path(path)?);
    let mut records = Vec::new();
    let mut current: Option<Indexing> = None;
    let (mut offset, mut line_no, mut line) = (0u64, 0u64, Vec::new());
    let finish = |c: Indexing, records: &mut Vec<fasta::fai::Record>| -> Result<()> {
        let nonzero = |v: u64| std::num::NonZero::new(v);
        match (nonzero(c.line_bases), nonzero(c.line_width)) {
            (Some(bases), Some(width)) if c.length > 0 => {
                records.push(fasta::fai::Record::new(c.name, c.length, c.position, bases, width));
                Ok(())
            }
            _ => Err(Error::in_file(path, format!("sequence '{}' is empty", c.name))),
        }
    };
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).with_path(path)? as u64;
        if n == 0 {
            break;
        }
        line_no += 1;
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if let Some(header) = content.strip_prefix(b">") {
            if let Some(c) = current.take() {
                finish(c, &mut records)?;
            }
            let name = String::from_utf8_lossy(header).split_whitespace().next().unwrap_or("").to_owned();
            if name.is_empty() {
                return Err(Error::at_line(path, line_no, "header without a name"));
            }
            current = Some(Indexing {
                name,
                length: 0,
                position: offset + n,
                line_bases: 0,
                line_width: 0,
                short: false,
                blank: false,
            });
        } else if content.is_empty() {
            if let Some(c) = current.as_mut() {
                c.blank = c.length > 0;
            }
        } else {
            let Some(c) = current.as_mut() else {
                return Err(Error::at_line(path, line_no, "expected a '>' header line before the sequence"));
            };
            let bases = content.len() as u64;
            if c.line_bases == 0 {
                (c.line_bases, c.line_width) = (bases, n);
            } else if c.blank || c.short || bases > c.line_bases || (bases == c.line_bases && n > c.line_width) {
                return Err(Error::at_line(
                    path,
                    line_no,
                    format!(
                        "sequence '{}' has lines of different lengths (or blank lines inside): it cannot be read by region",
                        c.name
                    ),
                ));
            }
            c.short = bases < c.line_bases || n < c.line_width;
            c.length += bases;
        }
        offset += n;
    }
    if let Some(c) = current {
        finish(c, &mut records)?;
    }
    if records.is_empty() {
        return Err(Error::in_file(path, "holds no FASTA record"));
    }
    Ok(fasta::fai::Index::from(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.fa");
        std::fs::write(&p, content).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_multiline_and_keeps_case() {
        let (_d, p) = write(b">a first one\nACgt\nNN\n>b\r\nTT\r\n");
        let r = read_all(&p, true).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id, "a");
        assert_eq!(r[0].description.as_deref(), Some("first one"));
        assert_eq!(r[0].seq, b"ACgtNN");
        assert_eq!(r[1].seq, b"TT");
    }

    /// Reads served from the read-ahead span equal reads from a fresh reader, in any order, across
    /// sequences, up to each sequence's end, and for reads longer than the read-ahead.
    #[test]
    fn cached_reads_equal_fresh_reads() {
        let a: String = (0..200_000).map(|i| ['A', 'C', 'G', 'T'][(i * 7 + i / 3) % 4]).collect();
        let lines: Vec<String> = a.as_bytes().chunks(60).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let text = format!(">a\n{}\n>b\nGGGTTTACGT\n", lines.join("\n"));
        let (_d, p) = write(text.as_bytes());
        let mut cached = IndexedFasta::open(&p).unwrap();
        let requests = [
            ("a", 10, 210),
            ("a", 50, 250),
            ("a", 300, 400),
            ("a", 65_000, 65_600),
            ("b", 2, 9),
            ("a", 199_800, 200_000),
            ("a", 0, 5),
            ("a", 5, 100_000),
        ];
        for (chrom, start, end) in requests {
            let fresh = IndexedFasta::open(&p).unwrap().fetch(chrom, start, end).unwrap();
            assert_eq!(cached.fetch(chrom, start, end).unwrap(), fresh, "{chrom}:{start}-{end}");
            let want = if chrom == "a" {
                &a.as_bytes()[start as usize..end as usize]
            } else {
                &b"GGGTTTACGT"[start as usize..end as usize]
            };
            assert_eq!(fresh, want);
        }
    }

    #[test]
    fn regions_read_through_a_built_or_given_index() {
        let (d, p) = write(b">a\nACGTA\nCC\n>b desc\nGGGTTT\n");
        let mut f = IndexedFasta::open(&p).unwrap();
        assert_eq!(f.sizes(), &[("a".to_owned(), 7), ("b".to_owned(), 6)]);
        assert_eq!(f.fetch("a", 3, 7).unwrap(), b"TACC");
        assert_eq!(f.fetch("b", 0, 6).unwrap(), b"GGGTTT");
        // samtools faidx's index of the same file (blank lines after a sequence are allowed).
        let (_e, q) = write(b">a\nACGTA\nCC\n\n>b desc\r\nGGGT\r\nTT\r\n\n");
        let index: Vec<(String, u64, u64, u64, u64)> = index_plain(&q)
            .unwrap()
            .as_ref()
            .iter()
            .map(|r| {
                let name = String::from_utf8_lossy(r.name()).into_owned();
                (name, r.length(), r.position(), r.line_base_count().get(), r.line_width().get())
            })
            .collect();
        assert_eq!(index, vec![("a".into(), 7, 3, 5, 6), ("b".into(), 6, 22, 4, 6)]);
        for bad in [&b">a\nACG\nACGT\n"[..], b">a\nACGT\nAC\nAC\n", b">a\nACGT\n\nACGT\n", b"ACGT\n", b">a\n>b\nAC\n"] {
            let (_e, q) = write(bad);
            assert!(index_plain(&q).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // A stale .fai (sequence "a" said to be longer, on longer lines) is refused, not trusted.
        std::fs::write(d.path().join("t.fa.fai"), "a\t9\t3\t7\t8\nb\t6\t19\t6\t7\n").unwrap();
        let mut f = IndexedFasta::open(&p).unwrap();
        let e = f.fetch("a", 0, 9).unwrap_err().to_string();
        assert!(e.contains("does not read back as 9 bases"), "{e}");
    }

    #[test]
    fn errors_name_the_record() {
        let (_d, p) = write(b"ACGT\n");
        assert!(read_all(&p, true).unwrap_err().to_string().contains("record 1: expected a header line"));
        let (_d, p) = write(b">a\nAC\n>b\n>c\nGG\n");
        assert!(read_all(&p, true).unwrap_err().to_string().contains("record 2 ('b'): empty record"));
        let (_d, p) = write(b"# comment\n#\n>a\nAC\n>a\nGG\n");
        assert!(read_all(&p, true).unwrap_err().to_string().contains("record 2 ('a'): duplicate id"));
        assert_eq!(read_all(&p, false).unwrap().len(), 2);
    }
}
