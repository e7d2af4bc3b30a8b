//! NumPy tensors: `.npz` archives (a zip of `.npy` arrays) and lone `.npy` files, little-endian,
//! C order (docs/data-contracts.md).
//!
//! Reading never needs a whole array in memory: [`NpzFile::array`] opens one member and reads any
//! range of its rows (leading-axis slices). A stored (uncompressed, `numpy.savez`) member is read
//! in place by file offset, in any order; a deflated one (`numpy.savez_compressed`) is streamed,
//! and a read before the current position restarts the stream. Elements may be float32, float16,
//! uint8 or float64 ([`Dtype`]); readers always give float32.
//!
//! Writing goes member by member through [`NpzWriter`]: whole arrays with [`NpzWriter::add`], or
//! rows as they are computed with [`NpzWriter::begin`], so a writer too holds one batch at a time.
//! Archives are deterministic: every entry carries the zip epoch timestamp (1980-01-01) and fixed
//! permissions, so the same arrays give byte-identical files.
//!
//! The zip container is the `zip` crate's and the `.npy` header is `ndarray-npy`'s; what is
//! written here is the row access (neither crate reads part of a member) and the element codecs.

use std::fs::File;
use std::io::{Cursor, Read, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use ndarray_npy::npy::header::{Header, Layout as NpyLayout};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::atomic::AtomicFile;
use crate::dtype::Dtype;
use crate::error::{Error, IoResultExt, Result};

/// A named float32 array to store in an archive.
pub type NamedArray<'a> = (&'a str, ArrayViewD<'a, f32>);

/// The longest `.npy` header accepted (numpy writes under 200 bytes; this bounds what a corrupt
/// length field can make a reader allocate).
const MAX_HEADER_BYTES: usize = 1 << 16;

fn entry_options(compress: bool, bytes: u64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(if compress { CompressionMethod::Deflated } else { CompressionMethod::Stored })
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
        // zip64 records are needed past 4 GiB; numpy reads both.
        .large_file(bytes >= u64::from(u32::MAX) / 2)
}

fn npy_header(shape: &[usize], dtype: Dtype) -> Result<Vec<u8>> {
    let header = Header {
        type_descriptor: py_literal::Value::String(dtype.descr().to_owned()),
        layout: NpyLayout::Standard,
        shape: shape.to_vec(),
    };
    header.to_bytes().map_err(|e| Error::runtime(format!("formatting an .npy header: {e}")))
}

/// Writes an `.npz` archive member by member.
pub struct NpzWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    compress: bool,
    member: Option<Member>,
    buffer: Vec<u8>,
}

/// The member being written.
struct Member {
    name: String,
    dtype: Dtype,
    row_len: usize,
    written: usize,
    total: usize,
}

impl<W: Write + Seek> NpzWriter<W> {
    /// A new archive on `writer`; `compress` deflates every member (numpy.savez_compressed)
    /// instead of storing it (numpy.savez).
    pub fn new(writer: W, compress: bool) -> Self {
        Self { zip: ZipWriter::new(writer), compress, member: None, buffer: Vec::new() }
    }

    /// Add a whole array, stored as `dtype`.
    pub fn add(&mut self, name: &str, array: ArrayViewD<'_, f32>, dtype: Dtype) -> Result<()> {
        self.begin(name, array.shape(), dtype)?;
        match array.as_slice() {
            Some(values) => self.write(values)?,
            None => self.write(&array.iter().copied().collect::<Vec<_>>())?,
        }
        self.end()
    }

    /// Start a member of the given shape; its values follow in C order through
    /// [`write`](Self::write), and [`end`](Self::end) closes it before the next one begins.
    pub fn begin(&mut self, name: &str, shape: &[usize], dtype: Dtype) -> Result<()> {
        if let Some(open) = &self.member {
            return Err(Error::runtime(format!("internal: array '{name}' begun before '{}' ended", open.name)));
        }
        let elements = element_count(shape).ok_or_else(|| Error::runtime(format!("array '{name}' is too large")))?;
        let header = npy_header(shape, dtype)?;
        let bytes = (elements * dtype.size() + header.len()) as u64;
        self.zip
            .start_file(format!("{name}.npy"), entry_options(self.compress, bytes))
            .map_err(|e| Error::runtime(format!("writing array '{name}': {e}")))?;
        self.zip.write_all(&header).map_err(|e| Error::runtime(format!("writing array '{name}': {e}")))?;
        let row_len = shape.iter().skip(1).product::<usize>().max(1);
        self.member = Some(Member { name: name.to_owned(), dtype, row_len, written: 0, total: elements });
        Ok(())
    }

