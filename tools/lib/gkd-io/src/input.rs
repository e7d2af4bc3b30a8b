//! Opening inputs: paths or `-` for stdin, with gzip and BGZF detected from the first bytes
//! rather than from the file name (docs/architecture.md §3).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::error::{IoResultExt, Result};

/// How an input's bytes are encoded, as detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    Plain,
    /// gzip (one or several members).
    Gzip,
    /// Blocked gzip (BGZF, as made by `bgzip`): gzip members with a `BC` extra field.
    Bgzf,
}

/// Detect the compression of a byte prefix (BGZF is told from its extra field, within the first 16 bytes).
pub fn detect(prefix: &[u8]) -> Compression {
    if prefix.len() >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b {
        // BGZF: FLG.FEXTRA set, XLEN=6, subfield id 'B''C'.
        if prefix.len() >= 16 && prefix[3] & 0x04 != 0 && prefix[12] == b'B' && prefix[13] == b'C' {
            Compression::Bgzf
        } else {
            Compression::Gzip
        }
    } else {
        Compression::Plain
    }
}

/// True when `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Open `path` (or stdin for `-`) for buffered reading, decompressing gzip and BGZF
/// transparently. Returns the reader and the detected compression.
pub fn open(path: &Path) -> Result<(Box<dyn BufRead + Send>, Compression)> {
    let raw: Box<dyn Read + Send> =
        if is_stdin(path) { Box::new(io::stdin()) } else { Box::new(File::open(path).with_path(path)?) };
    let mut buffered = BufReader::with_capacity(1 << 20, raw);
    let prefix = buffered.fill_buf().with_path(path)?;
    let compression = detect(prefix);
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::Plain => Box::new(buffered),
        // BGZF is a series of gzip members, so a multi-member gzip decoder reads it whole.
        Compression::Gzip | Compression::Bgzf => {
            Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(buffered)))
        }
    };
    Ok((reader, compression))
}

/// Read a whole input (decompressed) into memory.
pub fn read_all(path: &Path) -> Result<Vec<u8>> {
    let (mut reader, _) = open(path)?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).with_path(path)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_and_reads_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"ACGT\n").unwrap();
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
        let (mut r, c) = open(&p).unwrap();
        assert_eq!(c, Compression::Gzip);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "ACGT\n");
    }

    #[test]
    fn plain_is_plain() {
        assert_eq!(detect(b">chr1\nACGT"), Compression::Plain);
    }
}
