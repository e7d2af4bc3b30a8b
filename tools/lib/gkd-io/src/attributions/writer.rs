//! Writing an attribution run's files as its maps are computed: the NPZ's `attr` member, the
//! rows TSV, and the optional long TSV and JSON export grow chunk by chunk, so memory holds one
//! chunk of maps whatever the run's size. The inputs `x` follow `attr` in the NPZ and are read
//! again, chunk by chunk, when the maps are done; small per-map arrays (`gap`, `delta`, `beta`,
//! `raw`) come last, from memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::{Array3, ArrayD, ArrayView3, Axis};

use super::{AttributionInfo, AttributionJson, ExportRow, MapRow, ROWS_HEADER, rows_path_for, sidecar_path_for};
use crate::atomic::AtomicFile;
use crate::dtype::Dtype;
use crate::error::{Error, IoResultExt, Result};
use crate::npz::NpzWriter;

/// Maps per chunk when the inputs are copied into the NPZ.
const X_CHUNK: usize = 256;

/// Reads the inputs of a range of maps, (maps, channels, positions).
pub type ReadInputs<'a> = &'a mut dyn FnMut(Range<usize>) -> Result<Array3<f32>>;

/// The inputs the maps explain, copied into the NPZ after the maps: `channels` per position,
/// stored as `dtype` (the dataset's, so a uint8 data set gives a uint8 `x`).
pub struct Inputs<'a> {
    /// Channels per position.
    pub channels: usize,
    /// How `x` is stored.
    pub dtype: Dtype,
    /// Reads the inputs of a range of maps.
    pub read: ReadInputs<'a>,
}

/// Where an attribution run's files go.
#[derive(Debug, Clone, Default)]
pub struct AttributionOutputs {
    /// The NPZ (`attr`, `x`, extras); its rows TSV and sidecar JSON go beside it.
    pub npz: PathBuf,
    /// The long-form TSV (id, class, position, channel, score), if wanted.
    pub long_tsv: Option<PathBuf>,
    /// Whether the long TSV starts with its header (false for shards after the first, so that
    /// `cat` of the shards equals one run's file).
    pub long_tsv_header: bool,
    /// The `--json` export (the sidecar's description plus every map), if wanted.
    pub json: Option<PathBuf>,
}

/// A staged file with a writer of its own.
struct Staged {
    file: AtomicFile,
    writer: BufWriter<File>,
}

impl Staged {
    fn create(path: &Path) -> Result<Self> {
        let file = AtomicFile::create(path)?;
        let writer = file.writer()?;
        Ok(Self { file, writer })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).with_path(self.file.path())
    }

    fn done(mut self) -> Result<AtomicFile> {
        self.writer.flush().with_path(self.file.path())?;
        Ok(self.file)
    }
}

/// Writes one attribution run's files (see the module documentation). Nothing appears at the
/// output paths until the staged files that [`finish`](Self::finish) returns are committed.
pub struct AttributionWriter {
    info: AttributionInfo,
    npz_file: AtomicFile,
    npz: NpzWriter<BufWriter<File>>,
    rows: Staged,
    sidecar: AtomicFile,
    long: Option<Staged>,
    json: Option<Staged>,
    written: usize,
}

impl AttributionWriter {
    /// Start the files of a run of `info.count` maps of `info.channels` × `info.length` scores.
    pub fn create(outputs: &AttributionOutputs, info: AttributionInfo) -> Result<Self> {
        let npz_file = AtomicFile::create(&outputs.npz)?;
        let mut npz = NpzWriter::new(npz_file.writer()?, false);
        npz.begin("attr", &[info.count, info.channels.len(), info.length], Dtype::Float32)?;
        let mut rows = Staged::create(&rows_path_for(&outputs.npz))?;
        rows.write(format!("{ROWS_HEADER}\n").as_bytes())?;
        let mut sidecar = AtomicFile::create(sidecar_path_for(&outputs.npz))?;
        let description = AttributionJson { info: info.clone(), rows: None };
        sidecar.write_all((serde_json::to_string_pretty(&description).expect("serialises") + "\n").as_bytes())?;
        let long = match &outputs.long_tsv {
            Some(path) => {
                let mut long = Staged::create(path)?;
                if outputs.long_tsv_header {
                    long.write(b"id\tclass\tposition\tchannel\tscore\n")?;
                }
                Some(long)
            }
            None => None,
        };
        let json = match &outputs.json {
            Some(path) => {
                let mut json = Staged::create(path)?;
                // The export is the description with `rows` last: its object without the closing
                // brace, then the rows as they come.
                let head = serde_json::to_string(&description).expect("serialises");
                let head = head.strip_suffix('}').expect("a JSON object");
                json.write(format!("{head},\"rows\":[").as_bytes())?;
                Some(json)
            }
            None => None,
        };
        Ok(Self { info, npz_file, npz, rows, sidecar, long, json, written: 0 })
    }

