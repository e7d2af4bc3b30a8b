//! Writing per-base score tracks as bigWig (through bigtools), e.g. attribution scores placed on
//! the reference coordinates of the rows they explain.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use bigtools::beddata::BedParserStreamingIterator;
use bigtools::{BigWigWrite, Value};
use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, Result};

/// Scores at single reference positions, gathered per chromosome; several scores at one
/// position (overlapping rows) are averaged.
#[derive(Debug, Default, Clone)]
pub struct BaseTrack {
    sums: BTreeMap<String, BTreeMap<u32, (f64, u32)>>,
}

impl BaseTrack {
    /// Add `score` at 0-based position `pos` of `chrom`.
    pub fn add(&mut self, chrom: &str, pos: u32, score: f32) {
        let entry = self.sums.entry(chrom.to_owned()).or_default().entry(pos).or_insert((0.0, 0));
        entry.0 += score as f64;
        entry.1 += 1;
    }

    /// The last covered position + 1 of each chromosome (a stand-in for chromosome sizes).
    pub fn extents(&self) -> BTreeMap<String, u32> {
        self.sums.iter().map(|(c, m)| (c.clone(), m.keys().next_back().map_or(0, |p| p + 1))).collect()
    }

    /// Runs of equal averaged scores over consecutive positions, sorted by chromosome name then
    /// position, as bigWig records.
    fn records(&self) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for (chrom, positions) in &self.sums {
            for (&pos, &(sum, n)) in positions {
                let value = (sum / n as f64) as f32;
                match out.last_mut() {
                    Some((c, v)) if c == chrom && v.end == pos && v.value == value => v.end = pos + 1,
                    _ => out.push((chrom.clone(), Value { start: pos, end: pos + 1, value })),
                }
            }
        }
        out
    }

    /// Stage the track as a bigWig file; `sizes` must hold every chromosome of the track and
    /// cover its positions.
    pub fn stage_bigwig(&self, dest: &Path, sizes: &BTreeMap<String, u32>) -> Result<AtomicFile> {
        for (chrom, extent) in self.extents() {
            match sizes.get(&chrom) {
                None => return Err(Error::usage(format!("no size for chromosome '{chrom}' in --chrom-sizes"))),
                Some(&size) if size < extent => {
                    return Err(Error::usage(format!(
                        "chromosome '{chrom}' has size {size} in --chrom-sizes, but rows reach position {extent}"
                    )));
                }
                _ => {}
            }
        }
        let chrom_sizes: Vec<(String, u32)> = sizes.iter().map(|(c, &s)| (c.clone(), s)).collect();
        let records = self.records().into_iter().map(Ok::<_, std::io::Error>);
        stage_bigwig_records(dest, &chrom_sizes, records, false)
    }
}

