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
}

impl IndexedFasta {
    /// Open `path` and its index.
    pub fn open(path: &Path) -> Result<Self> {
        std::fs::metadata(path).with_path(path)?;
        let mut fai = path.as_os_str().to_owned();
        fai.push(".fai");
        let index = if Path::new(&fai).exists() {
            fasta::fai::fs::read(&fai).map_err(|e| Error::in_file(&fai, format!("is not a FASTA index: {e}")))?
        } else {
            fasta::fs::index(path).map_err(|e| {
                Error::in_file(
                    path,
                    format!("cannot be indexed ({e}); for a bgzip FASTA give its .fai (samtools faidx)"),
                )
            })?
        };
        let sizes =
            index.as_ref().iter().map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.length())).collect();
        let reader = fasta::io::indexed_reader::Builder::default()
            .set_index(index)
            .build_from_path(path)
            .map_err(|e| Error::in_file(path, format!("cannot be opened for reading by region: {e}")))?;
        Ok(Self { path: path.to_path_buf(), reader, sizes })
    }

    /// Every sequence's name and length, in file order.
    pub fn sizes(&self) -> &[(String, u64)] {
        &self.sizes
    }

    /// The bases of `chrom` over the 0-based half-open `[start, end)` (non-empty, inside the
    /// sequence).
    pub fn fetch(&mut self, chrom: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        let position = |p: u64| noodles::core::Position::try_from(p as usize).expect("1-based positions");
        let region = noodles::core::Region::new(chrom, position(start + 1)..=position(end));
        let record = self
            .reader
            .query(&region)
            .map_err(|e| Error::in_file(&self.path, format!("cannot read {chrom}:{start}-{end}: {e}")))?;
        Ok(record.sequence().as_ref().to_vec())
    }
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