    /// Append values to the open member (float32, converted to its type). A value the type
    /// cannot hold is a usage error naming the array, its row and the value.
    pub fn write(&mut self, values: &[f32]) -> Result<()> {
        let member = self.member.as_mut().ok_or_else(|| Error::runtime("internal: no array begun"))?;
        if member.written + values.len() > member.total {
            return Err(Error::runtime(format!(
                "internal: array '{}' was declared with {} values; {} were written",
                member.name,
                member.total,
                member.written + values.len()
            )));
        }
        self.buffer.clear();
        if let Err(i) = member.dtype.encode_into(values, &mut self.buffer) {
            let row = (member.written + i) / member.row_len;
            return Err(Error::usage(format!(
                "array '{}' row {} holds {}, which --dtype {} cannot store ({} only); use a wider --dtype",
                member.name,
                row + 1,
                values[i],
                member.dtype.name(),
                member.dtype.holds()
            )));
        }
        self.zip
            .write_all(&self.buffer)
            .map_err(|e| Error::runtime(format!("writing array '{}': {e}", member.name)))?;
        member.written += values.len();
        Ok(())
    }

    /// Close the open member after checking that every declared value was written (with a
    /// flush, as `ndarray-npy` ends a member; in a deflated member that is a sync point, so the
    /// bytes match its archives).
    pub fn end(&mut self) -> Result<()> {
        let member = self.member.take().ok_or_else(|| Error::runtime("internal: no array begun"))?;
        if member.written != member.total {
            return Err(Error::runtime(format!(
                "internal: array '{}' was declared with {} values; only {} were written",
                member.name, member.total, member.written
            )));
        }
        self.zip.flush().map_err(|e| Error::runtime(format!("writing array '{}': {e}", member.name)))
    }

    /// Write the central directory; returns the underlying writer.
    pub fn finish(self) -> Result<W> {
        if let Some(open) = &self.member {
            return Err(Error::runtime(format!("internal: array '{}' was not ended", open.name)));
        }
        self.zip.finish().map_err(|e| Error::runtime(format!("finishing npz archive: {e}")))
    }
}