/// Stage a bigWig at `dest` from `(chrom, value)` records: chromosomes contiguous (in name
/// order unless `any_chrom_order`), intervals sorted and not overlapping within each.
pub fn stage_bigwig_records<I>(
    dest: &Path,
    sizes: &[(String, u32)],
    records: I,
    any_chrom_order: bool,
) -> Result<AtomicFile>
where
    I: Iterator<Item = std::io::Result<(String, Value)>> + Send,
{
    let mut out = AtomicFile::create(dest)?;
    let file = out.file().try_clone().map_err(|e| Error::io(dest, e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the bigWig writer: {e}")))?;
    let chrom_sizes = sizes.iter().cloned().collect();
    BigWigWrite::new(file, chrom_sizes)
        .write(BedParserStreamingIterator::wrap_iter(records, any_chrom_order), runtime)
        .map_err(|e| Error::runtime(format!("{}: writing bigWig: {e}", dest.display())))?;
    Ok(out)
}

/// A track too large to hold in memory (a genome scan): `(start, end, value)` records
/// appended in order, chromosome by chromosome, to a temporary file, and written as a bigWig
/// from it.
pub struct SpooledTrack {
    file: BufWriter<File>,
    /// Records per chromosome, in the order added.
    chroms: Vec<(String, u64)>,
}

impl SpooledTrack {
    /// An empty track in a new temporary file.
    pub fn new() -> Result<Self> {
        let file = tempfile::tempfile().map_err(|e| Error::runtime(format!("cannot create a temporary file: {e}")))?;
        Ok(Self { file: BufWriter::new(file), chroms: Vec::new() })
    }

    /// Append `value` over `[start, end)` of `chrom` (after every earlier record of `chrom`).
    pub fn push(&mut self, chrom: &str, start: u32, end: u32, value: f32) -> Result<()> {
        match self.chroms.last_mut() {
            Some((c, n)) if c == chrom => *n += 1,
            _ => self.chroms.push((chrom.to_owned(), 1)),
        }
        let mut record = [0u8; RECORD];
        record[..4].copy_from_slice(&start.to_le_bytes());
        record[4..8].copy_from_slice(&end.to_le_bytes());
        record[8..].copy_from_slice(&value.to_le_bytes());
        self.file.write_all(&record).map_err(|e| Error::runtime(format!("writing a temporary file: {e}")))
    }

    /// Stage the records as a bigWig at `dest` (chromosomes in the order added).
    pub fn stage(self, dest: &Path, sizes: &[(String, u32)]) -> Result<AtomicFile> {
        let mut file = self.file.into_inner().map_err(|e| Error::runtime(format!("writing a temporary file: {e}")))?;
        file.rewind().map_err(|e| Error::runtime(format!("reading a temporary file: {e}")))?;
        let mut reader = BufReader::new(file);
        let records =
            self.chroms.into_iter().flat_map(|(chrom, n)| std::iter::repeat_n(chrom, n as usize)).map(move |chrom| {
                let mut record = [0u8; RECORD];
                reader.read_exact(&mut record)?;
                let word = |i: usize| [record[i], record[i + 1], record[i + 2], record[i + 3]];
                let (start, end) = (u32::from_le_bytes(word(0)), u32::from_le_bytes(word(4)));
                Ok((chrom, Value { start, end, value: f32::from_le_bytes(word(8)) }))
            });
        stage_bigwig_records(dest, sizes, records, true)
    }
}

/// Per-base values of overlapping windows averaged as the windows stream past, sorted by start
/// (a genome scan's attribution tracks): memory holds the bases that later windows may still
/// cover, not the chromosome.
#[derive(Debug, Default)]
pub struct OverlapAverager {
    /// Position of `sums[0]`.
    origin: u64,
    sums: std::collections::VecDeque<f64>,
    counts: std::collections::VecDeque<u32>,
}

impl OverlapAverager {
    /// An empty averager whose first base is `origin`.
    pub fn new(origin: u64) -> Self {
        Self { origin, ..Self::default() }
    }

    /// Add a window's per-base `values` starting at `start` (not before the bases already
    /// drained).
    pub fn add(&mut self, start: u64, values: &[f32]) {
        assert!(start >= self.origin, "windows must come sorted by start");
        let offset = (start - self.origin) as usize;
        let end = offset + values.len();
        if self.sums.len() < end {
            self.sums.resize(end, 0.0);
            self.counts.resize(end, 0);
        }
        for (i, &v) in values.iter().enumerate() {
            self.sums[offset + i] += v as f64;
            self.counts[offset + i] += 1;
        }
    }

    /// Remove the bases before `end` (every window covering them has been added), giving
    /// `(position, mean)` of each covered one.
    pub fn drain_before(&mut self, end: u64) -> Vec<(u64, f32)> {
        let n = (end.saturating_sub(self.origin) as usize).min(self.sums.len());
        let out = self
            .sums
            .drain(..n)
            .zip(self.counts.drain(..n))
            .enumerate()
            .filter(|(_, (_, count))| *count > 0)
            .map(|(i, (sum, count))| (self.origin + i as u64, (sum / count as f64) as f32))
            .collect();
        // Every base before `end` is done, whether or not any window covered it.
        self.origin = if self.sums.is_empty() { self.origin.max(end) } else { self.origin + n as u64 };
        out
    }
}

/// A bigWig read back chromosome by chromosome (gkd-scan merge), without holding a chromosome's
/// values in memory.
pub struct TrackReader {
    path: std::path::PathBuf,
    reader: bigtools::BigWigRead<bigtools::utils::reopen::ReopenableFile>,
}

impl TrackReader {
    /// Open a bigWig file.
    pub fn open(path: &Path) -> Result<Self> {
        let reader = bigtools::BigWigRead::open_file(path)
            .map_err(|e| Error::in_file(path, format!("is not a readable bigWig: {e}")))?;
        Ok(Self { path: path.to_owned(), reader })
    }

    /// The chromosomes and their sizes, as the file's header lists them.
    pub fn chroms(&self) -> Vec<(String, u32)> {
        self.reader.chroms().iter().map(|c| (c.name.clone(), c.length)).collect()
    }

    /// Call `f(start, end, value)` on each interval of `chrom` (of size `length`) in order; an
    /// error from `f` stops the walk and is reported against the file.
    pub fn for_each(
        &mut self,
        chrom: &str,
        length: u32,
        mut f: impl FnMut(u32, u32, f32) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let path = self.path.clone();
        let values = self
            .reader
            .get_interval(chrom, 0, length)
            .map_err(|e| Error::in_file(&path, format!("reading '{chrom}': {e}")))?;
        for v in values {
            let v = v.map_err(|e| Error::in_file(&path, format!("reading '{chrom}': {e}")))?;
            f(v.start, v.end, v.value).map_err(|e| Error::in_file(&path, e))?;
        }
        Ok(())
    }
}

/// Bytes of one spooled record: start, end (u32) and value (f32), little-endian.
const RECORD: usize = 12;

/// Read a chromosome sizes file (`name<TAB>size` per line, as UCSC's `fetchChromSizes` or the
/// first two columns of a FASTA index).
pub fn read_chrom_sizes(path: &std::path::Path) -> Result<BTreeMap<String, u32>> {
    let text =
        String::from_utf8(gkd_io::input::read_all(path)?).map_err(|_| Error::in_file(path, "is not UTF-8 text"))?;
    let mut sizes = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(name), Some(size)) = (fields.next(), fields.next()) else {
            return Err(Error::at_line(path, i as u64 + 1, "expected 'name<TAB>size'"));
        };
        let size: u32 = size.trim().parse().map_err(|_| {
            Error::at_line(path, i as u64 + 1, format!("size '{size}' is not a whole number below 2^32"))
        })?;
        sizes.insert(name.to_owned(), size);
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_average_overlaps_and_merge_equal_runs() {
        let mut t = BaseTrack::default();
        for (pos, v) in [(3, 1.0), (4, 1.0), (5, 2.0), (5, 4.0), (7, 1.0)] {
            t.add("chr2", pos, v);
        }
        t.add("chr1", 0, -1.0);
        let r: Vec<(String, u32, u32, f32)> =
            t.records().into_iter().map(|(c, v)| (c, v.start, v.end, v.value)).collect();
        assert_eq!(
            r,
            vec![
                ("chr1".into(), 0, 1, -1.0),
                ("chr2".into(), 3, 5, 1.0),
                ("chr2".into(), 5, 6, 3.0),
                ("chr2".into(), 7, 8, 1.0)
            ]
        );
        assert_eq!(t.extents()["chr2"], 8);
    }

    #[test]
    fn averager_means_overlapping_windows_and_drains_in_order() {
        // Windows of 4 bases at stride 2 from 10, each of value its index: base 10 is covered by
        // window 0 only; bases 12..14 by windows 0 and 1, and so on.
        let mut a = OverlapAverager::new(10);
        let mut drained = Vec::new();
        for w in 0..4u64 {
            a.add(10 + 2 * w, &[w as f32; 4]);
            drained.extend(a.drain_before(10 + 2 * (w + 1)));
        }
        drained.extend(a.drain_before(u64::MAX));
        let expected: Vec<(u64, f32)> = vec![
            (10, 0.0),
            (11, 0.0),
            (12, 0.5),
            (13, 0.5),
            (14, 1.5),
            (15, 1.5),
            (16, 2.5),
            (17, 2.5),
            (18, 3.0),
            (19, 3.0),
        ];
        assert_eq!(drained, expected);
        // Gaps stay gaps, and draining past the end moves the origin there.
        let mut b = OverlapAverager::new(0);
        b.add(5, &[1.0, 3.0]);
        assert_eq!(b.drain_before(100), vec![(5, 1.0), (6, 3.0)]);
        b.add(100, &[2.0]);
        assert_eq!(b.drain_before(101), vec![(100, 2.0)]);
    }

    #[test]
    fn spooled_tracks_keep_chromosomes_in_the_order_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.bw");
        let mut t = SpooledTrack::new().unwrap();
        // chrY before chrX: file order, not name order.
        for (chrom, n) in [("chrY", 30u32), ("chrX", 20)] {
            for s in 0..n {
                t.push(chrom, 5 + 2 * s, 7 + 2 * s, s as f32 - 3.5).unwrap();
            }
        }
        let sizes = vec![("chrY".to_owned(), 100u32), ("chrX".to_owned(), 100)];
        t.stage(&path, &sizes).unwrap().commit().unwrap();
        let mut reader = bigtools::BigWigRead::open_file(&path).unwrap();
        for (chrom, n) in [("chrY", 30u32), ("chrX", 20)] {
            let values: Vec<Value> = reader.get_interval(chrom, 0, 100).unwrap().map(|v| v.unwrap()).collect();
            assert_eq!(values.len(), n as usize);
            for (s, v) in values.iter().enumerate() {
                assert_eq!((v.start, v.end, v.value), (5 + 2 * s as u32, 7 + 2 * s as u32, s as f32 - 3.5));
            }
        }
    }

    #[test]
    fn written_bigwig_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bw");
        let mut t = BaseTrack::default();
        for pos in 10..50u32 {
            t.add("chrX", pos, pos as f32 * 0.5);
        }
        let sizes = BTreeMap::from([("chrX".to_owned(), 1000u32)]);
        t.stage_bigwig(&path, &sizes).unwrap().commit().unwrap();
        let mut reader = bigtools::BigWigRead::open_file(&path).unwrap();
        let values: Vec<Value> = reader.get_interval("chrX", 0, 1000).unwrap().map(|v| v.unwrap()).collect();
        assert_eq!(values.len(), 40);
        assert!(values.iter().all(|v| v.value == v.start as f32 * 0.5 && v.end == v.start + 1));
        // Chromosome sizes must cover the track.
        let small = BTreeMap::from([("chrX".to_owned(), 20u32)]);
        assert!(t.stage_bigwig(&path, &small).unwrap_err().to_string().contains("reach position 50"));
    }
}