    /// How the maps are described (as the sidecar says).
    pub fn info(&self) -> &AttributionInfo {
        &self.info
    }

    /// Append maps (maps, channels, positions) and what each explains.
    pub fn write(&mut self, attr: ArrayView3<'_, f32>, rows: &[MapRow]) -> Result<()> {
        let (n, c, l) = attr.dim();
        if n != rows.len() || c != self.info.channels.len() || l != self.info.length {
            return Err(Error::runtime(format!(
                "internal: {n} maps of {c} x {l} with {} rows for a run of {} x {} maps",
                rows.len(),
                self.info.channels.len(),
                self.info.length
            )));
        }
        let attr = attr.as_standard_layout();
        self.npz.write(attr.as_slice().expect("standard layout"))?;
        let opt = |v: Option<String>| v.unwrap_or_default();
        let mut text = String::new();
        for r in rows {
            text += &format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.id,
                opt(r.dataset_row.map(|v| v.to_string())),
                r.class,
                opt(r.chrom.clone()),
                opt(r.start.map(|v| v.to_string())),
                opt(r.end.map(|v| v.to_string())),
                r.strand.as_str()
            );
        }
        self.rows.write(text.as_bytes())?;
        if let Some(long) = &mut self.long {
            let mut text = String::new();
            for (row, map) in rows.iter().zip(attr.axis_iter(Axis(0))) {
                for position in 0..l {
                    for (channel, name) in self.info.channels.iter().enumerate() {
                        // `{}` prints the shortest decimal that reads back as the same f32.
                        text +=
                            &format!("{}\t{}\t{position}\t{name}\t{}\n", row.id, row.class, map[[channel, position]]);
                    }
                }
            }
            long.write(text.as_bytes())?;
        }
        if let Some(json) = &mut self.json {
            for (i, (r, map)) in rows.iter().zip(attr.axis_iter(Axis(0))).enumerate() {
                let row = ExportRow {
                    id: r.id.clone(),
                    class: r.class.clone(),
                    chrom: r.chrom.clone(),
                    start: r.start,
                    end: r.end,
                    scores: map.outer_iter().map(|channel| channel.iter().copied().collect()).collect(),
                };
                if self.written + i > 0 {
                    json.write(b",")?;
                }
                let text = serde_json::to_string(&row).expect("serialises");
                json.write(text.as_bytes())?;
            }
        }
        self.written += n;
        Ok(())
    }

    /// Close the files: after `attr`, the inputs of maps `0..count` as `inputs` reads them (none
    /// for attention maps), then `extra` arrays. Returns the
    /// staged files, to commit together with any others of the run.
    pub fn finish(mut self, inputs: Option<Inputs<'_>>, extra: &[(String, ArrayD<f32>)]) -> Result<Vec<AtomicFile>> {
        let count = self.info.count;
        if self.written != count {
            return Err(Error::runtime(format!("internal: {} of {count} maps were written", self.written)));
        }
        self.npz.end()?;
        if let Some(Inputs { channels, dtype, read }) = inputs {
            self.npz.begin("x", &[count, channels, self.info.length], dtype)?;
            for start in (0..count).step_by(X_CHUNK) {
                let x = read(start..(start + X_CHUNK).min(count))?;
                self.npz.write(x.as_standard_layout().as_slice().expect("standard layout"))?;
            }
            self.npz.end()?;
        }
        for (name, array) in extra {
            self.npz.add(name, array.view(), Dtype::Float32)?;
        }
        let path = self.npz_file.path().to_path_buf();
        let mut writer = self.npz.finish().map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
        writer.flush().with_path(&path)?;
        drop(writer);
        let mut files = vec![self.npz_file, self.rows.done()?, self.sidecar];
        if let Some(long) = self.long {
            files.push(long.done()?);
        }
        if let Some(mut json) = self.json {
            json.write(b"]}\n")?;
            files.push(json.done()?);
        }
        Ok(files)
    }
}
