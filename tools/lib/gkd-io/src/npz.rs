//! NumPy tensors: `.npz` archives (a zip of `.npy` v1.0 arrays) and lone `.npy` files,
//! float32, little-endian, C order (docs/data-contracts.md), through `ndarray-npy` and `zip`.
//!
//! Archives are deterministic: every entry carries the zip epoch timestamp (1980-01-01) and
//! fixed permissions, so the same arrays give byte-identical files.

use std::fs::File;
use std::io::{BufReader, Seek, Write};
use std::path::Path;

use ndarray::{ArrayD, ArrayViewD};
use ndarray_npy::{NpzReader, NpzWriter, WriteNpyExt};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime};

use crate::atomic::AtomicFile;
use crate::error::{Error, IoResultExt, Result};

/// A named float32 array to store in an archive.
pub type NamedArray<'a> = (&'a str, ArrayViewD<'a, f32>);

fn entry_options(compress: bool, bytes: usize) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(if compress { CompressionMethod::Deflated } else { CompressionMethod::Stored })
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
        // zip64 records are needed past 4 GiB; numpy reads both.
        .large_file(bytes >= u32::MAX as usize / 2)
}

/// Write `arrays` into an `.npz` archive on any seekable writer.
pub fn write_npz_to<W: Write + Seek>(writer: W, arrays: &[NamedArray<'_>], compress: bool) -> Result<W> {
    let mut npz = NpzWriter::new_with_options(writer, entry_options(compress, 0));
    for (name, array) in arrays {
        let opts = entry_options(compress, array.len() * 4);
        // C order on disk: a copy only for arrays that are not already in standard layout.
        if let Err(e) = npz.add_array_with_options(*name, &array.as_standard_layout(), opts) {
            // The archive is abandoned (its temporary file goes too): skip the zip writer's drop,
            // which would try to finish it and print a second error of its own to stderr.
            std::mem::forget(npz);
            return Err(Error::runtime(format!("writing array '{name}': {e}")));
        }
    }
    npz.finish().map_err(|e| Error::runtime(format!("finishing npz archive: {e}")))
}

/// Add an `.npz` archive to an atomic output.
pub fn write_npz(out: &mut AtomicFile, arrays: &[NamedArray<'_>], compress: bool) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    write_npz_to(&mut w, arrays, compress).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    w.flush().with_path(&path)
}

/// Write one array as a lone `.npy` file (what TF-MoDISco reads for `-s`/`-a`).
pub fn write_npy(out: &mut AtomicFile, array: ArrayViewD<'_, f32>) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    array.as_standard_layout().write_npy(&mut w).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    w.flush().with_path(&path)
}

/// An opened `.npz` archive for reading float32 arrays by name.
pub struct NpzFile {
    path: std::path::PathBuf,
    reader: NpzReader<BufReader<File>>,
}

impl NpzFile {
    /// Open an archive, with an error naming the file if it is not a readable zip.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).with_path(&path)?;
        let reader = NpzReader::new(BufReader::new(file))
            .map_err(|e| Error::in_file(&path, format!("not a readable .npz archive: {e}")))?;
        Ok(NpzFile { path, reader })
    }

    /// The names of the arrays in the archive (without `.npy`).
    pub fn names(&mut self) -> Result<Vec<String>> {
        self.reader.names().map_err(|e| Error::in_file(&self.path, format!("cannot list arrays: {e}")))
    }

    /// Whether the archive holds an array called `name`.
    pub fn contains(&mut self, name: &str) -> Result<bool> {
        Ok(self.names()?.iter().any(|n| n == name))
    }

    /// Read the float32 array `name` (any rank).
    pub fn read_f32(&mut self, name: &str) -> Result<ArrayD<f32>> {
        if !self.contains(name)? {
            return Err(Error::in_file(&self.path, format!("has no array '{name}'")));
        }
        self.reader
            .by_name(name)
            .map_err(|e| Error::in_file(&self.path, format!("array '{name}': expected float32 little-endian: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, IxDyn};

    #[test]
    fn round_trip_and_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let x = Array3::<f32>::from_shape_fn((2, 4, 3), |(n, c, l)| (n * 100 + c * 10 + l) as f32).into_dyn();
        let y = ArrayD::<f32>::from_shape_vec(IxDyn(&[2, 1]), vec![1.0, 0.0]).unwrap();
        let mut bytes = Vec::new();
        for i in 0..2 {
            let p = dir.path().join(format!("d{i}.npz"));
            let mut f = AtomicFile::create(&p).unwrap();
            write_npz(&mut f, &[("x", x.view()), ("y", y.view())], i == 1).unwrap();
            f.commit().unwrap();
            let mut r = NpzFile::open(&p).unwrap();
            assert_eq!(r.names().unwrap(), vec!["x", "y"]);
            assert_eq!(r.read_f32("x").unwrap(), x);
            assert_eq!(r.read_f32("y").unwrap(), y);
            assert!(r.read_f32("z").unwrap_err().to_string().contains("has no array 'z'"));
            bytes.push(std::fs::read(&p).unwrap());
        }
        // Writing again gives the same bytes (no timestamps).
        let p = dir.path().join("again.npz");
        let mut f = AtomicFile::create(&p).unwrap();
        write_npz(&mut f, &[("x", x.view()), ("y", y.view())], false).unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), bytes[0]);
    }
}