/// Write float32 `arrays` into an `.npz` archive on any seekable writer.
pub fn write_npz_to<W: Write + Seek>(writer: W, arrays: &[NamedArray<'_>], compress: bool) -> Result<W> {
    let mut npz = NpzWriter::new(writer, compress);
    for (name, array) in arrays {
        npz.add(name, array.view(), Dtype::Float32)?;
    }
    npz.finish()
}

/// Add an `.npz` archive of float32 arrays to an atomic output.
pub fn write_npz(out: &mut AtomicFile, arrays: &[NamedArray<'_>], compress: bool) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    write_npz_to(&mut w, arrays, compress).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    w.flush().with_path(&path)
}

/// Write one float32 array as a lone `.npy` file (what TF-MoDISco reads for `-s`/`-a`).
pub fn write_npy(out: &mut AtomicFile, array: ArrayViewD<'_, f32>) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    w.write_all(&npy_header(array.shape(), Dtype::Float32)?).with_path(&path)?;
    let mut bytes = Vec::new();
    Dtype::Float32.encode_into(&array.as_standard_layout().iter().copied().collect::<Vec<_>>(), &mut bytes).ok();
    w.write_all(&bytes).with_path(&path)?;
    w.flush().with_path(&path)
}

/// Produces rows `range` of an array being written, appending their values (C order) to the
/// buffer.
pub type FillRows<'a> = &'a (dyn Fn(Range<usize>, &mut Vec<f32>) -> Result<()> + Sync);

/// Values made and written at a time by [`write_npy_rows`] and the dataset writers (4 MiB of
/// float32); whole rows, at least one.
const FILL_VALUES: usize = 1 << 20;

/// Rows per chunk when each row holds `row_len` values.
pub fn fill_chunk_rows(row_len: usize) -> usize {
    (FILL_VALUES / row_len.max(1)).max(1)
}

/// Write a lone float32 `.npy` of `shape` whose rows `fill` makes a chunk at a time.
pub fn write_npy_rows(out: &mut AtomicFile, shape: &[usize], fill: FillRows<'_>) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    w.write_all(&npy_header(shape, Dtype::Float32)?).with_path(&path)?;
    let rows = shape.first().copied().unwrap_or(1);
    let chunk = fill_chunk_rows(shape.iter().skip(1).product());
    let (mut values, mut bytes) = (Vec::new(), Vec::new());
    for start in (0..rows).step_by(chunk) {
        values.clear();
        bytes.clear();
        fill(start..(start + chunk).min(rows), &mut values)?;
        Dtype::Float32.encode_into(&values, &mut bytes).expect("float32 holds every value");
        w.write_all(&bytes).with_path(&path)?;
    }
    w.flush().with_path(&path)
}

fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// Where one member's bytes lie in the archive.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    deflated: bool,
    data_start: u64,
    compressed_size: u64,
    size: u64,
    crc32: u32,
}

/// An opened `.npz` archive: its member index, read once.
pub struct NpzFile {
    path: PathBuf,
    file: Arc<File>,
    entries: Vec<Entry>,
}

impl NpzFile {
    /// Open an archive, with an error naming the file if it is not a readable zip of `.npy`
    /// members (stored or deflated).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).with_path(&path)?;
        let bad = |e: &dyn std::fmt::Display| Error::in_file(&path, format!("not a readable .npz archive: {e}"));
        let mut zip = ZipArchive::new(file.try_clone().with_path(&path)?).map_err(|e| bad(&e))?;
        let mut entries = Vec::with_capacity(zip.len());
        for i in 0..zip.len() {
            let member = zip.by_index_raw(i).map_err(|e| bad(&e))?;
            let Some(name) = member.name().strip_suffix(".npy").map(str::to_owned) else {
                continue;
            };
            let deflated = match member.compression() {
                CompressionMethod::Stored => false,
                CompressionMethod::Deflated => true,
                other => {
                    return Err(Error::in_file(
                        &path,
                        format!(
                            "array '{name}' is compressed with {other}; expected stored or deflate (numpy.savez / savez_compressed)"
                        ),
                    ));
                }
            };
            if member.encrypted() {
                return Err(Error::in_file(&path, format!("array '{name}' is encrypted")));
            }
            entries.push(Entry {
                name,
                deflated,
                data_start: member.data_start(),
                compressed_size: member.compressed_size(),
                size: member.size(),
                crc32: member.crc32(),
            });
        }
        let length = file.metadata().with_path(&path)?.len();
        if let Some(e) = entries.iter().find(|e| {
            e.data_start.saturating_add(e.compressed_size) > length || (!e.deflated && e.size != e.compressed_size)
        }) {
            return Err(Error::in_file(
                &path,
                format!("array '{}' claims more bytes than the file holds (truncated or corrupt archive)", e.name),
            ));
        }
        Ok(NpzFile { path, file: Arc::new(file), entries })
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the arrays in the archive (without `.npy`), in archive order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// Whether the archive holds an array called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// Open the array `name` for reading rows.
    pub fn array(&self, name: &str) -> Result<NpyArray> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::in_file(&self.path, format!("has no array '{name}'")))?
            .clone();
        NpyArray::open(self.path.clone(), self.file.clone(), entry)
    }

    /// Read the whole array `name` (any rank) as float32, checking the member's CRC.
    pub fn read_f32(&self, name: &str) -> Result<ArrayD<f32>> {
        self.array(name)?.read_all()
    }
}

