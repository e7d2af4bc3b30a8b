//! Sequence sets: sequences with their row identities, loaded from FASTA, BED + reference, or
//! a CSV/TSV table, plus the label sources that go with each (FASTA header words, BED columns,
//! table columns, or a TSV keyed by id).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gkd_io::error::{Error, Result};
use gkd_io::table::{RowIdentity, Strand, TextTable, parse_label};
use ndarray::Array2;

use crate::bed::{self, BedInterval, ExtractStats};
use crate::fasta::FastaReader;
use crate::onehot::first_invalid;
use crate::region_ids::{self, IdConvention};

/// Where each row came from, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A FASTA record (1-based).
    Record(u64),
    /// A line of a BED or table file (1-based).
    Line(u64),
}

/// Sequences and their identities, in input order.
#[derive(Debug, Clone, Default)]
pub struct SequenceSet {
    /// The file rows came from.
    pub path: PathBuf,
    /// Bases per row.
    pub seqs: Vec<Vec<u8>>,
    /// Identity per row.
    pub rows: Vec<RowIdentity>,
    /// Origin per row.
    pub origins: Vec<Origin>,
    /// Labels read along with the sequences (header words), if asked for: (N, K).
    pub inline_labels: Option<Array2<f32>>,
    /// When FASTA ids name reference regions (bedtools getfasta, samtools faidx): the
    /// convention their coordinates were read under.
    pub id_coordinates: Option<IdConvention>,
}

impl SequenceSet {
    /// An error about row `i`, naming the file and its record or line.
    pub fn row_error(&self, i: usize, message: impl Into<String>) -> Error {
        match self.origins[i] {
            Origin::Record(r) => Error::at_record(&self.path, r, Some(&self.rows[i].id), message),
            Origin::Line(l) => Error::at_line(&self.path, l, message),
        }
    }

