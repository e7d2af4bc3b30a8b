//! Tables through polars: reading delimited inputs (CSV/TSV, gzip detected) as text columns
//! so that each value can be checked with its line number, and writing the row-identity TSV
//! that sits beside every dataset split (docs/data-contracts.md).

use std::io::{Cursor, Write};
use std::path::Path;

use ndarray::ArrayView2;
use polars::prelude::*;

use crate::atomic::AtomicFile;
use crate::error::{Error, IoResultExt, Result};
use crate::input;

/// A delimited text table read with every column as text. Line numbers of data rows are
/// `row + 2` (the header is line 1).
#[derive(Debug, Clone)]
pub struct TextTable {
    /// The file it came from (for messages).
    pub path: std::path::PathBuf,
    /// The column names, in file order.
    pub columns: Vec<String>,
    df: DataFrame,
}

impl TextTable {
    /// Read a CSV or TSV with a header line. The separator is a tab if the header line has a
    /// tab, else a comma, unless given.
    pub fn read(path: &Path, separator: Option<u8>) -> Result<Self> {
        let bytes = input::read_all(path)?;
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::in_file(path, "is empty; expected a header line and data rows"));
        }
        let sep = separator.unwrap_or(if bytes[..header_end].contains(&b'\t') { b'\t' } else { b',' });
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(|p| p.with_separator(sep))
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
            .map_err(|e| Error::in_file(path, format!("cannot read as a {} table: {e}", sep_name(sep))))?;
        let columns = df.get_column_names().iter().map(|c| c.to_string()).collect();
        Ok(TextTable { path: path.to_path_buf(), columns, df })
    }

    /// Number of data rows.
    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// A column's values as text (`None` for empty cells).
    pub fn column(&self, name: &str) -> Result<Vec<Option<String>>> {
        let col = self.df.column(name).map_err(|_| {
            Error::at_line(
                &self.path,
                1,
                format!("no column '{name}' in header (columns: {})", self.columns.join(", ")),
            )
        })?;
        let s = col.str().map_err(|e| Error::in_file(&self.path, e.to_string()))?;
        Ok(s.iter().map(|v| v.map(str::to_owned)).collect())
    }

    /// A column parsed as labels: numbers, or true/false (any case) as 1/0.
    pub fn label_column(&self, name: &str) -> Result<Vec<f32>> {
        self.column(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let line = i as u64 + 2;
                let v = v.ok_or_else(|| Error::at_line(&self.path, line, format!("empty value in column '{name}'")))?;
                parse_label(&v).ok_or_else(|| {
                    Error::at_line(&self.path, line, format!("column '{name}': '{v}' is not a number or TRUE/FALSE"))
                })
            })
            .collect()
    }
}

fn sep_name(sep: u8) -> &'static str {
    if sep == b'\t' { "tab-separated" } else { "comma-separated" }
}

/// Parse a label value: a finite number, or true/false (any case).
pub fn parse_label(v: &str) -> Option<f32> {
    let t = v.trim();
    match t.to_ascii_lowercase().as_str() {
        "true" => Some(1.0),
        "false" => Some(0.0),
        _ => t.parse::<f32>().ok().filter(|x| x.is_finite()),
    }
}

/// Strand of a row: `+`, `-` or unknown (`.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strand {
    /// Forward.
    Forward,
    /// Reverse.
    Reverse,
    /// Unknown or not applicable.
    #[default]
    Unknown,
}

impl Strand {
    /// The one-character BED form.
    pub fn as_str(self) -> &'static str {
        match self {
            Strand::Forward => "+",
            Strand::Reverse => "-",
            Strand::Unknown => ".",
        }
    }
}

/// Where a dataset row came from: its id and, when known, its reference coordinates
/// (0-based, half-open, as in BED).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowIdentity {
    /// Row name (FASTA id, BED name, table id, or generated).
    pub id: String,
    /// Reference sequence name, when the row has coordinates.
    pub chrom: Option<String>,
    /// 0-based start.
    pub start: Option<u64>,
    /// Exclusive end.
    pub end: Option<u64>,
    /// Strand.
    pub strand: Strand,
}