/// `buf.len()` bytes (or fewer) of `file` from `offset`, without a shared cursor, so that several
/// readers of one archive can read it at once.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// `buf.len()` bytes (or fewer) of `file` from `offset` (Windows moves the handle's cursor, which
/// no reader here relies on).
#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Fill `buf` from `file` at `offset`, or fail on a short file.
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads a member's bytes at absolute file offsets (shared by every reader of one archive).
struct ReadAt {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.file, &mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The decompressed bytes of a member, from its start.
type MemberStream = Box<dyn Read + Send>;

fn member_stream(file: &Arc<File>, entry: &Entry) -> MemberStream {
    let raw = ReadAt { file: file.clone(), pos: entry.data_start, end: entry.data_start + entry.compressed_size };
    if entry.deflated {
        Box::new(flate2::read::DeflateDecoder::new(std::io::BufReader::with_capacity(1 << 16, raw)))
    } else {
        Box::new(raw)
    }
}

/// Where the next sequential read of a deflated member continues.
struct StreamPosition {
    stream: MemberStream,
    next_row: usize,
}

/// One array of an archive, open for reading ranges of rows as float32.
pub struct NpyArray {
    path: PathBuf,
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    row_len: usize,
    header_len: u64,
    file: Arc<File>,
    entry: Entry,
    stream: Mutex<Option<StreamPosition>>,
}

impl NpyArray {
    fn open(path: PathBuf, file: Arc<File>, entry: Entry) -> Result<Self> {
        let name = entry.name.clone();
        let bad = |message: String| Error::in_file(&path, format!("array '{name}': {message}"));
        let mut stream = member_stream(&file, &entry);
        let (header, header_len) = read_header(&mut stream).map_err(bad)?;
        let descr = match &header.type_descriptor {
            py_literal::Value::String(s) => s.clone(),
            other => format!("{other}"),
        };
        let dtype = Dtype::from_descr(&descr).ok_or_else(|| {
            bad(format!("elements are '{descr}'; expected little-endian float32, float16, uint8 or float64"))
        })?;
        if header.layout.is_fortran() && header.shape.iter().filter(|&&d| d > 1).count() > 1 {
            return Err(bad("is stored in Fortran order; save it in C order (numpy.ascontiguousarray)".into()));
        }
        let elements = element_count(&header.shape).ok_or_else(|| bad("its shape overflows".into()))?;
        let payload =
            (elements as u64).checked_mul(dtype.size() as u64).ok_or_else(|| bad("its shape overflows".into()))?;
        if header_len + payload > entry.size {
            return Err(bad(format!(
                "shape {:?} of {} needs {} bytes but the member holds {} (truncated or corrupt archive)",
                header.shape,
                dtype.name(),
                header_len + payload,
                entry.size
            )));
        }
        let row_len = header.shape.iter().skip(1).product::<usize>();
        Ok(NpyArray {
            path,
            name,
            dtype,
            shape: header.shape,
            row_len,
            header_len,
            file,
            entry,
            stream: Mutex::new(None),
        })
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// How its elements are stored.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Rows (length of the leading axis; 1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Values per row (product of the trailing axes).
    pub fn row_len(&self) -> usize {
        if self.shape.is_empty() { 1 } else { self.row_len }
    }

    fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::in_file(&self.path, format!("array '{}': {message}", self.name))
    }

    /// Rows `range` as float32, flattened in C order (`range.len() * row_len()` values).
    pub fn read_rows(&self, range: Range<usize>) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        self.read_rows_into(range, &mut out)?;
        Ok(out)
    }

    /// Like [`read_rows`](Self::read_rows), appending to `out` (whose capacity is reused).
    pub fn read_rows_into(&self, range: Range<usize>, out: &mut Vec<f32>) -> Result<()> {
        if range.start > range.end || range.end > self.rows() {
            return Err(Error::runtime(format!(
                "internal: rows {}..{} of array '{}' asked for; it has {}",
                range.start,
                range.end,
                self.name,
                self.rows()
            )));
        }
        let row_bytes = self.row_len() * self.dtype.size();
        let wanted = range.len() as u64 * row_bytes as u64;
        let mut bytes = Vec::new();
        if self.entry.deflated {
            let mut guard = self.stream.lock().unwrap_or_else(|p| p.into_inner());
            if guard.as_ref().is_none_or(|s| s.next_row > range.start) {
                let mut stream = member_stream(&self.file, &self.entry);
                read_header(&mut stream).map_err(|e| self.error(e))?;
                *guard = Some(StreamPosition { stream, next_row: 0 });
            }
            let position = guard.as_mut().expect("stream opened above");
            let skip = (range.start - position.next_row) as u64 * row_bytes as u64;
            let skipped = std::io::copy(&mut (&mut position.stream).take(skip), &mut std::io::sink());
            // The buffer grows with what actually decompresses: a corrupt size cannot make it
            // allocate more than the data holds.
            let read = skipped.and_then(|n| {
                if n < skip || (&mut position.stream).take(wanted).read_to_end(&mut bytes)? as u64 != wanted {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                } else {
                    Ok(())
                }
            });
            if let Err(e) = read {
                *guard = None;
                return Err(self.error(format!("cannot decompress rows {}..{}: {e}", range.start + 1, range.end)));
            }
            position.next_row = range.end;
        } else {
            // Stored members lie inside the file (checked on open), so `wanted` is bounded by it.
            bytes.resize(wanted as usize, 0);
            let offset = self.entry.data_start + self.header_len + range.start as u64 * row_bytes as u64;
            read_exact_at(&self.file, &mut bytes, offset)
                .map_err(|e| self.error(format!("cannot read rows {}..{}: {e}", range.start + 1, range.end)))?;
        }
        out.clear();
        out.reserve(range.len() * self.row_len());
        self.dtype.decode_into(&bytes, out);
        Ok(())
    }