    /// Fail on the first repeated id.
    pub fn check_unique_ids(&self) -> Result<()> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            if let Some(first) = seen.insert(r.id.as_str(), i) {
                let first_at = match self.origins[first] {
                    Origin::Record(n) => format!("record {n}"),
                    Origin::Line(n) => format!("line {n}"),
                };
                return Err(self
                    .row_error(i, format!("duplicate id '{}' (first seen at {first_at}); ids must be unique", r.id)));
            }
        }
        Ok(())
    }

    /// Fail on the first byte that is not a nucleotide code.
    pub fn check_alphabet(&self) -> Result<()> {
        for (i, s) in self.seqs.iter().enumerate() {
            if let Some((pos, b)) = first_invalid(s) {
                let shown = if b.is_ascii_graphic() { format!("'{}'", b as char) } else { format!("byte 0x{b:02x}") };
                return Err(self.row_error(
                    i,
                    format!(
                        "{shown} at position {} is not a nucleotide code (expected A, C, G, T, U, N or IUPAC)",
                        pos + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Bring every sequence to `length`: longer ones are cut around their centre, shorter ones
    /// padded with N on both sides. Returns (cropped, padded) counts. Without `length`, all
    /// sequences must already be equally long.
    pub fn fit_length(&mut self, length: Option<usize>) -> Result<(u64, u64)> {
        let Some(l) = length else {
            let first = self.seqs[0].len();
            if let Some(i) = self.seqs.iter().position(|s| s.len() != first) {
                return Err(self.row_error(
                    i,
                    format!(
                        "length {} differs from the first row's {first}; sequences must be equally long (or give --length to centre-crop/pad)",
                        self.seqs[i].len()
                    ),
                ));
            }
            return Ok((0, 0));
        };
        let (mut cropped, mut padded) = (0, 0);
        for (s, row) in self.seqs.iter_mut().zip(&mut self.rows) {
            region_ids::refit(row, s.len(), l);
            if s.len() > l {
                let from = (s.len() - l) / 2;
                *s = s[from..from + l].to_vec();
                cropped += 1;
            } else if s.len() < l {
                let left = (l - s.len()) / 2;
                let mut p = vec![b'N'; left];
                p.extend_from_slice(s);
                p.resize(l, b'N');
                *s = p;
                padded += 1;
            }
        }
        Ok((cropped, padded))
    }
}

/// Load FASTA records. With `header_labels`, the last word of each header holds the label(s)
/// (comma-separated for several classes); a header of one word is only a label (DeepMotif's
/// `>1`), and such rows get the id `seqN` (N = record number).
pub fn load_fasta(path: &Path, header_labels: bool) -> Result<SequenceSet> {
    let mut set = SequenceSet { path: path.to_path_buf(), ..Default::default() };
    let mut labels: Vec<Vec<f32>> = Vec::new();
    let mut reader = FastaReader::open(path, false)?;
    while let Some(record) = reader.next() {
        let record = record?;
        let n = reader.record_number();
        let mut id = record.id.clone();
        if header_labels {
            let token = match record.description.as_deref().and_then(|d| d.split_whitespace().last()) {
                Some(t) => t.to_owned(),
                None => {
                    let label_only = id.clone();
                    id = format!("seq{n}");
                    label_only
                }
            };
            let values = token
                .split(',')
                .map(|v| {
                    parse_label(v).ok_or_else(|| {
                        Error::at_record(path, n, Some(&record.id), format!("header label '{v}' is not a number"))
                    })
                })
                .collect::<Result<Vec<f32>>>()?;
            if let Some(first) = labels.first()
                && first.len() != values.len()
            {
                return Err(Error::at_record(
                    path,
                    n,
                    Some(&record.id),
                    format!("{} header labels; record 1 has {}", values.len(), first.len()),
                ));
            }
            labels.push(values);
        }
        set.rows.push(RowIdentity { id, ..Default::default() });
        set.seqs.push(record.seq);
        set.origins.push(Origin::Record(n));
    }
    if header_labels {
        let k = labels.first().map_or(0, Vec::len);
        let flat: Vec<f32> = labels.into_iter().flatten().collect();
        set.inline_labels = Some(Array2::from_shape_vec((set.seqs.len(), k), flat).expect("checked widths"));
    }
    let lengths: Vec<usize> = set.seqs.iter().map(Vec::len).collect();
    set.id_coordinates = region_ids::assign(&mut set.rows, &lengths);
    Ok(set)
}

/// Load BED intervals cut from a reference FASTA (see [`bed::extract`]).
pub fn load_bed(
    fasta: &Path,
    bed_path: &Path,
    length: Option<usize>,
) -> Result<(SequenceSet, Vec<BedInterval>, ExtractStats)> {
    let intervals = bed::read_bed(bed_path)?;
    let (seqs, stats) = bed::extract(fasta, bed_path, &intervals, length)?;
    let rows = intervals
        .iter()
        .map(|iv| {
            let (s, e) = bed::window(iv, length);
            RowIdentity {
                id: iv.name.clone(),
                chrom: Some(iv.chrom.clone()),
                // Coordinates of the window actually encoded (clipped to the chromosome start).
                start: Some(s.max(0) as u64),
                end: Some(e.max(0) as u64),
                strand: iv.strand,
            }
        })
        .collect();
    let origins = intervals.iter().map(|iv| Origin::Line(iv.line)).collect();
    let set =
        SequenceSet { path: bed_path.to_path_buf(), seqs, rows, origins, inline_labels: None, id_coordinates: None };
    Ok((set, intervals, stats))
}

/// Labels from 1-based BED columns.
pub fn bed_labels(bed_path: &Path, intervals: &[BedInterval], columns: &[usize]) -> Result<Array2<f32>> {
    let mut y = Array2::zeros((intervals.len(), columns.len()));
    for (i, iv) in intervals.iter().enumerate() {
        for (k, &c) in columns.iter().enumerate() {
            let v = iv.fields.get(c - 1).ok_or_else(|| {
                Error::at_line(
                    bed_path,
                    iv.line,
                    format!("has {} columns; label column {c} is missing", iv.fields.len()),
                )
            })?;
            y[[i, k]] = parse_label(v)
                .ok_or_else(|| Error::at_line(bed_path, iv.line, format!("label column {c}: '{v}' is not a number")))?;
        }
    }
    Ok(y)
}

/// Load sequences from a column of a CSV/TSV table; ids from `id_column` or `rowN`.
pub fn load_table(table: &TextTable, seq_column: &str, id_column: Option<&str>) -> Result<SequenceSet> {
    let seqs = table.column(seq_column)?;
    let ids = id_column.map(|c| table.column(c)).transpose()?;
    let mut set = SequenceSet { path: table.path.clone(), ..Default::default() };
    for (i, s) in seqs.into_iter().enumerate() {
        let line = i as u64 + 2;
        let s = s
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::at_line(&table.path, line, format!("empty sequence in column '{seq_column}'")))?;
        let id = match &ids {
            Some(ids) => ids[i].clone().ok_or_else(|| Error::at_line(&table.path, line, "empty id"))?,
            None => format!("row{}", i + 1),
        };
        set.seqs.push(s.trim().as_bytes().to_vec());
        set.rows.push(RowIdentity { id, strand: Strand::Unknown, ..Default::default() });
        set.origins.push(Origin::Line(line));
    }
    if set.seqs.is_empty() {
        return Err(Error::in_file(&table.path, "has a header but no rows"));
    }
    Ok(set)
}

/// Labels from a TSV keyed by id: the first column holds ids, every other column is a class.
/// Every row of `set` must have a label row and every label row must name a row of `set`.
pub fn labels_by_id(path: &Path, set: &SequenceSet) -> Result<(Vec<String>, Array2<f32>)> {
    let table = TextTable::read(path, Some(b'\t'))?;
    if table.columns.len() < 2 {
        return Err(Error::at_line(path, 1, "expected a header with an id column and at least one label column"));
    }
    let ids = table.column(&table.columns[0])?;
    let classes: Vec<String> = table.columns[1..].to_vec();
    let values: Vec<Vec<f32>> = classes.iter().map(|c| table.label_column(c)).collect::<Result<_>>()?;
    let index: HashMap<&str, usize> = set.rows.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let mut y = Array2::<f32>::zeros((set.rows.len(), classes.len()));
    let mut filled = vec![false; set.rows.len()];
    for (j, id) in ids.iter().enumerate() {
        let line = j as u64 + 2;
        let id = id.as_deref().ok_or_else(|| Error::at_line(path, line, "empty id"))?;
        let &row = index.get(id).ok_or_else(|| {
            Error::at_line(
                path,
                line,
                format!("id '{id}' is not among the {} sequences of {}", set.rows.len(), set.path.display()),
            )
        })?;
        if filled[row] {
            return Err(Error::at_line(path, line, format!("id '{id}' has a second label row")));
        }
        filled[row] = true;
        for k in 0..classes.len() {
            y[[row, k]] = values[k][j];
        }
    }
    if let Some(i) = filled.iter().position(|f| !f) {
        return Err(
            set.row_error(i, format!("id '{}' has no row in the labels file {}", set.rows[i].id, path.display()))
        );
    }
    Ok((classes, y))
}
