//! Sites tables (gkd-synth's `NAME.sites.tsv`, docs/data-contracts.md): one row per embedded
//! motif, `id start end strand motif_id motif_name class`, positions 0-based half-open. Readers
//! need `id`, `start`, `end` and `class`; the motif columns are read where the table has them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::table::TextTable;

/// One embedded site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRow {
    /// The row (sequence) id.
    pub id: String,
    /// First position of the site.
    pub start: usize,
    /// One past its last position.
    pub end: usize,
    /// The motif's id, where the table has the column.
    pub motif_id: Option<String>,
    /// The motif's name, where the table has the column.
    pub motif_name: Option<String>,
    /// The class the table gives the site.
    pub class: String,
    /// Its line in the file (the header is line 1).
    pub line: u64,
}

/// Read a sites table; an error names the file, the line and what was expected.
pub fn read_sites(path: &Path) -> Result<Vec<SiteRow>> {
    let table = TextTable::read(path, Some(b'\t'))?;
    let (ids, starts, ends, classes) =
        (table.column("id")?, table.column("start")?, table.column("end")?, table.column("class")?);
    let optional = |name: &str| table.columns.iter().any(|c| c == name).then(|| table.column(name)).transpose();
    let (motif_ids, motif_names) = (optional("motif_id")?, optional("motif_name")?);
    let mut rows = Vec::with_capacity(ids.len());
    for i in 0..ids.len() {
        let line = i as u64 + 2;
        let position = |v: &Option<String>, name: &str| -> Result<usize> {
            v.as_deref().and_then(|t| t.trim().parse().ok()).ok_or_else(|| {
                Error::at_line(path, line, format!("column '{name}': expected a 0-based position, got {v:?}"))
            })
        };
        let (start, end) = (position(&starts[i], "start")?, position(&ends[i], "end")?);
        if end <= start {
            return Err(Error::at_line(path, line, format!("site end {end} is not after its start {start}")));
        }
        let (Some(id), Some(class)) = (ids[i].clone(), classes[i].clone()) else {
            return Err(Error::at_line(path, line, "empty id or class"));
        };
        let cell = |column: &Option<Vec<Option<String>>>| column.as_ref().and_then(|c| c[i].clone());
        rows.push(SiteRow { id, start, end, motif_id: cell(&motif_ids), motif_name: cell(&motif_names), class, line });
    }
    Ok(rows)
}

/// Where each (row id, class) has embedded sites: 0-based half-open [start, end) intervals.
pub struct ClassSites {
    path: PathBuf,
    sites: HashMap<(String, String), Vec<(usize, usize)>>,
}

impl ClassSites {
    /// Read a sites table (see [`read_sites`]).
    pub fn read(path: &Path) -> Result<Self> {
        let mut sites: HashMap<(String, String), Vec<(usize, usize)>> = HashMap::new();
        for row in read_sites(path)? {
            sites.entry((row.id, row.class)).or_default().push((row.start, row.end));
        }
        Ok(Self { path: path.to_path_buf(), sites })
    }

    /// The table's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The positions of `length` covered by a site of `class` in row `id`; `None` when the row has
    /// no site of that class.
    pub fn mask(&self, id: &str, class: &str, length: usize) -> Option<Vec<bool>> {
        let intervals = self.sites.get(&(id.to_owned(), class.to_owned()))?;
        let mut mask = vec![false; length];
        for &(start, end) in intervals {
            mask[start.min(length)..end.min(length)].iter_mut().for_each(|m| *m = true);
        }
        Some(mask)
    }
}