    /// The whole array as float32, after checking the member's CRC-32 against the archive's.
    pub fn read_all(&self) -> Result<ArrayD<f32>> {
        let mut stream = member_stream(&self.file, &self.entry);
        let mut bytes = Vec::new();
        stream
            .by_ref()
            .take(self.entry.size)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(format!("cannot read: {e}")))?;
        if crc32fast::hash(&bytes) != self.entry.crc32 {
            return Err(self.error("fails its CRC-32 check (corrupt archive)"));
        }
        let (start, len) = (self.header_len as usize, self.rows() * self.row_len() * self.dtype.size());
        let Some(payload) = bytes.get(start..start + len) else {
            return Err(self.error("ends early (truncated archive)"));
        };
        let mut values = Vec::with_capacity(self.rows() * self.row_len());
        self.dtype.decode_into(payload, &mut values);
        ArrayD::from_shape_vec(IxDyn(&self.shape), values).map_err(|e| self.error(e))
    }
}

/// Parse a `.npy` header from the start of `stream`; returns it and its length in bytes.
fn read_header(stream: &mut MemberStream) -> std::result::Result<(Header, u64), String> {
    let mut prefix = [0u8; 10];
    stream.read_exact(&mut prefix).map_err(|e| format!("cannot read its .npy header: {e}"))?;
    if &prefix[..6] != b"\x93NUMPY" {
        return Err("is not an .npy array (no \\x93NUMPY magic)".into());
    }
    let mut all = prefix.to_vec();
    let length = match prefix[6] {
        1 => usize::from(u16::from_le_bytes([prefix[8], prefix[9]])),
        2 | 3 => {
            let mut rest = [0u8; 2];
            stream.read_exact(&mut rest).map_err(|e| format!("cannot read its .npy header: {e}"))?;
            all.extend_from_slice(&rest);
            u32::from_le_bytes([prefix[8], prefix[9], rest[0], rest[1]]) as usize
        }
        v => return Err(format!("has .npy format version {v}; expected 1, 2 or 3")),
    };
    if length > MAX_HEADER_BYTES {
        return Err(format!(".npy header of {length} bytes is implausible (corrupt archive)"));
    }
    let prefix_len = all.len();
    all.resize(prefix_len + length, 0);
    stream.read_exact(&mut all[prefix_len..]).map_err(|e| format!("cannot read its .npy header: {e}"))?;
    let header = Header::from_reader(&mut Cursor::new(&all)).map_err(|e| format!("bad .npy header: {e}"))?;
    Ok((header, (prefix_len + length) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    fn write(path: &Path, arrays: &[(&str, ArrayViewD<'_, f32>, Dtype)], compress: bool) {
        let mut f = AtomicFile::create(path).unwrap();
        {
            let mut w = f.buffered();
            let mut npz = NpzWriter::new(&mut w, compress);
            for (name, a, dtype) in arrays {
                npz.add(name, a.view(), *dtype).unwrap();
            }
            npz.finish().unwrap();
            w.flush().unwrap();
        }
        f.commit().unwrap();
    }

    #[test]
    fn round_trip_and_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let x = Array3::<f32>::from_shape_fn((2, 4, 3), |(n, c, l)| (n * 100 + c * 10 + l) as f32).into_dyn();
        let y = ArrayD::<f32>::from_shape_vec(IxDyn(&[2, 1]), vec![1.0, 0.0]).unwrap();
        for compress in [false, true] {
            let p = dir.path().join(format!("d{compress}.npz"));
            let mut f = AtomicFile::create(&p).unwrap();
            write_npz(&mut f, &[("x", x.view()), ("y", y.view())], compress).unwrap();
            f.commit().unwrap();
            let r = NpzFile::open(&p).unwrap();
            assert_eq!(r.names(), vec!["x", "y"]);
            assert_eq!(r.read_f32("x").unwrap(), x);
            assert_eq!(r.read_f32("y").unwrap(), y);
            assert!(r.read_f32("z").unwrap_err().to_string().contains("has no array 'z'"));
            // The same arrays through ndarray-npy's own writer give the same bytes.
            let reference = dir.path().join(format!("ref{compress}.npz"));
            let mut w =
                ndarray_npy::NpzWriter::new_with_options(File::create(&reference).unwrap(), entry_options(compress, 0));
            w.add_array_with_options("x", &x, entry_options(compress, 0)).unwrap();
            w.add_array_with_options("y", &y, entry_options(compress, 0)).unwrap();
            w.finish().unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&reference).unwrap(), "compress {compress}");
        }
    }

    #[test]
    fn rows_in_any_order_from_stored_and_deflated_members_of_every_dtype() {
        let dir = tempfile::tempdir().unwrap();
        let x = Array3::<f32>::from_shape_fn((7, 4, 5), |(n, c, l)| ((n + c + l) % 2) as f32).into_dyn();
        let y = Array2::<f32>::from_shape_fn((7, 2), |(n, k)| n as f32 * 0.5 + k as f32).into_dyn();
        for compress in [false, true] {
            for dtype in [Dtype::Float32, Dtype::Float16, Dtype::Uint8] {
                let p = dir.path().join(format!("{compress}{dtype:?}.npz"));
                write(&p, &[("x", x.view(), dtype), ("y", y.view(), Dtype::Float32)], compress);
                let npz = NpzFile::open(&p).unwrap();
                let a = npz.array("x").unwrap();
                assert_eq!((a.shape(), a.dtype(), a.rows(), a.row_len()), (&[7, 4, 5][..], dtype, 7, 20));
                let flat: Vec<f32> = x.iter().copied().collect();
                for range in [3..5, 0..2, 5..7, 6..6, 0..7, 2..3] {
                    assert_eq!(a.read_rows(range.clone()).unwrap(), flat[range.start * 20..range.end * 20]);
                }
                assert!(a.read_rows(5..8).is_err());
                assert_eq!(npz.read_f32("x").unwrap(), x);
                assert_eq!(npz.read_f32("y").unwrap(), y);
            }
        }
    }

    #[test]
    fn a_value_the_dtype_cannot_hold_names_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create(dir.path().join("a.npz")).unwrap();
        let mut w = f.buffered();
        let mut npz = NpzWriter::new(&mut w, false);
        npz.begin("x", &[3, 2], Dtype::Uint8).unwrap();
        npz.write(&[0.0, 1.0, 1.0, 0.0]).unwrap();
        let e = npz.write(&[0.25, 0.0]).unwrap_err().to_string();
        assert!(e.contains("array 'x' row 3 holds 0.25") && e.contains("uint8"), "{e}");
    }

    #[test]
    fn corrupt_members_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let x = Array2::<f32>::from_shape_fn((50, 8), |(n, c)| (n * c) as f32).into_dyn();
        let p = dir.path().join("c.npz");
        write(&p, &[("x", x.view(), Dtype::Float32)], false);
        let mut bytes = std::fs::read(&p).unwrap();
        // Flip one payload byte: a whole read fails the CRC; a row read gives other numbers.
        bytes[200] ^= 0x40;
        std::fs::write(&p, &bytes).unwrap();
        let e = NpzFile::open(&p).unwrap().read_f32("x").unwrap_err().to_string();
        assert!(e.contains("CRC-32"), "{e}");
        // A header claiming a larger shape than the member holds.
        let at = bytes.windows(7).position(|w| w == b"(50, 8)").unwrap();
        bytes[at + 1] = b'9';
        std::fs::write(&p, &bytes).unwrap();
        let e = NpzFile::open(&p).unwrap().array("x").map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("needs") && e.contains("truncated"), "{e}");
    }
}
