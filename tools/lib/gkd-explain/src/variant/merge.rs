//! `gkd-variant merge`: the outputs of a sharded run (`--shard I/N`, every shard once) joined
//! into the outputs one unsharded run writes, byte for byte. Shard I holds records I, I + N, …,
//! each file in record order, so the VCF copy's records are taken from the shards in turn and the
//! tables' rows are merged by their record number, streaming.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use gkd_io::atomic::AtomicFile;
use gkd_io::error::{Error, IoResultExt, Result};
use gkd_io::progress::Progress;
use gkd_io::variant_effects::{VariantCounts, VariantEffects};

/// One input text file read line by line.
struct Lines {
    path: PathBuf,
    reader: BufReader<std::fs::File>,
    line: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(std::fs::File::open(path).with_path(path)?),
            line: 0,
        })
    }

    /// The next line without its line end.
    fn next(&mut self) -> Result<Option<String>> {
        let mut text = String::new();
        if self.reader.read_line(&mut text).with_path(&self.path)? == 0 {
            return Ok(None);
        }
        self.line += 1;
        text.truncate(text.trim_end_matches(['\n', '\r']).len());
        Ok(Some(text))
    }

    /// The record number in a table row's first column.
    fn record_of(&self, row: &str) -> Result<u64> {
        row.split('\t')
            .next()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| Error::at_line(&self.path, self.line, "expected a record number in the first column"))
    }
}

fn write_line(out: &mut impl Write, line: &str, path: &str) -> Result<()> {
    writeln!(out, "{line}").with_path(path)
}

/// Merge tables whose rows are in record order (the header from the first).
fn merge_tables(parts: &[PathBuf], dest: &str) -> Result<AtomicFile> {
    let file = AtomicFile::create(dest)?;
    let mut out = file.writer()?;
    let mut inputs: Vec<Lines> = parts.iter().map(|p| Lines::open(p)).collect::<Result<_>>()?;
    let mut heads: Vec<Option<(u64, String)>> = Vec::new();
    let mut header = None;
    for input in &mut inputs {
        let first = input.next()?;
        if header.is_none() {
            header = first.clone();
        } else if first != header {
            return Err(Error::at_line(&input.path, 1, "has another header than the first shard's table"));
        }
        let row = input.next()?;
        heads.push(row.map(|r| input.record_of(&r).map(|n| (n, r))).transpose()?);
    }
    write_line(&mut out, header.as_deref().unwrap_or_default(), dest)?;
    while let Some(i) = (0..heads.len()).filter(|&i| heads[i].is_some()).min_by_key(|&i| heads[i].as_ref().map(|h| h.0))
    {
        let (record, row) = heads[i].take().expect("chosen head");
        write_line(&mut out, &row, dest)?;
        heads[i] = inputs[i].next()?.map(|r| inputs[i].record_of(&r).map(|n| (n, r))).transpose()?;
        if heads[i].as_ref().is_some_and(|h| h.0 < record) {
            return Err(Error::at_line(&inputs[i].path, inputs[i].line, "rows are not in record order"));
        }
    }
    out.into_inner().map_err(|e| e.into_error()).with_path(dest)?;
    Ok(file)
}

/// Merge the VCF copies: the header from the first, then record r from shard (r − 1) mod N.
fn merge_vcfs(parts: &[PathBuf], records: u64, dest: &str) -> Result<AtomicFile> {
    let file = AtomicFile::create(dest)?;
    let mut out = file.writer()?;
    let mut inputs: Vec<Lines> = parts.iter().map(|p| Lines::open(p)).collect::<Result<_>>()?;
    let mut pending: Vec<Option<String>> = Vec::new();
    for (i, input) in inputs.iter_mut().enumerate() {
        loop {
            match input.next()? {
                Some(line) if line.starts_with('#') => {
                    if i == 0 {
                        write_line(&mut out, &line, dest)?;
                    }
                }
                other => {
                    pending.push(other);
                    break;
                }
            }
        }
    }
    for r in 0..records {
        let i = (r % parts.len() as u64) as usize;
        let line = pending[i]
            .take()
            .ok_or_else(|| Error::in_file(&inputs[i].path, format!("ends before record {}", r + 1)))?;
        write_line(&mut out, &line, dest)?;
        pending[i] = inputs[i].next()?;
    }
    if let Some(i) = pending.iter().position(Option::is_some) {
        return Err(Error::at_line(&inputs[i].path, inputs[i].line, "has more records than its sidecar counts"));
    }
    out.into_inner().map_err(|e| e.into_error()).with_path(dest)?;
    Ok(file)
}

/// Merge the shards with output prefixes `parts` (any order) into `prefix`'s files.
pub fn merge(parts: &[String], prefix: &str, progress: &dyn Progress) -> Result<Vec<AtomicFile>> {
    let mut sidecars = Vec::new();
    for part in parts {
        let path = PathBuf::from(format!("{part}.json"));
        let sidecar = VariantEffects::read(&path)?;
        let Some(shard) = sidecar.shard else {
            return Err(Error::in_file(&path, "is not a shard (written without --shard I/N)"));
        };
        sidecars.push((path, shard, sidecar));
    }
    let count = sidecars[0].1.count;
    let first = sidecars[0].2.clone();
    for (path, shard, sidecar) in &sidecars {
        if shard.count != count || !sidecar.same_run(&first) {
            return Err(Error::in_file(path, format!("is not a shard of the same run as {}", sidecars[0].0.display())));
        }
    }
    sidecars.sort_by_key(|(_, shard, _)| shard.index);
    let indexes: Vec<usize> = sidecars.iter().map(|(_, s, _)| s.index).collect();
    if indexes != (1..=count).collect::<Vec<_>>() {
        return Err(Error::usage(format!("shards {indexes:?} given; a merge needs each of 1..={count} exactly once")));
    }
    progress.start("merging shards", Some(3));
    let mut counts = VariantCounts::default();
    sidecars.iter().for_each(|(_, _, s)| counts += s.counts);
    let files = super::files_of(prefix, first.files.ism.is_some());
    let of = |pick: fn(&VariantEffects) -> Option<String>| -> Vec<PathBuf> {
        sidecars.iter().map(|(_, _, s)| PathBuf::from(pick(s).expect("the same run writes the same files"))).collect()
    };
    let mut out = vec![merge_tables(&of(|s| Some(s.files.tsv.clone())), &files.tsv)?];
    progress.advance(1);
    out.push(merge_vcfs(&of(|s| Some(s.files.vcf.clone())), counts.records, &files.vcf)?);
    progress.advance(1);
    if let Some(ism) = &files.ism {
        out.push(merge_tables(&of(|s| s.files.ism.clone()), ism)?);
    }
    progress.finish();
    let merged = VariantEffects { shard: None, counts, files, ..first };
    out.push(merged.stage(Path::new(&format!("{prefix}.json")))?);
    Ok(out)
}