/// Read the identity columns (`id`, and `chrom`, `start`, `end`, `strand` where present) of a
/// rows TSV; empty cells are unknown values.
pub fn read_row_identities(path: &Path) -> Result<Vec<RowIdentity>> {
    row_identities(&TextTable::read(path, Some(b'\t'))?)
}

/// The identity columns of an already read rows table (see [`read_row_identities`]).
pub fn row_identities(table: &TextTable) -> Result<Vec<RowIdentity>> {
    let path = table.path.as_path();
    let ids = table.column("id")?;
    let optional = |name: &str| -> Result<Vec<Option<String>>> {
        if table.columns.iter().any(|c| c == name) { table.column(name) } else { Ok(vec![None; ids.len()]) }
    };
    let (chroms, starts, ends, strands) =
        (optional("chrom")?, optional("start")?, optional("end")?, optional("strand")?);
    let number = |v: &Option<String>, line: u64, what: &str| -> Result<Option<u64>> {
        v.as_deref()
            .map(|s| {
                s.parse::<u64>().map_err(|_| Error::at_line(path, line, format!("{what} '{s}' is not a whole number")))
            })
            .transpose()
    };
    (0..ids.len())
        .map(|i| {
            let line = i as u64 + 2;
            Ok(RowIdentity {
                id: ids[i].clone().ok_or_else(|| Error::at_line(path, line, "empty id"))?,
                chrom: chroms[i].clone(),
                start: number(&starts[i], line, "start")?,
                end: number(&ends[i], line, "end")?,
                strand: match strands[i].as_deref() {
                    Some("+") => Strand::Forward,
                    Some("-") => Strand::Reverse,
                    _ => Strand::Unknown,
                },
            })
        })
        .collect()
}

/// Write the row-identity TSV: `id chrom start end strand`, then `extra` text columns, then
/// one column per class holding `y`. Empty cells mean "not known".
pub fn write_rows_tsv(
    out: &mut AtomicFile,
    rows: &[RowIdentity],
    extra: &[(String, Vec<String>)],
    classes: &[String],
    y: ArrayView2<'_, f32>,
) -> Result<()> {
    let mut cols: Vec<Column> = vec![
        Column::new("id".into(), rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
        Column::new("chrom".into(), rows.iter().map(|r| r.chrom.as_deref()).collect::<Vec<_>>()),
        Column::new("start".into(), rows.iter().map(|r| r.start).collect::<Vec<_>>()),
        Column::new("end".into(), rows.iter().map(|r| r.end).collect::<Vec<_>>()),
        Column::new("strand".into(), rows.iter().map(|r| r.strand.as_str()).collect::<Vec<_>>()),
    ];
    for (name, values) in extra {
        cols.push(Column::new(name.as_str().into(), values.clone()));
    }
    for (k, class) in classes.iter().enumerate() {
        cols.push(Column::new(class.as_str().into(), y.column(k).to_vec()));
    }
    let mut df = DataFrame::new_infer_height(cols).map_err(|e| Error::runtime(format!("building rows table: {e}")))?;
    write_tsv(out, &mut df)
}

/// Write a data frame as TSV with a header, empty cells for nulls.
pub fn write_tsv(out: &mut AtomicFile, df: &mut DataFrame) -> Result<()> {
    let path = out.path().to_path_buf();
    let mut w = out.buffered();
    CsvWriter::new(&mut w)
        .with_separator(b'\t')
        .with_null_value("".into())
        .finish(df)
        .map_err(|e| Error::runtime(format!("{}: writing TSV: {e}", path.display())))?;
    w.flush().with_path(&path)
}

/// Write text columns as a TSV with a header (numbers already formatted by the caller).
pub fn write_text_columns(out: &mut AtomicFile, columns: Vec<(String, Vec<String>)>) -> Result<()> {
    let cols: Vec<Column> =
        columns.into_iter().map(|(name, values)| Column::new(name.as_str().into(), values)).collect();
    let mut df = DataFrame::new_infer_height(cols).map_err(|e| Error::runtime(format!("building table: {e}")))?;
    write_tsv(out, &mut df)
}
